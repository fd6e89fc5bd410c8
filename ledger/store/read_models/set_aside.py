"""Cases set aside by the read models: one case whose summary cannot be made or stored is
left out and named here, instead of stopping the summaries of every other case.

Only errors of the data are set aside: a summary that does not fold (an error of Python's
data kinds or a caseledger error) or a row the database refuses (integrity or data error). A
lost connection or any other storage failure is not the case's fault; it fails the batch,
which the next catch-up retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.envelope import format_time
from ledger.errors import CaseLedgerError
from ledger.store.read_models.tables import rm_cases, rm_set_aside

__all__ = [
    "FOLD_ERRORS",
    "STORE_ERRORS",
    "SetAside",
    "forget",
    "listing",
    "record",
    "set_aside_in",
    "set_aside_streams",
]

# What a case's own data can raise while it is folded into a summary.
FOLD_ERRORS: tuple[type[Exception], ...] = (
    ArithmeticError,
    AttributeError,
    LookupError,
    TypeError,
    ValueError,
    CaseLedgerError,
)
# What the database answers for a row it will not take (the connection is still good).
STORE_ERRORS: tuple[type[Exception], ...] = (sa.exc.IntegrityError, sa.exc.DataError)


@dataclass(frozen=True, slots=True)
class SetAside:
    """One case left out of the summaries: the step and position where it failed, and why."""

    stream: str
    seq: int
    position: int
    code: str
    detail: str
    step_at: str

    @classmethod
    def of(cls, stream: str, seq: int, position: int, at: datetime, exc: Exception) -> SetAside:
        """The record for ``exc`` (its kind only: the message may quote the case's data)."""
        if isinstance(exc, sa.exc.IntegrityError):
            code = "projection.conflict"
        elif isinstance(exc, sa.exc.DataError):
            code = "projection.refused"
        else:
            code = "projection.failed"
        return cls(stream, seq, position, code, type(exc).__name__, format_time(at))

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "seq": self.seq,
            "position": self.position,
            "code": self.code,
            "detail": self.detail,
            "step_at": self.step_at,
        }


def set_aside_streams(conn: Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute(sa.select(rm_set_aside.c.stream))}


def listing(conn: Connection) -> list[SetAside]:
    rows = conn.execute(sa.select(rm_set_aside).order_by(rm_set_aside.c.position)).mappings()
    return [SetAside(**dict(row)) for row in rows]


def record(conn: Connection, entries: Iterable[SetAside]) -> None:
    """Name each case as set aside (once) and drop its summary, which no longer follows it."""
    for entry in entries:
        conn.execute(rm_cases.delete().where(rm_cases.c.stream == entry.stream))
        known = conn.execute(
            sa.select(rm_set_aside.c.stream).where(rm_set_aside.c.stream == entry.stream)
        ).first()
        if known is None:
            conn.execute(rm_set_aside.insert().values(**entry.to_json()))


def set_aside_in(engine: Engine) -> list[SetAside]:
    """The cases set aside in ``engine``'s database; none if it keeps no read models."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(rm_set_aside.name):
            return []
        return listing(conn)


def forget(conn: Connection, stream: str) -> None:
    conn.execute(rm_set_aside.delete().where(rm_set_aside.c.stream == stream))
