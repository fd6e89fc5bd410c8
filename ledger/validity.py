"""The validity of a licence: one rule for the command line, the demo and the document.

A licence valid for N years runs in calendar years and ends the day before the anniversary of
its first day, as licences are written: from 2026年12月2日, five years end on 2031年12月1日. A
first day of 29 February has its anniversary on 1 March in common years, so its last day is
28 February.

In a signed Decided body, ``validity.from`` and ``validity.until`` are UTC instants (as every
signed time is); what the document prints is the China date of each, both days included. An
``until`` given as a day is stored as the start of that day in China time, so its China date is
the last day of validity whatever the reader's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from ledger.clock import CHINA_TIME, china_date, china_date_text

__all__ = [
    "china_day_start",
    "last_day_of_years",
    "validity_body",
    "validity_days",
    "validity_text",
]


def last_day_of_years(first_day: date, years: int) -> date:
    """The last day of a validity of ``years`` calendar years starting on ``first_day``.

    Raises ValueError unless ``years`` is at least 1.
    """
    if years < 1:
        raise ValueError("a validity lasts at least one year")
    try:
        anniversary = first_day.replace(year=first_day.year + years)
    except ValueError:  # 29 February in a common year: the anniversary is 1 March
        anniversary = date(first_day.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def china_day_start(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in China."""
    return datetime.combine(day, time(0), CHINA_TIME).astimezone(UTC)


def validity_body(
    start: datetime, *, last_day: date | None = None, years: int | None = None
) -> dict[str, datetime]:
    """``{"from": start, "until": …}`` for a Decided body: the last day given, or ``years``
    calendar years from the China date of ``start``. Raises ValueError if both or neither
    are given, or if the last day is before the first.
    """
    if (last_day is None) == (years is None):
        raise ValueError("give either the last day or the number of years")
    first_day = china_date(start)
    end = last_day if last_day is not None else last_day_of_years(first_day, years or 0)
    if end < first_day:
        raise ValueError("the validity ends before it begins")
    return {"from": start, "until": china_day_start(end)}


def validity_days(validity: Mapping[str, object]) -> tuple[date | None, date | None]:
    """The China dates of a signed ``validity`` object's ``from`` and ``until`` (None where a
    value is missing or not an ISO 8601 time with a zone)."""
    return _day(validity.get("from")), _day(validity.get("until"))


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return china_date(at) if at.tzinfo is not None else None


def validity_text(first_day: date | None, last_day: date | None) -> str:
    """``有效期限：自2026年12月2日起至2030年12月1日止。`` (empty without a first day)."""
    if first_day is None:
        return ""
    if last_day is None:
        return f"有效期限：自{china_date_text(first_day)}起长期有效。"
    return f"有效期限：自{china_date_text(first_day)}起至{china_date_text(last_day)}止。"
