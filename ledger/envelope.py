"""The signed envelope: one step of one stream, exactly as its signer signed it.

An :class:`Envelope` is built only by :meth:`Envelope.from_bytes` (parse at the edge) or
:func:`seal_envelope` (sign a draft). Either way it keeps the canonical JSON text it came
from; hashes and signature checks use those bytes, never a re-serialisation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.errors import EnvelopeError, SignatureInvalid
from ledger.jcs import canonical, parse_canonical
from ledger.signing import PrivateKey, b64decode_strict, b64encode, verify_signature

__all__ = [
    "DIRECTORY_TYPES",
    "MAX_ENVELOPE_BYTES",
    "SIGNING_PREFIX",
    "Actor",
    "Envelope",
    "draft_envelope",
    "format_time",
    "parse_time",
    "seal_envelope",
]

SIGNING_PREFIX = b"caseledger/envelope/v1\n"
MAX_ENVELOPE_BYTES = 64 * 1024

DIRECTORY_TYPES = frozenset(
    {
        "StaffEnrolled",
        "KeyAdded",
        "KeyRevoked",
        "RoleGranted",
        "RoleRevoked",
        "MatterDefined",
        "MatterRevised",
        "PromiseBarred",
        "PromiseBarCleared",
        "CalendarPublished",
    }
)

_FIELDS = frozenset({"v", "stream", "seq", "type", "at", "actor", "prev", "body", "sig"})
_ACTOR_FIELDS = frozenset({"id", "role", "key"})
_STREAM = re.compile(
    r"^(case:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|directory:[a-z0-9][a-z0-9._-]{0,62})$"
)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_ACTOR_ID = re.compile(r"^[a-z]+:[A-Za-z0-9._@-]{1,64}$")


def format_time(at: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: the only time format in envelopes."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime:
    """Parse an envelope time; raise EnvelopeError if it is not ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise EnvelopeError(f"time {text!r} is not YYYY-MM-DDTHH:MM:SSZ", code="json.invalid")
    try:
        # fromisoformat is some forty times faster than strptime, and reads the ``Z`` as UTC
        # itself; the pattern above has already pinned the exact format.
        return datetime.fromisoformat(text)
    except ValueError:
        raise EnvelopeError(f"time {text!r} is not a real date", code="json.invalid") from None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who signed: a principal id (``staff:…``, ``applicant:…``), a role and a key id."""

    id: str
    role: str
    key: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "key": self.key, "role": self.role}


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed, well-formed envelope and the exact canonical bytes it was parsed from.

    Well-formed means the shape is right; whether the signature verifies and whether the
    rules admit the step are separate questions (:meth:`verify_with`, ``ledger.policy.check``).
    """

    raw: bytes
    stream: str
    seq: int
    type: str
    at: datetime
    actor: Actor
    prev: str | None
    body: dict[str, Any]
    sig: bytes
    hash: str
    # The public key ``sig`` last verified under. Only :meth:`verify_with` sets it, after a
    # check that passed, so asking again for the same key costs nothing: an envelope whose
    # signature the audit checked as it read it is not checked a second time by the rules,
    # and the rules still decide under which key it must verify.
    verified_key: bytes | None = field(default=None, init=False, compare=False, repr=False)
    # The reader last applied to ``body`` and what it gave (:meth:`read_body_with`): the rules
    # and the fold both ask for a step's typed body, which depends on the body alone.
    body_read: tuple[Callable[[dict[str, Any]], Any], Any] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Envelope:
        """Parse canonical envelope JSON; raise EnvelopeError naming what is wrong."""
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        obj = parse_canonical(raw, max_bytes=MAX_ENVELOPE_BYTES)
        return cls._from_parts(raw, obj)

    @classmethod
    def _from_parts(cls, raw: bytes, obj: dict[str, Any]) -> Envelope:
        # Every envelope an audit reads passes here, so the checks are written out rather
        # than looped over; ``type(x) is`` suffices since the values come from json.
        if obj.keys() != _FIELDS:
            missing, extra = _FIELDS - obj.keys(), obj.keys() - _FIELDS
            raise EnvelopeError(
                f"envelope fields wrong: missing {sorted(missing)}, unexpected {sorted(extra)}",
                code="envelope.fields",
            )
        if obj["v"] != 1:
            raise EnvelopeError("only envelope version 1 is known", code="envelope.version")
        stream = _expect(obj, "stream", str)
        if not _STREAM.fullmatch(stream):
            raise EnvelopeError(f"stream {stream!r} is not case:<uuid> or directory:<org>")
        seq = _expect(obj, "seq", int)
        if seq < 1:
            raise EnvelopeError("seq must be a positive integer")
        step_type = _expect(obj, "type", str)
        known = _case_step_types() if stream.startswith("case:") else DIRECTORY_TYPES
        if step_type not in known:
            raise EnvelopeError(
                f"{step_type!r} is not a step type of {stream.split(':')[0]} streams",
                code="envelope.unknown_type",
            )
        actor_obj = _expect(obj, "actor", dict)
        if actor_obj.keys() != _ACTOR_FIELDS:
            raise EnvelopeError("actor must have exactly id, role and key")
        actor_id = _expect(actor_obj, "id", str)
        role = _expect(actor_obj, "role", str)
        kid = _expect(actor_obj, "key", str)
        if not _ACTOR_ID.fullmatch(actor_id):
            raise EnvelopeError(f"actor id {actor_id!r} is not kind:name")
        if not _KEY_ID.fullmatch(kid):
            raise EnvelopeError("actor key must be a 16-hex-digit key id")
        prev = obj["prev"]
        if prev is not None and not (type(prev) is str and _HEX64.fullmatch(prev)):
            raise EnvelopeError("prev must be null or 64 lowercase hex digits")
        sig = b64decode_strict(_expect(obj, "sig", str), what="sig")
        if len(sig) != 64:
            raise EnvelopeError("sig must be a 64-byte Ed25519 signature")
        return cls(
            raw,
            stream,
            seq,
            step_type,
            parse_time(_expect(obj, "at", str)),
            Actor(actor_id, role, kid),
            prev,
            _expect(obj, "body", dict),
            sig,
            hashlib.sha256(raw).hexdigest(),
        )

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")

    @property
    def at_text(self) -> str:
        return format_time(self.at)

    def signing_bytes(self) -> bytes:
        """``caseledger/envelope/v1\\n`` + JCS(envelope without ``sig``).

        ``raw`` is canonical, so its members stand in sorted order and the canonical text
        without ``sig`` is ``raw`` less the ``,"sig":"…"`` member. After ``sig`` come only
        ``stream``, ``type`` and ``v``, whose values hold no quotes, so the last occurrence
        is the top-level member.
        """
        member = b',"sig":"' + b64encode(self.sig).encode("ascii") + b'"'
        cut = self.raw.rfind(member)
        if cut < 0:  # pragma: no cover - from_bytes guarantees the member is there
            return SIGNING_PREFIX + canonical(_unsigned_fields(self))
        return SIGNING_PREFIX + self.raw[:cut] + self.raw[cut + len(member) :]

    def read_body_with(self, read: Callable[[dict[str, Any]], Any]) -> Any:
        """``read(self.body)``, remembered for the same ``read`` (a reader that raises is
        asked again next time)."""
        memo = self.body_read
        if memo is not None and memo[0] is read:
            return memo[1]
        value = read(self.body)
        # A memo of a fact about immutable bytes, as ``verified_key`` is.
        object.__setattr__(self, "body_read", (read, value))
        return value

    def verify_with(self, public_key: bytes) -> None:
        """Return None if ``sig`` verifies under ``public_key``; raise SignatureInvalid if not."""
        if self.verified_key is not None and self.verified_key == public_key:
            return
        try:
            verify_signature(public_key, self.signing_bytes(), self.sig)
        except SignatureInvalid:
            raise SignatureInvalid(
                f"signature of {self.stream} seq {self.seq} does not verify"
            ) from None
        # A memo of a fact about immutable bytes, not a change of the envelope's value.
        object.__setattr__(self, "verified_key", bytes(public_key))

    def to_json(self) -> dict[str, Any]:
        """The envelope as a JSON object (decoded from the stored text)."""
        return {**_unsigned_fields(self), "sig": b64encode(self.sig)}

    def __reduce__(self) -> tuple[Any, ...]:
        # The dataclass default walks fields() for every object, at some third of what
        # parsing the text again costs. The memo travels with the envelope: pickles are
        # our own bytes, passed between our own processes.
        actor = self.actor
        return (
            _restore,
            (
                self.raw,
                self.stream,
                self.seq,
                self.type,
                self.at,
                (actor.id, actor.role, actor.key),
                self.prev,
                self.body,
                self.sig,
                self.hash,
                self.verified_key,
            ),
        )


