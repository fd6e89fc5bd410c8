"""The ledger application: streams of signed envelopes on eventsourcing.

Appending is load, check, save. Each stream (one per case, one directory per organisation)
is one eventsourcing originator; an envelope's ``seq`` is its ``originator_version``, so the
store's key refuses a second writer at the same position, and that refusal becomes
:class:`~ledger.errors.StaleVersion`. Events carry the signed canonical text verbatim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic
from sqlalchemy.engine import Connection, Engine

from ledger.admission import revoked_at_admission
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import (
    CaseLedgerError,
    ClockSkew,
    RulesRefused,
    StaleVersion,
    StoreBusy,
    StreamNotFound,
)
from ledger.personal import Opening
from ledger.policy import check
from ledger.state import CaseState
from ledger.store.audit import AuditReport, audit_records, record_from_state
from ledger.store.commit import EventRow, EventsTable, GroupCommit, Waiter
from ledger.store.log_sql import head as log_head
from ledger.store.log_store import LOCK_SQL as LOG_LOCK_SQL
from ledger.store.log_store import LogError, LogStore
from ledger.store.personal_store import PersonalStore, commitments_in
from ledger.store.recent import RecentEnvelopes
from ledger.store.storage import APP_NAME, Store, guard_append_only, writing_turn

__all__ = ["AppendResult", "CaseLedger", "CommitListener", "EnvelopeRecorded", "stream_uuid"]

MAX_CLOCK_SKEW = timedelta(minutes=5)
# Past this many envelopes written elsewhere since the last batch, the case cache is dropped
# whole rather than stream by stream.
_REFOLD_READ_LIMIT = 1000
_STREAM_NAMESPACE = uuid.UUID("6a1f0c52-8d8e-4b53-9d7e-3c2a1f6b9e10")


@dataclass(frozen=True)
class EnvelopeRecorded(DomainEvent):
    """One envelope of one stream, as its signer signed it (``envelope`` is the JCS text)."""

    envelope: str
    hash: str


register_topic("caseledger:EnvelopeRecorded:v1", EnvelopeRecorded)


def stream_uuid(stream: str) -> uuid.UUID:
    """The eventsourcing originator id of a stream name."""
    if stream.startswith("case:"):
        return uuid.UUID(stream[len("case:") :])
    return uuid.uuid5(_STREAM_NAMESPACE, stream)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an admitted envelope now stands."""

    stream: str
    seq: int
    hash: str
    position: int | None
    replayed: bool = False
    leaf_index: int | None = None
    # The log's size once the batch that logged this envelope committed.
    tree_size: int | None = None


class _EventsApp(Application[uuid.UUID]):
    name = APP_NAME
    is_snapshotting_enabled = False


@dataclass
class _Cache:
    """Folded case states by stream (bounded) and the folded directory."""

    directory: DirectoryState
    cases: OrderedDict[str, CaseState] = field(default_factory=OrderedDict)
    # The store position (notification id) up to which the caches reflect every write.
    position: int = -1
    max_cases: int = 10_000


class CommitListener(Protocol):
    """What follows the ledger's commits (see :mod:`ledger.store.followers`): woken after
    every commit, and told of every envelope answered "replayed" (the first attempt may have
    been cut short by a crash before its followers ran)."""

    def wake(self) -> None: ...

    def replayed(self, result: AppendResult) -> None: ...


@dataclass(frozen=True, slots=True)
class _Append:
    envelope: Envelope
    now: datetime | None
    # The identity openings the step brings that the private table lacks.
    openings: tuple[Opening, ...] = ()


