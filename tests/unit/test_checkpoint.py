"""ledger.note and ledger.checkpoint: keys, signed notes, checkpoints, and their tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    NoteMalformed,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger.note import (
    COSIGNATURE_TYPE,
    SignerKey,
    VerifierKey,
    note_key_id,
    parse_note,
    signer_key_string,
    verifier_key_string,
)
from ledger.signing import PrivateKey

# golang.org/x/mod/sumdb/note's documented example: a signer key, its verifier key, a text and
# the signature line the Go implementation produces for it.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"
    "qfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "approval.example/log"
LOG_KEY = PrivateKey(hashlib.sha256(b"log key").digest())
OTHER_KEY = PrivateKey(hashlib.sha256(b"another key").digest())
ROOT = hashlib.sha256(b"a root").digest()
VKEY = verifier_key_string(ORIGIN, LOG_KEY.public_key)


def test_go_note_keys_round_trip() -> None:
    signer = SignerKey.from_string(GO_SIGNER)
    assert str(signer) == GO_SIGNER
    assert str(signer.verifier) == GO_VERIFIER
    assert str(VerifierKey.from_string(GO_VERIFIER)) == GO_VERIFIER
    assert signer_key_string("PeterNeumann", signer.private_key) == GO_SIGNER
    assert "AYEK" not in repr(signer)  # the seed never shows in a repr


def test_go_note_signature_is_reproduced_and_verifies() -> None:
    signer = SignerKey.from_string(GO_SIGNER)
    sig = signer.private_key.sign(GO_TEXT.encode())
    line = "— PeterNeumann " + base64.b64encode(signer.verifier.key_id + sig).decode() + "\n"
    assert line == GO_SIGNATURE
    note = parse_note(GO_TEXT + "\n" + GO_SIGNATURE)
    assert note.text == GO_TEXT and note.signatures[0].name == "PeterNeumann"


def test_key_id_follows_the_spec() -> None:
    pub = LOG_KEY.public_key
    want = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + pub).digest()[:4]
    assert note_key_id(ORIGIN, 1, pub) == want
    assert VKEY.split("+")[1] == want.hex()
    assert note_key_id(ORIGIN, COSIGNATURE_TYPE, pub) != want


def test_sign_checkpoint_text_and_verify() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    body, _, sigs = text.partition("\n\n")
    assert body == f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}"
    assert sigs.startswith(f"— {ORIGIN} ") and sigs.endswith("\n") and sigs.count("\n") == 1
    assert verify_checkpoint(text, [VKEY], origin=ORIGIN) == Checkpoint(ORIGIN, 12, ROOT)
    assert parse_checkpoint(text).text == text


def test_extension_lines_are_signed_and_kept() -> None:
    text = sign_checkpoint(ORIGIN, 3, ROOT, LOG_KEY, extensions=["ext one", "ext two"])
    assert verify_checkpoint(text, [VKEY]).extensions == ("ext one", "ext two")
    with pytest.raises(NoteMalformed):
        sign_checkpoint(ORIGIN, 3, ROOT, LOG_KEY, extensions=["two\nlines"])


def _replace_line(text: str, index: int, new: str) -> str:
    lines = text.split("\n")
    lines[index] = new
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("name", "tamper"),
    [
        ("size", lambda t: _replace_line(t, 1, "13")),
        ("root", lambda t: _replace_line(t, 2, base64.b64encode(bytes(32)).decode())),
        ("origin", lambda t: _replace_line(t, 0, "approval.example/other")),
        ("extension", lambda t: t.replace("\n\n", "\nextra line\n\n", 1)),
    ],
)
def test_tampered_body_fails_the_signature(name: str, tamper: object) -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    with pytest.raises(CheckpointInvalid) as caught:
        verify_checkpoint(tamper(text), [VKEY])  # type: ignore[operator]
    assert caught.value.reason == "signature"


def test_tampered_signature_fails() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    note = parse_note(text)
    sig = note.signatures[0]
    bad = bytearray(sig.signature)
    bad[10] ^= 1
    forged = note.text + "\n" + f"— {ORIGIN} " + base64.b64encode(sig.key_id + bad).decode() + "\n"
    with pytest.raises(CheckpointInvalid) as caught:
        verify_checkpoint(forged, [VKEY])
    assert caught.value.reason == "signature"


def test_signature_by_an_unknown_key_only_is_refused() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, OTHER_KEY)  # same name, another key
    with pytest.raises(CheckpointInvalid) as caught:
        verify_checkpoint(text, [VKEY])
    assert caught.value.reason == "unsigned"
    renamed = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY, name="someone.else/log")
    with pytest.raises(CheckpointInvalid) as caught:
        verify_checkpoint(renamed, [VKEY])  # same key, another name: another key id
    assert caught.value.reason == "unsigned"


def test_unknown_signatures_are_ignored_beside_a_trusted_one() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    stranger = sign_checkpoint(ORIGIN, 12, ROOT, OTHER_KEY, name="stranger.example")
    both = text + stranger.partition("\n\n")[2]
    assert len(parse_note(both).signatures) == 2
    assert verify_checkpoint(both, [VKEY]).size == 12


def test_a_failing_trusted_signature_spoils_the_note_even_beside_a_good_one() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    sig_line = text.partition("\n\n")[2]
    bad_line = sig_line[:-10] + ("A" if sig_line[-10] != "A" else "B") + sig_line[-9:]
    with pytest.raises((CheckpointInvalid, NoteMalformed)):
        verify_checkpoint(text + bad_line, [VKEY])


def test_origin_mismatch_is_refused() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    with pytest.raises(CheckpointInvalid) as caught:
        verify_checkpoint(text, [VKEY], origin="approval.example/other")
    assert caught.value.reason == "origin"


def test_witness_keys_do_not_verify_log_signatures() -> None:
    text = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
    as_witness = verifier_key_string(ORIGIN, LOG_KEY.public_key, COSIGNATURE_TYPE)
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(text, [as_witness])


GOOD = sign_checkpoint(ORIGIN, 12, ROOT, LOG_KEY)
SIG_LINE = GOOD.partition("\n\n")[2]
B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("code", "reason", "text"),
    [
        ("note.malformed", "no_final_newline", GOOD[:-1]),
        ("note.malformed", "no_signatures", f"{ORIGIN}\n12\n{B64_ROOT}\n"),
        ("note.malformed", "no_signatures", f"{ORIGIN}\n12\n{B64_ROOT}\n\n"),
        ("note.malformed", "control_character", GOOD.replace("12", "1\t2")),
        ("note.malformed", "control_character", GOOD.replace("\n", "\r\n")),
        ("note.malformed", "utf8", GOOD.encode()[:-3] + b"\xff\xfe\n"),
        ("note.malformed", "signature_line", GOOD.replace("— ", "- ")),
        ("note.malformed", "signature_line", GOOD.replace(f"— {ORIGIN} ", f"— {ORIGIN}  ")),
        ("note.malformed", "key_name", GOOD.replace(f"— {ORIGIN}", "— a+b")),
        ("note.malformed", "signature_base64", GOOD[:-2] + "!\n"),
        ("note.malformed", "signature_base64", GOOD[:-3] + "=\n"),  # non-canonical padding
        ("note.malformed", "signature_length", GOOD.replace(SIG_LINE, "— x AAAA\n")),
        ("note.malformed", "too_many_signatures", GOOD + SIG_LINE * 64),
        ("note.malformed", "too_large", GOOD.replace("12\n", "12\n" + "x" * 70000 + "\n")),
        ("checkpoint.malformed", "too_few_lines", f"{ORIGIN}\n12\n\n{SIG_LINE}"),
        ("checkpoint.malformed", "origin", f"\n12\n{B64_ROOT}\n\n{SIG_LINE}"),
        ("checkpoint.malformed", "size", GOOD.replace("\n12\n", "\n012\n")),
        ("checkpoint.malformed", "size", GOOD.replace("\n12\n", "\n-12\n")),
        ("checkpoint.malformed", "size", GOOD.replace("\n12\n", "\n１２\n")),
        ("checkpoint.malformed", "size", GOOD.replace("\n12\n", f"\n{2**63}\n")),
        ("checkpoint.malformed", "root", GOOD.replace(B64_ROOT, B64_ROOT[:-4])),
        ("checkpoint.malformed", "root", GOOD.replace(B64_ROOT, "not base64!")),
    ],
)
def test_each_malformation_is_named(code: str, reason: str, text: str | bytes) -> None:
    with pytest.raises(NoteMalformed) as caught:
        verify_checkpoint(text, [VKEY])
    assert (caught.value.code, caught.value.reason) == (code, reason)


def test_a_note_text_may_hold_blank_lines_and_ends_at_the_last_one() -> None:
    note = parse_note("para one\n\npara two\n\n" + SIG_LINE)
    assert note.text == "para one\n\npara two\n"


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("key_format", "no-plus-signs"),
        ("key_format", "name+zz+AQ=="),
        ("key_name", "+c74f20a3+" + GO_VERIFIER.split("+", 2)[2]),
        ("key_base64", "PeterNeumann+c74f20a3+not base64"),
        ("key_type", "PeterNeumann+c74f20a3+Ag" + GO_VERIFIER.split("+", 2)[2][2:]),
        ("key_id", "PeterNeumann+00000000+" + GO_VERIFIER.split("+", 2)[2]),
        ("key_id", "PeterNeumann2+c74f20a3+" + GO_VERIFIER.split("+", 2)[2]),
    ],
)
def test_malformed_verifier_keys_are_named(reason: str, key: str) -> None:
    with pytest.raises(NoteMalformed) as caught:
        VerifierKey.from_string(key)
    assert (caught.value.code, caught.value.reason) == ("key.malformed", reason)


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("key_format", GO_SIGNER.replace("PRIVATE+KEY", "PUBLIC+KEY")),
        ("key_format", "PRIVATE+KEY+name"),
        ("key_id", GO_SIGNER.replace("c74f20a3", "c74f20a4")),
        ("key_base64", GO_SIGNER[:-1]),
    ],
)
def test_malformed_signer_keys_are_named(reason: str, key: str) -> None:
    with pytest.raises(NoteMalformed) as caught:
        SignerKey.from_string(key)
    assert (caught.value.code, caught.value.reason) == ("key.malformed", reason)


def test_origin_unfit_for_a_key_name_is_refused_when_signing() -> None:
    with pytest.raises(NoteMalformed) as caught:
        sign_checkpoint("has space/log", 1, ROOT, LOG_KEY)
    assert caught.value.reason == "key_name"
