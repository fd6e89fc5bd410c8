"""Loaded only by ``./dev test-clock`` (on ``PYTHONPATH``), in every Python process it starts.

The suite runs there under libfaketime with only the wall clock moved (``DONT_FAKE_MONOTONIC``:
a faked monotonic clock never wakes a thread waiting with a timeout). libfaketime 0.9.10 then
still rewrites ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)``, which ``time.sleep`` uses,
into an invalid request (EINVAL); a relative ``select`` timeout sleeps the same time.
"""

import os
import select
import time

_monotonic = time.monotonic


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    while (left := deadline - _monotonic()) > 0:
        select.select([], [], [], left)


if os.environ.get("FAKETIME"):
    time.sleep = _sleep
