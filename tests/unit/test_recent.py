"""The run of recently committed envelopes answers only for what it holds in full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.envelope import Envelope
from ledger.sample import SampleOffice
from ledger.store.recent import RecentEnvelopes


def envelopes(office: SampleOffice, t1: Any, count: int) -> list[Envelope]:
    out: list[Envelope] = []
    for i in range(count // 4 + 1):
        out += office.case_until_decided(t1 + timedelta(minutes=i))
    return out[:count]


def test_a_run_answers_after_any_position_it_covers(office: SampleOffice, t1: Any) -> None:
    envs = envelopes(office, t1, 6)
    recent = RecentEnvelopes()
    recent.committed(10, [(11, envs[0]), (12, envs[1])])
    recent.committed(12, [(13, envs[2])])
    assert recent.after(10, 100) == [(11, envs[0]), (12, envs[1]), (13, envs[2])]
    assert recent.after(11, 1) == [(12, envs[1])]
    # Before the run, or at its end (another process may have written since): the store.
    assert recent.after(9, 100) is None
    assert recent.after(13, 100) is None


def test_a_write_between_batches_starts_a_new_run(office: SampleOffice, t1: Any) -> None:
    envs = envelopes(office, t1, 4)
    recent = RecentEnvelopes()
    recent.committed(10, [(11, envs[0])])
    recent.committed(15, [(16, envs[1])])  # 12..15 were written by someone else
    assert recent.after(10, 100) is None
    assert recent.after(15, 100) == [(16, envs[1])]
    recent.forget()
    assert recent.after(15, 100) is None


@given(batches=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=40))
def test_the_run_kept_is_always_exact(batches: list[int]) -> None:
    recent = RecentEnvelopes(keep=8)
    stored: list[tuple[int, Envelope]] = []
    position = 0
    for size in batches:
        entries = [(position + i + 1, _ENVS[(position + i) % len(_ENVS)]) for i in range(size)]
        recent.committed(position, entries)
        stored += entries
        position += size
    for after in range(position + 1):
        got = recent.after(after, 5)
        want = [e for e in stored if e[0] > after][:5]
        assert got is None or got == want


_ENVS = envelopes(SampleOffice(), datetime(2026, 11, 24, 1, tzinfo=UTC), 8)
