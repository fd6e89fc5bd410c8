"""Ed25519 through ledger.signing: RFC 8032 vectors, key ids, base64 and failure modes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import EnvelopeError, SignatureInvalid
from ledger.signing import (
    PrivateKey,
    b64decode_strict,
    b64encode,
    key_id,
    public_key_from_b64,
    verify_signature,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "rfc8032_ed25519.json").read_text("utf-8")
)


def test_the_vector_file_has_the_five_rfc_vectors() -> None:
    # A vector dropped by accident would otherwise shrink the suite silently.
    assert [v["name"] for v in VECTORS["vectors"]] == [
        "TEST 1",
        "TEST 2",
        "TEST 3",
        "TEST 1024",
        "TEST SHA(abc)",
    ]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_rfc8032_vector_signs_and_verifies(vector: dict[str, Any]) -> None:
    key = PrivateKey(bytes.fromhex(vector["secret_key"]))
    message = bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])

    assert key.public_key.hex() == vector["public_key"]
    assert key.sign(message) == signature
    verify_signature(key.public_key, message, signature)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_rfc8032_vector_refuses_a_flipped_bit(vector: dict[str, Any]) -> None:
    public_key = bytes.fromhex(vector["public_key"])
    message = bytes.fromhex(vector["message"])
    signature = bytearray(bytes.fromhex(vector["signature"]))
    signature[5] ^= 0x01
    with pytest.raises(SignatureInvalid) as caught:
        verify_signature(public_key, message, bytes(signature))
    assert caught.value.code == "sig.invalid"
    with pytest.raises(SignatureInvalid):
        verify_signature(public_key, message + b"\x00", bytes.fromhex(vector["signature"]))


@pytest.mark.parametrize(
    ("public_len", "signature_len"), [(31, 64), (33, 64), (32, 63), (32, 65), (0, 0)]
)
def test_wrong_lengths_are_invalid_signatures_not_crashes(
    public_len: int, signature_len: int
) -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(b"\x01" * public_len, b"m", b"\x02" * signature_len)


def test_a_public_key_that_is_not_a_curve_point_is_an_invalid_signature() -> None:
    # 0xff… is not a valid point encoding; nacl refuses it inside verify.
    key = PrivateKey(bytes(32))
    with pytest.raises(SignatureInvalid):
        verify_signature(b"\xff" * 32, b"m", key.sign(b"m"))


def test_key_id_is_the_first_16_hex_of_the_sha256_of_the_raw_key() -> None:
    public_key = bytes.fromhex(VECTORS["vectors"][0]["public_key"])
    assert key_id(public_key) == hashlib.sha256(public_key).hexdigest()[:16]
    assert PrivateKey(bytes.fromhex(VECTORS["vectors"][0]["secret_key"])).key_id == key_id(
        public_key
    )


def test_private_key_repr_does_not_show_the_seed() -> None:
    key = PrivateKey(bytes.fromhex(VECTORS["vectors"][0]["secret_key"]))
    assert VECTORS["vectors"][0]["secret_key"] not in repr(key)
    assert key.key_id in repr(key)


def test_generated_keys_differ_and_sign() -> None:
    one, two = PrivateKey.generate(), PrivateKey.generate()
    assert one.seed != two.seed
    verify_signature(one.public_key, b"x", one.sign(b"x"))
    with pytest.raises(SignatureInvalid):
        verify_signature(two.public_key, b"x", one.sign(b"x"))


def test_base64_round_trip_and_strictness() -> None:
    raw = bytes(range(64))
    assert b64decode_strict(b64encode(raw), what="sig") == raw
    for bad in ["a", "ab$=", "YWJj\n", "YWJj YWJj", "YW Jj", "-_-_", "€€€€"]:
        with pytest.raises(EnvelopeError) as caught:
            b64decode_strict(bad, what="sig")
        assert caught.value.code == "json.invalid"


def test_public_key_from_b64_wants_32_bytes() -> None:
    key = PrivateKey.generate()
    assert public_key_from_b64(key.public_key_b64) == key.public_key
    with pytest.raises(EnvelopeError) as caught:
        public_key_from_b64(b64encode(key.public_key[:31]))
    assert caught.value.code == "json.invalid"
