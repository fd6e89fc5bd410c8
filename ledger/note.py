"""C2SP signed notes and their Ed25519 keys: the envelope of checkpoints and cosignatures.

Pure (stdlib and PyNaCl). A note is text ending in a newline, a blank line, then signature
lines ``— <key name> base64(key id || signature)``. Key id = SHA-256(name || 0x0A || type ||
public key)[:4], type 0x01 for Ed25519 note signatures and 0x04 for witness cosignatures.
Verifier key strings are ``name+hex8+base64(type || key)``; signer key strings are
``PRIVATE+KEY+name+hex8+base64(type || seed)``. Parsing is strict: each malformation raises
:class:`NoteMalformed` with a stable ``code`` and a ``reason`` naming it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import CaseLedgerError
from ledger.signing import PrivateKey, b64encode

__all__ = [
    "COSIGNATURE_TYPE",
    "ED25519_TYPE",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "NoteMalformed",
    "NoteSignature",
    "SignedNote",
    "SignerKey",
    "VerifierKey",
    "as_verifier_keys",
    "check_key_name",
    "decode_b64",
    "note_key_id",
    "parse_note",
    "signer_key_string",
    "verifier_key_string",
]

ED25519_TYPE = 0x01
COSIGNATURE_TYPE = 0x04
MAX_NOTE_BYTES = 64 * 1024
MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
_DASH = "\u2014"  # an em dash opens every signature line
_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteMalformed(CaseLedgerError):
    """A note, checkpoint, key or proof text is not well formed; ``reason`` says how."""

    code = "note.malformed"

    def __init__(self, reason: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.reason = reason


def decode_b64(text: str, *, reason: str, what: str, code: str = "note.malformed") -> bytes:
    """Decode canonical standard base64; else raise NoteMalformed(reason, code=code).

    Only the canonical text of each byte string is accepted, so nothing can be smuggled in
    padding bits or alternative spellings."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteMalformed(reason, f"{what} is not valid base64", code=code) from None
    if b64encode(raw) != text:
        raise NoteMalformed(reason, f"{what} is not canonical base64", code=code)
    return raw


def check_key_name(name: str, *, code: str = "note.malformed") -> str:
    """Return ``name`` if it is a valid key name (non-empty, no space, no '+'); else raise."""
    if not name or any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise NoteMalformed(
            "key_name", f"bad key name {name!r}: empty, or has a space or '+'", code=code
        )
    return name


# --- keys ---------------------------------------------------------------------------------


def note_key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte note key id: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A note verifier key: name, type (0x01 log signature, 0x04 cosignature), Ed25519 key."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.sig_type, self.public_key)

    def __str__(self) -> str:
        return (
            f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.sig_type]) + self.public_key)}"
        )

    @classmethod
    def from_string(cls, text: str) -> VerifierKey:
        """Parse ``name+hex8+base64(type || key)``; raise NoteMalformed (code key.malformed)."""
        parts = text.split("+", 2)  # the base64 part may itself hold '+'
        if len(parts) != 3 or not _HEX8.fullmatch(parts[1]):
            raise NoteMalformed(
                "key_format", "a verifier key is name+hex8+base64", code="key.malformed"
            )
        name = check_key_name(parts[0], code="key.malformed")
        raw = decode_b64(
            parts[2], reason="key_base64", what="the verifier key", code="key.malformed"
        )
        return cls._checked(name, raw, parts[1])

    @classmethod
    def _checked(cls, name: str, raw: bytes, hex_id: str) -> VerifierKey:
        if len(raw) != 33 or raw[0] not in (ED25519_TYPE, COSIGNATURE_TYPE):
            raise NoteMalformed(
                "key_type",
                "only Ed25519 keys of type 0x01 or 0x04 are supported",
                code="key.malformed",
            )
        key = cls(name, raw[0], raw[1:])
        if key.key_id.hex() != hex_id:
            raise NoteMalformed("key_id", "the key id does not match the key", code="key.malformed")
        return key


