"""Bounds on what the verifier reads: anyone may hand it any bytes, so nothing is unbounded.

Sizes and counts are checked before a parser sees the input; a wall-clock bound stops a parser
that is slow on a crafted file. Every bound, when hit, raises :class:`InputUnreadable` with a
plain message, which the command line turns into exit code 3.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from verify.verdict import InputUnreadable

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_PAGES",
    "MAX_PDF_BYTES",
    "MAX_PDF_OBJECTS",
    "MAX_PROOF_BYTES",
    "MAX_REVISIONS",
    "TIME_LIMIT_SECONDS",
    "check_pdf_bytes",
    "check_size",
    "time_limit",
]

MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
MAX_CHECKPOINT_BYTES = 64 * 1024
MAX_PROOF_BYTES = 64 * 1024
MAX_PDF_OBJECTS = 200_000
MAX_REVISIONS = 64
MAX_PAGES = 100
TIME_LIMIT_SECONDS = 30.0


def check_size(data: bytes, limit: int, what: str) -> None:
    """Return None if ``data`` is 1..``limit`` bytes; raise InputUnreadable otherwise."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputUnreadable(f"the {what} must be given as bytes")
    if len(data) == 0:
        raise InputUnreadable(f"the {what} is empty")
    if len(data) > limit:
        raise InputUnreadable(f"the {what} is larger than {limit // (1024 * 1024) or 1} MiB")


def check_pdf_bytes(data: bytes) -> None:
    """Return None if ``data`` may be handed to a PDF parser; raise InputUnreadable if it is
    too large, does not start like a PDF, or declares too many objects."""
    check_size(data, MAX_PDF_BYTES, "PDF")
    if b"%PDF-" not in data[:1024]:
        raise InputUnreadable("the file is not a PDF (no %PDF- header)")
    # Every object is written "obj … endobj", so half the "obj" tokens is an upper bound on the
    # objects in the file (a byte count, not a parse, so it cannot itself be slowed down).
    # Object streams hide objects from it; the time limit covers what it misses.
    count = data.count(b"obj") // 2
    if count > MAX_PDF_OBJECTS:
        raise InputUnreadable(f"the PDF holds about {count} objects, more than {MAX_PDF_OBJECTS}")
    if data.count(b"%%EOF") > MAX_REVISIONS:
        raise InputUnreadable(f"the PDF has more than {MAX_REVISIONS} revisions")


class _TimeUp(BaseException):
    """Raised inside the guarded code when its time is up (never escapes :func:`time_limit`).

    A BaseException, so that the broad ``except Exception`` a parser or a check uses for
    malformed input does not swallow it.
    """


@contextmanager
def time_limit(seconds: float = TIME_LIMIT_SECONDS, what: str = "input") -> Iterator[None]:
    """Run the body with a wall-clock bound; raise InputUnreadable when it is exceeded.

    The bound uses SIGALRM, which only the main thread of a POSIX process can receive; in any
    other thread (a web server's worker) the body runs unbounded in time and the size and
    count limits are what protect it.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TimeUp:
        raise InputUnreadable(
            f"reading the {what} took longer than {seconds:g} s; it is not processed"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