def _restore(
    raw: bytes,
    stream: str,
    seq: int,
    step_type: str,
    at: datetime,
    actor: tuple[str, str, str],
    prev: str | None,
    body: dict[str, Any],
    sig: bytes,
    digest: str,
    verified_key: bytes | None,
) -> Envelope:
    envelope = Envelope(raw, stream, seq, step_type, at, Actor(*actor), prev, body, sig, digest)
    object.__setattr__(envelope, "verified_key", verified_key)
    return envelope


def _unsigned_fields(env: Envelope) -> dict[str, Any]:
    return {
        "v": 1,
        "stream": env.stream,
        "seq": env.seq,
        "type": env.type,
        "at": env.at_text,
        "actor": env.actor.to_json(),
        "prev": env.prev,
        "body": env.body,
    }


def draft_envelope(
    *,
    stream: str,
    seq: int,
    step_type: str,
    at: datetime,
    actor: Actor,
    prev: str | None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """The unsigned envelope fields a signer signs (what the server hands a client to sign)."""
    return {
        "v": 1,
        "stream": stream,
        "seq": seq,
        "type": step_type,
        "at": format_time(at),
        "actor": actor.to_json(),
        "prev": prev,
        "body": body,
    }


def seal_envelope(draft: dict[str, Any], key: PrivateKey) -> Envelope:
    """Sign an unsigned draft with ``key`` and return the parsed envelope."""
    unsigned = {k: v for k, v in draft.items() if k != "sig"}
    signature = key.sign(SIGNING_PREFIX + canonical(unsigned))
    return Envelope.from_bytes(canonical({**unsigned, "sig": b64encode(signature)}))


_case_types: frozenset[str] | None = None


def _case_step_types() -> frozenset[str]:
    # The step table reads bodies with this module's parse_time, so it is imported late.
    global _case_types
    if _case_types is None:
        from ledger.steps import CASE_STEP_TYPES

        _case_types = CASE_STEP_TYPES
    return _case_types


def _expect(obj: dict[str, Any], name: str, kind: type) -> Any:
    # Exact types: a parsed JSON value is never a subclass, and a bool is not an int here.
    value = obj.get(name)
    if type(value) is not kind:
        raise EnvelopeError(f"{name} must be a {kind.__name__}")
    return value
