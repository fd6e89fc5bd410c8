"""The ledger's write path: queued envelopes checked one by one, then written together.

:class:`LedgerWriter` takes the batches the group commit (:mod:`ledger.store.commit`) hands
it, checks each envelope against the folded states (:mod:`ledger.store.folds`) — head,
clock, rules, the append-time revocation rule — and writes the admitted ones with their
Merkle-log leaves and identity openings in one transaction on the connection it keeps,
which is also the one it reads the store on meanwhile (a stream to fold, a stored step).
If that transaction fails, each envelope is written on its own, so one that cannot be
answers its own error and nothing of the failed transaction stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.admission import revoked_at_admission
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError, ClockSkew, RulesRefused, StaleVersion, StoreBusy
from ledger.personal import Opening
from ledger.policy import check
from ledger.state import CaseState
from ledger.store.commit import EventRow, EventsTable, GroupCommit, Waiter
from ledger.store.folds import FoldedStreams, StreamReader
from ledger.store.log_sql import head as log_head
from ledger.store.log_store import LOCK_SQL as LOG_LOCK_SQL
from ledger.store.log_store import LogStore
from ledger.store.personal_store import PersonalStore
from ledger.store.recent import RecentEnvelopes
from ledger.store.records import AppendResult, EnvelopeRecorded, stream_uuid
from ledger.store.storage import Store, writing_turn

__all__ = ["MAX_CLOCK_SKEW", "Append", "LedgerWriter"]

MAX_CLOCK_SKEW = timedelta(minutes=5)
# Past this many envelopes written elsewhere since the last batch, the case folds are
# dropped whole rather than stream by stream.
_REFOLD_READ_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Append:
    """One envelope to append, with the receiving clock and its identity openings."""

    envelope: Envelope
    now: datetime | None
    # The identity openings the step brings that the private table lacks.
    openings: tuple[Opening, ...] = ()


@dataclass
class Batch:
    """What one group commit checks and writes."""

    cases: dict[str, CaseState] = field(default_factory=dict)
    # (stream, seq) -> hash of the envelopes this batch writes, to answer a duplicate in it.
    written: dict[tuple[str, int], str] = field(default_factory=dict)
    admitted: list[tuple[Waiter, EventRow]] = field(default_factory=list)
    replays: list[Waiter] = field(default_factory=list)
    # Openings of the admitted steps, written with them and seen by the later steps' checks.
    openings: dict[str, Opening] = field(default_factory=dict)


class LedgerWriter:
    """Writes one ledger's envelopes; ``group`` queues them (see :meth:`write_batch`)."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        folds: FoldedStreams,
        *,
        mapper: Any,
        lock: Any,
        log: LogStore | None,
        personal: PersonalStore | None,
    ) -> None:
        self.engine = engine
        self.log = log
        self.personal = personal
        self._folds = folds
        self._mapper = mapper
        # Held by every batch, and by readers of the folds.
        self._lock = lock
        self._events_table = EventsTable(store)
        # The store position the log was known to reach when this writer last committed.
        self._logged_to: int | None = None
        self._conn: Connection | None = None
        self._turn = writing_turn(engine)
        self.recent = RecentEnvelopes()
        self.group = GroupCommit(self.write_batch)

    def close(self) -> None:
        self.group.close()
        with self._lock:
            self._drop_connection()

    def write_batch(self, waiters: list[Waiter]) -> None:
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
                        with self.engine.connect() as conn:
                            waiter.answer(self._replayed_or_stale(conn, waiter.item.envelope))
                    except StaleVersion as exc:
                        waiter.refuse(exc)
                except sa.exc.OperationalError:
                    self._forget_all()
                    waiter.refuse(StoreBusy("the database could not take the write; send it again"))
                except Exception as exc:
                    self._forget_all()
                    waiter.refuse(exc)

    def _commit(self, waiters: list[Waiter]) -> None:
        conn = self._connection()
        try:
            with self._turn:
                batch, positions, leaves, latest = self._write_within(conn, waiters)
        except BaseException:
            self._drop_connection()
            raise
        if self.log is not None:
            self.log.committed(conn)
        self._settle(batch, positions, leaves, latest)

    def _write_within(
        self, conn: Connection, waiters: list[Waiter]
    ) -> tuple[Batch, list[int], dict[int, int], int]:
        """Check the waiters' envelopes and write the admitted ones in one transaction on
        ``conn``; return the batch, its positions and leaves, and the position before it."""
        batch = Batch()
        self._events_table.begin(conn, also_lock=LOG_LOCK_SQL if self.log is not None else "")
        latest = self._events_table.last_position(conn)
        read = self._reader(conn)
        if latest != self._folds.position:
            # Another process wrote since: what it wrote is final under our lock.
            self._refold(conn, read, latest)
        for waiter in waiters:
            try:
                self._check(conn, read, waiter, batch)
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

    def _connection(self) -> Connection:
        """The connection every batch is written on: kept open, since checking one out of
        the pool for each batch costs about what a small batch's statements do."""
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        """After a failed batch: roll back and let go of the connection, so a broken one is
        never reused and the next batch starts on a fresh one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sa.exc.SQLAlchemyError:
                conn.invalidate()

    def _reader(self, conn: Connection) -> StreamReader:
        """Reads a stream's stored envelopes on ``conn`` (see :class:`EventsTable`)."""
        table = self._events_table

        def read(stream: str, gt: int) -> list[Envelope]:
            return [
                Envelope.from_bytes(t) for t in table.stream_texts(conn, stream_uuid(stream), gt=gt)
            ]

        return read

    def _check(self, conn: Connection, read: StreamReader, waiter: Waiter, batch: Batch) -> None:
        item: Append = waiter.item
        envelope = item.envelope
        directory = self._folds.directory
        state = None
        if envelope.stream.startswith("case:"):
            state = batch.cases.get(envelope.stream)
            if state is None:
                state = self._folds.case(envelope.stream, envelope.seq, read)
        head, head_hash = (
            (directory.seq, directory.head_hash) if state is None else (state.seq, state.head_hash)
        )
        if envelope.seq <= head:
            if batch.written.get((envelope.stream, envelope.seq)) == envelope.hash:
                batch.replays.append(waiter)
                return
            waiter.answer(self._replayed_or_stale(conn, envelope))
            return
        # After the head check: a stored envelope sent again is "replayed" whatever its age.
        if item.now is not None and abs(envelope.at - item.now) > MAX_CLOCK_SKEW:
            raise ClockSkew(f"at {envelope.at_text} is more than 5 minutes from the server clock")
        violations = check(
            state, directory, envelope, same_person=self._same_person(conn, batch, item)
        )
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
        stored = self._mapper.to_stored_event(event)
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

    def _same_person(
        self, conn: Connection, batch: Batch, item: Append
    ) -> Callable[[str, str], bool] | None:
        """The own-case check's question, answered also from the openings of the steps
        being written with this one (not committed yet, so not in the table)."""
        personal = self.personal
        if personal is None:
            return None
        pending = {**batch.openings, **{o.commitment: o for o in item.openings}}
        return lambda a, b: personal.same_person(a, b, pending, conn)

    def _log_within(
        self, conn: Connection, latest: int, batch: Batch, positions: list[int]
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
        self, batch: Batch, positions: list[int], leaves: dict[int, int], latest: int
    ) -> None:
        """After the commit: the caches take the batch's folds, each waiter its answer."""
        for state in batch.cases.values():
            self._folds.remember(state)
        self._folds.position = positions[-1] if positions else latest
        self.recent.committed(
            latest,
            [(p, w.item.envelope) for (w, _), p in zip(batch.admitted, positions, strict=True)],
        )
        self._logged_to = self._folds.position if self.log is not None else None
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
                envelope=envelope,
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

    def _replayed_or_stale(self, conn: Connection, envelope: Envelope) -> AppendResult:
        """The answer to an envelope at or below its stream's head, read on ``conn``: replayed
        if the store holds that very envelope there, else stale."""
        stream = stream_uuid(envelope.stream)
        stored = self._events_table.stream_texts(
            conn, stream, gt=envelope.seq - 1, lte=envelope.seq
        )
        if stored == [envelope.text]:
            leaf = None
            if self.log is not None:
                leaf = self.log.leaf_index(bytes.fromhex(envelope.hash), conn)
            return AppendResult(
                envelope.stream,
                envelope.seq,
                envelope.hash,
                None,
                replayed=True,
                leaf_index=leaf,
                envelope=envelope,
            )
        self._folds.forget(envelope.stream)
        seq, head_hash = self._events_table.stream_head(conn, stream)
        raise StaleVersion(envelope.stream, seq, head_hash)

    def _refold(self, conn: Connection, read: StreamReader, latest: int) -> None:
        """Make the folds reflect everything up to ``latest`` (another process wrote, or a
        write of ours failed). When the folds know where they stand, only the streams written
        since are read again; else every case is."""
        known = self._folds.position
        written = self._streams_written(conn, known, latest) if known >= 0 else None
        self._folds.written_elsewhere(latest, written, read)

    def _streams_written(self, conn: Connection, after: int, upto: int) -> set[str] | None:
        """The case streams of the envelopes stored after position ``after`` up to ``upto``;
        None when they are too many to be worth reading one by one."""
        written = self._events_table.originators_between(
            conn, after, upto, limit=_REFOLD_READ_LIMIT + 1
        )
        if len(written) > _REFOLD_READ_LIMIT:
            return None
        directory = stream_uuid(self._folds.directory_stream)
        return {f"case:{originator}" for originator in written if originator != directory}

    def _forget_all(self) -> None:
        self._logged_to = None
        self.recent.forget()
        self._folds.forget_all()
