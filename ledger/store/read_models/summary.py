"""A case's summary, folded from its envelopes: status, matter, unit, next step and role,
participants, and the step times its deadlines depend on. No database here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledger.calendar import WorkCalendar
from ledger.deadline import times_of
from ledger.directory import DirectoryState, Matter
from ledger.envelope import Envelope
from ledger.state import CaseState, case_number
from ledger.steps import STEPS, next_step
from ledger.timelimits import Assessment, CaseTimes, assess

__all__ = ["CaseFold", "CaseSummary", "case_number", "fold_case", "summarise", "summary_of"]


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A case as the read models keep it (``participants`` are (person, capacity) pairs)."""

    stream: str
    case_number: str
    seq: int
    status: str
    matter_code: str
    matter_name: str
    unit: str
    next_step: str | None
    next_role: str | None
    next_capacity: str | None
    applicant_name: str
    applicant_kind: str
    applicant_id_number: str
    participants: tuple[tuple[str, str], ...]
    outcome: str | None
    applied_at: datetime
    last_at: datetime
    times: CaseTimes
    # The directory's working-day calendar the deadlines are counted on (None: the
    # package's years only).
    calendar: WorkCalendar | None = field(default=None, compare=False, repr=False)

    @property
    def case_id(self) -> str:
        return self.stream.removeprefix("case:")

    def assess(self, now: datetime, near_days: int = 3) -> Assessment:
        """The case against its time limits at ``now`` (see :mod:`ledger.timelimits`)."""
        return assess(self.times, now, near_days=near_days, calendar=self.calendar)

    def capacities_of(self, person: str) -> set[str]:
        return {capacity for who, capacity in self.participants if who == person}


def _next(state: CaseState, matter: Matter | None) -> tuple[str | None, str | None, str | None]:
    """(next step, role that takes it, capacity on the case) for an open case."""
    offered = next_step(state, matter)
    return offered if offered is not None else (None, None, None)


@dataclass(frozen=True, slots=True)
class CaseFold:
    """A case folded up to ``state.seq``, with the step times the state does not keep."""

    state: CaseState
    answered_at: datetime | None = None
    reviewed_at: tuple[datetime, ...] = ()

    def apply(self, envelope: Envelope) -> CaseFold:
        """The fold after the next envelope of the case."""
        answered = self.answered_at
        if answered is None and STEPS[envelope.type].answers:
            answered = envelope.at
        reviewed = self.reviewed_at
        if envelope.type == "Reviewed":
            reviewed = (*reviewed, envelope.at)
        return CaseFold(self.state.apply(envelope), answered, reviewed)


def _times(fold: CaseFold, applied_at: datetime, matter: Matter | None) -> CaseTimes:
    from dataclasses import replace

    state = fold.state if fold.state.applied_at else replace(fold.state, applied_at=applied_at)
    return times_of(state, fold.answered_at, fold.reviewed_at, matter)


def fold_case(events: Iterable[Envelope], stream: str) -> CaseFold:
    """Fold a case's envelopes (seq 1 first) from nothing."""
    fold = CaseFold(CaseState.empty(stream))
    for envelope in events:
        fold = fold.apply(envelope)
    return fold


def summarise(events: Sequence[Envelope], directory: DirectoryState) -> CaseSummary:
    """Fold a case's stored envelopes (seq 1 first) into its summary."""
    return summary_of(fold_case(events, events[0].stream), directory)


def summary_of(fold: CaseFold, directory: DirectoryState) -> CaseSummary:
    """The summary of a folded case; the matter, unit and limits come from ``directory`` as
    it stood when the case was applied for."""
    state = fold.state
    applied_at = state.applied_at or state.last_at or datetime.min.replace(tzinfo=UTC)
    matter = directory.matter_at(state.matter_code or "", state.matter_version or 0, applied_at)
    handler = next((p.person for p in state.participants if p.capacity == "handler"), None)
    staff = directory.staff.get(handler) if handler else None
    step, role, capacity = _next(state, matter)
    return CaseSummary(
        stream=state.stream,
        case_number=case_number(state.stream, applied_at),
        seq=state.seq,
        status=state.status or "applied",
        matter_code=state.matter_code or "",
        matter_name=matter.name if matter else "",
        unit=staff.unit if staff else "",
        next_step=step,
        next_role=role,
        next_capacity=capacity,
        applicant_name=str(state.applicant.get("name", "")),
        applicant_kind=str(state.applicant.get("kind", "")),
        # An organisation's credit code, or a natural person's identity commitment.
        applicant_id_number=str(
            state.applicant.get("id_number") or state.applicant.get("id_commitment", "")
        ),
        participants=tuple((p.person, p.capacity) for p in state.participants),
        outcome=state.outcome,
        applied_at=applied_at,
        last_at=state.last_at or applied_at,
        times=_times(fold, applied_at, matter),
        calendar=directory.work_calendar(),
    )
