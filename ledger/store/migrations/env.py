"""Alembic's environment: migrate the connection that :mod:`ledger.store.migrate` passes in.

``config.attributes["connection"]`` holds a SQLAlchemy Connection (or an Engine, which is
then connected here). There is no offline (SQL script) mode: the migrations look at the
database they run on. On SQLite, table changes are rendered as batch operations (copy and
move), since SQLite's ALTER TABLE cannot change columns or constraints. On PostgreSQL the
version table lives in the connection's current schema, next to the tables it describes.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection, Engine

from ledger.store.migrate import include_name, version_schema


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=context.config.attributes.get("target_metadata"),
        render_as_batch=connection.dialect.name == "sqlite",
        version_table_schema=version_schema(connection),
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    if context.is_offline_mode():
        raise RuntimeError("caseledger migrations run online only (ledger.store.migrate.upgrade)")
    given: Any = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure_and_run(given)
    elif isinstance(given, Engine):
        with given.begin() as connection:
            _configure_and_run(connection)
    else:
        raise RuntimeError('pass a Connection or Engine in config.attributes["connection"]')


_run()
