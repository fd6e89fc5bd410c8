"""Supervision (电子监察) without blind spots: what the supervision routes and pages read.

Every figure comes from the read models' summaries assessed with the one deadline function
(:func:`ledger.timelimits.assess` on the directory's signed calendar), so a list, a figure and
the verifier's ``case.deadline`` agree on every case:

- suspended cases, with since when (China date), how long (calendar and working days) and why;
- cases whose deadline cannot be dated for want of a published calendar
  (``clock.calendar_unknown``);
- overdue against the committed limit (red card) and against the statutory limit, apart;
- figures per matter, unit or person over a range of decision dates: decided, on time against
  each limit, on-time rates, yellow cards, 延期 and 督办 counts;
- the same lists as CSV, and as a spreadsheet (:mod:`api.spreadsheet`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from ledger.envelope import format_time
from ledger.store.read_models import CaseSummary
from ledger.timelimits import Assessment, counted_days, local_date

__all__ = [
    "FiguresOut",
    "Table",
    "cases_csv",
    "cases_table",
    "clock_details",
    "figures",
    "figures_csv",
    "figures_table",
    "to_csv",
]

BY = ("matter", "unit", "person")


def clock_details(summary: CaseSummary, timing: Assessment) -> dict[str, Any]:
    """What a case's timing adds for supervision: the statutory count, 延期, an open
    suspension (since, why) and the warnings."""
    open_pause = next((p for p in summary.times.pauses if p.end is None), None)
    pause = open_pause if open_pause is not None and timing.paused else None
    statutory_left = None
    if timing.remaining_days is not None:
        statutory_left = timing.statutory_days - timing.statutory_used_days
    return {
        "statutory_overdue": timing.statutory_overdue,
        "statutory_used_days": timing.statutory_used_days,
        "statutory_remaining_days": statutory_left,
        "extended_days": summary.times.extended_days,
        "suspended_since": local_date(pause.start).isoformat() if pause else None,
        "suspended_reason": pause.reason if pause else None,
        "warnings": list(timing.warnings),
        "unknown_years": list(timing.calendar_unknown) if timing.warnings else [],
    }


def suspended_for(summary: CaseSummary, now: datetime) -> tuple[int, int] | None:
    """(calendar days, working days) an open suspension has lasted at ``now``, or None."""
    open_pause = next((p for p in summary.times.pauses if p.end is None), None)
    if open_pause is None or summary.times.decided_at is not None:
        return None
    since, today = local_date(open_pause.start), local_date(now)
    return (today - since).days, counted_days(since, today, (), summary.calendar)


class FiguresOut(BaseModel):
    """Figures per matter, unit or person over decisions in ``[date_from, date_to]``."""

    as_of: str
    by: str = Field(examples=["unit"])
    date_from: str | None = None
    date_to: str | None = None
    rows: list[dict[str, Any]]


def _keys(summary: CaseSummary, by: str) -> list[str]:
    if by == "matter":
        return [f"{summary.matter_code} {summary.matter_name}".strip()]
    if by == "unit":
        return [summary.unit or "—"]
    return sorted({person for person, _capacity in summary.participants})


def _empty() -> dict[str, Any]:
    return {
        "cases": 0, "decided": 0, "on_time_committed": 0, "on_time_statutory": 0,
        "decided_late": 0, "decided_past_statutory": 0, "open": 0, "open_overdue": 0,
        "open_past_statutory": 0, "suspended": 0, "calendar_unknown": 0, "yellow_cards": 0,
        "extended": 0,
    }  # fmt: skip


def figures(
    summaries: Iterable[CaseSummary],
    now: datetime,
    *,
    by: str,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[dict[str, Any]]:
    """Per ``by`` (matter, unit or person): cases decided in the range and how they kept the
    limits, and the open cases as they stand at ``now``. The on-time rate is of the decided
    ones; a person counts for every case they acted on."""
    table: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        decided_at = summary.times.decided_at
        if decided_at is not None:
            day = local_date(decided_at)
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
        elif summary.status not in ("accepted", "in_review", "suspended"):
            continue
        timing = summary.assess(now)
        for key in _keys(summary, by):
            row = table.setdefault(key, _empty())
            _count(row, summary, timing)
    rows = []
    for key, row in sorted(table.items()):
        decided = row["decided"]
        rows.append(
            {
                by: key,
                **row,
                "on_time_rate": row["on_time_committed"] / decided if decided else None,
                "statutory_on_time_rate": row["on_time_statutory"] / decided if decided else None,
            }
        )
    return rows


def _count(row: dict[str, Any], summary: CaseSummary, timing: Assessment) -> None:
    row["cases"] += 1
    row["extended"] += summary.times.extended_days > 0
    row["yellow_cards"] += timing.card == "yellow" or any(s.overran for s in timing.stages)
    row["calendar_unknown"] += bool(timing.warnings)
    if timing.decided:
        row["decided"] += 1
        row["on_time_committed"] += not timing.overdue
        row["on_time_statutory"] += not timing.statutory_overdue
        row["decided_late"] += timing.overdue
        row["decided_past_statutory"] += timing.statutory_overdue
        return
    row["open"] += 1
    row["open_overdue"] += timing.overdue
    row["open_past_statutory"] += timing.statutory_overdue
    row["suspended"] += timing.paused


def since_text(date_from: date | None) -> str:
    """The envelope time from which cases decided on or after ``date_from`` must be read."""
    # The China day begins at 16:00 UTC the day before: midnight UTC of that day is earlier.
    day = (date_from or date(1970, 1, 2)) - timedelta(days=1)
    return format_time(datetime(day.year, day.month, day.day, tzinfo=UTC))


Table = tuple[list[str], list[list[Any]]]
"""A header and its rows, as the CSV and the spreadsheet exports write them: dates are China
dates (:class:`datetime.date`), the rest numbers, booleans, text or None."""


def to_csv(table: Table) -> str:
    """The table as CSV: ISO dates, empty cells for None."""
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    # A byte-order mark so that spreadsheet programs read the Chinese text as UTF-8.
    return "\ufeff" + out.getvalue()


def figures_table(rows: list[dict[str, Any]], by: str) -> Table:
    """The figures, one row per matter, unit or person."""
    header = [by, *_empty().keys(), "on_time_rate", "statutory_on_time_rate"]
    return header, [[row.get(name) for name in header] for row in rows]


def figures_csv(rows: list[dict[str, Any]], by: str) -> str:
    """The figures as CSV, one row per matter, unit or person."""
    return to_csv(figures_table(rows, by))


CASE_COLUMNS = [
    "case_number", "matter", "unit", "status", "committed_deadline", "statutory_deadline",
    "used_days", "remaining_days", "overdue", "statutory_overdue", "card", "extended_days",
    "suspended_since", "suspended_reason", "suspended_calendar_days", "warnings",
]  # fmt: skip


def cases_table(summaries: Iterable[CaseSummary], now: datetime) -> Table:
    """Open cases on the clock, with their deadlines, suspension and warnings."""

    def line(summary: CaseSummary) -> list[Any]:
        timing = summary.assess(now)
        details = clock_details(summary, timing)
        lasted = suspended_for(summary, now)
        since = details["suspended_since"]
        return [
            summary.case_number, summary.matter_code, summary.unit, summary.status,
            timing.committed_deadline, timing.statutory_deadline, timing.used_days,
            timing.remaining_days, timing.overdue, timing.statutory_overdue, timing.card,
            summary.times.extended_days, date.fromisoformat(since) if since else None,
            details["suspended_reason"], lasted[0] if lasted else None, " ".join(timing.warnings),
        ]  # fmt: skip

    return list(CASE_COLUMNS), [line(s) for s in summaries]


def cases_csv(summaries: Iterable[CaseSummary], now: datetime) -> str:
    """Open cases on the clock as CSV, with their deadlines, suspension and warnings."""
    return to_csv(cases_table(summaries, now))
