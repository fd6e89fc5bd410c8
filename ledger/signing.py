"""Ed25519 keys, signatures and key ids (PyNaCl)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass, field

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from ledger.errors import EnvelopeError, SignatureInvalid

__all__ = [
    "PrivateKey",
    "b64decode_strict",
    "b64encode",
    "key_id",
    "public_key_from_b64",
    "verify_signature",
]


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, as used in every caseledger format."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str, *, what: str) -> bytes:
    """Decode standard padded base64, refusing any other alphabet or stray characters."""
    try:
        # What base64.b64decode(validate=True) runs, without its argument handling.
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise EnvelopeError(f"{what} is not valid base64", code="json.invalid") from None


def key_id(public_key: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_from_b64(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64; raise EnvelopeError otherwise."""
    raw = b64decode_strict(text, what="public key")
    if len(raw) != 32:
        raise EnvelopeError("an Ed25519 public key is 32 bytes", code="json.invalid")
    return raw


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Return None if ``signature`` is a valid Ed25519 signature; else raise SignatureInvalid."""
    if len(signature) != 64 or len(public_key) != 32:
        raise SignatureInvalid("signature or key has the wrong length")
    try:
        _verify_key(bytes(public_key)).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError):
        raise SignatureInvalid("Ed25519 signature does not verify") from None


# An audit checks thousands of signatures under a few dozen keys.
_verify_key = functools.lru_cache(maxsize=4096)(VerifyKey)


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """An Ed25519 signing key held where the signer is (CLI, browser, client, seal service)."""

    seed: bytes
    # Expanding the seed costs as much as a signature: done once per key, not per use.
    _signing: SigningKey = field(init=False, repr=False, compare=False)
    _public: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        signing = SigningKey(self.seed)
        object.__setattr__(self, "_signing", signing)
        object.__setattr__(self, "_public", bytes(signing.verify_key))

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(bytes(SigningKey.generate()))

    @property
    def public_key(self) -> bytes:
        return self._public

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @property
    def public_key_b64(self) -> str:
        return b64encode(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message).signature

    def __repr__(self) -> str:
        return f"PrivateKey(key_id={self.key_id!r})"
