"""The case read models follow the ledger in order, idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from ledger.client import StreamWriter
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.read_models import TRACKING_NAME, ReadModels, rm_cases, rm_tracking
from ledger.store.read_models.summary import summarise
from ledger.store.read_models.tables import upsert, upsert_many

T0 = datetime(2026, 11, 23, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, tzinfo=UTC)


def _fill(ledger: CaseLedger, office: SampleOffice, cases: int) -> list[str]:
    for envelope in office.directory_envelopes(T0):
        ledger.append(envelope)
    streams = []
    for n in range(cases):
        envelopes = office.case_until_decided(T1 + timedelta(hours=n))
        for envelope in envelopes[: 1 + n % 4]:
            ledger.append(envelope)
        streams.append(envelopes[0].stream)
    return streams


def _rows(models: ReadModels) -> list[tuple[object, ...]]:
    with models.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(rm_cases).order_by(rm_cases.c.stream))]


def _last_position(ledger: CaseLedger) -> int:
    return max(position for position, _, _ in ledger.all_notifications())


def test_catch_up_on_start_then_follow_each_append(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    streams = _fill(any_ledger, office, 8)
    models = ReadModels(any_ledger.store.engine(), batch=3)
    models.attach(any_ledger)
    assert models.max_tracking_id(TRACKING_NAME) == _last_position(any_ledger)
    statuses = [models.case(s).status for s in streams]  # type: ignore[union-attr]
    assert statuses == ["applied", "accepted", "in_review", "decided"] * 2
    first = models.case(streams[0])
    assert first is not None and first.next_role == "handler"
    waiting = [s.stream for s in models.waiting_for("reviewer")]
    assert waiting == [streams[1], streams[5]]
    rest = office.case_until_decided(T1)
    writer = StreamWriter(streams[1], 2, any_ledger.head(streams[1])[1])
    any_ledger.append(
        writer.sign("Reviewed", office.reviewer, T1 + timedelta(hours=2), rest[2].body)
    )
    assert models.case(streams[1]).status == "in_review"  # type: ignore[union-attr]
    models.wait(TRACKING_NAME, _last_position(any_ledger), timeout=1)
    models.engine.dispose()


def test_replaying_from_an_earlier_position_changes_nothing(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    _fill(any_ledger, office, 6)
    models = ReadModels(any_ledger.store.engine(), batch=4)
    models.catch_up(any_ledger)
    before = _rows(models)
    assert models.catch_up(any_ledger) == 0
    with models.engine.begin() as conn:
        conn.execute(rm_tracking.update().values(position=5))
    assert models.catch_up(any_ledger) > 0
    assert _rows(models) == before
    assert models.max_tracking_id(TRACKING_NAME) == _last_position(any_ledger)
    models.engine.dispose()


def test_two_followers_share_one_position(any_ledger: CaseLedger, office: SampleOffice) -> None:
    _fill(any_ledger, office, 12)
    engine = any_ledger.store.engine()
    followers = [ReadModels(engine, batch=2), ReadModels(engine, batch=3)]
    done: list[int] = []
    threads = [
        threading.Thread(target=lambda f=f: done.append(f.catch_up(any_ledger))) for f in followers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    last = _last_position(any_ledger)
    assert followers[0].max_tracking_id(TRACKING_NAME) == last
    assert len(_rows(followers[0])) == 12
    # Together they applied every notification (some perhaps twice, never one skipped).
    assert sum(done) >= len(list(any_ledger.all_notifications()))
    engine.dispose()


def test_suspension_stops_the_deadline_and_resumption_moves_it(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    _fill(any_ledger, office, 0)
    models = ReadModels(any_ledger.store.engine())
    models.attach(any_ledger)
    envelopes = office.case_until_decided(T1)
    for envelope in envelopes[:2]:
        any_ledger.append(envelope)
    stream = envelopes[0].stream
    assert models.case(stream).assess(T1).committed_deadline == date(2026, 12, 8)  # type: ignore[union-attr]
    writer = StreamWriter(stream, 2, envelopes[1].hash)
    suspended_at = datetime(2026, 11, 25, 2, tzinfo=UTC)
    any_ledger.append(
        writer.sign("Suspended", office.handler, suspended_at, {"reason": "专家评审"})
    )
    paused = models.case(stream)
    assert paused is not None and paused.next_step == "Resumed"
    assert paused.assess(suspended_at).committed_deadline is None
    assert models.on_the_clock(due_by=date(2027, 1, 1)) == []
    resumed_at = datetime(2026, 11, 27, 2, tzinfo=UTC)  # 26 and 27 November do not count
    any_ledger.append(writer.sign("Resumed", office.handler, resumed_at, {"reason": "评审结束"}))
    moved = models.case(stream)
    assert moved is not None and moved.assess(resumed_at).committed_deadline == date(2026, 12, 10)
    assert [s.stream for s in models.on_the_clock(due_by=date(2026, 12, 10))] == [stream]
    models.engine.dispose()


def test_a_background_follower_catches_up_after_appends(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    _fill(any_ledger, office, 0)
    models = ReadModels(any_ledger.store.engine())
    models.attach(any_ledger, background=True)
    try:
        envelopes = office.case_until_decided(T1)
        for envelope in envelopes:
            any_ledger.append(envelope)
        models.wait(TRACKING_NAME, _last_position(any_ledger), timeout=10)
        summary = models.case(envelopes[0].stream)
        assert summary is not None and summary.status == "decided"
    finally:
        models.close()
        models.engine.dispose()


def test_summaries_stored_together_keep_a_later_stored_step_and_add_new_cases(
    any_ledger: CaseLedger, office: SampleOffice
) -> None:
    for envelope in office.directory_envelopes(T0):
        any_ledger.append(envelope)
    ahead, behind, new = (office.case_until_decided(T1 + timedelta(hours=n)) for n in range(3))
    directory = any_ledger.directory()
    engine = any_ledger.store.engine()
    ReadModels(engine)  # creates the tables
    with engine.begin() as conn:
        upsert(conn, summarise(ahead, directory))  # a later step's summary already stored
        upsert(conn, summarise(behind[:1], directory))
    with engine.begin() as conn:
        upsert_many(
            conn,
            [
                summarise(ahead[:2], directory),
                summarise(behind, directory),
                summarise(new[:3], directory),
            ],
        )
        seqs = dict(conn.execute(sa.select(rm_cases.c.stream, rm_cases.c.seq)).all())
    assert seqs == {ahead[0].stream: 4, behind[0].stream: 4, new[0].stream: 3}
    engine.dispose()
