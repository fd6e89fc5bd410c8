"""The working-day calendars a directory holds, as the directory routes list them.

Every deadline is counted on these years (ledger.calendar): the signed ``CalendarPublished``
ones, and for a year never published the ``chinese_calendar`` package's, marked unsigned. They
are public — anyone recomputing a deadline from a receipt needs the same days — so the public
route lists them in full; the admin's directory lists them in brief beside staff and matters.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ledger.calendar import YearCalendar
from ledger.directory import DirectoryState

__all__ = ["CalendarOut", "CalendarsOut", "calendar_out", "calendars_out"]


class CalendarOut(BaseModel):
    """One year's arrangement: the notice it follows, and its days off and 调休 days."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(examples=[2027])
    source: str = Field(examples=["国办发明电〔2026〕12号"])
    signed: bool = Field(description="published by the office (CalendarPublished); false for "
                         "the package's fallback year")  # fmt: skip
    holiday_count: int
    workday_count: int = Field(description="adjusted working days (调休)")
    holidays: list[str] | None = Field(default=None, description="China dates, in full lists")
    workdays: list[str] | None = None


class CalendarsOut(BaseModel):
    """The years known, oldest first; deadlines into a later year are flagged
    ``clock.calendar_unknown`` until it is published."""

    model_config = ConfigDict(frozen=True)

    calendars: list[CalendarOut]
    unknown_after: int | None = Field(
        description="the last year known: every later year is unknown", examples=[2027]
    )


def calendar_out(calendar: YearCalendar, *, days: bool) -> CalendarOut:
    """One year, with its days listed if ``days``."""
    body = calendar.to_body()
    return CalendarOut(
        year=calendar.year,
        source=calendar.source,
        signed=calendar.signed,
        holiday_count=len(body["holidays"]),
        workday_count=len(body["workdays"]),
        holidays=body["holidays"] if days else None,
        workdays=body["workdays"] if days else None,
    )


def calendars_out(directory: DirectoryState, *, days: bool = True) -> CalendarsOut:
    """Every year the directory's calendar knows (signed, or the package's where never
    published), oldest first."""
    years = sorted(directory.work_calendar().years.values(), key=lambda cal: cal.year)
    return CalendarsOut(
        calendars=[calendar_out(cal, days=days) for cal in years],
        unknown_after=years[-1].year if years else None,
    )
