"""Group commit: concurrent appends checked one by one, then written together.

An appending thread queues its envelope and waits; whichever thread holds the writer's turn
takes everything queued, checks each envelope in order against the folded states in memory,
and writes the admitted ones — the events and their Merkle-log leaves — in one database
transaction. One commit (one fsync on SQLite, one round of locks on PostgreSQL) then makes a
whole batch durable and logged, and each waiter gets its own answer.

The events are written through eventsourcing's lower level: its mapper turns each domain
event into the ``StoredEvent`` it would store, and :class:`EventsTable` inserts those rows
into eventsourcing's own table on the SQLAlchemy connection that also writes the log, so
both land in the same transaction, and the batch's own reads run there too (see
:class:`EventsTable`); eventsourcing reads every stream and notification for everyone else.
The lock the transaction takes is the one eventsourcing's own writers take (SQLite's write
lock, PostgreSQL's ``EXCLUSIVE`` table lock), so notification ids are committed in order.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import StoreBusy
from ledger.store import driver
from ledger.store.storage import Store

__all__ = ["EventRow", "EventsTable", "GroupCommit", "Waiter"]

# Envelopes per transaction: enough to absorb every waiting client, small enough that one
# refused batch (retried one by one) costs little.
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as eventsourcing stores it."""

    originator_id: uuid.UUID | str
    originator_version: int
    topic: str
    state: bytes


class EventsTable:
    """eventsourcing's events table, written on a SQLAlchemy connection."""

    def __init__(self, store: Store) -> None:
        self.kind = store.kind
        schema = store.schema or None
        if store.kind == "sqlite":
            # The SQLite recorder numbers notifications by rowid and keeps ids as hex text.
            self.table = sa.table(
                store.events_table,
                sa.column("originator_id", sa.Text),
                sa.column("originator_version", sa.Integer),
                sa.column("topic", sa.Text),
                sa.column("state", sa.LargeBinary),
                sa.column("rowid", sa.Integer),
            )
            self.position = self.table.c.rowid
        else:
            self.table = sa.table(
                store.events_table.split(".")[-1],
                sa.column("originator_id", sa.Uuid),
                sa.column("originator_version", sa.BigInteger),
                sa.column("topic", sa.Text),
                sa.column("state", sa.LargeBinary),
                sa.column("notification_id", sa.BigInteger),
                schema=schema,
            )
            self.position = self.table.c.notification_id
        self._quoted = store.events_table
        # The two statements every batch runs, on the driver's cursor (:mod:`.driver`).
        position = self.position.name
        self._max_sql = f"SELECT MAX({position}) FROM {self._quoted}"  # noqa: S608 - our names
        self._insert_sql = (
            f"INSERT INTO {self._quoted} (originator_id, originator_version, topic, state) "  # noqa: S608
            "VALUES {rows} RETURNING " + position
        )

    def begin(self, conn: Connection, *, also_lock: str = "") -> None:
        """Start the writing transaction with the lock eventsourcing's writers take (and, on
        PostgreSQL, ``also_lock``, e.g. the log's advisory lock, in the same round trip)."""
        if self.kind == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        statements = [
            "SET LOCAL lock_timeout = '10s'",
            f"LOCK TABLE {self._quoted} IN EXCLUSIVE MODE",
            *([also_lock] if also_lock else []),
        ]
        conn.exec_driver_sql("; ".join(statements))

    def last_position(self, conn: Connection) -> int:
        cursor = driver.execute(conn, self._max_sql)
        (latest,) = cursor.fetchone()
        cursor.close()
        return int(latest or 0)

    def insert(self, conn: Connection, rows: Sequence[EventRow]) -> list[int]:
        """Insert ``rows`` in order; return their notification ids (positions)."""
        if not rows:
            return []
        values: list[object] = []
        for row in rows:
            stored_id = _stored_id(row.originator_id, self.kind)
            values += (stored_id, row.originator_version, row.topic, row.state)
        # One statement for the batch. Under the writer's lock ids are drawn in the order of
        # the rows, so the sorted ids are the rows' ids in order (RETURNING promises no order).
        statement = self._insert_sql.format(rows=driver.values_list(conn, 4, len(rows)))
        cursor = driver.execute(conn, statement, values)
        positions = sorted(int(p) for (p,) in cursor.fetchall())
        cursor.close()
        return positions

    def hashes_after(self, conn: Connection, position: int) -> list[tuple[int, bytes]]:
        """(position, envelope hash) of every event after ``position``: what the log still
        lacks when an older release (or an interrupted catch-up) left events unlogged."""
        rows = conn.execute(
            sa.select(self.position, self.table.c.state)
            .where(self.position > position)
            .order_by(self.position)
        )
        return [(int(p), bytes.fromhex(json.loads(state)["hash"])) for p, state in rows]

    # The writer's reads during a batch run here, on the connection that holds the table: on
    # PostgreSQL a read from another connection would queue behind any statement waiting for
    # the whole table (an ALTER TABLE), which itself waits for the batch.

    def stream_texts(
        self, conn: Connection, originator_id: uuid.UUID, *, gt: int = 0, lte: int | None = None
    ) -> list[str]:
        """The stored envelope texts of one stream after version ``gt`` (up to ``lte``)."""
        version = self.table.c.originator_version
        query = sa.select(self.table.c.state).where(
            self.table.c.originator_id == _stored_id(originator_id, self.kind), version > gt
        )
        if lte is not None:
            query = query.where(version <= lte)
        return [
            str(json.loads(state)["envelope"]) for (state,) in conn.execute(query.order_by(version))
        ]

    def stream_head(self, conn: Connection, originator_id: uuid.UUID) -> tuple[int, str | None]:
        """(version, envelope hash) of one stream's last event; (0, None) if it has none."""
        version = self.table.c.originator_version
        row = conn.execute(
            sa.select(version, self.table.c.state)
            .where(self.table.c.originator_id == _stored_id(originator_id, self.kind))
            .order_by(version.desc())
            .limit(1)
        ).first()
        return (int(row[0]), str(json.loads(row[1])["hash"])) if row else (0, None)

    def originators_between(
        self, conn: Connection, after: int, upto: int, limit: int
    ) -> list[uuid.UUID]:
        """The streams (originator ids) of up to ``limit`` events stored after position
        ``after`` up to ``upto``, in commit order."""
        rows = conn.execute(
            sa.select(self.table.c.originator_id)
            .where(self.position > after, self.position <= upto)
            .order_by(self.position)
            .limit(limit)
        )
        return [_originator(stored) for (stored,) in rows]


