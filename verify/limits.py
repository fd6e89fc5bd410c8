"""Bounds on what the verifier reads: anyone may hand it any bytes, so nothing is unbounded.

Sizes and counts are checked before a parser sees the input, and so is what the file's
streams inflate to and how many entries its CMaps hold (:mod:`verify._prescan`); the time and
memory a check may take are enforced around it, in a child process (:mod:`verify.sandbox`).
Every bound on the input, when hit, raises :class:`InputUnreadable` with a plain message,
which the command line turns into exit code 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.verdict import InputUnreadable

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_PAGES",
    "MAX_PDF_BYTES",
    "MAX_PDF_OBJECTS",
    "MAX_PROOF_BYTES",
    "MAX_REVISIONS",
    "VerifyLimits",
    "check_pdf_bytes",
    "check_size",
]

MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
MAX_CHECKPOINT_BYTES = 64 * 1024
MAX_PROOF_BYTES = 64 * 1024
MAX_PDF_OBJECTS = 200_000
MAX_REVISIONS = 64
MAX_PAGES = 100
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VerifyLimits:
    """What one check may cost. The defaults are generous for any document an office seals
    (the sample result inflates to about 130 KB, with one CMap of about 250 entries)."""

    wall_seconds: float = 30.0
    """Wall-clock time from start to verdict; at the deadline the check is killed."""
    cpu_seconds: int = 30
    """CPU time of the checking process (RLIMIT_CPU): it bounds the work even if nobody waits."""
    memory_bytes: int = 1024 * MIB
    """Address space of the checking process (RLIMIT_AS)."""
    max_inflated_bytes: int = 64 * MIB
    """What all the file's deflated streams may inflate to, together."""
    max_cmap_entries: int = 50_000
    """bfchar, bfrange, cidchar and cidrange entries of all the file's CMaps, together."""

    def __post_init__(self) -> None:
        if self.wall_seconds <= 0 or self.cpu_seconds < 1 or self.memory_bytes < 64 * MIB:
            raise ValueError("limits need a positive time, 1 s of CPU and 64 MiB of memory")
        if self.max_inflated_bytes < 1 or self.max_cmap_entries < 1:
            raise ValueError("the caps on inflated bytes and CMap entries must be positive")


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
