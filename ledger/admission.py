"""Admission: what the server adds to the rules when a step reaches it.

- Revocation at admission. The rules judge a step as of the time it carries, so a key or
  grant revoked at 10:05 still signs a step dated 10:01 — and the server admits any ``at``
  within its skew allowance. At admission the server also refuses a step whose key, or every
  grant that would carry it, had been revoked by the moment the step arrived, whatever date
  it carries. The audit cannot apply this rule: it does not know when a step arrived.
- The signed receipt of admission. The answer to an admitted step carries a statement signed
  by the log key: this envelope (stream, seq, hash) is leaf ``leaf_index`` of the log, whose
  tree then held ``tree_size`` leaves, admitted at ``admitted_at``. The signed message is
  ``b"caseledger/admission/v1\\n" + JCS(statement)``, so it can never be read as a checkpoint
  (a note text begins with the log's origin) or an envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time
from ledger.errors import CaseLedgerError, SignatureInvalid
from ledger.jcs import canonical
from ledger.note import VerifierKey
from ledger.signing import PrivateKey, b64decode_strict, b64encode, verify_signature
from ledger.state import CaseState
from ledger.violations import Violation

__all__ = [
    "ADMISSION_KIND",
    "ADMISSION_PREFIX",
    "AdmissionInvalid",
    "AdmissionReceipt",
    "revoked_at_admission",
    "sign_admission",
    "verify_admission",
]

ADMISSION_PREFIX = b"caseledger/admission/v1\n"
ADMISSION_KIND = "caseledger/admission"
_FIELDS = ("v", "kind", "log", "stream", "seq", "envelope_hash", "leaf_index", "tree_size",
           "admitted_at")  # fmt: skip


class AdmissionInvalid(CaseLedgerError):
    """A receipt of admission is malformed or its signature does not verify."""

    code = "admission.invalid"


def revoked_at_admission(
    state: CaseState | None, directory: DirectoryState, envelope: Envelope, now: datetime
) -> list[Violation]:
    """Violations for a staff step whose key, or every grant that would carry it, had been
    revoked by ``now`` (the moment of admission), whatever ``at`` the step carries."""
    actor = envelope.actor
    if actor.role == "applicant":
        return []  # an applicant's key is named in the application, not in the directory
    found = []
    record = directory.key(actor.key)
    if record is not None and record.void_from is not None and record.void_from <= now:
        found.append(
            Violation(
                "key.revoked_at_admission",
                f"key {actor.key} was void from {format_time(record.void_from)}, "
                f"before this step arrived at {format_time(now)} (密钥在提交时已作废)",
            )
        )
    matter = _matter_code(state, envelope)
    grants = [
        g
        for g in directory.grants_at(actor.id, actor.role, envelope.at)
        if g.covers(matter) and (g.revoked_at is None or g.revoked_at >= envelope.at)
    ]
    if grants and all(g.revoked_at is not None and g.revoked_at <= now for g in grants):
        found.append(
            Violation(
                "role.revoked_at_admission",
                f"{actor.id}'s {actor.role} grant was revoked before this step arrived "
                "(授权在提交时已撤销)",
            )
        )
    return found


def _matter_code(state: CaseState | None, envelope: Envelope) -> str | None:
    if state is not None and state.matter_code is not None:
        return state.matter_code
    matter = envelope.body.get("matter") if envelope.type == "Applied" else None
    code = matter.get("code") if isinstance(matter, dict) else None
    return code if isinstance(code, str) else None


@dataclass(frozen=True, slots=True)
class AdmissionReceipt:
    """A signed statement that the log took an envelope in at a leaf index and tree size."""

    log: str
    stream: str
    seq: int
    envelope_hash: str
    leaf_index: int
    tree_size: int
    admitted_at: str
    sig: str

    def statement(self) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": ADMISSION_KIND,
            "log": self.log,
            "stream": self.stream,
            "seq": self.seq,
            "envelope_hash": self.envelope_hash,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "admitted_at": self.admitted_at,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.statement(), "sig": self.sig}

    @classmethod
    def from_json(cls, obj: Any) -> AdmissionReceipt:
        """Read a receipt (signature not checked); raise AdmissionInvalid if malformed."""
        if not isinstance(obj, dict) or set(obj) != {*_FIELDS, "sig"}:
            raise AdmissionInvalid(f"a receipt of admission has exactly the fields {_FIELDS}+sig")
        if obj["v"] != 1 or obj["kind"] != ADMISSION_KIND:
            raise AdmissionInvalid("not a caseledger/admission v1 receipt")
        ints = ("seq", "leaf_index", "tree_size")
        texts = ("log", "stream", "envelope_hash", "admitted_at", "sig")
        if not all(type(obj[k]) is int and obj[k] >= 0 for k in ints) or not all(
            isinstance(obj[k], str) for k in texts
        ):
            raise AdmissionInvalid("a receipt of admission has mistyped fields")
        return cls(**{k: obj[k] for k in (*texts[:4], *ints, "sig")})


def sign_admission(
    key: PrivateKey,
    *,
    log: str,
    envelope: tuple[str, int, str],
    leaf_index: int,
    tree_size: int,
    admitted_at: datetime,
) -> AdmissionReceipt:
    """Sign that ``envelope`` (stream, seq, hash hex) is leaf ``leaf_index`` of ``log``."""
    stream, seq, envelope_hash = envelope
    unsigned = AdmissionReceipt(
        log, stream, seq, envelope_hash, leaf_index, tree_size, format_time(admitted_at), ""
    )
    signature = key.sign(ADMISSION_PREFIX + canonical(unsigned.statement()))
    return AdmissionReceipt(**{**_plain(unsigned), "sig": b64encode(signature)})


def _plain(receipt: AdmissionReceipt) -> dict[str, Any]:
    return {name: getattr(receipt, name) for name in AdmissionReceipt.__slots__}


def verify_admission(receipt: AdmissionReceipt, log_verifier_key: str) -> None:
    """Raise AdmissionInvalid unless the log key of ``log_verifier_key`` signed ``receipt``
    and it holds together (the leaf is inside the tree it names)."""
    key = VerifierKey.from_string(log_verifier_key)
    if receipt.log != key.name:
        raise AdmissionInvalid(f"the receipt is from {receipt.log!r}, not {key.name!r}")
    if receipt.leaf_index >= receipt.tree_size:
        raise AdmissionInvalid("the leaf index is not inside the tree size")
    signature = b64decode_strict(receipt.sig, what="the receipt's signature")
    try:
        verify_signature(
            key.public_key, ADMISSION_PREFIX + canonical(receipt.statement()), signature
        )
    except SignatureInvalid:
        raise AdmissionInvalid("the receipt's signature does not verify") from None
