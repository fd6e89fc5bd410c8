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

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger import merkle
from ledger.checkpoint import Checkpoint, format_tlog_proof, sign_checkpoint
from ledger.errors import CaseLedgerError
from ledger.merkle import Subtree, TreeRangeError
from ledger.note import SignerKey
from ledger.signing import PrivateKey

__all__ = [
    "LOG_METADATA",
    "CheckpointKeeper",
    "LogConflict",
    "LogError",
    "LogStore",
    "NotificationSource",
    "StoredCheckpoint",
    "catch_up",
]

LOG_METADATA = sa.MetaData()
_Edge = tuple[int, int, bytes]  # (level, index, hash) of a perfect subtree on the right edge
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only

LEAVES = sa.Table(
    "log_leaves",
    LOG_METADATA,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("envelope_hash", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("position", sa.BigInteger, nullable=False, unique=True),
)
NODES = sa.Table(
    "log_nodes",
    LOG_METADATA,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)
CHECKPOINTS = sa.Table(
    "log_checkpoints",
    LOG_METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
)


class LogError(CaseLedgerError):
    """The log refuses an append or a signature (codes ``log.order``, ``log.inconsistent``,
    ``log.corrupt``, ``log.time``)."""

    code = "log.error"


class LogConflict(LogError):
    """A position or envelope hash is already logged with different data."""

    code = "log.conflict"


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint the log signed: tree size, root hash, the signed note text, when."""

    size: int
    root: bytes
    note: str
    signed_at: datetime

    @property
    def text(self) -> str:
        return self.note


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
        self._edge: tuple[int, tuple[_Edge, ...]] = (-1, ())
        if create:
            LOG_METADATA.create_all(engine, checkfirst=True)

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction holding the log's write lock; committed if the block succeeds."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/caseledger-log'))"
                )
            yield conn
            conn.commit()

    def append(self, entries: Sequence[tuple[int, bytes]]) -> int:
        """Log (source position, envelope hash) pairs given in increasing position order;
        return how many were new. Positions already logged with the same hash are skipped.

        Raise LogError (``log.order``) for positions out of order or below the last logged
        one that are not logged, LogConflict if a position or hash is logged differently.
        One transaction: after a crash either all of a call's leaves are logged or none.
        """
        _check_entries(entries)
        if not entries:
            return 0
        with self._writing() as conn:
            size, last = _head(conn)
            fresh = _fresh_entries(conn, entries, last)
            if not fresh:
                return 0
            edge = self._edge if self._edge[0] == size else (size, _frontier(conn, size))
            leaf_rows, node_rows, new_edge = _grow(size, edge[1], fresh)
            try:
                conn.execute(sa.insert(LEAVES), leaf_rows)
                if node_rows:
                    conn.execute(sa.insert(NODES), node_rows)
            except sa.exc.IntegrityError:
                # Under the lock only the envelope hash can clash: it is logged elsewhere.
                raise LogConflict("an envelope hash of this batch is already logged") from None
        self._edge = (size + len(fresh), new_edge)
        return len(fresh)

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
            size, _ = _head(conn)
            root = merkle.root(size, _reader(conn, merkle.root_subtrees(size)))
            kept = self._kept_extended_by(conn, size, root)
            last = _latest(conn)
            if last is not None:
                _check_extends(conn, last.size, last.root, size, root)
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
            size, _ = _head(conn)
            root = merkle.root(size, _reader(conn, merkle.root_subtrees(size)))
            return self._kept_extended_by(conn, size, root)

    def _kept_extended_by(self, conn: Connection, size: int, root: bytes) -> Checkpoint | None:
        kept = None if self.keeper is None else self.keeper.latest()
        if kept is not None:
            _check_extends(
                conn, kept.size, kept.root, size, root, where="kept outside the database"
            )
        return kept

    # --- reading ------------------------------------------------------------------------

    def size(self) -> int:
        """The number of leaves logged."""
        with self.engine.connect() as conn:
            return _head(conn)[0]

    def last_position(self) -> int:
        """The source position of the last leaf logged (0 when the log is empty)."""
        with self.engine.connect() as conn:
            return _head(conn)[1]

    def leaf_index(self, envelope_hash: bytes) -> int | None:
        """The leaf index of an envelope hash, or None if it is not logged."""
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(LEAVES.c.idx).where(LEAVES.c.envelope_hash == envelope_hash)
            ).scalar()
        return None if found is None else int(found)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The leaf data (envelope hashes) of leaves start <= i < end, for monitors that
        rebuild the tree. Raise TreeRangeError unless 0 <= start <= end <= size."""
        with self.engine.connect() as conn:
            _within(conn, end, start <= end and start >= 0)
            rows = conn.execute(
                sa.select(LEAVES.c.envelope_hash)
                .where(LEAVES.c.idx >= start, LEAVES.c.idx < end)
                .order_by(LEAVES.c.idx)
            ).scalars()
            return [bytes(h) for h in rows]

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all)."""
        with self.engine.connect() as conn:
            size = _head(conn)[0] if size is None else _within(conn, size)
            return merkle.root(size, _reader(conn, merkle.root_subtrees(size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves; raise
        TreeRangeError unless 0 <= index < size <= the log's size."""
        with self.engine.connect() as conn:
            _within(conn, size)
            need = merkle.inclusion_subtrees(index, size)
            return merkle.inclusion_proof(index, size, _reader(conn, need))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """Consistency proof from ``old`` to ``new`` leaves; raise TreeRangeError unless
        0 < old <= new <= the log's size."""
        with self.engine.connect() as conn:
            _within(conn, new)
            need = merkle.consistency_subtrees(old, new)
            return merkle.consistency_proof(old, new, _reader(conn, need))

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
            return _latest(conn)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint signed, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.id)).all()
        return [_checkpoint(r) for r in rows]

    def tlog_proof(self, envelope_hash: bytes, checkpoint: StoredCheckpoint) -> str:
        """The C2SP tlog-proof text showing ``envelope_hash`` in ``checkpoint``'s tree;
        raise TreeRangeError if the envelope is not logged within that tree."""
        index = self.leaf_index(envelope_hash)
        if index is None or index >= checkpoint.size:
            raise TreeRangeError("the envelope is not in the checkpoint's tree")
        return format_tlog_proof(
            index, self.inclusion_proof(index, checkpoint.size), checkpoint.note
        )


