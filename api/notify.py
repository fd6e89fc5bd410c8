"""The sender worker: the outbox followed, messages sent, departments' webhooks delivered.

:class:`Notifier` does one round in :meth:`Notifier.run_once` — write the messages of the steps
committed since its last round (:meth:`ledger.store.outbox.Outbox.catch_up`), send each one
due through its channel's adapter (api/senders.py), deliver the webhooks due (api/webhooks.py)
— and the server runs rounds in a background thread every ``notify_seconds``, sooner when a
step is appended. A message that fails is retried with a doubling backoff and given up after
``MAX_ATTEMPTS``; nothing here can fail, delay or undo a step.

The address is read from the private table (``pd_openings``) only at the moment of sending,
and the read is recorded (``pd_reads``: reader ``service:notify``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.senders import Sender, SendFailed, sender_for
from api.webhooks import deliver_hooks
from ledger.store.application import AppendResult
from ledger.store.followers import Rounds
from ledger.store.outbox import Outbox, Outgoing

__all__ = ["NOTIFY_READER", "Notifier", "Round"]

_log = logging.getLogger("caseledger.notify")
NOTIFY_READER = "service:notify"


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did."""

    written: int
    sent: int
    failed: int
    delivered: int


@dataclass
class Notifier:
    services: Any
    senders: dict[str, Sender]
    interval: float = 5.0
    # After a wake, how long to let further commits gather before the round: a message may
    # leave a moment later, and a busy ledger costs a round (and a write) per gathering, not
    # per commit.
    gather: float = 0.2
    # How long closing the app waits for a round under way (a gateway may be slow to answer).
    stop_timeout: float = 30.0
    outbox: Outbox = field(init=False)
    _rounds: Rounds = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        ledger = self.services.ledger
        engine = ledger.log.engine if ledger.log is not None else ledger.store.engine()
        self.outbox = Outbox(engine)
        self._rounds = Rounds(
            self.run_once,
            name="notify",
            gather=self.gather,
            interval=self.interval,
            failed=_round_failed,
        )

    @classmethod
    def for_services(cls, services: Any) -> Notifier:
        settings, home = services.settings, services.settings.home
        senders = {
            "sms": sender_for(settings.notify_sms, "sms", home),
            "email": sender_for(settings.notify_email, "email", home),
        }
        return cls(services, senders, settings.notify_seconds)

    def run_once(self, now: datetime | None = None) -> Round:
        """One round at ``now`` (the services' clock by default); rounds never overlap."""
        now = now or self.services.clock()
        with self._lock:
            written = self.outbox.catch_up(self.services.ledger, self.services.trust.org_name, now)
            sent = failed = 0
            for message in self.outbox.due(now):
                if self._send(message, now):
                    sent += 1
                else:
                    failed += 1
            delivered = deliver_hooks(self.services, self.outbox, now)
        return Round(written, sent, failed, len(delivered))

    def _send(self, message: Outgoing, now: datetime) -> bool:
        address = self._address(message, now)
        if address is None:
            self.outbox.failed(message, now, "personal.missing: no address in the private table",
                               final=True)  # fmt: skip
            return False
        try:
            self.senders[message.channel].send(address, message.subject, message.text)
        except SendFailed as exc:
            self.outbox.failed(message, now, exc.message, final=exc.final)
            return False
        except Exception as exc:  # an adapter's own bug is a failed try, never a lost message
            self.outbox.failed(message, now, f"{type(exc).__name__}: {exc}")
            return False
        self.outbox.sent(message, now)
        return True

    def _address(self, message: Outgoing, now: datetime) -> str | None:
        personal = self.services.ledger.personal
        if personal is None:
            return None
        purpose = f"notice of {message.step} {message.envelope[:16]} by {message.channel}"
        opening = personal.read(message.recipient, reader=NOTIFY_READER, purpose=purpose, now=now)
        if opening is None:
            return None
        # A commitment's value is normalised (upper case); mail addresses are written lower.
        value = str(opening.value)
        return value.lower() if message.channel == "email" else value

    # The background thread ----------------------------------------------------------------

    def wake(self) -> None:
        """The ledger committed: start a round soon. It only sets a flag, so it cannot fail."""
        self._rounds.wake()

    def replayed(self, result: AppendResult) -> None:
        del result  # the outbox follows positions only: a replay adds nothing to send

    def start(self) -> None:
        if self.interval <= 0 or self._rounds.started:
            return
        self._rounds.start()

    def stop(self) -> None:
        """End the background rounds (the app is closing): wait up to ``stop_timeout`` seconds
        for a round under way. A round still running then ends on its own, quietly."""
        if not self._rounds.stop(timeout=self.stop_timeout):
            _log.warning(
                "the notification sender is still in a round after %s s; the service closes "
                "without it",
                self.stop_timeout,
            )


def _round_failed(exc: Exception, closing: bool) -> None:
    if not closing:  # the worker outlives one failed round
        _log.error("notification round failed", exc_info=exc)
        return
    # The service closed under the round, its database possibly with it: not a failure of
    # the round. Nothing is lost: the outbox keeps each message until it is recorded as sent,
    # so the next start takes up what this round left (a message sent but not yet recorded
    # goes again, as after a crash).
    _log.info("notification round ended by the service closing: %s", exc)
