"""Property: the deadline function agrees with a plain day-by-day counter.

Random calendars (each year published or not, random holidays and adjusted working days),
random suspensions (closed or still open), random 延期 and random limits: the committed and
statutory deadlines, the days used, and the unknown years that ``assess`` reports are those a
counter walking one day at a time finds.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.calendar import WorkCalendar, YearCalendar
from ledger.clock import CHINA_TIME
from ledger.timelimits import CaseTimes, Pause, assess

YEARS = (2030, 2031)
START = date(2030, 9, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA_TIME)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    years = {}
    for year in YEARS:
        if year != YEARS[0] and not draw(st.booleans()):
            continue  # the later year is not published
        days = st.dates(date(year, 1, 1), date(year, 12, 31))
        holidays = draw(st.frozensets(days, max_size=40))
        workdays = draw(st.frozensets(days, max_size=10)) - holidays
        years[year] = YearCalendar(year, holidays, workdays, "test")
    return WorkCalendar(years)


@st.composite
def pauses(draw: st.DrawFn, accepted: date) -> tuple[Pause, ...]:
    out: list[Pause] = []
    day = accepted
    for _ in range(draw(st.integers(0, 3))):
        day += timedelta(days=draw(st.integers(0, 20)))
        length = draw(st.integers(0, 15))
        if draw(st.integers(0, 5)) == 0:
            out.append(Pause(at(day), None))
            break
        end = day + timedelta(days=length)
        out.append(Pause(at(day), at(end, 11)))
        day = end
    return tuple(out)


def reference(
    calendar: WorkCalendar, start: date, limit: int, stops: tuple[Pause, ...]
) -> tuple[date | None, set[int]]:
    """The limit-th counted day after ``start``, walking one day at a time."""
    count, day, unknown = 0, start, set()
    while count < limit:
        day += timedelta(days=1)
        for pause in stops:
            if pause.end is None and day > pause.start.date():
                return None, unknown
        year = calendar.years.get(day.year)
        if year is None:
            unknown.add(day.year)
            return None, unknown
        stopped = any(p.start.date() < day <= (p.end.date() if p.end else date.max) for p in stops)
        working = day in year.workdays or (day.weekday() < 5 and day not in year.holidays)
        count += working and not stopped
    return day, unknown


def used(calendar: WorkCalendar, start: date, until: date, stops: tuple[Pause, ...]) -> int:
    total, day = 0, start
    while day < until:
        day += timedelta(days=1)
        year = calendar.years.get(day.year)
        if year is None:
            continue
        stopped = any(p.start.date() < day <= (p.end.date() if p.end else date.max) for p in stops)
        working = day in year.workdays or (day.weekday() < 5 and day not in year.holidays)
        total += working and not stopped
    return total


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_assess_matches_a_day_by_day_counter(data: st.DataObject) -> None:
    calendar = data.draw(calendars())
    accepted = START + timedelta(days=data.draw(st.integers(0, 100)))
    stops = data.draw(pauses(accepted))
    committed = data.draw(st.integers(0, 40))
    statutory = committed + data.draw(st.integers(0, 20))
    extended = data.draw(st.integers(0, 10))
    now = accepted + timedelta(days=data.draw(st.integers(0, 120)))
    last_stop = max((p.end or p.start for p in stops), default=at(accepted)).date()
    decided = data.draw(st.one_of(st.none(), st.just(max(now, last_stop))))
    if decided is not None:
        stops = tuple(p for p in stops if p.end is not None)
    times = CaseTimes(
        applied_at=at(accepted, 9),
        answered_at=at(accepted),
        accepted_at=at(accepted),
        reviewed_at=(),
        decided_at=at(decided, 15) if decided else None,
        pauses=stops,
        statutory_days=statutory,
        committed_days=committed,
        review_levels=0,
        extended_days=extended,
    )
    result = assess(times, at(now, 16), calendar=calendar)
    until = decided or now

    want_committed, unknown_c = reference(calendar, accepted, committed + extended, stops)
    want_statutory, unknown_s = reference(calendar, accepted, statutory + extended, stops)
    assert result.committed_deadline == want_committed
    assert result.statutory_deadline == want_statutory
    assert result.used_days == used(calendar, accepted, until, stops)
    assert set(result.calendar_unknown) >= unknown_c | unknown_s
    if want_committed is not None:
        assert result.overdue == (until > want_committed)
    if want_statutory is not None:
        assert result.statutory_overdue == (until > want_statutory)
    if unknown_c and decided is None:
        assert "clock.calendar_unknown" in result.warnings


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), late=st.integers(0, 15), committed=st.integers(1, 30))
def test_a_late_answer_starts_the_statutory_limit_at_the_application(
    calendar: WorkCalendar, late: int, committed: int
) -> None:
    applied = date(2030, 10, 12)
    answered = applied + timedelta(days=late)
    times = CaseTimes(
        applied_at=at(applied),
        answered_at=at(answered),
        accepted_at=at(answered),
        reviewed_at=(),
        decided_at=None,
        pauses=(),
        statutory_days=committed,
        committed_days=committed,
        review_levels=0,
    )
    result = assess(times, at(answered), calendar=calendar)
    within = used(calendar, applied, answered, ()) <= 5
    start = answered if within else applied
    assert result.statutory_deadline == reference(calendar, start, committed, ())[0]
    assert result.committed_deadline == reference(calendar, answered, committed, ())[0]