@dataclass
class Waiter:
    """One queued append and, once its batch is written, its answer."""

    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    # Called with the waiter once answered, in the writing thread (a caller on an event loop
    # hands the answer back to its loop from here).
    on_done: Callable[[Waiter], None] | None = None

    def finished(self) -> bool:
        return self.done

    def answer(self, result: Any) -> None:
        self.result, self.done = result, True

    def refuse(self, error: BaseException) -> None:
        self.error, self.done = error, True


class GroupCommit:
    """Leader-takes-all batching. A thread that submits waits for its answer and, when the
    turn is free, writes everything queued, its own envelope and the others'. A caller on an
    event loop queues instead (:meth:`submit_later`) and is answered by a writer thread, so
    the loop never blocks and no thread waits per request."""

    def __init__(self, write: Callable[[list[Waiter]], None], max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[Waiter] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()
        self._queued = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = False

    def submit(self, item: Any) -> Any:
        """Queue ``item``, wait for its batch to be written; return its result or raise."""
        waiter = Waiter(item)
        with self._queue_lock:
            self._queue.append(waiter)
        while not waiter.finished():
            with self._turn:
                if not waiter.finished():
                    self._write_next()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def submit_later(self, item: Any, on_done: Callable[[Waiter], None]) -> None:
        """Queue ``item`` for the writer thread; ``on_done(waiter)`` is called in the writing
        thread once it is answered (result or error)."""
        waiter = Waiter(item, on_done=on_done)
        with self._queue_lock:
            if self._closed:
                raise StoreBusy("the ledger is closing; send it again")
            self._queue.append(waiter)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._run_writer, name="caseledger-writer", daemon=True
                )
                self._writer.start()
        self._queued.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the writer thread once it has written what is queued."""
        with self._queue_lock:
            self._closed = True
            writer = self._writer
        self._queued.set()
        if writer is not None:
            writer.join(timeout)

    def _run_writer(self) -> None:
        while True:
            self._queued.wait()
            self._queued.clear()
            while True:
                with self._turn:
                    if not self._write_next():
                        break
            if self._closed:
                return

    def _write_next(self) -> bool:
        """Write the next batch of the queue (the caller holds the turn); False if empty."""
        with self._queue_lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        if not batch:
            return False
        try:
            self._write(batch)
        except BaseException as exc:
            for other in batch:
                if not other.done:
                    other.refuse(exc)
        for waiter in batch:
            if waiter.on_done is not None:
                waiter.on_done(waiter)
        return True


def _stored_id(originator_id: uuid.UUID | str, kind: str) -> object:
    if kind == "sqlite" and isinstance(originator_id, uuid.UUID):
        return originator_id.hex
    return originator_id


def _originator(stored: object) -> uuid.UUID:
    return stored if isinstance(stored, uuid.UUID) else uuid.UUID(str(stored))
