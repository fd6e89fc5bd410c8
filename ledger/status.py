"""A sealed result's status (valid, revoked, superseded) and the signed statement that says so.

Pure. :func:`derive_status` reads a case's envelopes and tells what became of one document
(named by its SHA-256, as ResultIssued records it): still valid, revoked by a ResultRevoked that
names it, or superseded by a later ResultIssued whose ``supersedes`` names it.
:class:`StatusStatement` is what the office signs with its status key (named in trust.json)
and answers at ``GET /v1/public/results/{sha256}``: the signature covers
``b"caseledger/result-status/v1\\n" + JCS(statement without "sig")``. It holds nothing about
the applicant; the decider of a revocation is named as every step's signer is named in the
receipt the document itself carries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.clock import china_minute_text
from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time, parse_time
from ledger.errors import CaseLedgerError, EnvelopeError, SignatureInvalid
from ledger.jcs import canonical
from ledger.signing import PrivateKey, b64decode_strict, b64encode, verify_signature

__all__ = [
    "MAX_STATEMENT_BYTES",
    "STATUSES",
    "STATUS_KIND",
    "STATUS_PREFIX",
    "Ending",
    "StatusFacts",
    "StatusMalformed",
    "StatusStatement",
    "derive_status",
    "ending_of",
    "is_sha256",
]

STATUS_KIND = "caseledger/result-status"
STATUS_PREFIX = b"caseledger/result-status/v1\n"
STATUSES = ("valid", "revoked", "superseded")
MAX_STATEMENT_BYTES = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StatusMalformed(CaseLedgerError):
    """A status statement cannot be read."""

    code = "status.malformed"


def is_sha256(text: str) -> bool:
    """Whether ``text`` is a SHA-256 in lower-case hex, the one spelling of a document's id."""
    return bool(_SHA256.fullmatch(text))


@dataclass(frozen=True, slots=True)
class Ending:
    """The step that ended a document: a revocation, or a re-issue that supersedes it."""

    at: datetime
    envelope: str
    decided_by: str  # the signer's name as the directory records it
    role: str
    reason: str = ""
    legal_basis: str = ""
    successor: str = ""  # the superseding document's SHA-256

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": format_time(self.at),
            "at_china": china_minute_text(self.at),
            "envelope": self.envelope,
            "decided_by": {"name": self.decided_by, "role": self.role},
        }
        if self.successor:
            out["sha256"] = self.successor
        else:
            out.update(reason=self.reason, legal_basis=self.legal_basis)
        return out

    @classmethod
    def from_json(cls, obj: Any, *, superseding: bool) -> Ending:
        by = obj["decided_by"]
        return cls(
            at=parse_time(obj["at"]),
            envelope=_hex(obj["envelope"], "envelope"),
            decided_by=_text(by["name"]),
            role=_text(by["role"]),
            reason="" if superseding else _text(obj["reason"]),
            legal_basis="" if superseding else _text(obj["legal_basis"]),
            successor=_hex(obj["sha256"], "sha256") if superseding else "",
        )

    def line(self) -> str:
        """One line for people: when (China time), who, why."""
        who = f"{self.decided_by} ({self.role})"
        if self.successor:
            return f"superseded on {china_minute_text(self.at)} by {self.successor[:16]}… ({who})"
        return (
            f"revoked on {china_minute_text(self.at)} by {who}: {self.reason} ({self.legal_basis})"
        )


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What the case's envelopes say about one document."""

    sha256: str
    case_number: str
    status: str
    issued: Envelope  # the ResultIssued that recorded the document
    ending: Ending | None
    deciding: Envelope  # the envelope whose log inclusion proves the status


def derive_status(
    envelopes: Iterable[Envelope], sha256: str, directory: DirectoryState
) -> StatusFacts | None:
    """The status of the document ``sha256`` in a case's envelopes; None if not issued there."""
    issued: Envelope | None = None
    for env in envelopes:
        if issued is None:
            if env.type == "ResultIssued" and env.body.get("pdf_sha256") == sha256:
                issued = env
            continue
        ended = _ends(env, sha256)
        if ended:
            return StatusFacts(
                sha256,
                str(issued.body.get("case_number", "")),
                "superseded" if env.type == "ResultIssued" else "revoked",
                issued,
                ending_of(env, directory),
                env,
            )
    if issued is None:
        return None
    number = str(issued.body.get("case_number", ""))
    return StatusFacts(sha256, number, "valid", issued, None, issued)


def _ends(env: Envelope, sha256: str) -> bool:
    if env.type == "ResultIssued":
        return env.body.get("supersedes") == sha256
    # A revocation ends the case's current document; it names it (body.result) whenever a
    # sealed result was issued, and the rules refuse one naming any other document.
    return env.type == "ResultRevoked" and env.body.get("result", sha256) == sha256


