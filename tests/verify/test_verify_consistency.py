"""Consistency between two checkpoints of the log."""

from __future__ import annotations

import base64
import json

import pytest
from verifykit import ORIGIN, SEALED_AT, Org

from ledger.checkpoint import cosign, sign_checkpoint
from ledger.merkle import MemoryTree
from ledger.signing import PrivateKey
from ledger.trust import TrustFile
from verify import InputUnreadable, parse_consistency_proof, verify_consistency

WITNESS = "witness.supervision.example.gov.cn"


def _log(leaves: int) -> MemoryTree:
    return MemoryTree.of(i.to_bytes(32, "big") for i in range(leaves))


def _note(org: Org, tree: MemoryTree, size: int, key: PrivateKey | None = None) -> str:
    note = sign_checkpoint(ORIGIN, size, tree.root(size), key or org.log_key)
    return cosign(note, org.witness_key, WITNESS, SEALED_AT)


def test_a_log_that_grew_is_consistent(org: Org, trust: TrustFile) -> None:
    tree = _log(37)
    verdict = verify_consistency(
        _note(org, tree, 20), _note(org, tree, 37), tree.consistency_proof(20, 37), trust
    )
    assert verdict.verdict == "PASSED", verdict.render_text()
    assert [c.id for c in verdict.checks] == [
        "checkpoint.signature",
        "checkpoint.witnesses",
        "checkpoint.consistency",
    ]


def test_a_rewritten_history_is_not_consistent(org: Org, trust: TrustFile) -> None:
    honest = _log(37)
    forked = MemoryTree.of((b"\xff" * 32 if i == 5 else i.to_bytes(32, "big")) for i in range(37))
    old = _note(org, honest, 20)
    new = _note(org, forked, 37)
    for proof in (forked.consistency_proof(20, 37), honest.consistency_proof(20, 37)):
        verdict = verify_consistency(old, new, proof, trust)
        assert verdict.failed_ids() == {"checkpoint.consistency"}


def test_a_smaller_newer_checkpoint_fails(org: Org, trust: TrustFile) -> None:
    tree = _log(37)
    verdict = verify_consistency(_note(org, tree, 37), _note(org, tree, 20), [], trust)
    assert verdict.failed_ids() == {"checkpoint.consistency"}


def test_a_checkpoint_not_signed_by_the_log_fails(org: Org, trust: TrustFile) -> None:
    tree = _log(37)
    forged = _note(org, tree, 37, key=PrivateKey.generate())
    verdict = verify_consistency(
        _note(org, tree, 20), forged, tree.consistency_proof(20, 37), trust
    )
    assert "checkpoint.signature" in verdict.failed_ids()
    assert verdict.check("checkpoint.consistency").status == "indeterminate"  # type: ignore[union-attr]


def test_proofs_parse_from_the_api_json_and_from_lines() -> None:
    hashes = [bytes([i]) * 32 for i in range(3)]
    b64 = [base64.b64encode(h).decode() for h in hashes]
    as_json = json.dumps({"old": 2, "new": 9, "hashes": b64}).encode()
    assert parse_consistency_proof(as_json) == tuple(hashes)
    assert parse_consistency_proof("\n".join(b64).encode()) == tuple(hashes)
    assert parse_consistency_proof(b"") == ()
    for bad in (b"{", b'{"hashes": 3}', b"not base64 !", b"{}"):
        with pytest.raises(InputUnreadable):
            parse_consistency_proof(bad)
