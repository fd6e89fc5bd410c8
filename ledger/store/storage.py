"""Where the ledger lives: one database URL becomes eventsourcing's environment and a
SQLAlchemy engine for every other table. This is the only module that knows which backend
is in use.

URLs: a plain path or ``sqlite:///path`` for the embedded SQLite file (the default), and
``postgresql://user@host:port/dbname[?schema=name]`` for production.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import CaseLedgerError

__all__ = ["EVENTS_TABLE_POSTGRES", "EVENTS_TABLE_SQLITE", "Store", "open_store"]

APP_NAME = "caseledger"
EVENTS_TABLE_SQLITE = "stored_events"
EVENTS_TABLE_POSTGRES = f"{APP_NAME}_events"


class StoreError(CaseLedgerError):
    code = "store.config"


@dataclass(frozen=True, slots=True)
class Store:
    """A parsed database location with what each library needs to open it."""

    url: str
    kind: str  # "sqlite" or "postgres"
    sqlite_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @property
    def events_table(self) -> str:
        if self.kind == "sqlite":
            return EVENTS_TABLE_SQLITE
        return f"{self.schema}.{EVENTS_TABLE_POSTGRES}" if self.schema else EVENTS_TABLE_POSTGRES

    def eventsourcing_env(self) -> dict[str, str]:
        """Environment for eventsourcing's InfrastructureFactory: no snapshots, tables created."""
        env = {"IS_SNAPSHOTTING_ENABLED": "n", "CREATE_TABLE": "y"}
        if self.kind == "sqlite":
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        else:
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": self.dbname,
                "POSTGRES_HOST": self.host,
                "POSTGRES_PORT": str(self.port),
                "POSTGRES_USER": self.user,
                "POSTGRES_PASSWORD": self.password,
                "POSTGRES_SCHEMA": self.schema,
                "POSTGRES_POOL_SIZE": "8",
                "POSTGRES_MAX_OVERFLOW": "8",
                "POSTGRES_LOCK_TIMEOUT": "10",
            }
        return env

    def engine(self) -> Engine:
        """A SQLAlchemy engine for the non-event tables (log, read models)."""
        if self.kind == "sqlite":
            engine = sa.create_engine(f"sqlite:///{self.sqlite_path}")

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=10000")
                cursor.close()

            return engine
        url = sa.URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.dbname,
        )
        options = {"options": f"-csearch_path={self.schema}"} if self.schema else {}
        return sa.create_engine(url, connect_args=options, pool_size=8, max_overflow=8)


def open_store(url: str | Path) -> Store:
    """Parse a database URL or SQLite path; raise StoreError for anything else."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        parts = urlsplit(text)
        query = parse_qs(parts.query)
        if not parts.path.strip("/"):
            raise StoreError(f"{text}: name the database, e.g. postgresql://host:5432/caseledger")
        return Store(
            url=text,
            kind="postgres",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=parts.path.strip("/"),
            schema=query.get("schema", [""])[0],
        )
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise StoreError(f"{text}: use a SQLite file path or a postgresql:// URL")
    path = Path(text).expanduser().resolve()
    if not path.parent.is_dir():
        raise StoreError(f"{path.parent} does not exist")
    return Store(url=f"sqlite:///{path}", kind="sqlite", sqlite_path=path)


def guard_append_only(store: Store) -> None:
    """Install triggers that refuse UPDATE, DELETE (and TRUNCATE) of stored events.

    eventsourcing needs UPDATE privilege for its table lock on PostgreSQL, so permissions
    alone cannot make the table append-only; the triggers do.
    """
    engine = store.engine()
    try:
        with engine.begin() as conn:
            if store.kind == "sqlite":
                for op in ("UPDATE", "DELETE"):
                    conn.exec_driver_sql(
                        f"CREATE TRIGGER IF NOT EXISTS caseledger_events_no_{op.lower()} "
                        f"BEFORE {op} ON {EVENTS_TABLE_SQLITE} "
                        "BEGIN SELECT RAISE(ABORT, 'caseledger events are append-only'); END"
                    )
            else:
                _guard_postgres(conn, store.events_table)
    finally:
        engine.dispose()


def _guard_postgres(conn: sa.Connection, table: str) -> None:
    triggers = {
        "caseledger_events_no_change": "BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW",
        "caseledger_events_no_truncate": "BEFORE TRUNCATE ON {t} FOR EACH STATEMENT",
    }
    present = set(
        conn.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %(table)s::regclass",
            {"table": table},
        ).scalars()
    )
    if present >= triggers.keys():
        # Already guarded: creating triggers takes an ACCESS EXCLUSIVE lock, which would
        # queue behind — and then block — the writers of a server already running.
        return
    conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION caseledger_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'caseledger events are append-only'; END $$"
    )
    for name, timing in triggers.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name} {timing.format(t=table)} "
            "EXECUTE FUNCTION caseledger_refuse_change()"
        )


_SQLITE_TURNS: dict[str, threading.Lock] = {}
_SQLITE_TURNS_LOCK = threading.Lock()


def writing_turn(engine: Engine) -> AbstractContextManager[object]:
    """This process's turn to write to ``engine``'s database, held around a write transaction.

    SQLite lets one writer in at a time and makes the others poll, sleeping up to 100 ms
    between tries; the ledger's writer and the followers of one process take turns here
    instead, and each is let in the moment the one before it ends (other processes still
    meet SQLite's own wait). A turn is only ever held around one transaction, never while
    waiting for anything else, so turns cannot deadlock. Other databases need no turn.
    """
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _sqlite_turn(engine.url.database or ":memory:")


@functools.lru_cache(maxsize=64)
def _sqlite_turn(database: str) -> threading.Lock:
    # Cached by the name as given: resolving the path costs system calls per transaction.
    path = os.path.realpath(database)
    with _SQLITE_TURNS_LOCK:
        return _SQLITE_TURNS.setdefault(path, threading.Lock())


def scalar(engine: Engine, query: sa.Executable, conn: sa.Connection | None = None) -> Any:
    """The first column of ``query``'s first row (None if none), read on ``conn`` when given
    (a writer's, inside its transaction), else on a connection of ``engine`` of its own."""
    if conn is not None:
        return conn.execute(query).scalar()
    with engine.connect() as own:
        return own.execute(query).scalar()
