"""The state of one case, folded from its envelopes.

The same fold serves the live append path and the audit replay, so both judge a step
against exactly the same state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ledger.clock import china_date
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError
from ledger.reform import CaseReform
from ledger.step_bodies import Material
from ledger.steps import STATES, STEPS, read_body

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "CaseState",
    "Participation",
    "SuspensionSpan",
    "case_id_of_number",
    "case_number",
    "legacy_case_number",
]

OPEN_STATUSES = frozenset(name for name, state in STATES.items() if state.open)
CLOSED_STATUSES = frozenset(name for name, state in STATES.items() if not state.open)


def case_number(stream: str, applied_at: datetime) -> str:
    """The case number (受理回执号) shown to the applicant and printed on results: the
    application's date in China and the whole case id as 32 hex digits, e.g.
    ``20261124-3F6C2A9B1D044E4B9A510C7D2E8F6A11``. The verifier matches the printed one
    against this.

    The case id is chosen by whoever signs the Applied step (an applicant may), so any part of
    it could be made to collide on purpose; the whole id cannot, since the store keeps one
    stream per id. The number is therefore unique by construction, and the case id can be read
    back from it (:func:`case_id_of_number`).
    """
    digits = uuid.UUID(stream.removeprefix("case:")).hex.upper()
    return f"{china_date(applied_at):%Y%m%d}-{digits}"


def legacy_case_number(stream: str, applied_at: datetime) -> str:
    """The first release's short case number (date and the id's first 12 hex digits).

    Results sealed before the number carried the whole id print this form; the verifier still
    accepts it on their pages (the receipt beside it names the whole case id). Nothing issues it
    any more: two cases could share it.
    """
    digits = uuid.UUID(stream.removeprefix("case:")).hex[:12].upper()
    return f"{china_date(applied_at):%Y%m%d}-{digits}"


def case_id_of_number(number: str) -> str | None:
    """The case id a case number names (lower-case, with hyphens), or None if it is not one."""
    date_part, _, digits = number.partition("-")
    if len(date_part) != 8 or not date_part.isdigit() or len(digits) != 32:
        return None
    try:
        return str(uuid.UUID(hex=digits))
    except ValueError:
        return None


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


@dataclass(frozen=True)
class CaseState:
    """Where a case stands after its envelopes so far (``seq`` 0 means no envelope yet).

    Frozen, and without ``__slots__`` on purpose: the fold makes each step's state as a copy
    of the last one's attribute dict with the step's changes (:meth:`apply`), a single dict
    copy where building it through ``__init__`` sets every field one by one.
    """

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
    # The standing review opinions, level by level ("agree"/"disagree"); 退回 drops some.
    opinions: tuple[str, ...] = ()
    outcome: str | None = None
    participants: tuple[Participation, ...] = ()
    suspensions: tuple[SuspensionSpan, ...] = ()
    supplement_requested_at: datetime | None = None
    result_sha256: str | None = None  # the sealed result now in force (the latest issued)
    # The SHA-256 of every sealed document recorded on the case (result and notices).
    documents: tuple[str, ...] = ()
    # (SHA-256, document type) of each, for what a delivery says it served.
    document_types: tuple[tuple[str, str], ...] = ()
    # The latest delivery: its channel, postal tracking number, and received / returned.
    delivery_channel: str | None = None
    delivery_tracking: str | None = None
    delivery_outcome: str | None = None
    # Every material the case was given (application, supplements, 容缺 materials), and the
    # items of the last 补正 still to come.
    materials: tuple[Material, ...] = ()
    supplement_missing: tuple[str, ...] = ()
    reform: CaseReform = field(default_factory=CaseReform)
    extended_days: int = 0  # working days added by 延期 (§42)
    supervision_orders: int = 0  # 督办 recorded on the case

    @classmethod
    def empty(cls, stream: str) -> CaseState:
        return cls(stream=stream)

    def capacities_of(self, person: str) -> set[str]:
        return {p.capacity for p in self.participants if p.person == person}

    def apply(self, envelope: Envelope) -> CaseState:
        """The state after ``envelope``, as its entry in :data:`ledger.steps.STEPS` says.

        The rules admit a step before it is folded. An audit also folds the steps they
        refused, so that one bad step is one finding; a body that cannot be read then folds
        as far as the step type alone says (its status, the times it marks).
        """
        step = STEPS[envelope.type]
        try:
            body = read_body(envelope)
        except EnvelopeError:
            body = None
        changes: dict[str, Any] = {"status": step.leads_to}
        if step.effect is not None:
            changes.update(step.effect(self, envelope, body))
        capacity = step.capacity_of(envelope.actor.role, body)
        if capacity is not None and capacity not in self.capacities_of(envelope.actor.id):
            changes["participants"] = (
                *self.participants,
                Participation(envelope.actor.id, capacity),
            )
        changes["seq"] = envelope.seq
        changes["head_hash"] = envelope.hash
        changes["last_at"] = envelope.at
        return _replaced(self, changes)


_FIELDS = frozenset(f.name for f in fields(CaseState))


def _replaced(state: CaseState, changes: dict[str, Any]) -> CaseState:
    """``dataclasses.replace(state, **changes)`` as one copy of the state's attribute dict
    (every field is an init field, none is computed in ``__post_init__``): the fold runs it
    once a step, at append and for every step an audit replays."""
    if not changes.keys() <= _FIELDS:
        raise TypeError(f"CaseState has no field {sorted(changes.keys() - _FIELDS)[0]}")
    new = object.__new__(CaseState)
    object.__setattr__(new, "__dict__", {**state.__dict__, **changes})
    return new
