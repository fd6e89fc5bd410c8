"""One issuer per case across server processes.

On PostgreSQL several server processes follow every commit, and each would seal the same
result. A process seals a case's document only while it holds the case's advisory lock
(tried, never waited for: a process that finds it taken leaves the work to the holder, and
the recovery takes up whatever a process that died left). The lock is taken only once a
step is known to call for a document, so the steps that call for none cost no round trip.
One process alone (SQLite) needs no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import sqlalchemy as sa

from ledger.store.application import CaseLedger

__all__ = ["IssuerTurn", "alone", "issuer_turns"]

# Called with a case's stream; holds True while this process may issue for the case.
IssuerTurn = Callable[[str], AbstractContextManager[bool]]

_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(hashtext(current_schema() || :key))")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(hashtext(current_schema() || :key))")


@contextmanager
def alone(stream: str) -> Iterator[bool]:
    """The turn of a process that is the only issuer: always its own."""
    yield True


def issuer_turns(ledger: CaseLedger) -> IssuerTurn:
    """The turns of ``ledger``'s process among the processes on its database."""
    if ledger.store.kind != "postgres":
        return alone
    engine = ledger.engine

    @contextmanager
    def turn(stream: str) -> Iterator[bool]:
        key = {"key": f"caseledger-issue/{stream}"}
        with engine.connect() as conn:
            taken = bool(conn.execute(_TRY_LOCK, key).scalar())
            conn.commit()
            try:
                yield taken
            finally:
                if taken:
                    conn.execute(_UNLOCK, key)
                    conn.commit()

    return turn
