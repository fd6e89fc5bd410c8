"""Alembic migrations of the log and read-model tables, on a SQLite file and PostgreSQL.

The drift test compares the migrated database with the live metadata: a table changed in
ledger/log_store.py or ledger/read_models/store.py without a migration fails it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import db as cli_db
from ledger.store import migrate
from ledger.store.doc_numbers import DOC_METADATA
from ledger.store.log_store import LOG_METADATA, LogStore
from ledger.store.materials import MATERIAL_METADATA
from ledger.store.outbox import OUTBOX_METADATA
from ledger.store.personal_store import PERSONAL_METADATA
from ledger.store.read_models import READ_MODEL_METADATA, ReadModels
from ledger.store.sessions import SESSION_METADATA
from ledger.store.storage import Store, open_store

OURS = {
    "log_leaves",
    "log_nodes",
    "log_checkpoints",
    "rm_tracking",
    "rm_cases",
    "rm_set_aside",
    "auth_revoked_tokens",
    "mat_files",
    "rm_results",
    "doc_numbers",
    "rm_reform",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(tmp_path / "caseledger.db")
    return open_store(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(store: Store) -> Iterator[Engine]:
    engine = store.engine()
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def drift(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match the metadata."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": migrate.include_name,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        ours = [
            LOG_METADATA,
            READ_MODEL_METADATA,
            MATERIAL_METADATA,
            SESSION_METADATA,
            PERSONAL_METADATA,
            DOC_METADATA,
            OUTBOX_METADATA,
        ]
        return list(compare_metadata(context, ours))


def test_upgrade_from_empty_creates_the_tables(store: Store, engine: Engine) -> None:
    assert migrate.current(engine) is None
    done = migrate.upgrade(store)
    assert done == migrate.Upgraded(before=None, after=migrate.head(), stamped=False)
    assert OURS | {"alembic_version"} <= tables(engine)
    assert migrate.current(engine) == migrate.head()


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    migrate.upgrade(engine)
    LogStore(engine, origin="o/log", create=False).append([(1, b"\x01" * 32)])
    again = migrate.upgrade(engine)
    assert not again.changed and not again.stamped
    assert LogStore(engine, origin="o/log", create=False).size() == 1


def test_migrated_database_matches_the_live_metadata(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert drift(engine) == []


def test_the_drift_check_sees_a_table_changed_without_a_migration(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_rm_cases_next_role")
    diffs = drift(engine)
    assert [d[0] for d in diffs] == ["add_index"]  # type: ignore[index]


def test_tables_made_by_create_all_are_stamped_and_keep_their_rows(engine: Engine) -> None:
    log = LogStore(engine, origin="o/log")  # the old way: create_all
    ReadModels(engine)
    log.append([(1, b"\x02" * 32), (2, b"\x03" * 32)])
    assert "alembic_version" not in tables(engine)

    done = migrate.upgrade(engine)
    assert done.stamped and done.before is None and done.after == migrate.head()
    assert drift(engine) == []
    reopened = LogStore(engine, origin="o/log", create=False)
    assert reopened.size() == 2
    reopened.append([(3, b"\x04" * 32)])
    assert reopened.size() == 3
    assert not migrate.upgrade(engine).stamped


def test_some_tables_made_by_create_all_get_the_rest(engine: Engine) -> None:
    LogStore(engine, origin="o/log").append([(1, b"\x05" * 32)])  # log only, no read models
    done = migrate.upgrade(engine)
    assert not done.stamped and done.after == migrate.head()
    assert tables(engine) >= OURS
    assert drift(engine) == []
    assert LogStore(engine, origin="o/log", create=False).size() == 1


def test_event_tables_are_left_alone(store: Store, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE stored_events (id INTEGER PRIMARY KEY)")
    migrate.upgrade(engine)
    assert "stored_events" in tables(engine)
    assert drift(engine) == []


@pytest.mark.postgres
def test_version_table_sits_in_the_store_schema(pg_url: str) -> None:
    store = open_store(pg_url)
    migrate.upgrade(store)
    engine = sa.create_engine(
        sa.URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", database="test")
    )
    try:
        inspector = sa.inspect(engine)
        assert "alembic_version" in inspector.get_table_names(schema=store.schema)
        assert set(inspector.get_table_names(schema=store.schema)) >= OURS
        versions = sa.table("alembic_version", sa.column("version_num"), schema=store.schema)
        with engine.connect() as conn:
            assert conn.execute(sa.select(versions)).scalar_one() == migrate.head()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_missing_schema_is_named(pg_url: str) -> None:
    store = open_store(pg_url.replace("?schema=t_", "?schema=absent_"))
    with pytest.raises(migrate.MigrationError, match="schema"):
        migrate.upgrade(store)


def test_db_commands_upgrade_and_report(tmp_path: Path) -> None:
    cli = typer.Typer()
    cli_db.register(cli)
    runner = CliRunner()
    db = str(tmp_path / "legacy.db")
    engine = open_store(db).engine()
    LogStore(engine, origin="o/log")
    ReadModels(engine)
    engine.dispose()

    head = migrate.head()
    before = runner.invoke(cli, ["db", "current", "--db", db])
    assert before.exit_code == 1 and f"none (head is {head}" in before.output
    first = runner.invoke(cli, ["db", "upgrade", "--db", db])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("tables made before migrations found: stamped at 0001")
    second = runner.invoke(cli, ["db", "upgrade", "--db", db])
    assert second.output == f"already at {head} (head)\n"
    after = runner.invoke(cli, ["db", "current", "--db", db])
    assert after.exit_code == 0 and after.output == f"{head} (head)\n"
    fresh = runner.invoke(cli, ["db", "upgrade", "--db", str(tmp_path / "new.db")])
    assert fresh.output == f"upgraded empty database → {head}\n"


def test_processes_starting_together_migrate_once(store: Store) -> None:
    # Each upgrade opens its own engine, as separate processes would.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: migrate.upgrade(store), range(4)))
    assert sorted(r.changed for r in results) == [False, False, False, True]
    assert migrate.current(store) == migrate.head()


@pytest.mark.postgres
def test_a_migration_gives_up_on_a_table_a_running_server_holds(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server mid-batch holds its table and reads through another connection. A migration
    queued behind it would block that read (neither could finish); it gives up instead, is
    rolled back whole, and runs once the table is free."""
    monkeypatch.setattr(migrate, "LOCK_TIMEOUT", "300ms")
    store = open_store(pg_url)
    engine = store.engine()
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0003")
        with ThreadPoolExecutor(1) as pool, engine.connect() as server:
            server.exec_driver_sql("LOCK TABLE rm_cases IN ROW EXCLUSIVE MODE")
            migration = pool.submit(migrate.upgrade, engine)
            try:
                _wait_until_the_migration_waits(server)
                with engine.connect() as reader:
                    # Bounded, so that a migration that never gave up fails the test here.
                    reader.exec_driver_sql("SET statement_timeout = '5s'")
                    assert reader.exec_driver_sql("SELECT count(*) FROM rm_cases").scalar() == 0
                with pytest.raises(migrate.MigrationError, match="lock timeout"):
                    migration.result(timeout=10)
            finally:
                server.rollback()  # the server's batch ends; a migration still waiting runs
        assert migrate.current(engine) == "0003"
        assert migrate.upgrade(engine).after == migrate.head()
    finally:
        engine.dispose()


def _wait_until_the_migration_waits(conn: sa.Connection) -> None:
    waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'rm_cases'::regclass"
    for _ in range(500):
        if conn.exec_driver_sql(waiting).scalar():
            return
        time.sleep(0.01)
    raise AssertionError("the migration never waited for the table")
