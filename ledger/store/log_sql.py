"""The log's tables and the SQL statements :class:`ledger.store.log_store.LogStore` runs.

One definition for SQLite and PostgreSQL (SQLAlchemy Core). Level 0 of the tree is never
stored twice: a leaf hash is computed from ``log_leaves.envelope_hash``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger import merkle
from ledger.errors import CaseLedgerError
from ledger.merkle import Subtree, TreeRangeError

__all__ = [
    "CHECKPOINTS",
    "LEAVES",
    "LOG_METADATA",
    "NODES",
    "Edge",
    "LogConflict",
    "LogError",
    "StoredCheckpoint",
    "check_entries",
    "check_extends",
    "fresh_entries",
    "frontier",
    "grow",
    "head",
    "latest",
    "reader",
    "stored_checkpoint",
    "within",
]

LOG_METADATA = sa.MetaData()
Edge = tuple[int, int, bytes]  # (level, index, hash) of a perfect subtree on the right edge
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


# --- statements -------------------------------------------------------------------------


def check_entries(entries: Sequence[tuple[int, bytes]]) -> None:
    previous = 0
    for position, envelope_hash in entries:
        if len(envelope_hash) != merkle.HASH_SIZE:
            raise LogError("an envelope hash is 32 bytes", code="log.order")
        if position <= previous:
            raise LogError("positions must be positive and increasing", code="log.order")
        previous = position


def head(conn: Connection) -> tuple[int, int]:
    """(size, last position): leaf indexes are dense and positions increase with them, so
    the last row by index has both (one index probe; two max() aggregates in one query
    would scan the table on SQLite)."""
    row = conn.execute(
        sa.select(LEAVES.c.idx, LEAVES.c.position).order_by(LEAVES.c.idx.desc()).limit(1)
    ).first()
    return (0, 0) if row is None else (int(row[0]) + 1, int(row[1]))


def within(conn: Connection, size: int, ok: bool = True) -> int:
    have = head(conn)[0]
    if not ok or not 0 <= size <= have:
        raise TreeRangeError(f"the log holds {have} leaves; {size} is beyond it")
    return size


def fresh_entries(
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


def reader(conn: Connection, need: Iterable[Subtree]) -> merkle.SubtreeReader:
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


def frontier(conn: Connection, size: int) -> tuple[Edge, ...]:
    """The right edge of the tree: (level, index, hash) of its perfect subtrees, left first."""
    edge = merkle.root_subtrees(size)
    read = reader(conn, edge)
    return tuple((s.level, s.index, read(s.level, s.index)) for s in edge)


def grow(
    size: int, frontier: Sequence[Edge], fresh: Sequence[tuple[int, bytes]]
) -> tuple[list[dict[str, object]], list[dict[str, object]], tuple[Edge, ...]]:
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


def stored_checkpoint(row: sa.Row[tuple[object, ...]]) -> StoredCheckpoint:
    signed_at = row.signed_at
    if signed_at.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
        signed_at = signed_at.replace(tzinfo=UTC)
    return StoredCheckpoint(int(row.size), bytes(row.root), str(row.note), signed_at)


def latest(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)).first()
    return None if row is None else stored_checkpoint(row)


def check_extends(
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
            f"the log has {size} leaves but a checkpoint {where} has {old_size} "
            "(数据库中的日志未延续已签署的检查点)",
            code="log.inconsistent",
        )
    if old_size == 0:
        return  # every tree extends the empty one
    need = merkle.consistency_subtrees(old_size, size)
    proof = merkle.consistency_proof(old_size, size, reader(conn, need))
    try:
        merkle.verify_consistency(old_size, size, old_root, root, proof)
    except merkle.ProofInvalid:
        raise LogError(
            f"the stored tree does not extend the checkpoint of size {old_size} {where} "
            "(数据库中的日志未延续已签署的检查点)",
            code="log.inconsistent",
        ) from None
