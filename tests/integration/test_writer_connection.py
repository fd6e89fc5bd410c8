"""A batch reads what it needs on the connection that holds the events table.

On PostgreSQL the writer holds the events table for a whole batch. A statement that wants the
whole table (an operator's ALTER TABLE, a migration) queues behind it, and every later read of
the table from another connection queues behind that statement: had the batch read a stream,
the directory or a stored head through another connection, neither could finish.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import sqlalchemy as sa

from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger
from ledger.store.log_store import LOCK_SQL as LOG_LOCK_SQL
from ledger.store.storage import open_store

pytestmark = pytest.mark.postgres


def _ledger(pg_url: str, office: SampleOffice) -> CaseLedger:
    return open_ledger(
        pg_url,
        org=office.org,
        root_keys={office.root_key.key_id: office.root_key.public_key},
        log_origin="test.example/log",
    )


def _wait_for(conn: sa.Connection, query: str, what: str, **params: str) -> None:
    for _ in range(1000):
        if conn.execute(sa.text(query), params).scalar():
            return
        time.sleep(0.01)
    raise AssertionError(what)


@pytest.mark.parametrize("step", [2, 3], ids=["sent-again", "next-step"])
def test_an_alter_table_queued_behind_a_batch_lets_it_finish(
    pg_url: str, office: SampleOffice, t0: datetime, t1: datetime, step: int
) -> None:
    case = office.case_until_decided(t1)
    earlier = _ledger(pg_url, office)
    for envelope in office.directory_envelopes(t0):
        earlier.append(envelope, openings=office.openings.values())
    for envelope in case[:2]:
        earlier.append(envelope)
    earlier.close()
    # A server process started since: it has folded nothing, so its batch reads the
    # directory and the case, and, for a step already stored, that stored step.
    ledger = _ledger(pg_url, office)
    events = open_store(pg_url).events_table
    engine = ledger.engine
    try:
        with ThreadPoolExecutor(2) as pool, engine.connect() as log_holder:
            with engine.connect() as operator:
                # The batch takes the events table, then waits for the log's lock, held here.
                log_holder.exec_driver_sql(LOG_LOCK_SQL)
                appended = pool.submit(ledger.append, case[step - 1])
                _wait_for(
                    log_holder,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    "the batch never waited for the log's lock",
                )
                operator.exec_driver_sql("SET lock_timeout = '5s'")
                altered = pool.submit(
                    operator.exec_driver_sql, f"ALTER TABLE {events} ADD COLUMN probe integer"
                )
                _wait_for(
                    log_holder,
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = CAST(:events AS regclass)",
                    "the ALTER TABLE never queued behind the batch",
                    events=events,
                )
                log_holder.rollback()  # the batch goes on, with the ALTER TABLE queued behind
                altered.result(timeout=30)  # got the table: the batch finished and let go
                operator.rollback()
            result = appended.result(timeout=30)
        assert (result.seq, result.replayed) == (step, step == 2)
        assert ledger.audit().ok
    finally:
        ledger.close()
