"""Followers: work that follows the ledger's commits at its own position, off the append.

A follower runs a handler for every envelope committed after its position, in commit order.
Inline, it runs in the appending thread right after the append is answered (the CLI, a
one-shot job); in the background, a thread of its own does the work and the append only sets
a flag, so a 201 never waits for it. Readers that need the work done ask :meth:`wait_for`.

That thread is :class:`Rounds`, which the read models' follower (its position kept in the
database, ``rm_tracking``, a batch at a time) and the notification sender (``api.notify``)
use as well.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ledger.envelope import Envelope
from ledger.store.application import AppendResult, CaseLedger

__all__ = ["Follower", "Handler", "RoundFailed", "Rounds", "follow"]

# Called with every envelope followed (``result.envelope``): a handler decides from its type
# and body whether there is work, without reading the store.
Handler = Callable[[CaseLedger, AppendResult], object]
_log = logging.getLogger("caseledger.followers")
# How often a background follower looks for envelopes other processes committed.
POLL_SECONDS = 1.0


# Told of a round that raised: the error, and whether the rounds were being stopped then.
RoundFailed = Callable[[Exception, bool], None]


class Rounds:
    """A thread that runs ``work`` whenever woken, and every ``interval`` seconds regardless,
    until stopped. A round that fails is told to ``failed`` (by default logged by its kind:
    its text may quote an applicant's data) and the next one retries; one that fails while
    the rounds are being stopped (the service closing under it) ends them."""

    def __init__(
        self,
        work: Callable[[], object],
        *,
        name: str,
        gather: float = 0.0,
        interval: float = POLL_SECONDS,
        failed: RoundFailed | None = None,
    ) -> None:
        self.name = name
        self._work = work
        # After a wake, how long further commits may gather before the round runs.
        self._gather = gather
        self._interval = interval
        self._failed = failed or self._log_failure
        # Created now, started later: a wake that comes before the start is not lost.
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"caseledger-{name}", daemon=True)

    def start(self) -> Rounds:
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        """Whether the thread was started (it may have ended since)."""
        return self._thread.ident is not None

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop after the round under way, if any, waiting ``timeout`` seconds for it at
        most; return whether the thread has ended."""
        self._stop.set()
        self._wake.set()
        if self.started:
            self._thread.join(timeout=timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._wake.wait(self._interval) and self._gather:
                self._stop.wait(self._gather)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._work()
            except Exception as exc:
                closing = self._stop.is_set()
                self._failed(exc, closing)
                if closing:
                    return

    def _log_failure(self, exc: Exception, closing: bool) -> None:
        if closing:
            _log.info("%s: a round ended by the closing (%s)", self.name, type(exc).__name__)
        else:
            _log.warning("%s stopped a round (%s); will retry", self.name, type(exc).__name__)


class Follower:
    """Runs ``handler`` for each envelope ``ledger`` commits after it is attached."""

    def __init__(
        self,
        ledger: CaseLedger,
        handler: Handler,
        *,
        name: str,
        background: bool = False,
        batch: int = 100,
    ) -> None:
        self.ledger = ledger
        self.handler = handler
        self.name = name
        self.background = background
        self.batch = batch
        # Handled up to here (what readers wait for), and taken up to here (a nested round
        # of an inline handler that appended skips what an outer round is handling).
        self.position = ledger.last_position()
        self._claimed = self.position
        # Re-entrant: an inline handler may append, which wakes this follower again.
        self._lock = threading.RLock()
        self._moved = threading.Condition()
        self._replays: list[AppendResult] = []
        self._rounds = Rounds(self.run_pending, name=name) if background else None

    def attach(self) -> Follower:
        """Start following (and, in the background, start the thread)."""
        self.ledger.listen(self)
        if self._rounds is not None:
            self._rounds.start()
        return self

    # What the ledger calls ---------------------------------------------------------------

    def wake(self) -> None:
        if self._rounds is not None:
            self._rounds.wake()
        else:
            self.run_pending()

    def replayed(self, result: AppendResult) -> None:
        if self._rounds is not None:
            with self._lock:
                self._replays.append(result)
            self._rounds.wake()
        else:
            self._handle(result)

    # Working -----------------------------------------------------------------------------

    def run_pending(self) -> int:
        """Handle every envelope committed after the position; return how many."""
        done = 0
        with self._lock:
            replays, self._replays = self._replays, []
        for result in replays:
            self._handle(result)
        while True:
            with self._lock:
                rows = self.ledger.envelopes_after(self._claimed, self.batch)
                for position, envelope in rows:
                    if position <= self._claimed:
                        continue  # handled by a nested round (an inline handler appended)
                    self._claimed = position
                    self._handle(_followed(position, envelope))
                    # Done only now: a reader waiting for this position needs the work made.
                    self.position = max(self.position, position)
                    done += 1
            with self._moved:
                self._moved.notify_all()
            if len(rows) < self.batch:
                return done

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the follower has handled everything up to ``position`` (at most
        ``timeout`` seconds); return whether it has."""
        deadline = time.monotonic() + timeout
        with self._moved:
            while self.position < position:
                left = deadline - time.monotonic()
                if left <= 0 or self._rounds is None:
                    return self.position >= position
                self._rounds.wake()
                self._moved.wait(left)
        return True

    def _handle(self, result: AppendResult) -> None:
        try:
            self.handler(self.ledger, result)
        except Exception as exc:
            # The envelope is stored; what follows it is retried by the recovery. The
            # error's kind only: its text may quote an applicant's data.
            _log.warning(
                "%s could not follow %s (%s)", self.name, result.stream, type(exc).__name__
            )

    def stop(self) -> None:
        if self._rounds is not None:
            self._rounds.stop()


def _followed(position: int, envelope: Envelope) -> AppendResult:
    """What the append of ``envelope`` answered, as far as a follower needs it."""
    return AppendResult(envelope.stream, envelope.seq, envelope.hash, position, envelope=envelope)


def follow(ledger: CaseLedger, handler: Handler, *, name: str = "follower") -> Follower:
    """Run ``handler`` inline after every commit of ``ledger`` from now on (the CLI, jobs)."""
    return Follower(ledger, handler, name=name).attach()
