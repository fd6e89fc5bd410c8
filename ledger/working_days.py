"""Working days (行政许可法 §32, §42, §45): counting them, and the date so many of them on.

Days are counted on the State Council calendar the office signs (:mod:`ledger.calendar`):
statutory holidays do not count and adjusted working days (调休, e.g. a Saturday worked
before National Day) do. A day of a year nobody published is not counted at all: the count
notes its year, so that a deadline it would decide is left undated (never Monday to Friday
in silence).

Counting follows the civil-law rule for periods: the day on which a period starts is not
counted, so the first counted day is the working day after it. A suspension (§45) stops the
clock: the days after the day it began, up to and including the day it ended, are not
counted. Dates are China dates (UTC+8).

Pure: no clock is read here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ledger.calendar import WorkCalendar, package_calendar
from ledger.clock import china_date
from ledger.errors import CaseLedgerError

__all__ = [
    "DayCounter",
    "Pause",
    "TimeLimitError",
    "add_working_days",
    "counted_days",
    "is_working_day",
    "local_date",
]

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
    reason: str = ""


def local_date(at: datetime) -> date:
    """The calendar date of ``at`` in China (UTC+8); raise TimeLimitError if ``at`` is naive."""
    if at.tzinfo is None:
        raise TimeLimitError("times must be timezone-aware")
    return china_date(at)


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool | None:
    """True if ``day`` is a working day on ``calendar`` (default: the package's years);
    None if the calendar does not know its year."""
    return (calendar or package_calendar()).is_working_day(day)


def _disjoint(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Spans ``(first, last]`` merged where they overlap, so no day is taken off twice."""
    merged: list[tuple[date, date]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        elif last > first:
            merged.append((first, last))
    return merged


class DayCounter:
    """Counts working days on one calendar, noting the unknown years it met."""

    def __init__(self, calendar: WorkCalendar | None, pauses: Sequence[Pause]) -> None:
        self.calendar = calendar or package_calendar()
        self.pauses = pauses
        # The stopped days of each pause, as China dates: (first day not counted - 1, last).
        self.spans = _disjoint(
            (local_date(p.start), local_date(p.end) if p.end is not None else date.max)
            for p in pauses
        )
        self.unknown: set[int] = set()  # met while dating a deadline
        self.uncounted: set[int] = set()  # met while counting days used

    def counts(self, day: date, unknown: set[int] | None = None) -> bool | None:
        working = self.calendar.is_working_day(day)
        if working is None:
            (self.unknown if unknown is None else unknown).add(day.year)
            return None
        return working and not any(first < day <= last for first, last in self.spans)

    def between(self, start: date, end: date) -> int:
        """Counted days in ``(start, end]``; an unknown day counts as none (and is noted)."""
        if end - start > _MAX_SPAN:
            end = start + _MAX_SPAN
        total, unknown = self.calendar.count(start, end)
        self.uncounted |= unknown
        for first, last in self.spans:
            low, high = max(start, first), min(end, last)
            if high > low:
                total -= self.calendar.count(low, high)[0]
        return total

    def add(self, start: date, days: int) -> date | None:
        """The ``days``-th counted day after ``start`` (``start`` for 0); None if an open
        pause stops the clock first, or a day of an unknown year stands in the way.

        Dated from each year's running totals of working days: the stretches between pauses
        are taken whole while they hold fewer working days than are left, and the day itself
        is found by bisection in its year's totals, so a limit costs a few steps per year and
        per pause it spans, not one per day."""
        left = max(days, 0)
        if left == 0:
            return start
        first = start + timedelta(days=1)
        # The last day the count may reach: an open pause stops the clock after its first day.
        stop = start + _MAX_SPAN if start <= date.max - _MAX_SPAN else date.max
        open_from = min((local_date(p.start) for p in self.pauses if p.end is None), default=None)
        if open_from is not None:
            stop = min(stop, open_from)
        if first > stop:
            return None
        for year in range(first.year, stop.year + 1):
            running = self.calendar.running(year)
            if running is None:
                self.unknown.add(year)
                return None
            new_year = date(year, 1, 1).toordinal()
            low = max(first.toordinal(), new_year) - new_year
            high = min(stop.toordinal() - new_year, len(running) - 1)
            for free_from, free_to in self._free(new_year, low, high):
                before = running[free_from - 1] if free_from else 0
                found = running[free_to] - before
                if found >= left:
                    return date.fromordinal(new_year + bisect_left(running, before + left))
                left -= found
        return None

    def _free(self, new_year: int, low: int, high: int) -> list[tuple[int, int]]:
        """The stretches ``[first, last]`` of the days ``low`` to ``high`` of a year (counted
        from 0 on the year's 1 January, its ordinal ``new_year``) that no pause covers."""
        out: list[tuple[int, int]] = []
        for first, last in self.spans:  # each stops the days first + 1 to last
            stopped_from = first.toordinal() + 1 - new_year
            stopped_to = last.toordinal() - new_year
            if stopped_to < low:
                continue
            if stopped_from > high:
                break
            if stopped_from > low:
                out.append((low, stopped_from - 1))
            low = stopped_to + 1
            if low > high:
                return out
        out.append((low, high))
        return out


def counted_days(
    start: date, end: date, pauses: Sequence[Pause] = (), calendar: WorkCalendar | None = None
) -> int:
    """Working days in ``(start, end]`` that no pause covers (0 if ``end <= start``); days of
    a year ``calendar`` does not know count as none."""
    return DayCounter(calendar, pauses).between(start, end)


def add_working_days(
    start: date, days: int, pauses: Sequence[Pause] = (), calendar: WorkCalendar | None = None
) -> date | None:
    """The date of the ``days``-th counted working day after ``start`` (``start`` for 0).

    None if an open pause stops the clock before the limit is reached, or if the count runs
    into a year ``calendar`` does not know.
    """
    return DayCounter(calendar, pauses).add(start, days)
