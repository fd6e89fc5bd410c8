"""Working-day limits on the real State Council calendar (2026) and e-supervision cards."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ledger.clock import CHINA_TIME
from ledger.timelimits import (
    CaseTimes,
    Pause,
    TimeLimitError,
    add_working_days,
    assess,
    counted_days,
    is_working_day,
    local_date,
)


def cst(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CHINA_TIME)


def times(accepted: datetime | None, **changes: object) -> CaseTimes:
    base = {
        "applied_at": cst(2026, 11, 2, 9),
        "answered_at": accepted,
        "accepted_at": accepted,
        "reviewed_at": (),
        "decided_at": None,
        "pauses": (),
        "statutory_days": 20,
        "committed_days": 10,
        "review_levels": 1,
    }
    base.update(changes)
    return CaseTimes(**base)  # type: ignore[arg-type]


def test_national_day_2026_holidays_and_adjusted_days() -> None:
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 7))
    assert not is_working_day(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert is_working_day(date(2026, 9, 20))  # adjusted Sunday
    assert is_working_day(date(2026, 10, 10))  # adjusted Saturday
    assert not is_working_day(date(2026, 10, 11))


def test_deadline_skips_national_day_and_counts_the_adjusted_saturday() -> None:
    # Accepted Monday 28 September: 29, 30 Sep, then 8, 9 Oct and the worked Saturday 10 Oct.
    assert add_working_days(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert counted_days(date(2026, 9, 28), date(2026, 10, 9)) == 4


def test_adjusted_sunday_counts() -> None:
    assert add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)


def test_acceptance_day_is_not_counted_and_zero_days_is_the_same_day() -> None:
    assert add_working_days(date(2026, 11, 2), 1) == date(2026, 11, 3)
    assert add_working_days(date(2026, 11, 2), 0) == date(2026, 11, 2)


def test_years_beyond_the_calendar_are_unknown_not_weekdays() -> None:
    assert is_working_day(date(2031, 3, 3)) is None  # a Monday, but 2031 is not published
    assert is_working_day(date(2031, 3, 2)) is None
    assert add_working_days(date(2026, 12, 28), 20) is None  # runs into 2027


def test_local_date_uses_china_time_and_refuses_naive_times() -> None:
    from datetime import UTC

    assert local_date(datetime(2026, 11, 2, 17, 0, tzinfo=UTC)) == date(2026, 11, 3)
    with pytest.raises(TimeLimitError):
        local_date(datetime(2026, 11, 2, 17, 0))


def test_suspension_stops_the_clock() -> None:
    plain = assess(times(cst(2026, 11, 2)), cst(2026, 11, 3))
    assert plain.committed_deadline == date(2026, 11, 16)
    paused = (Pause(cst(2026, 11, 4), cst(2026, 11, 6)),)  # 5 and 6 Nov do not count
    resumed = assess(times(cst(2026, 11, 2), pauses=paused), cst(2026, 11, 9))
    assert resumed.committed_deadline == date(2026, 11, 18)
    assert resumed.used_days == 3  # 3, 4 and 9 November
    still = assess(
        times(cst(2026, 11, 2), pauses=(Pause(cst(2026, 11, 4), None),)), cst(2026, 12, 30)
    )
    assert still.paused and still.committed_deadline is None
    assert not still.overdue and still.card is None


def test_overdue_gives_a_red_card_and_near_due_before_it() -> None:
    accepted = cst(2026, 11, 2)
    near = assess(times(accepted), cst(2026, 11, 12), near_days=3)
    assert near.near_due and not near.overdue and near.remaining_days == 2
    late = assess(times(accepted), cst(2026, 11, 17))
    assert late.overdue and late.card == "red" and not late.statutory_overdue
    on_time = assess(
        times(accepted, reviewed_at=(cst(2026, 11, 9),), decided_at=cst(2026, 11, 16)),
        cst(2026, 12, 30),
    )
    assert on_time.decided and not on_time.overdue and on_time.card is None


def test_one_slow_stage_gives_a_yellow_card_though_the_case_is_on_time() -> None:
    # Ten committed days over one review and the decision: five each. The review takes seven.
    result = assess(
        times(cst(2026, 11, 2), reviewed_at=(cst(2026, 11, 11),), decided_at=cst(2026, 11, 12)),
        cst(2026, 12, 30),
    )
    assert not result.overdue
    assert [s.name for s in result.stages if s.overran] == ["review:1"]
    assert result.card == "yellow"


def test_slow_acceptance_overruns_the_five_day_share() -> None:
    result = assess(times(None, applied_at=cst(2026, 9, 28), answered_at=None), cst(2026, 10, 12))
    assert result.committed_deadline is None
    assert result.stages[0].name == "accept" and result.stages[0].used_days == 6
    assert result.card == "yellow"


def test_absurd_limits_do_not_hang() -> None:
    assert add_working_days(date(2026, 1, 1), 10**9) is None
    assert counted_days(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=10**6)) > 0


def test_case_times_round_trip_through_json_and_refuse_garbage() -> None:
    original = times(
        cst(2026, 11, 2),
        reviewed_at=(cst(2026, 11, 9),),
        pauses=(Pause(cst(2026, 11, 4), cst(2026, 11, 6)), Pause(cst(2026, 11, 10), None)),
    )
    assert CaseTimes.from_json(original.to_json()) == original
    with pytest.raises(TimeLimitError):
        CaseTimes.from_json({"applied": "yesterday"})
    broken = {**original.to_json(), "applied": "2026-11-02T10:00:00"}  # naive
    with pytest.raises(TimeLimitError):
        CaseTimes.from_json(broken)


def test_a_matter_s_own_stage_shares_decide_the_yellow_card() -> None:
    # Accepted Monday 2 November, reviewed Thursday 5 November: three working days.
    accepted, reviewed = cst(2026, 11, 2), cst(2026, 11, 5)
    even = assess(times(accepted, reviewed_at=(reviewed,)), cst(2026, 11, 6))
    assert [(s.name, s.share_days, s.used_days) for s in even.stages[1:]] == [
        ("review:1", 5, 3), ("decide", 5, 1)
    ]  # fmt: skip
    assert even.card is None
    own = assess(times(accepted, reviewed_at=(reviewed,), stage_days=(2, 8)), cst(2026, 11, 6))
    assert [(s.name, s.share_days) for s in own.stages[1:]] == [("review:1", 2), ("decide", 8)]
    assert own.card == "yellow"
    again = CaseTimes.from_json(times(accepted, stage_days=(2, 8)).to_json())
    assert again.stage_days == (2, 8)
