"""The state of one case, folded from its envelopes.

The same fold serves the live append path and the audit replay, so both judge a step
against exactly the same state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ledger.clock import china_date
from ledger.envelope import Envelope

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "CaseState",
    "Participation",
    "SuspensionSpan",
    "case_number",
]

OPEN_STATUSES = frozenset(
    {
        "applied",
        "awaiting_supplement",
        "accepted",
        "in_review",
        "suspended",
        "decided",
        "result_issued",
    }
)
CLOSED_STATUSES = frozenset({"not_accepted", "withdrawn", "delivered", "revoked"})


def case_number(stream: str, applied_at: datetime) -> str:
    """The case number (受理回执号) shown to the applicant and printed on results: the
    application's date in China and the first 12 hex digits of the case id, e.g.
    ``20261124-3F6C2A9B1D04``. The verifier matches the printed one against this."""
    digits = uuid.UUID(stream.removeprefix("case:")).hex[:12].upper()
    return f"{china_date(applied_at):%Y%m%d}-{digits}"


@dataclass(frozen=True, slots=True)
class Participation:
    """A person's capacity on a case: ``handler``, ``reviewer:<level>`` or ``approver``."""

    person: str
    capacity: str


@dataclass(frozen=True, slots=True)
class SuspensionSpan:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class CaseState:
    """Where a case stands after its envelopes so far (``seq`` 0 means no envelope yet)."""

    stream: str
    seq: int = 0
    head_hash: str | None = None
    last_at: datetime | None = None
    status: str | None = None
    resume_to: str | None = None
    matter_code: str | None = None
    matter_version: int | None = None
    applicant: dict[str, Any] = field(default_factory=dict)
    applicant_actor: str | None = None
    applicant_key: bytes | None = None
    applied_at: datetime | None = None
    accepted_at: datetime | None = None
    decided_at: datetime | None = None
    reviews_done: int = 0
    outcome: str | None = None
    participants: tuple[Participation, ...] = ()
    suspensions: tuple[SuspensionSpan, ...] = ()
    supplement_requested_at: datetime | None = None
    result_sha256: str | None = None  # the sealed result now in force (the latest issued)
    # The SHA-256 of every sealed document recorded on the case (result and notices).
    documents: tuple[str, ...] = ()

    @classmethod
    def empty(cls, stream: str) -> CaseState:
        return cls(stream=stream)

    def capacities_of(self, person: str) -> set[str]:
        return {p.capacity for p in self.participants if p.person == person}

    def apply(self, envelope: Envelope, capacity: str | None) -> CaseState:
        """The state after an admitted ``envelope``; ``capacity`` is the actor's duty on the case
        (None for the applicant and the seal service), as :func:`ledger.policy.capacity_for` says.
        """
        changes = _STEP_EFFECTS[envelope.type](self, envelope)
        participants = self.participants
        if capacity is not None and capacity not in self.capacities_of(envelope.actor.id):
            participants = (*participants, Participation(envelope.actor.id, capacity))
        return replace(
            self,
            seq=envelope.seq,
            head_hash=envelope.hash,
            last_at=envelope.at,
            participants=participants,
            **changes,
        )


def _applied(state: CaseState, env: Envelope) -> dict[str, Any]:
    from ledger.signing import public_key_from_b64

    matter = env.body["matter"]
    applicant_key = None
    if env.actor.role == "applicant":
        applicant_key = public_key_from_b64(env.body["applicant_key"])
    return {
        "status": "applied",
        "matter_code": matter["code"],
        "matter_version": matter["version"],
        "applicant": dict(env.body["applicant"]),
        "applicant_actor": env.actor.id if env.actor.role == "applicant" else None,
        "applicant_key": applicant_key,
        "applied_at": env.at,
    }


def _to(status: str) -> Any:
    def effect(state: CaseState, env: Envelope) -> dict[str, Any]:
        return {"status": status}

    return effect


def _supplement_requested(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"status": "awaiting_supplement", "supplement_requested_at": env.at}


def _accepted(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"status": "accepted", "accepted_at": env.at}


def _reviewed(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"status": "in_review", "reviews_done": state.reviews_done + 1}


def _decided(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"status": "decided", "outcome": env.body["outcome"], "decided_at": env.at}


def _result_issued(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"status": "result_issued", "result_sha256": env.body["pdf_sha256"]}


def _suspended(state: CaseState, env: Envelope) -> dict[str, Any]:
    span = SuspensionSpan(env.at, None, str(env.body.get("reason", "")))
    return {
        "status": "suspended",
        "resume_to": state.status,
        "suspensions": (*state.suspensions, span),
    }


def _resumed(state: CaseState, env: Envelope) -> dict[str, Any]:
    *earlier, last = state.suspensions
    return {
        "status": state.resume_to,
        "resume_to": None,
        "suspensions": (*earlier, replace(last, end=env.at)),
    }


def _document_kept(state: CaseState, env: Envelope) -> dict[str, Any]:
    return {"documents": (*state.documents, str(env.body.get("pdf_sha256", "")))}


_STEP_EFFECTS = {
    "Applied": _applied,
    "SupplementRequested": _supplement_requested,
    "SupplementProvided": _to("applied"),
    "Accepted": _accepted,
    "NotAccepted": _to("not_accepted"),
    "Reviewed": _reviewed,
    "Decided": _decided,
    "ResultIssued": lambda s, e: {**_result_issued(s, e), **_document_kept(s, e)},
    "DocumentIssued": lambda s, e: _document_kept(s, e),
    "Delivered": lambda s, e: {} if s.status == "not_accepted" else _to("delivered")(s, e),
    "Suspended": _suspended,
    "Resumed": _resumed,
    "Withdrawn": _to("withdrawn"),
    "ResultRevoked": _to("revoked"),
}
