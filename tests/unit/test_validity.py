"""One validity rule: calendar years, ending the day before the anniversary, China dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.clock import CHINA_TIME, china_date
from ledger.validity import (
    china_day_start,
    last_day_of_years,
    validity_body,
    validity_days,
    validity_text,
)


@pytest.mark.parametrize(
    ("first", "years", "last"),
    [
        (date(2026, 12, 2), 5, date(2031, 12, 1)),
        (date(2026, 1, 1), 1, date(2026, 12, 31)),
        (date(2028, 2, 29), 1, date(2029, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 28)),
        (date(2027, 3, 1), 1, date(2028, 2, 29)),
    ],
)
def test_last_day_is_the_day_before_the_anniversary(first: date, years: int, last: date) -> None:
    assert last_day_of_years(first, years) == last


def test_no_validity_of_less_than_a_year() -> None:
    with pytest.raises(ValueError):
        last_day_of_years(date(2026, 1, 1), 0)


def test_an_evening_utc_start_counts_from_the_next_china_day() -> None:
    start = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 04:00 on 2 December in China
    body = validity_body(start, years=5)
    text = {name: at.isoformat() for name, at in body.items()}
    assert validity_days(text) == (date(2026, 12, 2), date(2031, 12, 1))
    assert validity_text(*validity_days(text)) == "有效期限：自2026年12月2日起至2031年12月1日止。"


def test_a_given_last_day_is_kept_and_must_not_precede_the_first() -> None:
    start = china_day_start(date(2026, 12, 2))
    body = validity_body(start, last_day=date(2030, 12, 1))
    assert china_date(body["until"]) == date(2030, 12, 1)
    with pytest.raises(ValueError):
        validity_body(start, last_day=date(2026, 12, 1))
    with pytest.raises(ValueError):
        validity_body(start)


def test_unreadable_or_naive_times_have_no_day() -> None:
    assert validity_days({"from": "yesterday", "until": "2026-12-01T00:00:00"}) == (None, None)
    assert validity_text(None, None) == ""
    assert validity_text(date(2026, 12, 2), None) == "有效期限：自2026年12月2日起长期有效。"


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    st.integers(min_value=1, max_value=30),
)
def test_years_later_is_one_day_short_of_the_anniversary(start: datetime, years: int) -> None:
    at = start.replace(tzinfo=UTC)
    until = validity_body(at, years=years)["until"]
    first, last = china_date(at), china_date(until)
    after = last + timedelta(days=1)
    assert after.year == first.year + years
    assert (after.month, after.day) == (first.month, first.day) or (first.month, first.day) == (
        2,
        29,
    )
    assert until.astimezone(CHINA_TIME).hour == 0
