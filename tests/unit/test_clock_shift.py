"""Under ``./dev test-clock`` the wall clock is far ahead while waits and sleeps still work."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("FAKETIME"), reason="only under ./dev test-clock"
)


def test_the_wall_clock_is_moved_and_waits_still_end() -> None:
    assert datetime.now(UTC) > datetime(2027, 1, 1, tzinfo=UTC)
    started = time.monotonic()
    time.sleep(0.05)
    assert time.monotonic() - started >= 0.05
    assert threading.Event().wait(0.05) is False
