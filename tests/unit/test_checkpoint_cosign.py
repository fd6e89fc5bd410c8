"""Witness cosignatures (C2SP tlog-cosignature, cosignature/v1) and tlog-proof@v1 texts."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from ledger.checkpoint import (
    CheckpointInvalid,
    NoteMalformed,
    cosign,
    format_tlog_proof,
    parse_tlog_proof,
    sign_checkpoint,
    verify_checkpoint,
    verify_cosignatures,
    verify_tlog_proof,
)
from ledger.merkle import MemoryTree, ProofInvalid
from ledger.note import COSIGNATURE_TYPE, note_key_id, parse_note, verifier_key_string
from ledger.signing import PrivateKey, verify_signature

ORIGIN = "approval.example/log"
LOG_KEY = PrivateKey(hashlib.sha256(b"log key").digest())
VKEY = verifier_key_string(ORIGIN, LOG_KEY.public_key)
W1 = PrivateKey(hashlib.sha256(b"witness one").digest())
W2 = PrivateKey(hashlib.sha256(b"witness two").digest())
W3 = PrivateKey(hashlib.sha256(b"witness three").digest())
NAMES = {W1: "supervision.example/w1", W2: "audit.example/w2", W3: "archive.example/w3"}
WKEYS = [verifier_key_string(NAMES[w], w.public_key, COSIGNATURE_TYPE) for w in (W1, W2, W3)]
AT = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
ROOT = hashlib.sha256(b"a root").digest()
CHECKPOINT = sign_checkpoint(ORIGIN, 7, ROOT, LOG_KEY)


def _cosigned(*witnesses: PrivateKey) -> str:
    text = CHECKPOINT
    for i, w in enumerate(witnesses):
        text = cosign(text, w, NAMES[w], AT + timedelta(seconds=i))
    return text


def test_cosignature_bytes_follow_the_spec() -> None:
    text = cosign(CHECKPOINT, W1, NAMES[W1], AT)
    note = parse_note(text)
    sig = note.signatures[-1]
    assert sig.name == NAMES[W1]
    assert sig.key_id == hashlib.sha256(NAMES[W1].encode() + b"\n\x04" + W1.public_key).digest()[:4]
    assert sig.key_id == note_key_id(NAMES[W1], 0x04, W1.public_key)
    assert len(sig.signature) == 72
    assert int.from_bytes(sig.signature[:8], "big") == int(AT.timestamp())
    message = f"cosignature/v1\ntime {int(AT.timestamp())}\n".encode() + note.text.encode()
    verify_signature(W1.public_key, message, sig.signature[8:])  # raises if not
    assert verify_checkpoint(text, [VKEY]).size == 7  # the log signature still verifies


def test_spec_example_cosignature_carries_its_timestamp_after_the_key_id() -> None:
    # The example in C2SP tlog-cosignature: its "time 1679315147" line is the u64 after the id.
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZ"
        "CB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
    )
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    sig = parse_note(body + "\n" + line).signatures[0]
    assert len(sig.signature) == 72
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147


def test_quorum_of_distinct_witnesses() -> None:
    text = _cosigned(W1, W2)
    found = verify_cosignatures(text, WKEYS, 2)
    assert [c.name for c in found] == [NAMES[W1], NAMES[W2]]
    assert found[0].at == AT
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(text, WKEYS, 3)
    assert caught.value.reason == "quorum"
    twice = cosign(_cosigned(W1), W1, NAMES[W1], AT + timedelta(minutes=1))
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(twice, WKEYS, 2)  # one witness twice is still one
    assert caught.value.reason == "quorum"


def test_untrusted_witnesses_do_not_count() -> None:
    stranger = PrivateKey(hashlib.sha256(b"stranger").digest())
    text = cosign(_cosigned(W1), stranger, NAMES[W2], AT)  # a trusted name, another key
    assert len(verify_cosignatures(text, WKEYS, 1)) == 1
    with pytest.raises(CheckpointInvalid):
        verify_cosignatures(text, WKEYS, 2)


def test_log_keys_are_not_witness_keys() -> None:
    as_log_key = verifier_key_string(NAMES[W1], W1.public_key)  # type 0x01
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(_cosigned(W1), [as_log_key], 1)
    assert caught.value.reason == "quorum"


def test_cosignature_over_another_checkpoint_fails() -> None:
    other = sign_checkpoint(ORIGIN, 8, ROOT, LOG_KEY)
    cosig_line = _cosigned(W1).split("\n")[-2] + "\n"
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(other + cosig_line, WKEYS, 1)
    assert caught.value.reason == "cosignature"


def test_cosignature_with_a_changed_time_fails() -> None:
    note = parse_note(_cosigned(W1))
    sig = note.signatures[-1]
    later = (int.from_bytes(sig.signature[:8], "big") + 1).to_bytes(8, "big") + sig.signature[8:]
    line = f"— {sig.name} " + base64.b64encode(sig.key_id + later).decode() + "\n"
    forged = note.text + "\n" + note.signatures[0].line() + line
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(forged, WKEYS, 1)
    assert caught.value.reason == "cosignature"


def test_cosignature_from_the_future_is_refused_when_now_is_given() -> None:
    text = _cosigned(W1)
    assert verify_cosignatures(text, WKEYS, 1, now=AT)
    with pytest.raises(CheckpointInvalid) as caught:
        verify_cosignatures(text, WKEYS, 1, now=AT - timedelta(seconds=1))
    assert caught.value.reason == "future"


def test_cosign_refuses_naive_times_and_malformed_notes() -> None:
    with pytest.raises(NoteMalformed):
        cosign(CHECKPOINT, W1, NAMES[W1], datetime(2026, 1, 1))
    with pytest.raises(NoteMalformed):
        cosign(CHECKPOINT.replace("\n7\n", "\nseven\n"), W1, NAMES[W1], AT)


# --- tlog-proof -----------------------------------------------------------------------------

LEAVES = [hashlib.sha256(b"envelope %d" % i).digest() for i in range(11)]
TREE = MemoryTree.of(LEAVES)
TREE_CHECKPOINT = sign_checkpoint(ORIGIN, 11, TREE.root(), LOG_KEY)


def test_tlog_proof_text_round_trips_and_verifies() -> None:
    text = format_tlog_proof(6, TREE.inclusion_proof(6), TREE_CHECKPOINT)
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1] == "index 6"
    assert text.endswith("\n\n" + TREE_CHECKPOINT)
    proof, checkpoint = verify_tlog_proof(text, LEAVES[6], [VKEY], origin=ORIGIN)
    assert (proof.index, checkpoint.size) == (6, 11)
    assert parse_tlog_proof(text).render() == text


def test_tlog_proof_with_extra_data_and_an_empty_proof() -> None:
    tree = MemoryTree.of(LEAVES[:1])
    checkpoint = sign_checkpoint(ORIGIN, 1, tree.root(), LOG_KEY)
    text = format_tlog_proof(0, [], checkpoint, extra=b"case:1")
    assert text.split("\n")[1] == "extra " + base64.b64encode(b"case:1").decode()
    proof, _ = verify_tlog_proof(text, LEAVES[0], [VKEY])
    assert proof.extra == b"case:1" and proof.hashes == ()


def test_tlog_proof_of_another_leaf_fails() -> None:
    text = format_tlog_proof(6, TREE.inclusion_proof(6), TREE_CHECKPOINT)
    with pytest.raises(ProofInvalid):
        verify_tlog_proof(text, LEAVES[5], [VKEY])
    moved = text.replace("index 6", "index 7")
    with pytest.raises(ProofInvalid):
        verify_tlog_proof(moved, LEAVES[6], [VKEY])


def test_tlog_proof_with_an_untrusted_checkpoint_fails() -> None:
    impostor = PrivateKey(hashlib.sha256(b"impostor").digest())
    forged = sign_checkpoint(ORIGIN, 11, TREE.root(), impostor)
    text = format_tlog_proof(6, TREE.inclusion_proof(6), forged)
    with pytest.raises(CheckpointInvalid):
        verify_tlog_proof(text, LEAVES[6], [VKEY])


GOOD_PROOF = format_tlog_proof(6, TREE.inclusion_proof(6), TREE_CHECKPOINT)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("header", GOOD_PROOF.replace("@v1", "@v2", 1)),
        ("header", GOOD_PROOF.replace("\n\n", "\n")),
        ("index", GOOD_PROOF.replace("index 6", "index 06")),
        ("index", GOOD_PROOF.replace("index 6", "idx 6")),
        ("index", GOOD_PROOF.replace("index 6\n", "")),
        ("hash", GOOD_PROOF.replace("index 6\n", "index 6\nAAAA\n")),
        ("hash", GOOD_PROOF.replace("index 6\n", "index 6\n???\n")),
        ("extra", GOOD_PROOF.replace("index 6", "extra !!\nindex 6")),
        ("utf8", GOOD_PROOF.encode().replace(b"index", b"\xffndex")),
    ],
)
def test_malformed_tlog_proofs_are_named(reason: str, text: str | bytes) -> None:
    with pytest.raises(NoteMalformed) as caught:
        parse_tlog_proof(text)
    assert (caught.value.code, caught.value.reason) == ("proof.malformed", reason)


def test_tlog_proof_with_a_malformed_checkpoint_is_refused() -> None:
    with pytest.raises(NoteMalformed) as caught:
        parse_tlog_proof(GOOD_PROOF.replace("\n11\n", "\neleven\n"))
    assert caught.value.code == "checkpoint.malformed"
