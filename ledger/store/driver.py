"""The writer's statements, run on the database driver's own cursor.

A SQLAlchemy statement costs several times what SQLite takes to run it; the group commit runs
a handful per batch, so they go straight to the DB-API connection under the SQLAlchemy one:
same connection, same transaction. Errors come out as SQLAlchemy's own classes
(``IntegrityError``, ``OperationalError``), so callers handle one family whichever way a
statement ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["execute", "placeholder", "values_list"]


def placeholder(conn: Connection) -> str:
    """The driver's parameter mark: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def values_list(conn: Connection, columns: int, rows: int) -> str:
    """``(?, ?), (?, ?)``: the VALUES of a multi-row insert."""
    mark = placeholder(conn)
    one = "(" + ", ".join([mark] * columns) + ")"
    return ", ".join([one] * rows)


def execute(conn: Connection, statement: str, params: Sequence[object] = ()) -> Any:
    """Run ``statement`` on ``conn``'s driver connection, in its transaction; return the
    driver's cursor (rows not yet fetched)."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise sa.exc.ResourceClosedError("the connection is closed")
    cursor = driver.cursor()
    try:
        cursor.execute(statement, tuple(params))
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise sa.exc.DBAPIError.instance(
            statement, params, exc, conn.dialect.loaded_dbapi.Error
        ) from exc
    return cursor