@dataclass
class _Batch:
    """What one group commit checks and writes."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    # (stream, seq) -> hash of the envelopes this batch writes, to answer a duplicate in it.
    written: dict[tuple[str, int], str] = field(default_factory=dict)
    admitted: list[tuple[Waiter, EventRow]] = field(default_factory=list)
    replays: list[Waiter] = field(default_factory=list)
    # Openings of the admitted steps, written with them and seen by the later steps' checks.
    openings: dict[str, Opening] = field(default_factory=dict)


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
        self._cache = _Cache(directory=DirectoryState(org=org, root_keys=self.root_keys))
        self.log = log
        self.personal = personal
        self._events_table = EventsTable(store)
        # The store position the log was known to reach when this ledger last committed.
        self._logged_to: int | None = None
        self._group = GroupCommit(self._write_batch)
        self._writer_conn: Connection | None = None
        self._turn = writing_turn(self.engine)
        self._recent = RecentEnvelopes()
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
        self._group.close()
        with self._lock:
            self._drop_writer()
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
        result: AppendResult = self._group.submit(_Append(envelope, now, tuple(needed)))
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
        answered: asyncio.Future[Waiter] = loop.create_future()

        def hand_back(waiter: Waiter) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve, answered, waiter)

        self._group.submit_later(_Append(envelope, now, tuple(needed)), hand_back)
        waiter = await answered
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

    def _write_batch(self, waiters: list[Waiter]) -> None:
        """Write one batch; if its transaction fails, write each envelope on its own, so one
        that cannot be written answers its own error and the others still land. Nothing of
        a failed transaction stays: its folds are dropped with the caches."""
        with self._lock:
            try:
                self._commit(waiters)
                return
            except Exception:
                self._forget_all()
            except BaseException:
                self._forget_all()
                raise
            for waiter in waiters:
                waiter.done, waiter.error, waiter.result = False, None, None
                try:
                    self._commit([waiter])
                except sa.exc.IntegrityError:
                    # The stream was written under our feet (a case id already taken, say).
                    self._forget_all()
                    try:
                        waiter.answer(self._replayed_or_stale(waiter.item.envelope))
                    except StaleVersion as exc:
                        waiter.refuse(exc)
                except sa.exc.OperationalError:
                    self._forget_all()
                    waiter.refuse(StoreBusy("the database could not take the write; send it again"))
                except Exception as exc:
                    self._forget_all()
                    waiter.refuse(exc)

    def _commit(self, waiters: list[Waiter]) -> None:
        conn = self._writer()
        try:
            with self._turn:
                batch, positions, leaves, latest = self._write_within(conn, waiters)
        except BaseException:
            self._drop_writer()
            raise
        if self.log is not None:
            self.log.committed(conn)
        self._settle(batch, positions, leaves, latest)

    def _write_within(
        self, conn: Connection, waiters: list[Waiter]
    ) -> tuple[_Batch, list[int], dict[int, int], int]:
        """Check the waiters' envelopes and write the admitted ones in one transaction on
        ``conn``; return the batch, its positions and leaves, and the position before it."""
        batch = _Batch()
        self._events_table.begin(conn, also_lock=LOG_LOCK_SQL if self.log is not None else "")
        latest = self._events_table.last_position(conn)
        if latest != self._cache.position:
            # Another process wrote since: what it wrote is final under our lock.
            self._refold(latest)
        for waiter in waiters:
            try:
                self._check(waiter, batch)
            except CaseLedgerError as exc:
                waiter.refuse(exc)
        if self.personal is not None:
            for waiter, _ in batch.admitted:
                item = waiter.item
                at = item.now or item.envelope.at
                self.personal.put_within(conn, item.envelope.stream, item.openings, at)
        positions = self._events_table.insert(conn, [row for _, row in batch.admitted])
        leaves = self._log_within(conn, latest, batch, positions)
        conn.commit()
        return batch, positions, leaves, latest

    def _writer(self) -> Connection:
        """The connection every batch is written on: kept open, since checking one out of
        the pool for each batch costs about what a small batch's statements do."""
        if self._writer_conn is None or self._writer_conn.closed:
            self._writer_conn = self.engine.connect()
        return self._writer_conn

    def _drop_writer(self) -> None:
        """After a failed batch: roll back and let go of the connection, so a broken one is
        never reused and the next batch starts on a fresh one."""
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            try:
                conn.close()
            except sa.exc.SQLAlchemyError:
                conn.invalidate()

    def _check(self, waiter: Waiter, batch: _Batch) -> None:
        item: _Append = waiter.item
        envelope = item.envelope
        directory = self._cache.directory
        state = None
        if envelope.stream.startswith("case:"):
            state = batch.cases.get(envelope.stream)
            if state is None:
                state = self._cached_case(envelope.stream, envelope.seq)
        head, head_hash = (
            (directory.seq, directory.head_hash) if state is None else (state.seq, state.head_hash)
        )
        if envelope.seq <= head:
            if batch.written.get((envelope.stream, envelope.seq)) == envelope.hash:
                batch.replays.append(waiter)
                return
            waiter.answer(self._replayed_or_stale(envelope))
            return
        # After the head check: a stored envelope sent again is "replayed" whatever its age.
        if item.now is not None and abs(envelope.at - item.now) > MAX_CLOCK_SKEW:
            raise ClockSkew(f"at {envelope.at_text} is more than 5 minutes from the server clock")
        violations = check(state, directory, envelope, same_person=self._same_person(batch, item))
        if not violations and item.now is not None:
            # An append-time rule (the audit cannot know when a step arrived): a key or
            # grant revoked by now signs nothing more, whatever date the step carries.
            violations = revoked_at_admission(state, directory, envelope, item.now)
        if violations:
            if envelope.seq > head + 1 or envelope.prev != head_hash:
                raise StaleVersion(envelope.stream, head, head_hash)
            raise RulesRefused(tuple(violations))
        if state is None:
            directory.apply(envelope)
        else:
            batch.cases[envelope.stream] = state.apply(envelope)
        batch.written[(envelope.stream, envelope.seq)] = envelope.hash
        batch.openings.update((o.commitment, o) for o in item.openings)
        event = self._event(envelope, item.now or envelope.at)
        stored = self._app.mapper.to_stored_event(event)
        batch.admitted.append(
            (
                waiter,
                EventRow(
                    stored.originator_id,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                ),
            )
        )

    def _same_person(self, batch: _Batch, item: _Append) -> Callable[[str, str], bool] | None:
        """The own-case check's question, answered also from the openings of the steps
        being written with this one (not committed yet, so not in the table)."""
        personal = self.personal
        if personal is None:
            return None
        pending = {**batch.openings, **{o.commitment: o for o in item.openings}}
        return lambda a, b: personal.same_person(a, b, pending)

    def _log_within(
        self, conn: Connection, latest: int, batch: _Batch, positions: list[int]
    ) -> dict[int, int]:
        """Log the batch's envelopes (and any an older release left unlogged) in the
        transaction that stores them; return position -> leaf index."""
        if self.log is None:
            return {}
        # Logged up to what this ledger last wrote, unless someone else wrote since: then ask.
        ours_last = self._logged_to == latest
        logged_to = latest if ours_last else log_head(conn)[1]
        entries = self._events_table.hashes_after(conn, logged_to) if logged_to < latest else []
        entries += [
            (position, bytes.fromhex(waiter.item.envelope.hash))
            for position, (waiter, _) in zip(positions, batch.admitted, strict=True)
        ]
        indexes = self.log.append_within(conn, entries, unchanged_since_ours=ours_last)
        fresh = entries[len(entries) - len(indexes) :]  # the new leaves end the entries
        return {position: index for (position, _), index in zip(fresh, indexes, strict=True)}

    def _settle(
        self, batch: _Batch, positions: list[int], leaves: dict[int, int], latest: int
    ) -> None:
        """After the commit: the caches take the batch's folds, each waiter its answer."""
        for state in batch.cases.values():
            self._remember(state)
        self._cache.position = positions[-1] if positions else latest
        self._recent.committed(
            latest,
            [(p, w.item.envelope) for (w, _), p in zip(batch.admitted, positions, strict=True)],
        )
        self._logged_to = self._cache.position if self.log is not None else None
        tree_size = (max(leaves.values()) + 1) if leaves else None
        by_hash: dict[str, AppendResult] = {}
        for (waiter, _), position in zip(batch.admitted, positions, strict=True):
            envelope = waiter.item.envelope
            result = AppendResult(
                envelope.stream,
                envelope.seq,
                envelope.hash,
                position,
                leaf_index=leaves.get(position),
                tree_size=tree_size,
            )
            by_hash[envelope.hash] = result
            waiter.answer(result)
        for waiter in batch.replays:
            first = by_hash[waiter.item.envelope.hash]
            waiter.answer(replace(first, position=None, replayed=True))

    def _event(self, envelope: Envelope, recorded_at: datetime) -> EnvelopeRecorded:
        return EnvelopeRecorded(
            originator_id=stream_uuid(envelope.stream),
            originator_version=envelope.seq,
            timestamp=recorded_at,
            envelope=envelope.text,
            hash=envelope.hash,
        )

    def _replayed_or_stale(self, envelope: Envelope) -> AppendResult:
        stored = list(self.events(envelope.stream, gt=envelope.seq - 1, lte=envelope.seq))
        if stored and stored[0].hash == envelope.hash:
            leaf = None if self.log is None else self.log.leaf_index(bytes.fromhex(envelope.hash))
            return AppendResult(
                envelope.stream, envelope.seq, envelope.hash, None, replayed=True, leaf_index=leaf
            )
        raise self._stale(envelope.stream)

    def _stale(self, stream: str) -> StaleVersion:
        self._forget(stream)
        head = self.head(stream)
        return StaleVersion(stream, head[0], head[1])

    # Reading -------------------------------------------------------------------------------

    def events(
        self, stream: str, *, gt: int | None = None, lte: int | None = None
    ) -> Iterator[Envelope]:
        """The stored envelopes of ``stream`` in order, parsed from their stored text."""
        for event in self._app.events.get(stream_uuid(stream), gt=gt, lte=lte):
            assert isinstance(event, EnvelopeRecorded)  # noqa: S101 - one event type is stored
            yield Envelope.from_bytes(event.envelope)

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
        with self._lock:
            self._refreshed_directory()
            state = self._refreshed_case(stream)
        if state.seq == 0:
            raise StreamNotFound(f"no case {stream}")
        return state

    def directory(self) -> DirectoryState:
        """The folded directory as it stands now (a live object: read, don't change)."""
        with self._lock:
            return self._refreshed_directory()

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
        recent = self._recent.after(last_position, limit) or []
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

    # Caches --------------------------------------------------------------------------------

    def _refold(self, latest: int) -> None:
        """Make the caches reflect everything up to ``latest`` (another process wrote, or a
        write of ours failed). When the caches know where they stand, only the streams written
        since are dropped (read again on use); else every case is. The directory is read on."""
        known = self._cache.position
        written = self._streams_written(known, latest) if known >= 0 else None
        if written is None:
            self._cache.cases.clear()
        else:
            for stream in written:
                self._cache.cases.pop(stream, None)
        self._refreshed_directory()
        self._cache.position = latest

    def _streams_written(self, after: int, upto: int) -> set[str] | None:
        """The case streams of the envelopes stored after position ``after`` up to ``upto``;
        None when they are too many to be worth reading one by one."""
        rows = self._app.recorder.select_notifications(
            start=after, stop=upto, limit=_REFOLD_READ_LIMIT + 1, inclusive_of_start=False
        )
        if len(rows) > _REFOLD_READ_LIMIT:
            return None
        directory = stream_uuid(self.directory_stream)
        return {f"case:{n.originator_id}" for n in rows if n.originator_id != directory}

    def _cached_case(self, stream: str, seq: int) -> CaseState:
        state = self._cache.cases.get(stream)
        if state is not None:
            return state
        if seq == 1:
            # A first step needs no read: if the stream already exists after all, the
            # store's key refuses the save and the append answers replayed or stale.
            return CaseState.empty(stream)
        return self._refreshed_case(stream)

    def _refreshed_directory(self) -> DirectoryState:
        directory = self._cache.directory
        for env in self.events(self.directory_stream, gt=directory.seq):
            directory.apply(env)
        return directory

    def _refreshed_case(self, stream: str) -> CaseState:
        state = self._cache.cases.get(stream) or CaseState.empty(stream)
        for env in self.events(stream, gt=state.seq):
            state = state.apply(env)
        self._remember(state)
        return state

    def _remember(self, state: CaseState) -> None:
        cases = self._cache.cases
        cases[state.stream] = state
        cases.move_to_end(state.stream)
        while len(cases) > self._cache.max_cases:
            cases.popitem(last=False)

    def _forget_all(self) -> None:
        self._logged_to = None
        self._recent.forget()
        self._cache.position = -1
        self._cache.directory = DirectoryState(org=self.org, root_keys=self.root_keys)
        self._cache.cases.clear()

    def _forget(self, stream: str) -> None:
        self._cache.position = -1
        if stream.startswith("directory:"):
            self._cache.directory = DirectoryState(org=self.org, root_keys=self.root_keys)
        else:
            self._cache.cases.pop(stream, None)


def _resolve(future: asyncio.Future[Waiter], waiter: Waiter) -> None:
    if not future.done():  # a cancelled request no longer waits for its answer
        future.set_result(waiter)


def _state_field(state: bytes, name: str) -> str:
    value = json.loads(state)[name]
    if not isinstance(value, str):
        raise TypeError(f"stored event field {name} is not text")
    return value
