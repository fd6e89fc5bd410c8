"""Time limits in working days (行政许可法 §32, §42, §45) and e-supervision cards.

The working days themselves — the signed calendar, the civil-law rule that the first day is
not counted, suspensions (§45) that stop the clock — are counted by :mod:`ledger.working_days`;
this module decides what is counted from when. A deadline that runs into a year nobody
published a calendar for is left undated and the assessment says so (``calendar_unknown``,
the warning ``clock.calendar_unknown``), never Monday to Friday in silence.

The decision limits start at acceptance (§42), and the statutory one at the application
instead when the office answered it more than five working days later (§32: not told to
supplement in time, it counts as accepted on receipt). 延期 (§42) adds its working days to
both limits. The first counted day is the working day after acceptance; the deadline is the
end of its day in China time (UTC+8).

Cards (电子监察): a *yellow card* when one stage of the case used more working days than its
share of the committed limit, even if the case as a whole is on time; a *red card* when the
case is past its committed deadline (decided late, or still undecided after it).

Pure: no clock is read here; ``now`` is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.calendar import WorkCalendar
from ledger.working_days import (
    DayCounter,
    Pause,
    TimeLimitError,
    add_working_days,
    counted_days,
    is_working_day,
    local_date,
)

__all__ = [
    "ACCEPT_DAYS",
    "Assessment",
    "CaseTimes",
    "Pause",
    "Stage",
    "TimeLimitError",
    "add_working_days",
    "assess",
    "counted_days",
    "is_working_day",
    "local_date",
    "statutory_start",
]

# §32: a 补正 notice (or acceptance) is due within 5 days of receiving the application.
ACCEPT_DAYS = 5


@dataclass(frozen=True, slots=True)
class CaseTimes:
    """The dates of a case that its time limits depend on (all timezone-aware).

    ``answered_at`` is the handler's first answer to the application (accepted, refused or
    补正 requested); ``reviewed_at`` holds the time of each review level done, in order.
    """

    applied_at: datetime
    answered_at: datetime | None
    accepted_at: datetime | None
    reviewed_at: tuple[datetime, ...]
    decided_at: datetime | None
    pauses: tuple[Pause, ...]
    statutory_days: int
    committed_days: int
    review_levels: int
    # Working days granted by 延期 (§42), in total.
    extended_days: int = 0
    # The matter's own share of each stage (review levels, then the decision), if it sets them.
    stage_days: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON object of these times (ISO 8601), read back by :meth:`from_json`."""
        return {
            "applied": _iso(self.applied_at),
            "answered": _iso(self.answered_at),
            "accepted": _iso(self.accepted_at),
            "reviewed": [_iso(t) for t in self.reviewed_at],
            "decided": _iso(self.decided_at),
            "pauses": [[_iso(p.start), _iso(p.end), p.reason] for p in self.pauses],
            "limits": [self.statutory_days, self.committed_days, self.review_levels],
            "extended": self.extended_days,
            "stages": list(self.stage_days),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CaseTimes:
        """Read :meth:`to_json` output; raise TimeLimitError if it is not that."""
        try:
            statutory, committed, levels = (int(n) for n in obj["limits"])
            return cls(
                applied_at=_instant(obj["applied"]),
                answered_at=_maybe(obj["answered"]),
                accepted_at=_maybe(obj["accepted"]),
                reviewed_at=tuple(_instant(t) for t in obj["reviewed"]),
                decided_at=_maybe(obj["decided"]),
                pauses=tuple(
                    Pause(_instant(p[0]), _maybe(p[1]), str(p[2]) if len(p) > 2 else "")
                    for p in obj["pauses"]
                ),
                statutory_days=statutory,
                committed_days=committed,
                review_levels=levels,
                extended_days=int(obj.get("extended", 0)),
                stage_days=tuple(int(n) for n in obj.get("stages", ())),
            )
        except (KeyError, TypeError, ValueError):
            raise TimeLimitError("not a stored set of case times", code="time.invalid") from None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _instant(text: object) -> datetime:
    at = datetime.fromisoformat(str(text))
    if at.tzinfo is None:
        raise ValueError("naive time")
    return at


def _maybe(text: object) -> datetime | None:
    return None if text is None else _instant(text)


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a case and its use of the clock, in working days."""

    name: str  # "accept", "review:1", …, "decide"
    started: datetime
    ended: datetime | None
    share_days: int
    used_days: int

    @property
    def overran(self) -> bool:
        return self.used_days > self.share_days


@dataclass(frozen=True, slots=True)
class Assessment:
    """Where a case stands against its limits at ``now``.

    Deadlines are None before acceptance and while a suspension stops the clock.
    ``remaining_days`` counts the working days left before the committed deadline
    (negative once past it).
    """

    committed_deadline: date | None
    statutory_deadline: date | None
    used_days: int
    remaining_days: int | None
    paused: bool
    decided: bool
    overdue: bool
    statutory_overdue: bool
    near_due: bool
    stages: tuple[Stage, ...]
    statutory_used_days: int = 0
    committed_days: int = 0  # the limits as they run, 延期 included
    statutory_days: int = 0
    # Years the count ran into that no calendar was published for (clock.calendar_unknown):
    # all of them, and those among the days used so far (which make the days used uncertain,
    # not only a deadline's date).
    calendar_unknown: tuple[int, ...] = ()
    uncounted_years: tuple[int, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """Stable codes of what makes this assessment uncertain: ``clock.calendar_unknown``
        when an open case's deadline cannot be dated, or a decided case's days used cannot
        be counted, for want of a published calendar."""
        unknown = self.uncounted_years if self.decided else self.calendar_unknown
        return ("clock.calendar_unknown",) if unknown else ()

    @property
    def days_over_committed(self) -> int:
        """Working days used beyond the committed limit (0 if within it)."""
        return max(self.used_days - self.committed_days, 0)

    @property
    def days_over_statutory(self) -> int:
        """Working days used beyond the statutory limit (0 if within it)."""
        return max(self.statutory_used_days - self.statutory_days, 0)

    @property
    def card(self) -> str | None:
        """``"red"``, ``"yellow"`` or None (see the module docstring)."""
        if self.overdue:
            return "red"
        if any(stage.overran for stage in self.stages):
            return "yellow"
        return None


def _shares(committed_days: int, review_levels: int) -> list[int]:
    """The committed limit split evenly over the review levels and the decision; the
    decision takes what is left over, and every stage gets at least one day."""
    stages = review_levels + 1
    base = max(committed_days // stages, 1)
    return [base] * review_levels + [max(committed_days - base * review_levels, 1)]


def _stages(times: CaseTimes, now: datetime, counter: DayCounter) -> tuple[Stage, ...]:
    spans: list[tuple[str, datetime, datetime | None, int]] = [
        ("accept", times.applied_at, times.answered_at, ACCEPT_DAYS)
    ]
    if times.accepted_at is not None:
        shares = (
            list(times.stage_days)
            if len(times.stage_days) == times.review_levels + 1
            else _shares(times.committed_days, times.review_levels)
        )
        start = times.accepted_at
        for level in range(1, times.review_levels + 1):
            done = times.reviewed_at[level - 1] if level <= len(times.reviewed_at) else None
            spans.append((f"review:{level}", start, done, shares[level - 1]))
            if done is None:
                break
            start = done
        else:
            spans.append(("decide", start, times.decided_at, shares[-1]))
    stages = []
    for name, started, ended, share in spans:
        used = counter.between(local_date(started), local_date(ended or now))
        stages.append(Stage(name, started, ended, share, used))
    return tuple(stages)


def statutory_start(times: CaseTimes, calendar: WorkCalendar | None = None) -> datetime | None:
    """When the statutory limit starts: at acceptance, or at the application when the office
    answered it (补正 or acceptance) more than five working days later (§32: an application
    not told to be supplemented in time counts as accepted from its receipt). None before
    acceptance."""
    if times.accepted_at is None:
        return None
    answered = times.answered_at or times.accepted_at
    late = counted_days(local_date(times.applied_at), local_date(answered), (), calendar)
    return times.applied_at if late > ACCEPT_DAYS else times.accepted_at


def assess(
    times: CaseTimes,
    now: datetime,
    *,
    near_days: int = 3,
    calendar: WorkCalendar | None = None,
) -> Assessment:
    """How ``times`` stands against its limits at ``now`` on ``calendar`` (default: the
    package's years); near due means at most ``near_days`` working days remain before the
    committed deadline. Both limits grow by the working days granted by 延期."""
    counter = DayCounter(calendar, times.pauses)
    stages = _stages(times, now, counter)
    started = statutory_start(times, counter.calendar)
    if times.accepted_at is None or started is None:
        return Assessment(
            None, None, 0, None, False, False, False, False, False, stages,
            calendar_unknown=tuple(sorted(counter.unknown | counter.uncounted)),
            uncounted_years=tuple(sorted(counter.uncounted)),
        )  # fmt: skip
    accepted, legal_start = local_date(times.accepted_at), local_date(started)
    until = local_date(times.decided_at or now)
    committed_days = times.committed_days + times.extended_days
    statutory_days = times.statutory_days + times.extended_days
    paused = times.decided_at is None and any(p.end is None for p in times.pauses)
    committed = counter.add(accepted, committed_days)
    statutory = counter.add(legal_start, statutory_days)
    used = counter.between(accepted, until)
    statutory_used = counter.between(legal_start, until)
    decided = times.decided_at is not None
    overdue = until > committed if committed is not None else used > committed_days
    statutory_overdue = (
        until > statutory if statutory is not None else statutory_used > statutory_days
    )
    remaining = None if paused else committed_days - used
    return Assessment(
        committed_deadline=committed,
        statutory_deadline=statutory,
        used_days=used,
        remaining_days=remaining,
        paused=paused,
        decided=decided,
        overdue=overdue,
        statutory_overdue=statutory_overdue,
        near_due=not decided and not overdue and remaining is not None and remaining <= near_days,
        stages=stages,
        statutory_used_days=statutory_used,
        committed_days=committed_days,
        statutory_days=statutory_days,
        calendar_unknown=tuple(sorted(counter.unknown | counter.uncounted)),
        uncounted_years=tuple(sorted(counter.uncounted)),
    )
