"""Checkpoints on a schedule: a background thread of the server signs one whenever the log
has grown, every ``checkpoint_interval_seconds``, so the newest steps are committed to (and
kept outside the database) even if nobody asks for a checkpoint."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ledger.errors import CaseLedgerError

__all__ = ["CheckpointSchedule"]

log = logging.getLogger("caseledger.checkpoints")


class CheckpointSchedule:
    """Sign ``services``' log every ``interval`` seconds while started (0: never)."""

    def __init__(self, services: Any, interval: float) -> None:
        self.services = services
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self.services.log is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name="caseledger-checkpoints", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def sign_once(self) -> Any:
        """Sign a checkpoint now if the log has grown; return the latest (or None)."""
        return self.services.sign_checkpoint()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sign_once()
            except CaseLedgerError as exc:
                # log.inconsistent: the database's log no longer extends what was signed.
                # Keep refusing (every attempt re-checks) and say so loudly.
                log.error("checkpoint not signed: %s: %s", exc.code, exc.message)
            except Exception:  # the schedule must outlive one failed attempt
                log.exception("checkpoint not signed")
