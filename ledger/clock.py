"""The one clock and the one China time zone of caseledger.

Signed ``at`` values are UTC instants. Every date a person reads — on a document, a page, the
command line, a status — is the China date of that instant (Asia/Shanghai, UTC+8 all year: China
has kept no daylight saving time since 1991, so a fixed offset is exact and needs no tz data).

Code that needs the present takes a :data:`Clock` (a function returning an aware UTC datetime)
instead of calling ``datetime.now()``, so that tests pin time and nothing passes only in the week
it was written. :func:`system_clock` is the one place the wall clock is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

__all__ = [
    "CHINA_TIME",
    "Clock",
    "FixedClock",
    "china_date",
    "china_date_text",
    "china_minute_text",
    "system_clock",
]

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")

Clock = Callable[[], datetime]
"""A source of the present: returns an aware UTC datetime, second precision."""


def system_clock() -> datetime:
    """The machine's clock, UTC, to the second (the only wall-clock read in caseledger)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class FixedClock:
    """A clock that says what it is told: for tests, demos and replays. ``advance`` moves it."""

    now: datetime

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now = self.now + delta
        return self.now


def china_date(at: datetime) -> date:
    """The China date of the aware instant ``at``."""
    return at.astimezone(CHINA_TIME).date()


def china_date_text(day: date | datetime) -> str:
    """A date as Chinese documents write it: 2026年12月2日 (an instant is taken in China time)."""
    if isinstance(day, datetime):
        day = china_date(day)
    return f"{day.year}年{day.month}月{day.day}日"


def china_minute_text(at: datetime) -> str:
    """An instant as pages and the command line show it: China time, to the minute."""
    return at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
