"""The read-model tables and how a summary becomes a row and back.

No column that holds text a user controls has a length limit: the rules admit an applicant
name, an id number, a matter name or a unit of any length (the request body cap bounds them),
and the summaries must take whatever the rules admitted. Only values the code itself makes
(statuses, step types, roles, times, the case number) have a bounded type, and only those are
indexed (a PostgreSQL index entry cannot exceed a third of a page).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.calendar import WorkCalendar
from ledger.envelope import Envelope, format_time, parse_time
from ledger.store.read_models.summary import CaseSummary
from ledger.timelimits import CaseTimes

__all__ = [
    "READ_MODEL_METADATA",
    "TRACKING_NAME",
    "from_row",
    "index_result",
    "position_of",
    "refresh_deadlines",
    "rm_cases",
    "rm_results",
    "rm_set_aside",
    "rm_tracking",
    "upsert",
    "upsert_many",
]

READ_MODEL_METADATA = sa.MetaData()

# The summaries' row in rm_tracking (their eventsourcing application name).
TRACKING_NAME = "caseledger"

rm_tracking = sa.Table(
    "rm_tracking",
    READ_MODEL_METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

rm_cases = sa.Table(
    "rm_cases",
    READ_MODEL_METADATA,
    sa.Column("stream", sa.String(48), primary_key=True),
    sa.Column("case_number", sa.String(48), nullable=False, unique=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("matter_code", sa.Text, nullable=False),
    sa.Column("matter_name", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("next_step", sa.String(32)),
    sa.Column("next_role", sa.String(32), index=True),
    sa.Column("next_capacity", sa.Text),
    sa.Column("applicant_name", sa.Text, nullable=False),
    sa.Column("applicant_kind", sa.Text, nullable=False),
    sa.Column("applicant_id_number", sa.Text, nullable=False),
    sa.Column("participants", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("applied_at", sa.String(20), nullable=False),
    sa.Column("last_at", sa.String(20), nullable=False),
    sa.Column("deadline_committed", sa.Date, index=True),
    sa.Column("deadline_statutory", sa.Date),
    sa.Column("decided_late", sa.Boolean),
    sa.Column("yellow_card", sa.Boolean, nullable=False),
    sa.Column("clock", sa.Text, nullable=False),
)

# Which case issued a sealed result: a document's status is found by its SHA-256 alone
# (GET /v1/public/results/{sha256}); the status itself is read from the case's envelopes.
rm_results = sa.Table(
    "rm_results",
    READ_MODEL_METADATA,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(48), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    # The id printed in the document's QR code (chosen before sealing, so not its hash).
    sa.Column("document_id", sa.String(32), unique=True),
)

# Cases whose summary could not be made or stored: left out of the summaries (so one case
# cannot stop every read), named here with a stable code and the step and position where
# projecting failed. ``detail`` holds the kind of error only, never the case's data.
rm_set_aside = sa.Table(
    "rm_set_aside",
    READ_MODEL_METADATA,
    sa.Column("stream", sa.String(48), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("detail", sa.String(200), nullable=False),
    sa.Column("step_at", sa.String(20), nullable=False),
)


def position_of(conn: Connection, name: str) -> int | None:
    row = conn.execute(sa.select(rm_tracking.c.position).where(rm_tracking.c.name == name)).first()
    return int(row[0]) if row is not None else None


_PLAIN = [
    "stream",
    "case_number",
    "seq",
    "status",
    "matter_code",
    "matter_name",
    "unit",
    "next_step",
    "next_role",
    "next_capacity",
    "applicant_name",
    "applicant_kind",
    "applicant_id_number",
    "outcome",
]


def deadline_columns(summary: CaseSummary) -> dict[str, Any]:
    """The stored deadline columns of a summary. Deadlines and cards that no longer change
    once the case is decided are stored; a still-running clock is assessed at read time
    against the reader's ``now``. A newly published calendar recomputes them
    (:func:`refresh_deadlines`)."""
    settled = summary.assess(summary.times.decided_at or summary.last_at)
    finished = [s for s in settled.stages if s.ended is not None]
    return {
        "deadline_committed": settled.committed_deadline,
        "deadline_statutory": settled.statutory_deadline,
        "decided_late": settled.overdue if settled.decided else None,
        "yellow_card": any(s.overran for s in finished),
    }


def _row(summary: CaseSummary) -> dict[str, Any]:
    return {
        **{name: getattr(summary, name) for name in _PLAIN},
        "participants": json.dumps([list(p) for p in summary.participants]),
        "applied_at": format_time(summary.applied_at),
        "last_at": format_time(summary.last_at),
        **deadline_columns(summary),
        "clock": json.dumps(summary.times.to_json()),
    }


def from_row(row: Any, calendar: WorkCalendar | None = None) -> CaseSummary:
    return CaseSummary(
        **{name: row[name] for name in _PLAIN},
        participants=tuple((p, c) for p, c in json.loads(row["participants"])),
        applied_at=parse_time(row["applied_at"]),
        last_at=parse_time(row["last_at"]),
        times=CaseTimes.from_json(json.loads(row["clock"])),
        calendar=calendar,
    )


def refresh_deadlines(conn: Connection, calendar: WorkCalendar, year: int) -> int:
    """Recount the stored deadlines of the cases a calendar of ``year`` may change: those
    accepted in or after the year before it, or still undated. Returns how many changed."""
    c = rm_cases.c
    since = format_time(datetime(year - 1, 1, 1, tzinfo=UTC))
    query = sa.select(rm_cases).where(sa.or_(c.last_at >= since, c.deadline_committed.is_(None)))
    changed = 0
    for row in conn.execute(query).mappings().all():
        summary = from_row(row, calendar)
        columns = deadline_columns(summary)
        if any(row[name] != value for name, value in columns.items()):
            conn.execute(rm_cases.update().where(c.stream == summary.stream).values(**columns))
            changed += 1
    return changed


_UPDATE_NEWER = rm_cases.update().where(
    rm_cases.c.stream == sa.bindparam("b_stream"), rm_cases.c.seq < sa.bindparam("b_seq")
)
_SEQ_OF = sa.select(rm_cases.c.seq).where(rm_cases.c.stream == sa.bindparam("b_stream"))


def index_result(conn: Connection, env: Envelope) -> None:
    """Record which case issued the document of a ResultIssued ``env`` (once: replaying a
    batch finds the row already there)."""
    sha256 = env.body.get("pdf_sha256")
    known = sa.select(rm_results.c.sha256).where(rm_results.c.sha256 == sha256)
    document_id = env.body.get("document_id")
    if isinstance(sha256, str) and conn.execute(known).first() is None:
        conn.execute(
            rm_results.insert().values(
                sha256=sha256,
                stream=env.stream,
                seq=env.seq,
                document_id=document_id if isinstance(document_id, str) else None,
            )
        )


def upsert_many(conn: Connection, summaries: Sequence[CaseSummary]) -> None:
    """:func:`upsert` of several cases' summaries (one each) in three statements: the stored
    seqs, then the updates and the inserts, each as one executemany."""
    if len(summaries) < 2:
        for summary in summaries:
            upsert(conn, summary)  # one case: an update that finds its row is one statement
        return
    streams = [summary.stream for summary in summaries]
    query = sa.select(rm_cases.c.stream, rm_cases.c.seq).where(rm_cases.c.stream.in_(streams))
    stored = {stream: seq for stream, seq in conn.execute(query)}
    updates = [
        {**_row(summary), "b_stream": summary.stream, "b_seq": summary.seq}
        for summary in summaries
        if summary.stream in stored and stored[summary.stream] < summary.seq
    ]
    inserts = [_row(summary) for summary in summaries if summary.stream not in stored]
    if updates:
        conn.execute(_UPDATE_NEWER, updates)
    if inserts:
        conn.execute(rm_cases.insert(), inserts)


def upsert(conn: Connection, summary: CaseSummary) -> None:
    """Store ``summary`` unless a summary of a later step is already stored."""
    values = _row(summary)
    keys = {"b_stream": summary.stream, "b_seq": summary.seq}
    if conn.execute(_UPDATE_NEWER, {**values, **keys}).rowcount:
        return
    if conn.execute(_SEQ_OF, keys).first() is None:
        conn.execute(rm_cases.insert(), values)
