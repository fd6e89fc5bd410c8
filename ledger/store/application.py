"""The ledger application: streams of signed envelopes on eventsourcing.

Appending is load, check, save. Each stream (one per case, one directory per organisation)
is one eventsourcing originator; an envelope's ``seq`` is its ``originator_version``, so the
store's key refuses a second writer at the same position, and that refusal becomes
:class:`~ledger.errors.StaleVersion`. Events carry the signed canonical text verbatim.
Concurrent appends are checked and written in batches by :mod:`ledger.store.writer`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from eventsourcing.application import Application
from sqlalchemy.engine import Engine

from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import (
    StreamNotFound,
)
from ledger.personal import Opening
from ledger.state import CaseState
from ledger.store.audit import AuditReport, audit_records, record_from_state
from ledger.store.commit import Waiter
from ledger.store.folds import FoldedStreams
from ledger.store.log_store import LogError, LogStore
from ledger.store.loop_answers import answers_for
from ledger.store.personal_store import PersonalStore, commitments_in
from ledger.store.records import AppendResult, CommitListener, EnvelopeRecorded, stream_uuid
from ledger.store.storage import APP_NAME, Store, guard_append_only
from ledger.store.writer import MAX_CLOCK_SKEW, Append, LedgerWriter

__all__ = [
    "MAX_CLOCK_SKEW",
    "AppendResult",
    "CaseLedger",
    "CommitListener",
    "EnvelopeRecorded",
    "stream_uuid",
]


class _EventsApp(Application[uuid.UUID]):
    name = APP_NAME
    is_snapshotting_enabled = False


class CaseLedger:
    """Streams of signed envelopes for one organisation, and the Merkle log that logs them.

    ``root_keys`` (key id → raw public key) come from the trust file: they alone may sign the
    directory's first envelope. With ``log``, every envelope is logged in the transaction that
    stores it; with ``personal``, identity openings are kept in the office's private table.
    Build one with :func:`ledger.store.compose.open_ledger`.
    """

    def __init__(
        self,
        store: Store,
        *,
        org: str,
        root_keys: dict[str, bytes],
        log: LogStore | None = None,
        personal: PersonalStore | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.store = store
        self.org = org
        self.root_keys = dict(root_keys)
        self._app = _EventsApp(env=store.eventsourcing_env())
        guard_append_only(store)
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else store.engine()
        self._lock = threading.RLock()
        self._folds = FoldedStreams(org, self.root_keys, self._stored_after)
        self.log = log
        self.personal = personal
        self._writer = LedgerWriter(
            store,
            self.engine,
            self._folds,
            mapper=self._app.mapper,
            lock=self._lock,
            log=log,
            personal=personal,
        )
        self._listeners: list[CommitListener] = []

    @property
    def directory_stream(self) -> str:
        return f"directory:{self.org}"

    @property
    def recorder(self) -> Any:
        return self._app.recorder

    def kept_log(self) -> LogStore:
        """The Merkle log; LogError (``log.unavailable``) for a ledger opened without one."""
        if self.log is None:
            raise LogError("this ledger keeps no transparency log", code="log.unavailable")
        return self.log

    def listen(self, listener: CommitListener) -> None:
        """Wake ``listener`` after every commit (in the appending thread, after its answer
        is known; a listener that works in its own thread only sets a flag)."""
        self._listeners.append(listener)

    def close(self) -> None:
        self._writer.close()
        self._app.close()
        if self._owns_engine:
            self.engine.dispose()

    # Writing -------------------------------------------------------------------------------

    def append(
        self,
        envelope: Envelope,
        *,
        now: datetime | None = None,
        openings: Iterable[Opening] = (),
    ) -> AppendResult:
        """Check ``envelope`` against its stream and the directory and store it (and log it).

        Appending an envelope that is already stored returns its original result (replayed),
        whatever the clock says. Else raises StaleVersion if the stream's head has moved past
        ``seq - 1``; with ``now`` (the receiving clock), ClockSkew for an ``at`` more than 5
        minutes away and RulesRefused for a step whose key or grant had been revoked by
        ``now``; RulesRefused with the violations if the rules do not admit the step.

        Concurrent appends are written together (:mod:`ledger.store.commit`); a refused
        envelope never holds back the others of its batch.

        With a private table attached (``self.personal``), ``openings`` must open every
        identity commitment the body carries that the table lacks (OpeningRefused); they are
        stored in the step's transaction, so never without it.
        """
        needed = self.personal.check_openings(envelope, openings) if self.personal else []
        result: AppendResult = self._writer.group.submit(Append(envelope, now, tuple(needed)))
        self._tell_listeners(result)
        return result

    async def append_async(
        self,
        envelope: Envelope,
        *,
        now: datetime | None = None,
        openings: Iterable[Opening] = (),
    ) -> AppendResult:
        """:meth:`append` for a caller on an event loop: the ledger's writer thread writes
        the envelope with whatever else is queued and hands the answer back to the loop,
        which is free meanwhile. The openings are checked in a worker thread when there are
        any to check (that reads the private table); listeners are told on the loop, so they
        must only set a flag (as followers in their own threads do)."""
        needed: list[Opening] = []
        if self.personal is not None and (openings or commitments_in(envelope)):
            needed = await asyncio.to_thread(self.personal.check_openings, envelope, openings)
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[object] = loop.create_future()
        answers = answers_for(loop)
        self._writer.group.submit_later(
            Append(envelope, now, tuple(needed)),
            lambda waiter: answers.hand_back(answered, waiter),
        )
        waiter = await answered
        assert isinstance(waiter, Waiter)  # noqa: S101 - the writer answers with its waiter
        if waiter.error is not None:
            raise waiter.error
        result: AppendResult = waiter.result
        self._tell_listeners(result)
        return result

    def _tell_listeners(self, result: AppendResult) -> None:
        for listener in self._listeners:
            if result.replayed:
                listener.replayed(result)
            else:
                listener.wake()

    # Reading -------------------------------------------------------------------------------

    def events(
        self, stream: str, *, gt: int | None = None, lte: int | None = None
    ) -> Iterator[Envelope]:
        """The stored envelopes of ``stream`` in order, parsed from their stored text."""
        for event in self._app.events.get(stream_uuid(stream), gt=gt, lte=lte):
            assert isinstance(event, EnvelopeRecorded)  # noqa: S101 - one event type is stored
            yield Envelope.from_bytes(event.envelope)

    def _stored_after(self, stream: str, seq: int) -> Iterator[Envelope]:
        return self.events(stream, gt=seq)

    def head(self, stream: str) -> tuple[int, str | None]:
        """(seq, envelope hash) of the stream's last envelope; (0, None) if it has none."""
        last = [
            event
            for event in self._app.events.get(stream_uuid(stream), desc=True, limit=1)
            if isinstance(event, EnvelopeRecorded)
        ]
        return (last[0].originator_version, last[0].hash) if last else (0, None)

    def case_state(self, stream: str) -> CaseState:
        """The folded state of a case; raise StreamNotFound if it has no envelope."""
        # The writer holds the lock for a whole batch, so a reader takes it only to put its
        # folds back: the seqs and the store are read without it (what the writer does
        # meanwhile is reconciled under it, see FoldedStreams.caught_up_case).
        directory_seq, case_seq = self._folds.directory.seq, self._folds.kept_seq(stream)
        directory_later = list(self._stored_after(self.directory_stream, directory_seq))
        case_later = list(self._stored_after(stream, case_seq))
        with self._lock:
            self._folds.caught_up_directory(directory_seq, directory_later)
            state = self._folds.caught_up_case(stream, case_seq, case_later)
        if state.seq == 0:
            raise StreamNotFound(f"no case {stream}")
        return state

    def directory(self) -> DirectoryState:
        """The folded directory as it stands now (a live object: read, don't change)."""
        seq = self._folds.directory.seq  # read as in case_state
        later = list(self._stored_after(self.directory_stream, seq))
        with self._lock:
            return self._folds.caught_up_directory(seq, later)

    def last_position(self) -> int:
        """The position of the last stored envelope (0 when none is)."""
        return int(self._app.recorder.max_notification_id() or 0)

    def notifications_after(self, last_position: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, 32-byte envelope hash) of stored envelopes after ``last_position``,
        in commit order. Positions are the event store's notification ids: increasing, with
        gaps on PostgreSQL."""
        rows = self._app.recorder.select_notifications(
            start=last_position, limit=limit, inclusive_of_start=False
        )
        return [(n.id, bytes.fromhex(_state_field(n.state, "hash"))) for n in rows]

    def envelopes_after(self, last_position: int, limit: int) -> list[tuple[int, Envelope]]:
        """(position, envelope) of up to ``limit`` stored envelopes after ``last_position``,
        in commit order (the feed's page). What this ledger committed last is served from
        memory, parsed once for every follower; the store answers for the rest."""
        recent = self._writer.recent.after(last_position, limit) or []
        if len(recent) == limit:
            return recent
        rows = self._app.recorder.select_notifications(
            start=recent[-1][0] if recent else last_position,
            limit=limit - len(recent),
            inclusive_of_start=False,
        )
        stored = [(n.id, Envelope.from_bytes(_state_field(n.state, "envelope"))) for n in rows]
        return recent + stored

    def all_notifications(self, batch: int = 1000) -> Iterator[tuple[int, str, Envelope]]:
        """Every stored envelope in commit order: (position, stream, envelope)."""
        for n in self._iter_raw_notifications(batch):
            envelope = Envelope.from_bytes(_state_field(n.state, "envelope"))
            yield n.id, envelope.stream, envelope

    def stream_ids(self) -> set[uuid.UUID]:
        return {n.originator_id for n in self._iter_raw_notifications()}

    def audit(
        self, progress: Callable[[int], None] | None = None, *, workers: int = 1
    ) -> AuditReport:
        """Replay every stored event, raw, through the rules (see :mod:`ledger.store.audit`);
        ``workers`` > 1 reads and checks the signatures in that many processes."""
        records = (
            record_from_state(n.id, str(n.originator_id), n.originator_version, n.state)
            for n in self._iter_raw_notifications()
        )
        return audit_records(
            records,
            org=self.org,
            root_keys=self.root_keys,
            stream_key=lambda name: str(stream_uuid(name)),
            progress=progress,
            same_person=self.personal.same_person if self.personal else None,
            workers=workers,
        )

    def _iter_raw_notifications(self, batch: int = 1000) -> Iterator[Any]:
        position = 0
        while rows := self._app.recorder.select_notifications(
            start=position, limit=batch, inclusive_of_start=False
        ):
            yield from rows
            position = rows[-1].id

    # Folds ---------------------------------------------------------------------------------


def _state_field(state: bytes, name: str) -> str:
    value = json.loads(state)[name]
    if not isinstance(value, str):
        raise TypeError(f"stored event field {name} is not text")
    return value
