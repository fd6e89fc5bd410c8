"""Property: every proof the log generates verifies, and no altered proof does.

One tree of 3000 leaves is built once; sizes, indexes and alterations are drawn at random.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    MemoryTree,
    ProofInvalid,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

N = 3000
DATA = [hashlib.sha256(b"envelope %d" % i).digest() for i in range(N)]
TREE = MemoryTree.of(DATA)
ROOTS = [TREE.root(n) for n in range(N + 1)]


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, N))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, N))
    return draw(st.integers(1, new)), new


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    i = which % len(proof)
    h = bytearray(proof[i])
    h[(bit // 8) % 32] ^= 1 << (bit % 8)
    return [*proof[:i], bytes(h), *proof[i + 1 :]]


@settings(max_examples=300, deadline=None)
@given(index_and_size())
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    index, size = case
    verify_inclusion(
        index, size, leaf_hash(DATA[index]), TREE.inclusion_proof(index, size), ROOTS[size]
    )


@settings(max_examples=300, deadline=None)
@given(two_sizes())
def test_every_consistency_proof_verifies(case: tuple[int, int]) -> None:
    old, new = case
    verify_consistency(old, new, ROOTS[old], ROOTS[new], TREE.consistency_proof(old, new))


@settings(max_examples=300, deadline=None)
@given(
    index_and_size(),
    st.integers(0, 2**16),
    st.integers(0, 255),
    st.sampled_from(["flip", "cut", "extend", "leaf", "root", "index"]),
)
def test_altered_inclusion_proofs_fail(
    case: tuple[int, int], which: int, bit: int, how: str
) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    leaf, root_hash = leaf_hash(DATA[index]), ROOTS[size]
    if how == "flip":
        if not proof:
            return
        proof = _flip(proof, which, bit)
    elif how == "cut":
        if not proof:
            return
        proof = proof[:-1] if which % 2 else proof[1:]
    elif how == "extend":
        proof = [*proof, hashlib.sha256(b"%d" % which).digest()]
    elif how == "leaf":
        leaf = _flip([leaf], 0, bit)[0]
    elif how == "root":
        root_hash = _flip([root_hash], 0, bit)[0]
    else:
        # Another leaf's position: the path from the root differs, so the same hashes
        # combine in another order. (Changing only the size is not detectable by the proof
        # alone: the signed checkpoint binds size and root together.)
        if size == 1:
            return
        index = (index + 1 + which % (size - 1)) % size
    with pytest.raises(ProofInvalid):
        verify_inclusion(index, size, leaf, proof, root_hash)


@settings(max_examples=300, deadline=None)
@given(
    two_sizes(),
    st.integers(0, 2**16),
    st.integers(0, 255),
    st.sampled_from(["flip", "cut", "extend", "old", "new", "swap"]),
)
def test_altered_consistency_proofs_fail(
    case: tuple[int, int], which: int, bit: int, how: str
) -> None:
    old, new = case
    proof = TREE.consistency_proof(old, new)
    old_root, new_root = ROOTS[old], ROOTS[new]
    if how == "flip":
        if not proof:
            return
        proof = _flip(proof, which, bit)
    elif how == "cut":
        if not proof:
            return
        proof = proof[:-1] if which % 2 else proof[1:]
    elif how == "extend":
        proof = [*proof, hashlib.sha256(b"%d" % which).digest()]
    elif how == "old":
        old_root = _flip([old_root], 0, bit)[0]
    elif how == "new":
        new_root = _flip([new_root], 0, bit)[0]
    else:
        if old == new:
            return
        old_root, new_root = new_root, old_root
    with pytest.raises(ProofInvalid):
        verify_consistency(old, new, old_root, new_root, proof)