def ending_of(env: Envelope, directory: DirectoryState) -> Ending:
    """The Ending a ResultRevoked or a superseding ResultIssued records."""
    person = directory.staff_at(env.actor.id, env.at)
    name = person.name if person is not None else env.actor.id
    if env.type == "ResultIssued":
        return Ending(env.at, env.hash, name, env.actor.role, successor=str(env.body["pdf_sha256"]))
    reason, basis = str(env.body["reason"]), str(env.body["legal_basis"])
    return Ending(env.at, env.hash, name, env.actor.role, reason=reason, legal_basis=basis)


@dataclass(frozen=True, slots=True)
class StatusStatement:
    """The office's signed word on one document, as of ``stated_at``."""

    org: str
    sha256: str
    case_number: str
    status: str
    issued_at: datetime
    stated_at: datetime
    ending: Ending | None
    proof_envelope: str  # the hash of the envelope the proof is for
    tlog_proof: str  # C2SP tlog-proof of that envelope, with its signed checkpoint
    key_id: str = ""
    sig: bytes = b""

    @classmethod
    def of(
        cls, org: str, facts: StatusFacts, *, stated_at: datetime, tlog_proof: str
    ) -> StatusStatement:
        return cls(
            org=org,
            sha256=facts.sha256,
            case_number=facts.case_number,
            status=facts.status,
            issued_at=facts.issued.at,
            stated_at=stated_at,
            ending=facts.ending,
            proof_envelope=facts.deciding.hash,
            tlog_proof=tlog_proof,
        )

    def body(self) -> dict[str, Any]:
        """The signed fields (everything but ``sig``)."""
        ending = self.ending.to_json() if self.ending else None
        return {
            "v": 1,
            "kind": STATUS_KIND,
            "org": self.org,
            "document": {"sha256": self.sha256, "case_number": self.case_number},
            "status": self.status,
            "issued_at": format_time(self.issued_at),
            "stated_at": format_time(self.stated_at),
            "stated_at_china": china_minute_text(self.stated_at),
            "revocation": ending if self.status == "revoked" else None,
            "superseded_by": ending if self.status == "superseded" else None,
            "proof": {"envelope": self.proof_envelope, "tlog_proof": self.tlog_proof},
        }

    def signed(self, key: PrivateKey) -> StatusStatement:
        from dataclasses import replace

        message = STATUS_PREFIX + canonical(self.body())
        return replace(self, key_id=key.key_id, sig=key.sign(message))

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "sig": {"key_id": self.key_id, "sig": b64encode(self.sig)}}

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8") + b"\n"

    def verify_with(self, public_key: bytes) -> None:
        """Raise SignatureInvalid unless ``public_key`` signed exactly these fields."""
        verify_signature(public_key, STATUS_PREFIX + canonical(self.body()), self.sig)

    @classmethod
    def from_json(cls, data: bytes | str) -> StatusStatement:
        """Parse a signed statement; raise StatusMalformed naming what is wrong."""
        if len(data) > MAX_STATEMENT_BYTES:
            raise StatusMalformed("a status statement is at most 64 KiB")
        try:
            return cls._from_obj(json.loads(data))
        except StatusMalformed:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise StatusMalformed(f"the status statement is not valid: {exc!r}") from None
        except (EnvelopeError, SignatureInvalid) as exc:
            raise StatusMalformed(f"the status statement is not valid: {exc.message}") from None

    @classmethod
    def _from_obj(cls, obj: Any) -> StatusStatement:
        if not isinstance(obj, dict) or obj.get("v") != 1 or obj.get("kind") != STATUS_KIND:
            raise StatusMalformed(f'a status statement is a JSON object with "kind": {STATUS_KIND}')
        status = obj["status"]
        if status not in STATUSES:
            raise StatusMalformed(f"unknown status {status!r}")
        ending = None
        if status != "valid":
            raw = obj["revocation" if status == "revoked" else "superseded_by"]
            ending = Ending.from_json(raw, superseding=status == "superseded")
        proof = obj["proof"]
        sig = obj["sig"]
        statement = cls(
            org=_text(obj["org"]),
            sha256=_hex(obj["document"]["sha256"], "document.sha256"),
            case_number=_text(obj["document"]["case_number"]),
            status=status,
            issued_at=parse_time(obj["issued_at"]),
            stated_at=parse_time(obj["stated_at"]),
            ending=ending,
            proof_envelope=_hex(proof["envelope"], "proof.envelope"),
            tlog_proof=_text(proof["tlog_proof"]),
            key_id=_text(sig["key_id"]),
            sig=b64decode_strict(_text(sig["sig"]), what="the statement's signature"),
        )
        if statement.body() != {k: v for k, v in obj.items() if k != "sig"}:
            # Only the fields above are signed; anything else would be unsigned text.
            raise StatusMalformed("the status statement has fields that are not signed")
        return statement


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise StatusMalformed("a field that must be text is empty or not text")
    return value


def _hex(value: object, name: str) -> str:
    if not isinstance(value, str) or not is_sha256(value):
        raise StatusMalformed(f"{name} must be a SHA-256 in lower-case hex")
    return value
