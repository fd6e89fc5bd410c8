"""Time limits in working days (行政许可法 §32, §42, §45) and e-supervision cards.

Days are counted on the State Council calendar: statutory holidays do not count and adjusted
working days (调休, e.g. a Saturday worked before National Day) do. ``chinese_calendar``
carries that calendar; for years it does not cover yet, Monday to Friday stand in, which is
the rule the State Council calendar departs from only around holidays.

Counting follows the civil-law rule for periods: the day on which a period starts is not
counted, so the first counted day is the working day after acceptance. A suspension (§45)
stops the clock: the days after the day it began, up to and including the day it ended,
are not counted. The deadline is the end of its day in China time (UTC+8).

Cards (电子监察): a *yellow card* when one stage of the case used more working days than its
share of the committed limit, even if the case as a whole is on time; a *red card* when the
case is past its committed deadline (decided late, or still undecided after it).

Pure: no clock is read here; ``now`` is always a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import chinese_calendar

from ledger.clock import china_date
from ledger.errors import CaseLedgerError

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
]

# §32: a 补正 notice (or acceptance) is due within 5 days of receiving the application.
ACCEPT_DAYS = 5
# A deadline beyond this many calendar days means the inputs are nonsense (e.g. 10**9 days).
_MAX_SPAN = timedelta(days=366 * 20)


class TimeLimitError(CaseLedgerError):
    """A time without a timezone was given where only an instant makes sense."""

    code = "time.naive"


@dataclass(frozen=True, slots=True)
class Pause:
    """A suspension of the clock (§45): from ``start``; ``end`` None while it lasts."""

    start: datetime
    end: datetime | None


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

    def to_json(self) -> dict[str, Any]:
        """A JSON object of these times (ISO 8601), read back by :meth:`from_json`."""
        return {
            "applied": _iso(self.applied_at),
            "answered": _iso(self.answered_at),
            "accepted": _iso(self.accepted_at),
            "reviewed": [_iso(t) for t in self.reviewed_at],
            "decided": _iso(self.decided_at),
            "pauses": [[_iso(p.start), _iso(p.end)] for p in self.pauses],
            "limits": [self.statutory_days, self.committed_days, self.review_levels],
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
                pauses=tuple(Pause(_instant(a), _maybe(b)) for a, b in obj["pauses"]),
                statutory_days=statutory,
                committed_days=committed,
                review_levels=levels,
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

    @property
    def card(self) -> str | None:
        """``"red"``, ``"yellow"`` or None (see the module docstring)."""
        if self.overdue:
            return "red"
        if any(stage.overran for stage in self.stages):
            return "yellow"
        return None


def local_date(at: datetime) -> date:
    """The calendar date of ``at`` in China (UTC+8); raise TimeLimitError if ``at`` is naive."""
    if at.tzinfo is None:
        raise TimeLimitError("times must be timezone-aware")
    return china_date(at)


@lru_cache(maxsize=16384)
def is_working_day(day: date) -> bool:
    """True if ``day`` is a working day on the State Council calendar."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Years the calendar package does not cover yet: Monday to Friday.
        return day.weekday() < 5


def _paused(day: date, pauses: Sequence[Pause]) -> bool:
    for pause in pauses:
        first = local_date(pause.start)
        last = local_date(pause.end) if pause.end is not None else date.max
        if first < day <= last:
            return True
    return False


def _counts(day: date, pauses: Sequence[Pause]) -> bool:
    return is_working_day(day) and not _paused(day, pauses)


def counted_days(start: date, end: date, pauses: Sequence[Pause] = ()) -> int:
    """Working days in ``(start, end]`` that no pause covers (0 if ``end <= start``)."""
    if end - start > _MAX_SPAN:
        end = start + _MAX_SPAN
    total = 0
    day = start + timedelta(days=1)
    while day <= end:
        total += _counts(day, pauses)
        day += timedelta(days=1)
    return total


def add_working_days(start: date, days: int, pauses: Sequence[Pause] = ()) -> date | None:
    """The date of the ``days``-th counted working day after ``start`` (``start`` for 0).

    None if an open pause stops the clock before the limit is reached.
    """
    day, left = start, max(days, 0)
    open_from = min(
        (local_date(p.start) for p in pauses if p.end is None),
        default=None,
    )
    while left > 0:
        day += timedelta(days=1)
        if open_from is not None and day > open_from:
            return None
        if day - start > _MAX_SPAN:
            return None
        left -= _counts(day, pauses)
    return day


def _shares(committed_days: int, review_levels: int) -> list[int]:
    """The committed limit split evenly over the review levels and the decision; the
    decision takes what is left over, and every stage gets at least one day."""
    stages = review_levels + 1
    base = max(committed_days // stages, 1)
    return [base] * review_levels + [max(committed_days - base * review_levels, 1)]


def _stages(times: CaseTimes, now: datetime) -> tuple[Stage, ...]:
    pauses = times.pauses
    spans: list[tuple[str, datetime, datetime | None, int]] = [
        ("accept", times.applied_at, times.answered_at, ACCEPT_DAYS)
    ]
    if times.accepted_at is not None:
        shares = _shares(times.committed_days, times.review_levels)
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
        used = counted_days(local_date(started), local_date(ended or now), pauses)
        stages.append(Stage(name, started, ended, share, used))
    return tuple(stages)


def assess(times: CaseTimes, now: datetime, *, near_days: int = 3) -> Assessment:
    """How ``times`` stands against its limits at ``now``; near due means at most
    ``near_days`` working days remain before the committed deadline."""
    stages = _stages(times, now)
    if times.accepted_at is None:
        return Assessment(None, None, 0, None, False, False, False, False, False, stages)
    accepted = local_date(times.accepted_at)
    until = local_date(times.decided_at or now)
    paused = times.decided_at is None and any(p.end is None for p in times.pauses)
    committed = add_working_days(accepted, times.committed_days, times.pauses)
    statutory = add_working_days(accepted, times.statutory_days, times.pauses)
    used = counted_days(accepted, until, times.pauses)
    remaining = None if paused else times.committed_days - used
    decided = times.decided_at is not None
    overdue = committed is not None and until > committed
    return Assessment(
        committed_deadline=committed,
        statutory_deadline=statutory,
        used_days=used,
        remaining_days=remaining,
        paused=paused,
        decided=decided,
        overdue=overdue,
        statutory_overdue=statutory is not None and until > statutory,
        near_due=not decided and not overdue and remaining is not None and remaining <= near_days,
        stages=stages,
    )