# --- statements ---------------------------------------------------------------------------


def _check_entries(entries: Sequence[tuple[int, bytes]]) -> None:
    previous = 0
    for position, envelope_hash in entries:
        if len(envelope_hash) != merkle.HASH_SIZE:
            raise LogError("an envelope hash is 32 bytes", code="log.order")
        if position <= previous:
            raise LogError("positions must be positive and increasing", code="log.order")
        previous = position


def _head(conn: Connection) -> tuple[int, int]:
    """(size, last position): leaf indexes are dense and positions increase with them, so
    the last row by index has both (one index probe; two max() aggregates in one query
    would scan the table on SQLite)."""
    row = conn.execute(
        sa.select(LEAVES.c.idx, LEAVES.c.position).order_by(LEAVES.c.idx.desc()).limit(1)
    ).first()
    return (0, 0) if row is None else (int(row[0]) + 1, int(row[1]))


def _within(conn: Connection, size: int, ok: bool = True) -> int:
    have = _head(conn)[0]
    if not ok or not 0 <= size <= have:
        raise TreeRangeError(f"the log holds {have} leaves; {size} is beyond it")
    return size


def _fresh_entries(
    conn: Connection, entries: Sequence[tuple[int, bytes]], last: int
) -> list[tuple[int, bytes]]:
    """The entries not yet logged; refuse any that would rewrite or reorder the log."""
    old = [e for e in entries if e[0] <= last]
    if old:
        rows = conn.execute(
            sa.select(LEAVES.c.position, LEAVES.c.envelope_hash).where(
                LEAVES.c.position.in_([p for p, _ in old])
            )
        )
        logged = {int(p): bytes(h) for p, h in rows}  # dict(result) would treat it as a mapping
        for position, envelope_hash in old:
            if position not in logged:
                raise LogError(
                    f"position {position} comes before the last logged ({last})", code="log.order"
                )
            if logged[position] != envelope_hash:
                raise LogConflict(f"position {position} is logged with another envelope hash")
    return [e for e in entries if e[0] > last]


