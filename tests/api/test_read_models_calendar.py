"""A published calendar recounts the stored deadlines, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from ledger.calendar import calendar_body
from ledger.client import StreamWriter
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.read_models import ReadModels, rm_cases

T0 = datetime(2026, 12, 21, 1, tzinfo=UTC)
ACCEPTED = datetime(2026, 12, 24, 1, tzinfo=UTC)


def _stored(models: ReadModels, stream: str) -> tuple[object, object]:
    query = sa.select(rm_cases.c.deadline_committed, rm_cases.c.deadline_statutory).where(
        rm_cases.c.stream == stream
    )
    with models.engine.connect() as conn:
        row = conn.execute(query).one()
    return row[0], row[1]


def test_publishing_a_year_dates_the_deadlines_that_ran_into_it(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    directory = office.directory_envelopes(T0)
    for envelope in directory:
        any_ledger.append(envelope)
    models = ReadModels(any_ledger.store.engine())
    models.attach(any_ledger)
    case = office.case_until_decided(ACCEPTED)
    for envelope in case[:2]:
        any_ledger.append(envelope)
    stream = case[0].stream
    assert _stored(models, stream) == (None, None)
    summary = models.case(stream)
    assert summary is not None and summary.assess(ACCEPTED).warnings == ("clock.calendar_unknown",)

    writer = StreamWriter(directory[-1].stream, directory[-1].seq, directory[-1].hash)
    body = calendar_body(2027, [date(2027, 1, 1)], [], "国办发明电〔2026〕1号")
    any_ledger.append(writer.sign("CalendarPublished", office.admin, ACCEPTED, body))
    assert _stored(models, stream) == (date(2027, 1, 8), date(2027, 1, 22))
    summary = models.case(stream)
    assert summary is not None and summary.assess(ACCEPTED).warnings == ()
    models.close()
    models.engine.dispose()
