"""The working-day calendar the office signs (国务院办公厅 holiday arrangements).

Each year's arrangement is a directory fact, ``CalendarPublished``, signed by an admin: the
year, its statutory holidays that fall on what would be working days or weekends, the
adjusted working days (调休: a weekend day worked), and the notice it follows
(``国办发明电〔2025〕N号``). A day is a working day if the year's calendar lists it as an adjusted
working day, or if it is a Monday to Friday the calendar does not list as a holiday. A year
nobody published is *unknown*: a time limit running into it cannot be dated
(``clock.calendar_unknown``), and is never counted Monday to Friday in silence.

A later publication for the same year replaces the earlier (a corrected notice). The
``chinese_calendar`` package's arrangements seed the directory at bootstrap
(:func:`package_years`); a directory that never published a year it covers falls back to them,
marked unsigned, so ledgers older than the signed calendar keep their deadlines.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from ledger.errors import EnvelopeError

__all__ = [
    "CALENDAR_STEP",
    "PACKAGE_SOURCE",
    "WorkCalendar",
    "YearCalendar",
    "calendar_body",
    "package_calendar",
    "package_years",
]

CALENDAR_STEP = "CalendarPublished"
PACKAGE_SOURCE = "chinese_calendar"
_YEARS = range(1990, 2201)


def _refuse(message: str) -> EnvelopeError:
    return EnvelopeError(message, code="body.invalid")


@dataclass(frozen=True, slots=True)
class YearCalendar:
    """One year's arrangement. ``signed`` is False for the package's fallback years."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str
    signed: bool = True
    # The working days from 1 January up to each day of the year, worked out once when first
    # asked for and then shared by every calendar holding this year.
    _running: list[tuple[int, ...]] = field(
        default_factory=list, init=False, compare=False, repr=False, hash=False
    )

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> YearCalendar:
        """A CalendarPublished body; EnvelopeError (``body.invalid``) if it is not one."""
        year = body.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or year not in _YEARS:
            raise _refuse(f"body.year must be a year from {_YEARS.start} to {_YEARS.stop - 1}")
        source = body.get("source")
        if not isinstance(source, str) or not source.strip():
            raise _refuse("body.source must name the notice the calendar follows")
        holidays = _days(body.get("holidays"), year, "holidays")
        workdays = _days(body.get("workdays"), year, "workdays")
        both = holidays & workdays
        if both:
            raise _refuse(f"{min(both).isoformat()} is listed as a holiday and a working day")
        return cls(year, holidays, workdays, source)

    def to_body(self) -> dict[str, Any]:
        """The CalendarPublished body of this year (dates sorted, ISO 8601)."""
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def running(self) -> tuple[int, ...]:
        """The working days of this year from 1 January up to each of its days (index 0 is
        1 January): a span's working days are a difference of two of these."""
        if not self._running:
            day, counted, out = date(self.year, 1, 1), 0, []
            while day.year == self.year:
                counted += self.is_working_day(day)
                out.append(counted)
                day += timedelta(days=1)
            self._running.append(tuple(out))
        return self._running[0]


def _days(value: object, year: int, name: str) -> frozenset[date]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _refuse(f"body.{name} must be a list of dates (YYYY-MM-DD)")
    days = set()
    for item in value:
        try:
            day = date.fromisoformat(item)
        except ValueError:
            raise _refuse(f"body.{name}: {item!r} is not a date (YYYY-MM-DD)") from None
        if day.year != year or len(item) != 10:
            raise _refuse(f"body.{name}: {item} is not a day of {year}")
        days.add(day)
    return frozenset(days)


def calendar_body(
    year: int, holidays: Iterable[date], workdays: Iterable[date], source: str
) -> dict[str, Any]:
    """A CalendarPublished body (checked by :meth:`YearCalendar.read`)."""
    body = YearCalendar(year, frozenset(holidays), frozenset(workdays), source).to_body()
    YearCalendar.read(body)
    return body


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The years known, each with its arrangement; other years are unknown."""

    years: Mapping[int, YearCalendar] = field(default_factory=dict)

    def count(self, start: date, end: date) -> tuple[int, set[int]]:
        """Working days in ``(start, end]``, and the years in that span nobody published
        (their days are not counted)."""
        total, unknown = 0, set[int]()
        if end <= start:
            return 0, unknown
        first = start + timedelta(days=1)
        for year in range(first.year, end.year + 1):
            calendar = self.years.get(year)
            if calendar is None:
                unknown.add(year)
                continue
            running = calendar.running()
            new_year = date(year, 1, 1).toordinal()
            low = first.toordinal() - new_year if first.year == year else 0
            high = end.toordinal() - new_year if end.year == year else len(running) - 1
            total += running[high] - (running[low - 1] if low else 0)
        return total, unknown

    def running(self, year: int) -> tuple[int, ...] | None:
        """The year's working days up to each of its days (see :meth:`YearCalendar.running`);
        None if nobody published the year."""
        calendar = self.years.get(year)
        return None if calendar is None else calendar.running()

    def is_working_day(self, day: date) -> bool | None:
        """True or False on the year's calendar; None if nobody published the year."""
        year = self.years.get(day.year)
        return None if year is None else year.is_working_day(day)

    def knows(self, year: int) -> bool:
        return year in self.years

    def with_fallback(self, fallback: WorkCalendar) -> WorkCalendar:
        """These years, and ``fallback``'s for the years these lack."""
        if not fallback.years:
            return self
        return WorkCalendar({**fallback.years, **self.years})

    def sources(self) -> dict[int, str]:
        """Each known year's source, unsigned ones marked."""
        return {
            year: cal.source if cal.signed else f"{cal.source} (unsigned)"
            for year, cal in sorted(self.years.items())
        }


@lru_cache(maxsize=1)
def package_years() -> tuple[YearCalendar, ...]:
    """The arrangements the ``chinese_calendar`` package carries, one per year it covers."""
    import chinese_calendar
    from chinese_calendar import constants

    version = getattr(chinese_calendar, "__version__", "")
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in constants.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in constants.workdays:
        workdays.setdefault(day.year, set()).add(day)
    source = f"{PACKAGE_SOURCE} {version}".strip()
    return tuple(
        YearCalendar(
            year,
            frozenset(holidays.get(year, ())),
            frozenset(workdays.get(year, ())),
            source,
            signed=False,
        )
        for year in sorted(holidays.keys() | workdays.keys())
    )


@lru_cache(maxsize=1)
def package_calendar() -> WorkCalendar:
    """The package's years as a calendar (unsigned): the fallback beside signed years."""
    return WorkCalendar({cal.year: cal for cal in package_years()})
