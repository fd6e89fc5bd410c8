"""Signed checkpoints of the log: C2SP tlog-checkpoint, tlog-cosignature and tlog-proof.

Pure (stdlib and PyNaCl), so the verifier can use it; the signed-note layer and the key
strings live in :mod:`ledger.note` and are re-exported here. Text in, frozen values out.
Malformed text raises :class:`NoteMalformed` (codes ``note.malformed``,
``checkpoint.malformed``, ``proof.malformed``, ``key.malformed``) with a ``reason``; a
signature that does not verify, or a note no trusted key signed, raises
:class:`CheckpointInvalid` with a ``reason``.

- Checkpoint body: origin, decimal size, base64 root hash, optional extension lines.
- Cosignature (cosignature/v1): signs ``"cosignature/v1\\ntime <t>\\n" + body``; the note
  signature is ``u64 big-endian t || Ed25519 signature`` under a type 0x04 key.
- tlog-proof@v1: header, optional ``extra``, ``index N``, proof hashes, blank line, checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.errors import CaseLedgerError, SignatureInvalid
from ledger.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from ledger.note import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    NoteMalformed,
    NoteSignature,
    SignedNote,
    SignerKey,
    VerifierKey,
    as_verifier_keys,
    check_key_name,
    decode_b64,
    note_key_id,
    parse_note,
    signer_key_string,
    verifier_key_string,
)
from ledger.signing import PrivateKey, b64encode, verify_signature

__all__ = [
    "TLOG_PROOF_HEADER",
    "Checkpoint",
    "CheckpointInvalid",
    "Cosignature",
    "NoteMalformed",
    "SignedCheckpoint",
    "SignerKey",
    "TlogProof",
    "VerifierKey",
    "cosign",
    "format_tlog_proof",
    "parse_checkpoint",
    "parse_tlog_proof",
    "sign_checkpoint",
    "signer_key_string",
    "verifier_key_string",
    "verify_checkpoint",
    "verify_cosignatures",
    "verify_tlog_proof",
]

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_COSIG_PREFIX = "cosignature/v1\ntime {}\n"
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")
_MAX_U63 = 2**63 - 1


class CheckpointInvalid(CaseLedgerError):
    """A signature or cosignature does not verify, a trusted signature is missing, or the
    checkpoint is not the one expected; ``reason`` says which."""

    code = "checkpoint.invalid"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- checkpoints --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text: one line each, ending in a newline."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body; raise NoteMalformed (code checkpoint.malformed)."""

        def bad(reason: str, message: str) -> NoteMalformed:
            return NoteMalformed(reason, message, code="checkpoint.malformed")

        lines = text.split("\n")
        if lines[-1] != "" or len(lines) < 4:
            raise bad("too_few_lines", "a checkpoint has origin, size and root lines")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise bad("origin", "the origin line is empty")
        if not _DECIMAL.fullmatch(size) or int(size) > _MAX_U63:
            raise bad("size", "the size is a decimal without leading zeroes")
        root_hash = decode_b64(
            root, reason="root", what="the root hash", code="checkpoint.malformed"
        )
        if len(root_hash) != HASH_SIZE:
            raise bad("root", f"the root hash is {HASH_SIZE} bytes")
        if any(not line for line in extensions):
            raise bad("extension", "extension lines are not empty")
        return cls(origin, int(size), root_hash, tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A parsed, not yet verified, checkpoint note."""

    checkpoint: Checkpoint
    note: SignedNote

    @property
    def text(self) -> str:
        return self.note.render()


def parse_checkpoint(data: str | bytes) -> SignedCheckpoint:
    """Parse a checkpoint note (no signature checked); raise NoteMalformed naming the fault."""
    note = parse_note(data)
    return SignedCheckpoint(Checkpoint.from_body(note.text), note)


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    key: PrivateKey,
    name: str | None = None,
    extensions: Sequence[str] = (),
) -> str:
    """The checkpoint note for (origin, size, root) signed by the log's Ed25519 ``key`` under
    key name ``name`` (default: the origin, as the spec recommends)."""
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    body = checkpoint.body()
    if Checkpoint.from_body(body) != checkpoint:  # e.g. a newline inside a line
        raise NoteMalformed(
            "line", "a checkpoint line holds a newline", code="checkpoint.malformed"
        )
    name = check_key_name(origin if name is None else name)
    key_id = note_key_id(name, ED25519_TYPE, key.public_key)
    return SignedNote(body, (NoteSignature(name, key_id, key.sign(body.encode())),)).render()


def _matching(
    note: SignedNote, keys: Sequence[VerifierKey]
) -> list[tuple[NoteSignature, VerifierKey]]:
    # Unknown keys are ignored (the spec requires it); a known one is matched by name and id.
    by_id = {(k.name, k.key_id): k for k in keys}
    return [(s, by_id[(s.name, s.key_id)]) for s in note.signatures if (s.name, s.key_id) in by_id]


def verify_checkpoint(
    data: str | bytes, log_keys: Iterable[VerifierKey | str], *, origin: str | None = None
) -> Checkpoint:
    """Return the checkpoint if a trusted log key (type 0x01) signed it; raise CheckpointInvalid
    if none did, if a trusted key's signature fails, or if ``origin`` is given and differs;
    NoteMalformed if it cannot be read."""
    signed = parse_checkpoint(data)
    keys = [k for k in as_verifier_keys(log_keys) if k.sig_type == ED25519_TYPE]
    found = _matching(signed.note, keys)
    if not found:
        raise CheckpointInvalid("unsigned", "no trusted log key signed this checkpoint")
    message = signed.note.text.encode()
    for sig, key in found:
        try:
            verify_signature(key.public_key, message, sig.signature)
        except SignatureInvalid:
            raise CheckpointInvalid(
                "signature", f"the signature of {key.name} does not verify"
            ) from None
    if origin is not None and signed.checkpoint.origin != origin:
        raise CheckpointInvalid("origin", f"the checkpoint is from {signed.checkpoint.origin!r}")
    return signed.checkpoint


# --- cosignatures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified witness cosignature: the witness's key name, key id, and signing time."""

    name: str
    key_id: bytes
    timestamp: int

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return (_COSIG_PREFIX.format(timestamp) + body).encode()


def cosign(data: str | bytes, key: PrivateKey, name: str, at: datetime) -> str:
    """The checkpoint note with a cosignature/v1 by witness ``name`` at time ``at`` appended.

    Cosigning states that this is the largest consistent tree the witness has seen for the
    origin: checking consistency with what it saw before is the witness's job, not this one's.
    """
    signed = parse_checkpoint(data)
    if at.tzinfo is None:
        raise NoteMalformed(
            "time", "a cosignature time is timezone-aware", code="cosignature.malformed"
        )
    timestamp = int(at.timestamp())
    if not 0 <= timestamp <= _MAX_U63:
        raise NoteMalformed(
            "time", "a cosignature time is after 1970", code="cosignature.malformed"
        )
    name = check_key_name(name)
    sig = key.sign(_cosigned_message(signed.note.text, timestamp))
    line = NoteSignature(
        name,
        note_key_id(name, COSIGNATURE_TYPE, key.public_key),
        timestamp.to_bytes(8, "big") + sig,
    )
    return SignedNote(signed.note.text, (*signed.note.signatures, line)).render()


def verify_cosignatures(
    data: str | bytes,
    witness_keys: Iterable[VerifierKey | str],
    quorum: int,
    *,
    now: datetime | None = None,
) -> tuple[Cosignature, ...]:
    """The verified cosignatures by trusted witnesses (type 0x04 keys), in note order.

    Raise CheckpointInvalid if a trusted witness's cosignature fails to verify (reason
    ``cosignature``), is dated after ``now`` when given (``future``), or if fewer than
    ``quorum`` distinct trusted witnesses cosigned (``quorum``). The log's own signature is
    checked by :func:`verify_checkpoint`, not here.
    """
    signed = parse_checkpoint(data)
    keys = [k for k in as_verifier_keys(witness_keys) if k.sig_type == COSIGNATURE_TYPE]
    seen: dict[tuple[str, bytes], Cosignature] = {}
    for sig, key in _matching(signed.note, keys):
        if len(sig.signature) != 72:
            raise CheckpointInvalid("cosignature", f"the cosignature of {key.name} is not 72 bytes")
        timestamp = int.from_bytes(sig.signature[:8], "big")
        try:
            verify_signature(
                key.public_key, _cosigned_message(signed.note.text, timestamp), sig.signature[8:]
            )
        except SignatureInvalid:
            raise CheckpointInvalid(
                "cosignature", f"the cosignature of {key.name} does not verify"
            ) from None
        if timestamp > _MAX_U63 or (now is not None and timestamp > now.timestamp()):
            raise CheckpointInvalid(
                "future", f"the cosignature of {key.name} is dated in the future"
            )
        seen.setdefault((key.name, key.key_id), Cosignature(key.name, key.key_id, timestamp))
    if len(seen) < quorum:
        raise CheckpointInvalid(
            "quorum", f"{len(seen)} trusted witnesses cosigned; {quorum} are needed"
        )
    return tuple(seen.values())


# --- tlog-proof ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlogProof:
    """An offline inclusion proof (C2SP tlog-proof@v1): leaf index, proof hashes, the
    checkpoint note verbatim, and optional unauthenticated extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def render(self) -> str:
        extra = [] if self.extra is None else [f"extra {b64encode(self.extra)}"]
        head = [TLOG_PROOF_HEADER, *extra, f"index {self.index}", *map(b64encode, self.hashes)]
        return "".join(line + "\n" for line in head) + "\n" + self.checkpoint


def format_tlog_proof(
    index: int, hashes: Sequence[bytes], checkpoint: str, extra: bytes | None = None
) -> str:
    """The tlog-proof@v1 text for leaf ``index`` with its inclusion ``hashes`` in ``checkpoint``."""
    return TlogProof(index, tuple(hashes), checkpoint, extra).render()


def parse_tlog_proof(data: str | bytes) -> TlogProof:
    """Parse tlog-proof@v1 text; raise NoteMalformed (code proof.malformed) naming the fault.
    The embedded checkpoint is parsed too (not verified)."""

    def bad(reason: str, message: str) -> NoteMalformed:
        return NoteMalformed(reason, message, code="proof.malformed")

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise bad("utf8", "a proof is UTF-8 text") from None
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != TLOG_PROOF_HEADER:
        raise bad("header", f"a proof starts with {TLOG_PROOF_HEADER} and has a blank line")
    extra, at = None, 1
    if at < len(lines) and lines[at].startswith("extra "):
        extra = decode_b64(
            lines[at][6:], reason="extra", what="the extra data", code="proof.malformed"
        )
        at += 1
    if at >= len(lines) or not lines[at].startswith("index "):
        raise bad("index", "the proof has an 'index N' line")
    index = lines[at][6:]
    if not _DECIMAL.fullmatch(index) or int(index) > _MAX_U63:
        raise bad("index", "the index is a decimal without leading zeroes")
    hashes = tuple(
        decode_b64(h, reason="hash", what="a proof hash", code="proof.malformed")
        for h in lines[at + 1 :]
    )
    if any(len(h) != HASH_SIZE for h in hashes):
        raise bad("hash", f"proof hashes are {HASH_SIZE} bytes")
    parse_checkpoint(checkpoint)
    return TlogProof(int(index), hashes, checkpoint, extra)


def verify_tlog_proof(
    data: str | bytes,
    leaf_data: bytes,
    log_keys: Iterable[VerifierKey | str],
    *,
    origin: str | None = None,
) -> tuple[TlogProof, Checkpoint]:
    """Check that ``leaf_data`` (an envelope hash) is in the log: the proof's checkpoint is
    signed by a trusted log key and the inclusion proof leads to its root. Return the proof
    and checkpoint; raise NoteMalformed, CheckpointInvalid or merkle.ProofInvalid."""
    proof = parse_tlog_proof(data)
    checkpoint = verify_checkpoint(proof.checkpoint, log_keys, origin=origin)
    verify_inclusion(
        proof.index, checkpoint.size, leaf_hash(leaf_data), proof.hashes, checkpoint.root
    )
    return proof, checkpoint
