"""What the reform modes leave due, for supervision: per case, the 容缺 materials still to come
and their deadline, the 核查 of a promise and its deadline, and the 好差评 rating with its
rectification. A row is kept only for a case that entered one of the modes.

Deadlines are China dates: the 容缺 deadline as the Accepted step signed it, the 核查 deadline
``verification_days`` working days after the decision, a rectification 15 working days after
the 差评 (:data:`ledger.reform.RECTIFICATION_DAYS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.clock import china_date
from ledger.directory import DirectoryState
from ledger.envelope import format_time
from ledger.reform import POOR_LEVELS, RATING_LEVELS, RECTIFICATION_DAYS
from ledger.state import CaseState
from ledger.store.read_models.summary import CaseSummary
from ledger.store.read_models.tables import READ_MODEL_METADATA
from ledger.timelimits import add_working_days

__all__ = ["DUE_KINDS", "Due", "due", "rating_statistics", "rm_reform", "upsert_reform"]

DUE_KINDS = ("tolerance", "verification", "rectification")
_TOLERANCE_OPEN = ("accepted", "in_review", "suspended")

rm_reform = sa.Table(
    "rm_reform",
    READ_MODEL_METADATA,
    sa.Column("stream", sa.String(48), primary_key=True),
    sa.Column("case_number", sa.String(48), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("matter_code", sa.Text, nullable=False),
    sa.Column("matter_name", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("tolerance_missing", sa.Text, nullable=False),
    sa.Column("tolerance_due", sa.Date),
    sa.Column("tolerance_consequence", sa.Text),
    sa.Column("promise", sa.String(64)),
    sa.Column("verification_due", sa.Date),
    sa.Column("verification", sa.String(16)),
    sa.Column("rating", sa.String(16)),
    sa.Column("rated_at", sa.String(20)),
    sa.Column("rectification_due", sa.Date),
    sa.Column("rectified_at", sa.String(20)),
)


def _row(state: CaseState, summary: CaseSummary, directory: DirectoryState) -> dict[str, Any]:
    reform = state.reform
    # Counted on the office's signed calendar, as every other deadline is (ledger.deadline).
    calendar = directory.work_calendar()
    matter = directory.matter_at(summary.matter_code, state.matter_version or 0, summary.applied_at)
    verification_due = None
    if reform.accepted_on_promise and state.decided_at is not None and matter is not None:
        verification_due = add_working_days(
            china_date(state.decided_at), matter.reform.verification_days, calendar=calendar
        )
    rectification_due = None
    if reform.poor and reform.rated_at is not None:
        rectification_due = add_working_days(
            china_date(reform.rated_at), RECTIFICATION_DAYS, calendar=calendar
        )
    return {
        "stream": summary.stream,
        "case_number": summary.case_number,
        "seq": summary.seq,
        "status": summary.status,
        "matter_code": summary.matter_code,
        "matter_name": summary.matter_name,
        "unit": summary.unit,
        "tolerance_missing": json.dumps(list(reform.tolerated_missing), ensure_ascii=False),
        "tolerance_due": reform.tolerance_due,
        "tolerance_consequence": reform.tolerance_consequence,
        "promise": reform.promise,
        "verification_due": verification_due,
        "verification": reform.verification,
        "rating": reform.rating,
        "rated_at": format_time(reform.rated_at) if reform.rated_at else None,
        "rectification_due": rectification_due,
        "rectified_at": format_time(reform.rectified_at) if reform.rectified_at else None,
    }


def upsert_reform(
    conn: Connection, state: CaseState, summary: CaseSummary, directory: DirectoryState
) -> None:
    """Keep the case's reform row, if it entered a mode, unless a later one is stored."""
    reform = state.reform
    if reform.tolerance_due is None and reform.promise is None and reform.rated_at is None:
        return
    stored = conn.execute(
        sa.select(rm_reform.c.seq).where(rm_reform.c.stream == summary.stream)
    ).first()
    if stored is not None and stored[0] >= summary.seq:
        return
    conn.execute(rm_reform.delete().where(rm_reform.c.stream == summary.stream))
    conn.execute(rm_reform.insert().values(**_row(state, summary, directory)))


