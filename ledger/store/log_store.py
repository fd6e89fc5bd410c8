"""The transparency log's storage: leaves, stored perfect-subtree hashes, signed checkpoints.

SQLAlchemy Core on an engine passed in; the same tables and statements serve SQLite and
PostgreSQL. Leaves are appended in the ledger's commit order (its notification positions).
Appending also writes each perfect subtree the new leaves complete (level >= 1; level 0 is
the leaf hash, derived from the leaf row), so n appends write about n node rows and never
recompute the tree. Proofs read O(log n) stored hashes, fetched in one query.

Writers serialise on a lock taken at the start of their transaction: ``BEGIN IMMEDIATE`` on
SQLite, a transaction-scoped advisory lock (keyed by the current schema) on PostgreSQL. The
unique constraints on leaf index, envelope hash and source position stand behind the lock,
so no interleaving can log a leaf twice or leave a hole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger import merkle
from ledger.checkpoint import Checkpoint, format_tlog_proof, sign_checkpoint
from ledger.merkle import TreeRangeError
from ledger.note import SignerKey
from ledger.signing import PrivateKey
from ledger.store import driver
from ledger.store import log_sql as sql
from ledger.store.log_sql import (
    CHECKPOINTS,
    LEAVES,
    LOG_METADATA,
    NODES,
    LogConflict,
    LogError,
    StoredCheckpoint,
)
from ledger.store.storage import scalar

__all__ = [
    "CHECKPOINTS",
    "LEAVES",
    "LOG_METADATA",
    "NODES",
    "CheckpointKeeper",
    "LogConflict",
    "LogError",
    "LogStore",
    "NotificationSource",
    "StoredCheckpoint",
    "catch_up",
]


_PENDING_EDGE = "caseledger.log.pending_edge"
_ROWS_PER_INSERT = 500
# The log's write lock on PostgreSQL, for the transaction that takes it (SQLite's is the
# database's own write lock).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/caseledger-log'))"


class NotificationSource(Protocol):
    """What the log follows: the ledger's envelopes in commit order."""

    def notifications_after(self, last_position: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, 32-byte envelope hash) after ``last_position``, at most ``limit``."""
        ...


class CheckpointKeeper(Protocol):
    """Where signed checkpoints are also kept, outside the database (see
    :class:`ledger.store.anchor.CheckpointFolder`)."""

    def latest(self) -> Checkpoint | None:
        """The newest kept checkpoint (verified), or None."""
        ...

    def keep(self, note: str) -> None:
        """Keep a newly signed checkpoint durably."""
        ...


def catch_up(ledger: NotificationSource, log: LogStore, batch: int = 500) -> int:
    """Append to ``log`` every envelope ``ledger`` committed since the log's last position;
    return the number of leaves added. Safe to run from several processes at once."""
    added = 0
    while True:
        rows = ledger.notifications_after(log.last_position(), batch)
        if not rows:
            return added
        added += log.append(rows)
        if len(rows) < batch:
            return added


class LogStore:
    """The Merkle log of one origin on ``engine``; creates its tables if they are missing."""

    def __init__(
        self,
        engine: Engine,
        *,
        origin: str,
        create: bool = True,
        keeper: CheckpointKeeper | None = None,
    ) -> None:
        self.engine = engine
        self.origin = origin
        # Checkpoints kept outside the database: signing refuses a tree that does not extend
        # the newest kept one, and each new checkpoint is kept before it is committed.
        self.keeper = keeper
        # The right edge after our last append: stored hashes never change, so while the
        # log's size is still the one we left it at, the edge need not be read again.
        self._edge: tuple[int, tuple[sql.Edge, ...]] = (-1, ())
        # (size, last position) after this store's last committed append.
        self._head: tuple[int, int] | None = None
        if create:
            LOG_METADATA.create_all(engine, checkfirst=True)

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction holding the log's write lock; committed if the block succeeds."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            self.lock_within(conn)
            conn.info.pop(_PENDING_EDGE, None)
            yield conn
            conn.commit()
            self.committed(conn)

    def append(self, entries: Sequence[tuple[int, bytes]]) -> int:
        """Log (source position, envelope hash) pairs given in increasing position order;
        return how many were new. Positions already logged with the same hash are skipped.

        Raise LogError (``log.order``) for positions out of order or below the last logged
        one that are not logged, LogConflict if a position or hash is logged differently.
        One transaction: after a crash either all of a call's leaves are logged or none.
        """
        sql.check_entries(entries)
        if not entries:
            return 0
        with self._writing() as conn:
            return len(self.append_within(conn, entries))

    def lock_within(self, conn: Connection) -> None:
        """Take the log's write lock in the caller's transaction (see :meth:`append_within`)."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(LOCK_SQL)

    def append_within(
        self,
        conn: Connection,
        entries: Sequence[tuple[int, bytes]],
        *,
        unchanged_since_ours: bool = False,
    ) -> list[int]:
        """Log entries in the caller's transaction, which holds the log's write lock (SQLite's
        ``BEGIN IMMEDIATE``, or :meth:`lock_within`); return the leaf index of each new entry.

        The ledger's group commit writes envelopes and their leaves this way, in one
        transaction, and reports the commit with :meth:`committed`. With
        ``unchanged_since_ours`` the caller vouches that nobody wrote to the store since this
        log's last committed append (it holds the lock and saw no other write), so the head
        that append left is still the head and is not read again.
        """
        conn.info.pop(_PENDING_EDGE, None)  # left by a rolled-back transaction on this connection
        if unchanged_since_ours and self._head is not None:
            size, last = self._head
        else:
            size, last = sql.head(conn)
        fresh = sql.fresh_entries(conn, entries, last)
        if not fresh:
            return []
        edge = self._edge if self._edge[0] == size else (size, sql.frontier(conn, size))
        leaf_rows, node_rows, new_edge = sql.grow(size, edge[1], fresh)
        try:
            _insert_rows(conn, LEAVES.name, ("idx", "envelope_hash", "position"), leaf_rows)
            _insert_rows(conn, NODES.name, ("level", "idx", "hash"), node_rows)
        except sa.exc.IntegrityError:
            # Under the lock only the envelope hash can clash: it is logged elsewhere.
            raise LogConflict("an envelope hash of this batch is already logged") from None
        conn.info[_PENDING_EDGE] = (size + len(fresh), new_edge, fresh[-1][0])
        return list(range(size, size + len(fresh)))

    def committed(self, conn: Connection) -> None:
        """``conn``'s transaction of :meth:`append_within` committed: keep its right edge
        (kept with the connection until then, so a rolled-back batch leaves nothing)."""
        pending = conn.info.pop(_PENDING_EDGE, None)
        if pending is not None:
            size, edge, last = pending
            self._edge = (size, edge)
            self._head = (size, last)

    def sign_checkpoint(self, signer: PrivateKey | SignerKey, now: datetime) -> StoredCheckpoint:
        """Sign and store a checkpoint of the whole tree at time ``now``; return it.

        Before signing, check with a consistency proof built from the stored hashes that the
        tree extends the last checkpoint signed and the newest one kept outside the database;
        raise LogError (``log.inconsistent``) if not. If the tree has not grown since, return
        the last checkpoint unchanged. A new checkpoint is kept (file written and synced)
        before its row is committed, so none is stored that is not also kept.
        """
        key, name = (
            (signer.private_key, signer.name) if isinstance(signer, SignerKey) else (signer, None)
        )
        if now.tzinfo is None:
            raise LogError("the signing time must be timezone-aware", code="log.time")
        with self._writing() as conn:
            size, _ = sql.head(conn)
            root = merkle.root(size, sql.reader(conn, merkle.root_subtrees(size)))
            kept = self._kept_extended_by(conn, size, root)
            last = sql.latest(conn)
            if last is not None:
                sql.check_extends(conn, last.size, last.root, size, root)
                if last.size == size:
                    if self.keeper is not None and (kept is None or kept.size < size):
                        self.keeper.keep(last.note)
                    return last
            note = sign_checkpoint(self.origin, size, root, key, name)
            signed_at = now.astimezone(UTC)
            conn.execute(
                sa.insert(CHECKPOINTS),
                {"size": size, "root": root, "note": note, "signed_at": signed_at},
            )
            if self.keeper is not None:
                self.keeper.keep(note)
        return StoredCheckpoint(size, root, note, signed_at)

    def check_kept(self) -> Checkpoint | None:
        """Raise LogError (``log.inconsistent``) unless the stored tree extends the newest
        checkpoint kept outside the database; return that checkpoint (None if none is kept)."""
        with self.engine.connect() as conn:
            size, _ = sql.head(conn)
            root = merkle.root(size, sql.reader(conn, merkle.root_subtrees(size)))
            return self._kept_extended_by(conn, size, root)

    def _kept_extended_by(self, conn: Connection, size: int, root: bytes) -> Checkpoint | None:
        kept = None if self.keeper is None else self.keeper.latest()
        if kept is not None:
            sql.check_extends(
                conn, kept.size, kept.root, size, root, where="kept outside the database"
            )
        return kept

    # --- reading ------------------------------------------------------------------------

    def size(self) -> int:
        """The number of leaves logged."""
        with self.engine.connect() as conn:
            return sql.head(conn)[0]

    def last_position(self) -> int:
        """The source position of the last leaf logged (0 when the log is empty)."""
        with self.engine.connect() as conn:
            return sql.head(conn)[1]

    def leaf_index(self, envelope_hash: bytes, conn: Connection | None = None) -> int | None:
        """The leaf index of an envelope hash, or None if it is not logged (read on ``conn``
        if given: the writer's, in its batch)."""
        query = sa.select(LEAVES.c.idx).where(LEAVES.c.envelope_hash == envelope_hash)
        found = scalar(self.engine, query, conn)
        return None if found is None else int(found)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The leaf data (envelope hashes) of leaves start <= i < end, for monitors that
        rebuild the tree. Raise TreeRangeError unless 0 <= start <= end <= size."""
        with self.engine.connect() as conn:
            sql.within(conn, end, start <= end and start >= 0)
            rows = conn.execute(
                sa.select(LEAVES.c.envelope_hash)
                .where(LEAVES.c.idx >= start, LEAVES.c.idx < end)
                .order_by(LEAVES.c.idx)
            ).scalars()
            return [bytes(h) for h in rows]

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all)."""
        with self.engine.connect() as conn:
            size = sql.head(conn)[0] if size is None else sql.within(conn, size)
            return merkle.root(size, sql.reader(conn, merkle.root_subtrees(size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves; raise
        TreeRangeError unless 0 <= index < size <= the log's size."""
        with self.engine.connect() as conn:
            sql.within(conn, size)
            need = merkle.inclusion_subtrees(index, size)
            return merkle.inclusion_proof(index, size, sql.reader(conn, need))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """Consistency proof from ``old`` to ``new`` leaves; raise TreeRangeError unless
        0 < old <= new <= the log's size."""
        with self.engine.connect() as conn:
            sql.within(conn, new)
            need = merkle.consistency_subtrees(old, new)
            return merkle.consistency_proof(old, new, sql.reader(conn, need))

    def stored_nodes(self, level: int, start: int, end: int) -> dict[int, bytes]:
        """The stored hashes of level ``level`` (>= 1) with start <= index < end, for audits
        that recompute the tree."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(NODES.c.idx, NODES.c.hash).where(
                    NODES.c.level == level, NODES.c.idx >= start, NODES.c.idx < end
                )
            )
            return {int(i): bytes(h) for i, h in rows}

    def node_count(self) -> int:
        """How many node rows are stored (a log of n leaves needs n - popcount(n))."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(NODES)).scalar() or 0)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The last checkpoint signed, or None."""
        with self.engine.connect() as conn:
            return sql.latest(conn)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint signed, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.id)).all()
        return [sql.stored_checkpoint(r) for r in rows]

    def tlog_proof(self, envelope_hash: bytes, checkpoint: StoredCheckpoint) -> str:
        """The C2SP tlog-proof text showing ``envelope_hash`` in ``checkpoint``'s tree;
        raise TreeRangeError if the envelope is not logged within that tree."""
        index = self.leaf_index(envelope_hash)
        if index is None or index >= checkpoint.size:
            raise TreeRangeError("the envelope is not in the checkpoint's tree")
        return format_tlog_proof(
            index, self.inclusion_proof(index, checkpoint.size), checkpoint.note
        )


def _insert_rows(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[dict[str, object]]
) -> None:
    """Multi-row INSERTs on the driver's cursor (the group commit's hot path), in chunks
    that stay under the drivers' limits on parameters per statement."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        values = driver.values_list(conn, len(columns), len(chunk))
        params = [row[column] for row in chunk for column in columns]
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
        driver.execute(conn, statement, params).close()
