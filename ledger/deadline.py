"""A case's time limits from its signed steps and the signed calendar alone.

:func:`case_deadline` is the one function the read models, the audit and the verifier use:
it folds the case's envelopes (the times its limits depend on: application, the first
answer, acceptance, each review level, the decision, suspensions and 延期), takes the
matter's limits as defined when the case was applied for and the working-day calendar from
the directory (:meth:`ledger.directory.DirectoryState.work_calendar`), and assesses the case
with :func:`ledger.timelimits.assess`. Anyone holding the envelopes and the directory gets the
same dates; nothing here reads a clock or a database.

The verifier (verify/deadline.py) turns an assessment into the words of its verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ledger.directory import DirectoryState, Matter
from ledger.envelope import Envelope
from ledger.state import CaseState
from ledger.steps import STEPS
from ledger.timelimits import Assessment, CaseTimes, Pause, assess

__all__ = [
    "DeadlineTracker",
    "case_deadline",
    "case_times",
    "times_of",
]


def times_of(
    state: CaseState,
    answered_at: datetime | None,
    reviewed_at: tuple[datetime, ...],
    matter: Matter | None,
) -> CaseTimes:
    """The times a folded case's limits depend on (``state.applied_at`` must be set, or the
    first step's time stands in)."""
    applied_at = state.applied_at or state.last_at
    assert applied_at is not None  # noqa: S101 - a folded case has at least one step
    return CaseTimes(
        applied_at=applied_at,
        answered_at=answered_at,
        accepted_at=state.accepted_at,
        reviewed_at=reviewed_at,
        decided_at=state.decided_at,
        pauses=tuple(Pause(s.start, s.end, s.reason) for s in state.suspensions),
        statutory_days=matter.statutory_days if matter else 0,
        committed_days=matter.committed_days if matter else 0,
        review_levels=len(matter.review_levels) if matter else 0,
        extended_days=state.extended_days,
        stage_days=matter.stage_days if matter else (),
    )


def case_times(
    envelopes: Iterable[Envelope], directory: DirectoryState
) -> tuple[CaseState, CaseTimes] | None:
    """Fold a case's envelopes (seq 1 first); its last state and its times, or None if
    there is no step."""
    state: CaseState | None = None
    answered: datetime | None = None
    reviewed: list[datetime] = []
    for envelope in envelopes:
        state = (state or CaseState.empty(envelope.stream)).apply(envelope)
        if answered is None and STEPS[envelope.type].answers:
            answered = envelope.at
        if envelope.type == "Reviewed":
            reviewed.append(envelope.at)
    if state is None:
        return None
    applied_at = state.applied_at or state.last_at
    assert applied_at is not None  # noqa: S101 - at least one step was folded
    matter = directory.matter_at(state.matter_code or "", state.matter_version or 0, applied_at)
    return state, times_of(state, answered, tuple(reviewed), matter)


def case_deadline(
    envelopes: Iterable[Envelope],
    directory: DirectoryState,
    *,
    now: datetime | None = None,
    near_days: int = 3,
) -> Assessment | None:
    """The case against its limits at ``now`` (default: its last step), on the directory's
    calendar; None if there is no step."""
    folded = case_times(envelopes, directory)
    if folded is None:
        return None
    state, times = folded
    at = now or state.last_at
    assert at is not None  # noqa: S101 - set by the fold
    return assess(times, at, near_days=near_days, calendar=directory.work_calendar())


class DeadlineTracker:
    """Follows the steps of many cases as a replay folds them, keeping what their limits
    need beyond the state (the first answer, the review times), so that an audit judges every
    case's time limits without folding it twice."""

    def __init__(self) -> None:
        self._answered: dict[str, datetime] = {}
        self._reviewed: dict[str, list[datetime]] = {}
        self._decided_seq: dict[str, int] = {}

    def step(self, envelope: Envelope) -> None:
        stream = envelope.stream
        step = STEPS.get(envelope.type)
        if step is not None and step.answers and stream not in self._answered:
            self._answered[stream] = envelope.at
        if envelope.type == "Reviewed":
            self._reviewed.setdefault(stream, []).append(envelope.at)
        if envelope.type == "Decided":
            self._decided_seq[stream] = envelope.seq

    def findings(
        self, cases: dict[str, CaseState], directory: DirectoryState
    ) -> list[tuple[str, int, str, str]]:
        """(stream, seq, code, detail) for each decided case past a limit, each stage that
        overran its share, and each case whose days cannot be counted for want of a calendar;
        judged at the case's last step."""
        calendar = directory.work_calendar()
        out: list[tuple[str, int, str, str]] = []
        for stream, state in cases.items():
            if state.applied_at is None or state.accepted_at is None or state.last_at is None:
                continue
            matter = directory.matter_at(
                state.matter_code or "", state.matter_version or 0, state.applied_at
            )
            times = times_of(
                state, self._answered.get(stream), tuple(self._reviewed.get(stream, ())), matter
            )
            try:
                a = assess(times, state.last_at, calendar=calendar)
            except (ValueError, OverflowError):  # dates a hostile step put beyond the calendar
                continue
            seq = self._decided_seq.get(stream, state.seq)
            if a.uncounted_years:
                years = ", ".join(map(str, a.uncounted_years))
                out.append((stream, seq, "clock.calendar_unknown", f"no calendar for {years}"))
            if a.statutory_overdue:
                out.append((stream, seq, "deadline.statutory_exceeded", _over(a, statutory=True)))
            elif a.overdue:
                out.append((stream, seq, "deadline.committed_exceeded", _over(a, statutory=False)))
            for stage in a.stages:
                if stage.overran and stage.ended is not None:
                    detail = f"stage {stage.name} used {stage.used_days} of {stage.share_days} days"
                    out.append((stream, seq, "deadline.stage_overran", detail))
        return out


def _over(a: Assessment, *, statutory: bool) -> str:
    verb = "decided" if a.decided else "undecided at the last step"
    if statutory:
        return (
            f"{verb} {a.days_over_statutory} working day(s) past the statutory limit of "
            f"{a.statutory_days} (deadline {_day(a.statutory_deadline)})"
        )
    return (
        f"{verb} {a.days_over_committed} working day(s) past the committed limit of "
        f"{a.committed_days} (deadline {_day(a.committed_deadline)})"
    )


def _day(day: object) -> str:
    return day.isoformat() if hasattr(day, "isoformat") else "not dated"
