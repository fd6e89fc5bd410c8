"""The one way to open an organisation's ledger: the server, the CLI, the demo, the benches
and the tests all build it here, so each gets the same log, private table and schema."""

from __future__ import annotations

from pathlib import Path

from ledger.store.application import CaseLedger
from ledger.store.log_store import CheckpointKeeper, LogStore, catch_up
from ledger.store.migrate import upgrade
from ledger.store.personal_store import PersonalStore
from ledger.store.storage import open_store

__all__ = ["open_ledger"]


def open_ledger(
    url: str | Path,
    *,
    org: str,
    root_keys: dict[str, bytes],
    log_origin: str | None = None,
    keeper: CheckpointKeeper | None = None,
) -> CaseLedger:
    """The ledger on the database at ``url``.

    With ``log_origin`` it is an office's full ledger: the schema migrated, the Merkle log of
    that origin (checkpoints also kept by ``keeper``) written in the transaction of every
    append and caught up with anything an earlier release stored unlogged, and the private
    table of identity openings. Without, a bare ledger of signed streams (a server that holds
    only the trust file).
    """
    store = open_store(url)
    if log_origin is None:
        return CaseLedger(store, org=org, root_keys=root_keys)
    engine = store.engine()
    log = LogStore(engine, origin=log_origin, create=False, keeper=keeper)
    ledger = CaseLedger(
        store,
        org=org,
        root_keys=root_keys,
        log=log,
        personal=PersonalStore(engine),
        engine=engine,
    )
    try:
        # The log and read-model tables are Alembic's to create and change; the event
        # tables are eventsourcing's (made by CaseLedger above).
        upgrade(engine)
        catch_up(ledger, log)
    except BaseException:
        ledger.close()
        raise
    return ledger
