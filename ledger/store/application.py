"""The ledger application: streams of signed envelopes on eventsourcing.

Appending is load, check, save. Each stream (one per case, one directory per organisation)
is one eventsourcing originator; an envelope's ``seq`` is its ``originator_version``, so the
store's key refuses a second writer at the same position, and that refusal becomes
:class:`~ledger.errors.StaleVersion`. Events carry the signed canonical text verbatim.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import register_topic

from ledger.admission import revoked_at_admission
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import ClockSkew, RulesRefused, StaleVersion, StreamNotFound
from ledger.personal import Opening
from ledger.policy import check
from ledger.state import CaseState
from ledger.store.audit import AuditReport, audit_records, record_from_state
from ledger.store.personal_store import PersonalStore
from ledger.store.storage import APP_NAME, Store, guard_append_only

__all__ = ["AppendResult", "CaseLedger", "EnvelopeRecorded", "stream_uuid"]

MAX_CLOCK_SKEW = timedelta(minutes=5)
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


AfterAppend = Callable[["CaseLedger", AppendResult], AppendResult]


class CaseLedger:
    """Streams of signed envelopes for one organisation.

    ``root_keys`` (key id → raw public key) come from the trust file: they alone may sign the
    directory's first envelope.
    """

    def __init__(self, store: Store, *, org: str, root_keys: dict[str, bytes]) -> None:
        self.store = store
        self.org = org
        self.root_keys = dict(root_keys)
        self._app = _EventsApp(env=store.eventsourcing_env())
        guard_append_only(store)
        self._lock = threading.RLock()
        self._cache = _Cache(directory=DirectoryState(org=org, root_keys=self.root_keys))
        self.after_append: list[AfterAppend] = []
        # The transparency log that follows this ledger, when one is attached.
        self.log: Any = None
        # The office's private table of identity numbers, when one is attached.
        self.personal: PersonalStore | None = None

    @property
    def directory_stream(self) -> str:
        return f"directory:{self.org}"

    @property
    def recorder(self) -> Any:
        return self._app.recorder

    def close(self) -> None:
        self._app.close()

    # Writing -------------------------------------------------------------------------------

    def append(
        self,
        envelope: Envelope,
        *,
        now: datetime | None = None,
        openings: Iterable[Opening] = (),
    ) -> AppendResult:
        """Check ``envelope`` against its stream and the directory and store it.

        ``now`` is the receiving clock; when given, an ``at`` more than 5 minutes away is
        refused (ClockSkew), and so is a step whose key or grant had been revoked by ``now``
        (RulesRefused). Raises StaleVersion if the stream's head has moved past ``seq - 1``,
        RulesRefused with the violations if the rules do not admit the step.
        Appending an envelope that is already stored returns its original result.

        With a private table attached (``self.personal``), ``openings`` must open every
        identity commitment the body carries that the table lacks (OpeningRefused); they are
        stored with the step, and taken back if the step is not.
        """
        if now is not None and abs(envelope.at - now) > MAX_CLOCK_SKEW:
            raise ClockSkew(f"at {envelope.at_text} is more than 5 minutes from the server clock")
        personal = self.personal
        needed = personal.check_openings(envelope, openings) if personal else []
        with self._lock:
            self._sync()
            directory = self._cache.directory
            state = (
                self._cached_case(envelope.stream, envelope.seq)
                if envelope.stream.startswith("case:")
                else None
            )
            head = directory.seq if state is None else state.seq
            if envelope.seq <= head:
                result = self._replayed_or_stale(envelope)
            else:
                written = (
                    personal.put(envelope.stream, needed, now or envelope.at) if personal else []
                )
                try:
                    result = self._admit(envelope, state, directory, head, now)
                except BaseException:
                    if personal:
                        personal.take_back(written)
                    raise
        # A replayed step runs the hooks too: the first attempt may have been cut short by a
        # crash before they ran (its sealed result, say, never made).
        for hook in self.after_append:
            result = hook(self, result)
        return result

    def _admit(
        self,
        envelope: Envelope,
        state: CaseState | None,
        directory: DirectoryState,
        head: int,
        now: datetime | None,
    ) -> AppendResult:
        same_person = self.personal.same_person if self.personal else None
        violations = check(state, directory, envelope, same_person=same_person)
        if not violations and now is not None:
            # An append-time rule (the audit cannot know when a step arrived): a key or
            # grant revoked by now signs nothing more, whatever date the step carries.
            violations = revoked_at_admission(state, directory, envelope, now)
        if violations:
            if envelope.seq > head + 1 or envelope.prev != (
                directory.head_hash if state is None else state.head_hash
            ):
                raise self._stale(envelope.stream)
            raise RulesRefused(tuple(violations))
        try:
            recordings = self._app.save(self._event(envelope, now or envelope.at))
        except IntegrityError:
            self._forget(envelope.stream)
            return self._replayed_or_stale(envelope)
        self._fold(state, directory, envelope)
        position = recordings[0].notification.id if recordings else None
        if position is not None and position == self._cache.position + 1:
            self._cache.position = position
        return AppendResult(envelope.stream, envelope.seq, envelope.hash, position)

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
            return AppendResult(envelope.stream, envelope.seq, envelope.hash, None, replayed=True)
        raise self._stale(envelope.stream)

    def _stale(self, stream: str) -> StaleVersion:
        self._forget(stream)
        head = self.head(stream)
        return StaleVersion(stream, head[0], head[1])

    def _fold(self, state: CaseState | None, directory: DirectoryState, env: Envelope) -> None:
        if state is None:
            directory.apply(env)
        else:
            self._remember(state.apply(env))

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
        in commit order (the feed's page)."""
        rows = self._app.recorder.select_notifications(
            start=last_position, limit=limit, inclusive_of_start=False
        )
        return [(n.id, Envelope.from_bytes(_state_field(n.state, "envelope"))) for n in rows]

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

    def _sync(self) -> None:
        """Make the caches trustworthy with one cheap query: if anything was committed since
        the last position they reflect (another process, or a gap), refold the directory
        and drop the cached cases, which are then read again on use."""
        latest = self._app.recorder.max_notification_id() or 0
        if latest != self._cache.position:
            self._refreshed_directory()
            self._cache.cases.clear()
            self._cache.position = latest

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

    def _forget(self, stream: str) -> None:
        self._cache.position = -1
        if stream.startswith("directory:"):
            self._cache.directory = DirectoryState(org=self.org, root_keys=self.root_keys)
        else:
            self._cache.cases.pop(stream, None)


def _state_field(state: bytes, name: str) -> str:
    value = json.loads(state)[name]
    if not isinstance(value, str):
        raise TypeError(f"stored event field {name} is not text")
    return value