def verifier_key_string(name: str, public_key: bytes, sig_type: int = ED25519_TYPE) -> str:
    """The verifier key string of an Ed25519 public key (type 0x01, or 0x04 for a witness)."""
    return str(VerifierKey(check_key_name(name, code="key.malformed"), sig_type, public_key))


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A note signer key: a name, a type and the Ed25519 seed. Its repr never shows the seed."""

    name: str
    sig_type: int
    private_key: PrivateKey

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.sig_type, self.private_key.public_key)

    def __str__(self) -> str:
        raw = bytes([self.sig_type]) + self.private_key.seed
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64encode(raw)}"

    def __repr__(self) -> str:
        return f"SignerKey(name={self.name!r}, verifier={str(self.verifier)!r})"

    @classmethod
    def from_string(cls, text: str) -> SignerKey:
        """Parse ``PRIVATE+KEY+name+hex8+base64(type || seed)``; raise NoteMalformed."""
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX8.fullmatch(parts[3]):
            raise NoteMalformed(
                "key_format", "a signer key is PRIVATE+KEY+name+hex8+base64", code="key.malformed"
            )
        name = check_key_name(parts[2], code="key.malformed")
        raw = decode_b64(parts[4], reason="key_base64", what="the signer key", code="key.malformed")
        if len(raw) != 33 or raw[0] not in (ED25519_TYPE, COSIGNATURE_TYPE):
            raise NoteMalformed(
                "key_type", "only Ed25519 seeds are supported", code="key.malformed"
            )
        key = cls(name, raw[0], PrivateKey(raw[1:]))
        if key.verifier.key_id.hex() != parts[3]:
            raise NoteMalformed("key_id", "the key id does not match the key", code="key.malformed")
        return key


def signer_key_string(name: str, key: PrivateKey, sig_type: int = ED25519_TYPE) -> str:
    """The signer key string of an Ed25519 key (secret: store it like the key itself)."""
    return str(SignerKey(check_key_name(name, code="key.malformed"), sig_type, key))


def as_verifier_keys(keys: Iterable[VerifierKey | str]) -> list[VerifierKey]:
    """Verifier keys from keys or key strings; raise NoteMalformed for a malformed string."""
    return [k if isinstance(k, VerifierKey) else VerifierKey.from_string(k) for k in keys]


# --- signed notes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH} {self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A signed note: its text (ending in a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        """The note as transmitted: text, blank line, signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _signature_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH + " "):
        raise NoteMalformed("signature_line", "a signature line starts with an em dash and a space")
    fields = line[2:].split(" ")
    if len(fields) != 2:
        raise NoteMalformed("signature_line", "a signature line is '— name base64'")
    name = check_key_name(fields[0])
    raw = decode_b64(fields[1], reason="signature_base64", what="a signature")
    if len(raw) < 5:
        raise NoteMalformed("signature_length", "a signature is a key id and at least one byte")
    return NoteSignature(name, raw[:4], raw[4:])


def parse_note(data: str | bytes) -> SignedNote:
    """Parse a signed note strictly; raise NoteMalformed (code note.malformed) naming the fault.

    The text ends at the last blank line; what follows is one or more signature lines.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteMalformed("utf8", "a note is UTF-8 text") from None
    try:
        size = len(data.encode("utf-8"))
    except UnicodeEncodeError:
        raise NoteMalformed("utf8", "a note is UTF-8 text") from None
    if size > MAX_NOTE_BYTES:
        raise NoteMalformed("too_large", f"a note is at most {MAX_NOTE_BYTES} bytes")
    if _CONTROL.search(data):
        raise NoteMalformed("control_character", "a note has no control characters but newline")
    if not data.endswith("\n"):
        raise NoteMalformed("no_final_newline", "a note ends with a newline")
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteMalformed("no_signatures", "a note has a blank line before its signatures")
    text, lines = data[: cut + 1], data[cut + 2 : -1].split("\n")
    if lines == [""]:
        raise NoteMalformed("no_signatures", "a note has at least one signature line")
    if len(lines) > MAX_SIGNATURES:
        raise NoteMalformed(
            "too_many_signatures", f"a note has at most {MAX_SIGNATURES} signatures"
        )
    return SignedNote(text, tuple(_signature_line(line) for line in lines))
