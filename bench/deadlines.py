"""Deadlines assessed per second: the signed-calendar count against the package's own lookup.

    .venv/bin/python bench/deadlines.py [--cases 3000] [--rounds 3]

- Ours: ``ledger.timelimits.assess`` on the directory's calendar (2026 signed) for cases
  accepted through 2026 with a review level, a suspension on every third case, decided or open:
  both deadlines, the days used and the stages, as a queue or supervision list computes them.
- Baseline: the same days counted one at a time with ``chinese_calendar.is_workday`` (what the
  counting used before the calendar was signed), committed deadline and days used only.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta

import chinese_calendar

from ledger.calendar import WorkCalendar, package_calendar
from ledger.timelimits import CaseTimes, Pause, assess


def workload(cases: int) -> list[CaseTimes]:
    out = []
    for n in range(cases):
        accepted = datetime(2026, 1, 5, 2, tzinfo=UTC) + timedelta(hours=7 * n % (24 * 330))
        pauses = (
            (Pause(accepted + timedelta(days=2), accepted + timedelta(days=6)),)
            if n % 3 == 0
            else ()
        )
        decided = accepted + timedelta(days=n % 25) if n % 2 else None
        out.append(
            CaseTimes(
                accepted - timedelta(days=1), accepted, accepted, (), decided, pauses, 20, 10, 1
            )
        )
    return out


def baseline(times: CaseTimes, now: datetime) -> tuple[date, int]:
    start = times.accepted_at.date()  # type: ignore[union-attr]
    until = (times.decided_at or now).date()
    day, left = start, times.committed_days
    while left:
        day += timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    used, cursor = 0, start
    while cursor < until:
        cursor += timedelta(days=1)
        used += chinese_calendar.is_workday(cursor)
    return day, used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = workload(args.cases)
    now = datetime(2026, 12, 10, 2, tzinfo=UTC)
    calendar = WorkCalendar({2026: package_calendar().years[2026]})
    best_ours = best_base = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for times in work:
            assess(times, now, calendar=calendar)
        best_ours = min(best_ours, time.perf_counter() - start)
        start = time.perf_counter()
        for times in work:
            baseline(times, now)
        best_base = min(best_base, time.perf_counter() - start)
    ours, base = args.cases / best_ours, args.cases / best_base
    print(f"{'cases':>6} {'ours/s':>10} {'baseline/s':>11} {'ratio':>7}")
    print(f"{args.cases:>6} {ours:>10.0f} {base:>11.0f} {ours / base:>7.3f}")
    print(
        json.dumps(
            {
                "bench": "deadlines",
                "cases": args.cases,
                "ours_per_s": round(ours, 1),
                "baseline_per_s": round(base, 1),
                "ratio": round(ours / base, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
