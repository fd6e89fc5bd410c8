"""Loaded only by ``./dev test-clock`` (on ``PYTHONPATH``), in every Python process it starts.

The suite runs there under libfaketime with only the wall clock moved (``DONT_FAKE_MONOTONIC``:
a faked monotonic clock never wakes a thread waiting with a timeout). libfaketime 0.9.10 then
still rewrites ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)``, which ``time.sleep`` uses,
into an invalid request (EINVAL); a relative ``select`` timeout sleeps the same time.

``FAKETIME="@…"`` starts each process's clock at that instant when the process starts, so a
server a test starts late in the run would be minutes behind the test that signs for it: a
child process started here is handed the parent's own (moved) time instead.
"""

import os
import select
import subprocess
import time

_monotonic = time.monotonic


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    while (left := deadline - _monotonic()) > 0:
        select.select([], [], [], left)


_popen_init = subprocess.Popen.__init__


def _popen_at_our_time(self, args, *rest, env=None, **options):  # type: ignore[no-untyped-def]
    env = dict(os.environ if env is None else env)
    if env.get("FAKETIME", "").startswith("@"):
        env["FAKETIME"] = "@" + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    _popen_init(self, args, *rest, env=env, **options)


if os.environ.get("FAKETIME"):
    time.sleep = _sleep
    subprocess.Popen.__init__ = _popen_at_our_time  # type: ignore[method-assign]
