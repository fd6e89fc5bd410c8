"""transparency-dev/merkle vectors (tests/vectors/merkle) and the RFC 6962 eight-leaf tree."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofInvalid,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent.parent / "vectors" / "merkle"


def _load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [(str(f.relative_to(VECTORS)), json.loads(f.read_text())) for f in files]


INCLUSION = _load("inclusion")
CONSISTENCY = _load("consistency")


def _b(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _proof(v: dict[str, Any]) -> list[bytes]:
    return [_b(h) for h in v["proof"] or []]


def test_vector_files_have_the_expected_shape() -> None:
    # New or renamed fields upstream must fail loudly, not be skipped silently.
    assert len(INCLUSION) == 98 and len(CONSISTENCY) == 98
    inc_keys = {"leafIdx", "treeSize", "root", "leafHash", "proof", "desc", "wantErr"}
    con_keys = {"size1", "size2", "root1", "root2", "proof", "desc", "wantErr"}
    assert all(set(v) == inc_keys for _, v in INCLUSION)
    assert all(set(v) == con_keys for _, v in CONSISTENCY)
    for vectors in (INCLUSION, CONSISTENCY):
        outcomes = [v["wantErr"] for _, v in vectors]
        assert outcomes.count(False) >= 5 and outcomes.count(True) >= 50


@pytest.mark.parametrize(("name", "v"), INCLUSION, ids=[n for n, _ in INCLUSION])
def test_inclusion_vector(name: str, v: dict[str, Any]) -> None:
    def check() -> None:
        verify_inclusion(v["leafIdx"], v["treeSize"], _b(v["leafHash"]), _proof(v), _b(v["root"]))

    if v["wantErr"]:
        with pytest.raises(ProofInvalid):
            check()
    else:
        check()


@pytest.mark.parametrize(("name", "v"), CONSISTENCY, ids=[n for n, _ in CONSISTENCY])
def test_consistency_vector(name: str, v: dict[str, Any]) -> None:
    def check() -> None:
        verify_consistency(v["size1"], v["size2"], _b(v["root1"]), _b(v["root2"]), _proof(v))

    if v["wantErr"]:
        with pytest.raises(ProofInvalid):
            check()
    else:
        check()


# RFC 6962's reference test data (the certificate-transparency project's Merkle tree tests):
# eight leaves and the root of every prefix of them.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    tree = MemoryTree.of(CT_LEAVES[:size])
    assert tree.root().hex() == CT_ROOTS[size]
    assert MemoryTree.of(CT_LEAVES).root(size).hex() == CT_ROOTS[size]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]


def test_vector_proofs_are_the_ones_we_generate() -> None:
    # The happy-path vectors are proofs over the eight CT leaves: our generator must agree.
    tree = MemoryTree.of(CT_LEAVES)
    checked = 0
    for _, v in INCLUSION:
        if v["desc"] == "happy path" and v["treeSize"] <= 8:
            assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v)
            checked += 1
    for _, v in CONSISTENCY:
        if v["desc"] == "happy path" and v["size2"] <= 8:
            assert tree.consistency_proof(v["size1"], v["size2"]) == _proof(v)
            checked += 1
    assert checked >= 8
