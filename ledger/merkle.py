"""The Merkle tree of the transparency log: RFC 9162 hashing, proofs and their checks.

Pure (stdlib only), so the verifier can use it. Leaf data is always a 32-byte envelope hash;
``leaf_hash(data) = SHA-256(0x00 || data)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``.

Proof *generation* never rebuilds the tree. It reads stored hashes of perfect subtrees through
a :data:`SubtreeReader`: ``subtree(level, i)`` is the hash of the 2**level leaves starting at
leaf ``i * 2**level`` (level 0 is a leaf hash). A node of the tree whose range is not perfect
(the tree's ragged right edge) is composed from the perfect subtrees that tile it, so a proof
costs O(log n) reads. :func:`inclusion_subtrees` and :func:`consistency_subtrees` name those
reads up front, so a database can fetch them in one query.

Proof *verification* follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 and enforces the exact
proof length; every failure raises :class:`ProofInvalid`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ledger.errors import CaseLedgerError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "ProofInvalid",
    "Subtree",
    "SubtreeReader",
    "TreeRangeError",
    "consistency_proof",
    "consistency_proof_size",
    "consistency_subtrees",
    "inclusion_proof",
    "inclusion_proof_size",
    "inclusion_subtrees",
    "leaf_hash",
    "node_hash",
    "range_subtrees",
    "root",
    "root_subtrees",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: the hash of the empty tree

SubtreeReader = Callable[[int, int], bytes]
"""``subtree(level, i)``: hash of the perfect subtree of leaves [i*2**level, (i+1)*2**level)."""


class ProofInvalid(CaseLedgerError):
    """An inclusion or consistency proof does not verify (wrong hashes, sizes or length)."""

    code = "proof.invalid"


class TreeRangeError(CaseLedgerError):
    """A proof or root was asked for sizes or indexes the tree does not have."""

    code = "proof.out_of_range"


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True, slots=True, order=True)
class Subtree:
    """A perfect subtree: 2**level leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int


# --- which perfect subtrees make up a node ------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): RFC 9162's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def range_subtrees(start: int, end: int) -> tuple[Subtree, ...]:
    """The perfect subtrees, left to right, tiling the node over leaves [start, end).

    Only ranges that are nodes of some RFC 9162 tree are asked for (``start`` is a multiple
    of the largest power of two not above ``end - start``); raise TreeRangeError otherwise.
    """
    if not 0 <= start < end:
        raise TreeRangeError(f"no tree node covers leaves [{start}, {end})")
    out: list[Subtree] = []
    at = start
    for level in range((end - start).bit_length() - 1, -1, -1):
        width = 1 << level
        if (end - at) & width:
            if at % width:
                raise TreeRangeError(f"leaves [{start}, {end}) are not a tree node")
            out.append(Subtree(level, at >> level))
            at += width
    return tuple(out)


def _compose(hashes: Sequence[bytes]) -> bytes:
    """A node's hash from its tiling perfect subtrees: the right edge folds right to left."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _range_hash(start: int, end: int, subtree: SubtreeReader) -> bytes:
    return _compose([subtree(s.level, s.index) for s in range_subtrees(start, end)])


def root_subtrees(size: int) -> tuple[Subtree, ...]:
    """The perfect subtrees whose hashes make the root of a tree of ``size`` leaves."""
    return range_subtrees(0, size) if size > 0 else ()


def root(size: int, subtree: SubtreeReader) -> bytes:
    """The root hash of the first ``size`` leaves (EMPTY_ROOT for 0), in popcount(size) reads."""
    if size < 0:
        raise TreeRangeError("a tree size is not negative")
    return _range_hash(0, size, subtree) if size else EMPTY_ROOT


# --- proof generation ---------------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the inclusion proof's nodes, leaf side first (RFC 9162 PATH)."""
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """Leaf ranges of the consistency proof's nodes, bottom first (RFC 9162 SUBPROOF)."""
    if not 0 < old <= new:
        raise TreeRangeError(f"no consistency proof from size {old} to size {new}")
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, new, True
    while old != end:
        k = _split(end - start)
        if old - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    if not whole:
        # The old tree is not a left-aligned complete subtree of the new one: its last node
        # is part of the proof (RFC 9162's SUBPROOF(m, D[m], false)).
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def _subtrees_of(ranges: Iterable[tuple[int, int]]) -> frozenset[Subtree]:
    return frozenset(s for a, b in ranges for s in range_subtrees(a, b))


def inclusion_subtrees(index: int, size: int) -> frozenset[Subtree]:
    """The stored subtree hashes an inclusion proof reads (O(log size) of them)."""
    return _subtrees_of(_inclusion_ranges(index, size))


def consistency_subtrees(old: int, new: int) -> frozenset[Subtree]:
    """The stored subtree hashes a consistency proof reads (O(log new) of them)."""
    if old == new:
        return frozenset()
    return _subtrees_of(_consistency_ranges(old, new))


