"""A follower's position in the notification log, kept in a (name, position) table and moved
only from the value it was read at, so two followers of one log never both take a batch."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["advance"]


def advance(conn: Connection, table: sa.Table, name: str, start: int, position: int) -> bool:
    """Move ``name``'s position in ``table`` from ``start`` to ``position`` in ``conn``'s
    transaction; False if it is no longer ``start`` (another follower moved it first)."""
    if (
        start == 0
        and conn.execute(sa.select(table.c.name).where(table.c.name == name)).first() is None
    ):
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(name=name, position=position))
            return True
        except sa.exc.IntegrityError:
            return False
    moved = conn.execute(
        table.update()
        .where(table.c.name == name, table.c.position == start)
        .values(position=position)
    )
    return bool(moved.rowcount == 1)
