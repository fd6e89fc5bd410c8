"""Debian's chromium for the page tests, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Under ./dev test-clock the browser keeps the machine's own clock: libfaketime with a real
# monotonic clock stalls chromium's timers, and the pages date what they sign by the server's
# clock (its Date header), which is the one moved.
_CLOCK_SHIFT = ("LD_PRELOAD", "FAKETIME", "DONT_FAKE_MONOTONIC")


def open_chromium(*args: str) -> Iterator[Browser]:
    """A launched chromium (``--no-sandbox`` plus ``args``), closed after; skips without it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    env = {name: value for name, value in os.environ.items() if name not in _CLOCK_SHIFT}
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", *args], env=env
        )
        yield launched
        launched.close()
