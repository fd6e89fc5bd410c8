"""ledger.merkle: generation against a recursive reference, O(log n) reads, refusals."""

from __future__ import annotations

import hashlib

import pytest

from ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofInvalid,
    Subtree,
    TreeRangeError,
    consistency_proof,
    consistency_proof_size,
    consistency_subtrees,
    inclusion_proof,
    inclusion_proof_size,
    inclusion_subtrees,
    leaf_hash,
    node_hash,
    range_subtrees,
    root,
    verify_consistency,
    verify_inclusion,
)

DATA = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(70)]
TREE = MemoryTree.of(DATA)


# The RFC 9162 definitions, written recursively over the leaf list: the reference our
# stored-subtree generator must agree with.
def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return leaf_hash(d[0])
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) <= 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    if m == len(d):
        return [] if whole else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], whole), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_hashing_is_domain_separated() -> None:
    x = bytes(32)
    assert leaf_hash(x) == hashlib.sha256(b"\x00" + x).digest()
    assert node_hash(x, x) == hashlib.sha256(b"\x01" + x + x).digest()
    assert leaf_hash(x + x) != node_hash(x, x)


@pytest.mark.parametrize("n", range(71))
def test_roots_and_proofs_match_the_recursive_definition(n: int) -> None:
    prefix = DATA[:n]
    assert TREE.root(n) == ref_mth(prefix)
    for i in range(n):
        proof = TREE.inclusion_proof(i, n)
        assert proof == ref_path(i, prefix)
        assert len(proof) == inclusion_proof_size(i, n)
        verify_inclusion(i, n, leaf_hash(DATA[i]), proof, TREE.root(n))
    for m in range(1, n + 1):
        proof = TREE.consistency_proof(m, n)
        assert proof == ref_subproof(m, prefix, True)
        assert len(proof) == consistency_proof_size(m, n)
        verify_consistency(m, n, TREE.root(m), TREE.root(n), proof)


def test_memory_tree_stores_fewer_than_two_hashes_per_leaf() -> None:
    stored = sum(len(level) for level in TREE.levels)
    assert TREE.size <= stored < 2 * TREE.size


class CountingReader:
    """A huge virtual tree: subtree (l, i) hashes to a value derived from its coordinates."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 1000, 1_000_000, 10_000_000, 2**40 + 12345])
def test_proofs_read_a_logarithmic_number_of_subtrees(size: int) -> None:
    bound = 2 * size.bit_length() + 2
    for index in {0, size // 3, size - 1}:
        reader = CountingReader()
        inclusion_proof(index, size, reader)
        assert len(reader.reads) <= bound
        assert set(reader.reads) == {(s.level, s.index) for s in inclusion_subtrees(index, size)}
    for old in {1, size // 2 or 1, size - 1 or 1}:
        reader = CountingReader()
        consistency_proof(old, size, reader)
        assert len(reader.reads) <= bound
        assert set(reader.reads) == {(s.level, s.index) for s in consistency_subtrees(old, size)}
    reader = CountingReader()
    root(size, reader)
    assert len(reader.reads) == size.bit_count()


def test_range_subtrees_tile_the_right_edge() -> None:
    assert range_subtrees(0, 13) == (Subtree(3, 0), Subtree(2, 2), Subtree(0, 12))
    assert range_subtrees(8, 13) == (Subtree(2, 2), Subtree(0, 12))
    with pytest.raises(TreeRangeError):
        range_subtrees(1, 3)  # not a node of any tree
    with pytest.raises(TreeRangeError):
        range_subtrees(5, 5)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3), (9, 4)])
def test_inclusion_proof_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(TreeRangeError):
        inclusion_proof(index, size, TREE.subtree)


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 5), (6, 5), (-1, 2)])
def test_consistency_proof_outside_the_tree_is_refused(old: int, new: int) -> None:
    with pytest.raises(TreeRangeError):
        consistency_proof(old, new, TREE.subtree)


def test_memory_tree_refuses_sizes_it_does_not_hold() -> None:
    with pytest.raises(TreeRangeError):
        TREE.root(71)
    with pytest.raises(TreeRangeError):
        TREE.subtree(7, 0)
    assert TREE.consistency_proof(70) == []


def test_verify_refuses_hashes_of_the_wrong_length() -> None:
    proof = TREE.inclusion_proof(3, 10)
    with pytest.raises(ProofInvalid):
        verify_inclusion(3, 10, leaf_hash(DATA[3])[:31], proof, TREE.root(10))
    with pytest.raises(ProofInvalid):
        verify_inclusion(
            3, 10, leaf_hash(DATA[3]), [*proof[:-1], proof[-1] + b"\x00"], TREE.root(10)
        )
    cons = TREE.consistency_proof(3, 10)
    with pytest.raises(ProofInvalid):
        verify_consistency(3, 10, TREE.root(3), TREE.root(10), [cons[0][:16], *cons[1:]])


def test_errors_carry_stable_codes() -> None:
    with pytest.raises(ProofInvalid) as caught:
        verify_inclusion(0, 2, leaf_hash(DATA[0]), [], TREE.root(2))
    assert caught.value.code == "proof.invalid"
    with pytest.raises(TreeRangeError) as refused:
        TREE.inclusion_proof(2, 2)
    assert refused.value.code == "proof.out_of_range"
