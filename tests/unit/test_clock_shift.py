"""Under ``./dev test-clock`` the wall clock is far ahead while waits and sleeps still work."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_environment_changes_reach_children_and_leave_getenv_readers_standing() -> None:
    # Threads contend for the interpreter lock (libfaketime reads the environment in each wait)
    # while the main thread adds and drops variables; a freed array would crash the child.
    script = """
import ctypes, os, threading
getenv = ctypes.CDLL(None).getenv
getenv.restype = ctypes.c_char_p
stop = threading.Event()
def spin():
    while not stop.is_set():
        sum(range(200))
threads = [threading.Thread(target=spin) for _ in range(4)]
for thread in threads:
    thread.start()
for round in range(400):
    os.environ[f"CASELEDGER_PROBE_{round}"] = str(round)
    if round % 3 == 0:
        del os.environ[f"CASELEDGER_PROBE_{round}"]
stop.set()
for thread in threads:
    thread.join()
assert getenv(b"CASELEDGER_PROBE_398") == b"398"
assert getenv(b"CASELEDGER_PROBE_396") is None
assert os.system("test \\"$CASELEDGER_PROBE_397\\" = 397") == 0
"""
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr.decode(errors="replace")