def inclusion_proof(index: int, size: int, subtree: SubtreeReader) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Raise TreeRangeError unless 0 <= index < size.
    """
    return [_range_hash(a, b, subtree) for a, b in _inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, subtree: SubtreeReader) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of ``old`` leaves to that of ``new``.

    Empty when old == new. Raise TreeRangeError unless 0 < old <= new (a proof from the
    empty tree would prove nothing, and RFC 9162 defines none).
    """
    if old == new and old > 0:
        return []
    return [_range_hash(a, b, subtree) for a, b in _consistency_ranges(old, new)]


# --- proof verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------


def inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes the inclusion proof of ``index`` in ``size`` leaves has (index < size)."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_size(old: int, new: int) -> int:
    """How many hashes the consistency proof from ``old`` to ``new`` has (0 < old <= new)."""
    if old == new:
        return 0
    inner = ((old - 1) ^ (new - 1)).bit_length()
    border = ((old - 1) >> inner).bit_count()
    shift = (old & -old).bit_length() - 1  # trailing zero bits of old
    seed = 0 if old == 1 << shift else 1
    return seed + (inner - shift) + border


def _check_hashes(proof: Sequence[bytes], *, what: str) -> None:
    for h in proof:
        if len(h) != HASH_SIZE:
            raise ProofInvalid(f"{what} holds a hash that is not {HASH_SIZE} bytes")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Return None if ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size``
    leaves with root ``root_hash``; else raise ProofInvalid (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofInvalid(f"leaf index {index} is not below tree size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofInvalid(f"a leaf hash is {HASH_SIZE} bytes")
    _check_hashes(proof, what="the inclusion proof")
    if len(proof) != inclusion_proof_size(index, size):
        raise ProofInvalid(
            f"an inclusion proof of leaf {index} in {size} leaves has "
            f"{inclusion_proof_size(index, size)} hashes, not {len(proof)}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofInvalid("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or not _same(r, root_hash):
        raise ProofInvalid("the inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Return None if ``proof`` shows the tree of ``old_size`` leaves (root ``old_root``) is a
    prefix of the tree of ``new_size`` leaves (root ``new_root``); else raise ProofInvalid.

    RFC 9162 section 2.1.4.2 for 0 < old < new. Equal sizes need an empty proof and equal
    roots. A proof from size 0 is refused: every tree extends the empty one, so it proves
    nothing, and accepting one would let a caller believe something was checked.
    """
    if not 0 < old_size <= new_size:
        raise ProofInvalid(f"no consistency proof from size {old_size} to size {new_size}")
    _check_hashes(proof, what="the consistency proof")
    want = consistency_proof_size(old_size, new_size)
    if len(proof) != want:
        raise ProofInvalid(
            f"a consistency proof from {old_size} to {new_size} has {want} hashes, not {len(proof)}"
        )
    if old_size == new_size:
        if not _same(old_root, new_root):
            raise ProofInvalid("trees of the same size have different roots")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # the old tree is a complete subtree: its root is the seed
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or not _same(fr, old_root) or not _same(sr, new_root):
        raise ProofInvalid("the consistency proof does not lead to both roots")


# --- an in-memory tree --------------------------------------------------------------------


@dataclass(slots=True)
class MemoryTree:
    """A Merkle log held in memory (tests, small tools): leaves and every perfect subtree.

    ``levels[l][i]`` is the hash of perfect subtree (l, i); appending a leaf adds the leaf
    hash and each parent it completes, so appending n leaves stores fewer than 2n hashes.
    """

    levels: list[list[bytes]] = field(default_factory=lambda: [[]])

    @classmethod
    def of(cls, leaf_data: Iterable[bytes]) -> MemoryTree:
        """A tree holding ``leaf_data`` in order."""
        tree = cls()
        for data in leaf_data:
            tree.append(data)
        return tree

    def append(self, data: bytes) -> int:
        """Add one leaf (its data, e.g. an envelope hash); return its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        """Add one leaf by its leaf hash; return its index."""
        index = len(self.levels[0])
        self.levels[0].append(leaf)
        level, i = 0, index
        while i & 1:  # a right child completes its parent
            parent = node_hash(self.levels[level][i - 1], self.levels[level][i])
            level, i = level + 1, i >> 1
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(parent)
        return index

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def subtree(self, level: int, index: int) -> bytes:
        """The stored hash of perfect subtree (level, index); TreeRangeError if there is none."""
        try:
            return self.levels[level][index]
        except IndexError:
            raise TreeRangeError(f"no perfect subtree ({level}, {index}) yet") from None

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all)."""
        return root(self.size if size is None else self._within(size), self.subtree)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the first ``size`` leaves (default: all)."""
        return inclusion_proof(
            index, self.size if size is None else self._within(size), self.subtree
        )

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """Consistency proof from the first ``old`` leaves to the first ``new`` (default: all)."""
        return consistency_proof(old, self.size if new is None else self._within(new), self.subtree)

    def _within(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise TreeRangeError(f"the tree holds {self.size} leaves, not {size}")
        return size