@dataclass(frozen=True, slots=True)
class Due:
    """One obligation a mode leaves on a case: what, by when, and whether it is past."""

    kind: str
    stream: str
    case_number: str
    matter_code: str
    matter_name: str
    unit: str
    status: str
    due: date | None
    overdue: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "case_id": self.stream.removeprefix("case:"),
            "case_number": self.case_number,
            "matter": self.matter_code,
            "matter_name": self.matter_name,
            "unit": self.unit,
            "status": self.status,
            "due": self.due.isoformat() if self.due else None,
            "overdue": self.overdue,
            "detail": self.detail,
        }


def _open(kind: str) -> Any:
    c = rm_reform.c
    if kind == "tolerance":
        return sa.and_(c.status.in_(_TOLERANCE_OPEN), c.tolerance_missing != "[]"), c.tolerance_due
    if kind == "verification":
        return sa.and_(c.verification_due.is_not(None), c.verification.is_(None)), (
            c.verification_due
        )
    return sa.and_(c.rectification_due.is_not(None), c.rectified_at.is_(None)), (
        c.rectification_due
    )


def _detail(kind: str, row: Any) -> str:
    if kind == "tolerance":
        missing = "、".join(json.loads(row["tolerance_missing"]))
        return f"待补齐：{missing}；逾期：{row['tolerance_consequence'] or ''}"
    if kind == "verification":
        return "告知承诺待核查" if row["status"] == "delivered" else "告知承诺，送达后核查"
    return f"差评（{row['rating']}）待整改"


def due(
    engine: Engine,
    kind: str,
    today: date,
    *,
    overdue_only: bool = False,
    matter: str | None = None,
    unit: str | None = None,
    limit: int = 1000,
) -> list[Due]:
    """The open obligations of ``kind`` (see :data:`DUE_KINDS`), soonest first; with
    ``overdue_only``, those whose deadline's day has passed."""
    if kind not in DUE_KINDS:
        raise ValueError(f"kind must be one of {DUE_KINDS}")
    where, column = _open(kind)
    query = sa.select(rm_reform).where(where)
    if overdue_only:
        query = query.where(column < today)
    if matter:
        query = query.where(rm_reform.c.matter_code == matter)
    if unit:
        query = query.where(rm_reform.c.unit == unit)
    query = query.order_by(column.is_(None), column, rm_reform.c.stream).limit(limit)
    with engine.connect() as conn:
        rows = list(conn.execute(query).mappings())
    deadline = {"tolerance": "tolerance_due", "verification": "verification_due"}.get(
        kind, "rectification_due"
    )
    return [
        Due(
            kind,
            row["stream"],
            row["case_number"],
            row["matter_code"],
            row["matter_name"],
            row["unit"],
            row["status"],
            row[deadline],
            row[deadline] is not None and row[deadline] < today,
            _detail(kind, row),
        )
        for row in rows
    ]


def rating_statistics(engine: Engine, today: date) -> list[dict[str, Any]]:
    """Per matter and unit: ratings on each of the five levels, 差评, and rectifications
    open, overdue and answered."""
    c = rm_reform.c

    def count(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    levels = [count(c.rating == level) for level in RATING_LEVELS]
    poor = c.rating.in_(sorted(POOR_LEVELS))
    query = (
        sa.select(c.matter_code, c.matter_name, c.unit, count(c.rating.is_not(None)), *levels)
        .add_columns(
            count(poor),
            count(sa.and_(poor, c.rectified_at.is_(None))),
            count(sa.and_(poor, c.rectified_at.is_(None), c.rectification_due < today)),
            count(sa.and_(poor, c.rectified_at.is_not(None))),
        )
        .group_by(c.matter_code, c.matter_name, c.unit)
        .order_by(c.matter_code, c.unit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        numbers = [int(n or 0) for n in row[3:]]
        if numbers[0] == 0:
            continue
        rated, by_level, tail = numbers[0], numbers[1:6], numbers[6:]
        out.append(
            {
                "matter": row[0],
                "matter_name": row[1],
                "unit": row[2],
                "ratings": rated,
                "levels": dict(zip(RATING_LEVELS, by_level, strict=True)),
                "poor": tail[0],
                "rectification_open": tail[1],
                "rectification_overdue": tail[2],
                "rectified": tail[3],
                "satisfaction_rate": (rated - tail[0]) / rated,
            }
        )
    return out