def _reader(conn: Connection, need: Iterable[Subtree]) -> merkle.SubtreeReader:
    """Fetch the named subtree hashes in (at most) two queries and serve them from memory."""
    need = list(need)
    got: dict[tuple[int, int], bytes] = {}
    leaves = [s.index for s in need if s.level == 0]
    nodes = [(s.level, s.index) for s in need if s.level > 0]
    if leaves:
        rows = conn.execute(
            sa.select(LEAVES.c.idx, LEAVES.c.envelope_hash).where(LEAVES.c.idx.in_(leaves))
        )
        got |= {(0, int(i)): merkle.leaf_hash(bytes(h)) for i, h in rows}
    if nodes:
        node_rows = conn.execute(
            # OR of key equalities, not a row-value IN: SQLite plans the latter as a scan.
            sa.select(NODES.c.level, NODES.c.idx, NODES.c.hash).where(
                sa.or_(*(sa.and_(NODES.c.level == lv, NODES.c.idx == i) for lv, i in nodes))
            )
        )
        got |= {(int(lv), int(i)): bytes(h) for lv, i, h in node_rows}

    def read(level: int, index: int) -> bytes:
        try:
            return got[(level, index)]
        except KeyError:
            raise LogError(
                f"stored subtree ({level}, {index}) is missing", code="log.corrupt"
            ) from None

    return read


def _frontier(conn: Connection, size: int) -> tuple[_Edge, ...]:
    """The right edge of the tree: (level, index, hash) of its perfect subtrees, left first."""
    edge = merkle.root_subtrees(size)
    read = _reader(conn, edge)
    return tuple((s.level, s.index, read(s.level, s.index)) for s in edge)


def _grow(
    size: int, frontier: Sequence[_Edge], fresh: Sequence[tuple[int, bytes]]
) -> tuple[list[dict[str, object]], list[dict[str, object]], tuple[_Edge, ...]]:
    """Rows for the new leaves and for every perfect subtree they complete, and the new
    right edge."""
    leaf_rows: list[dict[str, object]] = []
    node_rows: list[dict[str, object]] = []
    stack = list(frontier)
    for offset, (position, envelope_hash) in enumerate(fresh):
        index = size + offset
        leaf_rows.append({"idx": index, "envelope_hash": envelope_hash, "position": position})
        level, i, h = 0, index, merkle.leaf_hash(envelope_hash)
        while i & 1:  # a right child: its left sibling is the top of the right edge
            _, _, left = stack.pop()
            level, i, h = level + 1, i >> 1, merkle.node_hash(left, h)
            node_rows.append({"level": level, "idx": i, "hash": h})
        stack.append((level, i, h))
    return leaf_rows, node_rows, tuple(stack)


def _checkpoint(row: sa.Row[tuple[object, ...]]) -> StoredCheckpoint:
    signed_at = row.signed_at
    if signed_at.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
        signed_at = signed_at.replace(tzinfo=UTC)
    return StoredCheckpoint(int(row.size), bytes(row.root), str(row.note), signed_at)


def _latest(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)).first()
    return None if row is None else _checkpoint(row)


def _check_extends(
    conn: Connection,
    old_size: int,
    old_root: bytes,
    size: int,
    root: bytes,
    *,
    where: str = "signed",
) -> None:
    """Refuse unless the stored tree (``size``, ``root``) is consistent with an earlier
    checkpoint (``old_size``, ``old_root``)."""
    if old_size > size:
        raise LogError(
            f"the log has {size} leaves but a checkpoint {where} has {old_size}",
            code="log.inconsistent",
        )
    if old_size == 0:
        return  # every tree extends the empty one
    need = merkle.consistency_subtrees(old_size, size)
    proof = merkle.consistency_proof(old_size, size, _reader(conn, need))
    try:
        merkle.verify_consistency(old_size, size, old_root, root, proof)
    except merkle.ProofInvalid:
        raise LogError(
            f"the stored tree does not extend the checkpoint of size {old_size} {where}",
            code="log.inconsistent",
        ) from None
