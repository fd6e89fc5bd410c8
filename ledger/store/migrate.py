"""Bring caseledger's own tables up to date with Alembic, configured from code.

The migrations (``ledger/migrations``) cover every table caseledger defines with SQLAlchemy:
the Merkle log's (``log_*``) and the read models' (``rm_*``). The event tables belong to
``eventsourcing``, which creates them itself; they are never touched here.

:func:`upgrade` is what every caseledger command runs when it opens an organisation's
database: it takes a write lock, so processes starting together migrate once, and it is a
no-op when the database is already at the newest revision. A database made before
migrations existed (its tables created by ``create_all``, no ``alembic_version`` table)
is *stamped* at revision ``0001`` if all of the first release's tables are there, then
upgraded from it; if only some are, ``0001`` creates the missing ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from ledger.errors import CaseLedgerError
from ledger.store.storage import Store

__all__ = [
    "BASELINE",
    "BASELINE_TABLES",
    "MANAGED_PREFIXES",
    "MigrationError",
    "Upgraded",
    "alembic_config",
    "current",
    "head",
    "include_name",
    "upgrade",
    "version_schema",
]

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
BASELINE_TABLES = ("log_leaves", "log_nodes", "log_checkpoints", "rm_tracking", "rm_cases")
# Tables that the migrations own; anything else in the database (eventsourcing's tables,
# another application's) is invisible to them and to autogenerate.
MANAGED_PREFIXES = ("log_", "rm_", "mat_", "auth_", "doc_", "pd_", "out_")
# How long a migration's DDL waits for a table lock on PostgreSQL before the migration gives
# up (and is rolled back whole). A server already running holds its tables' locks for the
# length of a batch; DDL queued behind it makes every later query of those tables, from
# every server, wait behind the DDL in turn, so a long wait would stall the whole service.
LOCK_TIMEOUT = "10s"


class MigrationError(CaseLedgerError):
    """The database cannot be brought up to date (code ``db.migration``)."""

    code = "db.migration"


@dataclass(frozen=True, slots=True)
class Upgraded:
    """What :func:`upgrade` did: the revision before and after, and whether a database made
    before migrations existed was stamped at the baseline."""

    before: str | None
    after: str | None
    stamped: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection, target_metadata: Any = None) -> Config:
    """An Alembic Config for ``connection``, no alembic.ini needed. ``target_metadata``
    (a MetaData or a list of them) is only for comparing or autogenerating revisions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target_metadata
    return config


def include_name(name: str | None, type_: str, parent_names: Mapping[Any, Any]) -> bool:
    """Alembic's name filter: only caseledger's own tables (see MANAGED_PREFIXES)."""
    if type_ == "table":
        return name is not None and name.startswith(MANAGED_PREFIXES)
    return True


def version_schema(connection: Connection) -> str | None:
    """Where ``alembic_version`` lives: the current schema on PostgreSQL, None on SQLite.

    Raises MigrationError if the schema named in the PostgreSQL search path does not exist.
    """
    if connection.dialect.name != "postgresql":
        return None
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    if schema is None:
        raise MigrationError("the schema named in the database URL does not exist: create it")
    return str(schema)


def head() -> str:
    """The newest revision in ``ledger/migrations``."""
    revision = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if revision is None:
        raise MigrationError(f"{MIGRATIONS} holds no migrations")
    return revision


def upgrade(target: Store | Engine) -> Upgraded:
    """Migrate the database of ``target`` to the newest revision; idempotent.

    A database whose tables predate migrations is stamped at BASELINE first (see the module
    docstring). An engine passed in stays open; one made from a Store is disposed.
    Raises MigrationError if the database cannot be read or changed.
    """
    engine = target.engine() if isinstance(target, Store) else target
    try:
        with _locked(engine) as conn:
            config = alembic_config(conn)
            before = _revision(conn)
            stamped = before is None and _predates_migrations(conn)
            if stamped:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            return Upgraded(before, _revision(conn), stamped)
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(f"the database could not be migrated: {exc}") from exc
    finally:
        if isinstance(target, Store):
            engine.dispose()


def current(target: Store | Engine) -> str | None:
    """The revision the database is at, or None if it was never migrated.

    Raises MigrationError if the database cannot be read.
    """
    engine = target.engine() if isinstance(target, Store) else target
    try:
        with engine.connect() as conn:
            return _revision(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(f"the database could not be read: {exc}") from exc
    finally:
        if isinstance(target, Store):
            engine.dispose()


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One transaction holding a write lock for the whole migration; committed on success.

    SQLite takes its database write lock at ``BEGIN IMMEDIATE``; PostgreSQL takes a
    transaction-scoped advisory lock keyed by the schema, and its DDL is transactional, so
    a failed migration leaves nothing half done on either backend. On PostgreSQL the DDL
    then waits at most :data:`LOCK_TIMEOUT` for a table in use (see there). Alembic keeps the
    running migration in module globals (``alembic.context``, ``alembic.op``), so the lock
    is also what makes concurrent upgrades from threads of one process safe.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock("
                "hashtext(coalesce(current_schema(), '') || '/caseledger-migrate'))"
            )
            # After the advisory lock: a process that starts while another migrates still
            # waits for it, however long it takes.
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        yield conn
        conn.commit()


def _revision(conn: Connection) -> str | None:
    opts = {"version_table_schema": version_schema(conn)}
    return MigrationContext.configure(conn, opts=opts).get_current_revision()


def _predates_migrations(conn: Connection) -> bool:
    # Called only when there is no revision: all the first release's tables but no
    # alembic_version means create_all made them.
    existing = set(sa.inspect(conn).get_table_names())
    return all(name in existing for name in BASELINE_TABLES)
