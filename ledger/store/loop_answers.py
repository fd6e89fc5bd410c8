"""Answers handed from the ledger's writer thread back to an event loop.

Waking a loop from another thread writes to its self-pipe, a system call. The writer settles
a whole batch at once, so the first answer of a burst wakes the loop and the others join it:
one wake per batch and loop, not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from typing import Generic, TypeVar

__all__ = ["LoopAnswers", "answers_for"]

T = TypeVar("T")


class LoopAnswers(Generic[T]):
    """The answers on their way to one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[tuple[asyncio.Future[T], T]] = []

    def hand_back(self, future: asyncio.Future[T], answer: T) -> None:
        """Set ``future``'s result to ``answer`` on the loop (callable from any thread)."""
        with self._lock:
            first = not self._pending
            self._pending.append((future, answer))
        if first:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for future, answer in pending:
            if not future.done():  # a cancelled request no longer waits for its answer
                future.set_result(answer)


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopAnswers[object]] = (
    weakref.WeakKeyDictionary()
)
_by_loop_lock = threading.Lock()


def answers_for(loop: asyncio.AbstractEventLoop) -> LoopAnswers[object]:
    """The one :class:`LoopAnswers` of ``loop``."""
    with _by_loop_lock:
        answers = _by_loop.get(loop)
        if answers is None:
            answers = _by_loop[loop] = LoopAnswers(loop)
        return answers
