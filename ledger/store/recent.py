"""The envelopes a ledger committed lately, kept parsed for its followers.

Every follower (read models, result issuing, the outbox) reads each new envelope right after
it is committed. Served from here they are neither read back from the database nor parsed
again, once per follower. The run kept is exact: it holds every envelope stored after
``start``, because a batch is added only when nothing was stored between the run's end and
the batch (the writer sees the store's last position under its lock); anything else, such
as another process writing, starts a new run.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from ledger.envelope import Envelope

__all__ = ["RecentEnvelopes"]


class RecentEnvelopes:
    """A run of (position, envelope), every envelope stored after ``start`` up to the last."""

    def __init__(self, keep: int = 4096) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._positions: list[int] = []
        self._envelopes: list[Envelope] = []
        # The run holds every envelope after this position (None: no run).
        self._start: int | None = None

    def committed(self, before: int, entries: Sequence[tuple[int, Envelope]]) -> None:
        """``entries`` (in position order) were committed when the store's last position was
        ``before``."""
        with self._lock:
            end = self._positions[-1] if self._positions else self._start
            if end != before:
                self._positions, self._envelopes, self._start = [], [], before
            for position, envelope in entries:
                self._positions.append(position)
                self._envelopes.append(envelope)
            excess = len(self._positions) - self._keep
            if excess > self._keep // 4:  # trim in steps, not on every batch
                self._start = self._positions[excess - 1]
                del self._positions[:excess], self._envelopes[:excess]

    def forget(self) -> None:
        with self._lock:
            self._positions, self._envelopes, self._start = [], [], None

    def after(self, position: int, limit: int) -> list[tuple[int, Envelope]] | None:
        """Up to ``limit`` envelopes stored after ``position`` from the run, or None when it
        holds none of them. Only the store knows what was written after the run's end (by
        another process, say)."""
        with self._lock:
            if self._start is None or position < self._start:
                return None
            first = bisect.bisect_right(self._positions, position)
            if first == len(self._positions):
                return None
            last = first + limit
            return list(zip(self._positions[first:last], self._envelopes[first:last], strict=True))
