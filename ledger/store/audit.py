"""The audit: replay every stored event, raw, through the same rules as the append path.

Nothing is taken from caches or snapshots: events are read from the store's notification
log, each stored text is parsed again and checked against where the store files it, and the
envelopes are replayed by :class:`ledger.replay.StreamReplay` (the verifier's replay too):
signatures and ``prev`` re-verified, :func:`ledger.policy.check` re-run against the
directory as it stood at the envelope's ``at``.

The directory is replayed first, here. The case streams are then replayed here in commit
order, or, with ``workers``, in worker processes a whole stream to each
(:mod:`ledger.store.audit_cases`); the findings are the same whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ledger.deadline import DeadlineTracker
from ledger.replay import Finding, StreamReplay
from ledger.store.audit_cases import CaseWorkers, Share, shares
from ledger.store.audit_read import (
    Read,
    StoredRecord,
    StoredState,
    payload,
    read_chunk,
)

if TYPE_CHECKING:
    from ledger.store.log_audit import Dated

__all__ = ["AuditReport", "Finding", "StoredRecord", "StoredState", "audit_records"]


@dataclass(frozen=True)
class AuditReport:
    """What the audit read and every finding; ``ok`` only when there is no finding."""

    envelopes: int
    streams: int
    findings: tuple[Finding, ...]
    log: dict[str, Any] = field(default_factory=dict)
    # Cases the read models set aside: the ledger holds their steps, only their summaries
    # are missing, so they are reported beside the findings and do not fail the audit.
    set_aside: tuple[dict[str, Any], ...] = ()
    # The time limits recomputed from the signed steps and calendar (ledger.deadline): cases
    # decided past their statutory or committed limit, stages past their share, days that no
    # published calendar counts. The office's conduct, not the ledger's integrity: reported
    # beside the findings, they do not fail the audit.
    time_limits: tuple[Finding, ...] = ()
    # Envelopes dated long before one committed earlier (``time.backdated``, see
    # :func:`ledger.store.log_audit.audit_commit_times`), found from the envelopes this audit
    # read, so that the audit with the log need not read and parse them all again. Not yet
    # among the findings: the audit with the log adds them (``cli.jobs.audit_with_log``).
    backdated: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "envelopes": self.envelopes,
            "streams": self.streams,
            "findings": [f.to_json() for f in self.findings],
            "log": self.log,
            "set_aside": list(self.set_aside),
            "time_limits": [f.to_json() for f in self.time_limits],
        }


def audit_records(
    records: Iterable[StoredRecord | StoredState],
    *,
    org: str,
    root_keys: dict[str, bytes],
    stream_key: Callable[[str], str],
    progress: Callable[[int], None] | None = None,
    same_person: Callable[[str, str], bool] | None = None,
    workers: int = 1,
) -> AuditReport:
    """Audit stored records (in commit order). ``stream_key`` maps a stream name to the key the
    store files it under, so an envelope moved to another stream or position is caught.
    ``workers`` > 1 replays the case streams in that many processes (same findings).

    The directory stream is judged first, in order; case streams are then judged against the
    whole directory, which answers every question as of the envelope's ``at``, so a grant
    recorded later cannot legitimise an earlier step, and a key revoked from a time before
    its use is caught even if the revocation was recorded later.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    records = list(records)
    replay = StreamReplay(org, root_keys, same_person)
    filing = _Filing(stream_key)
    directory_key = filing.key(replay.directory.stream)
    directory = [(i, r) for i, r in enumerate(records) if r.stream_key == directory_key]
    cases = [(i, r) for i, r in enumerate(records) if r.stream_key != directory_key]
    dated: list[tuple[int, str, Dated] | None] = [None] * len(records)  # commit order
    # The directory is read first, here: the case steps are judged against all of it.
    for (index, record), got in zip(directory, _read(directory, root_keys), strict=True):
        envelope = filing.filed(index, record, got)
        if envelope is not None:
            dated[index] = (record.position, envelope.stream, envelope)
            replay.directory_step(envelope, record.position)
    case_filing = _Filing(stream_key)
    judged = None
    if workers > 1 and cases:
        judged = _cases_in_workers(cases, replay, case_filing, workers, progress)
    if judged is None:  # one process, or the workers' partition did not hold
        case_filing = _Filing(stream_key)
        judged = _cases_here(cases, replay, case_filing, progress)
    for index, position, stream, step in judged.dated:
        dated[index] = (position, stream, step)
    # Imported here: the log's audit builds on this module's findings.
    from ledger.store.log_audit import audit_commit_times

    return AuditReport(
        envelopes=len(records),
        streams=len({r.stream_key for r in records}),
        findings=(*_Filing.merged(filing, case_filing), *replay.findings, *judged.findings),
        time_limits=judged.time_limits,
        backdated=tuple(audit_commit_times(d for d in dated if d is not None)),
    )


Indexed = tuple[int, StoredRecord | StoredState]


class Filed(Protocol):
    """What the filing checks read of an envelope."""

    @property
    def stream(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


F = TypeVar("F", bound=Filed)


@dataclass
class _Judged:
    """The case streams' findings (in commit order), time limits, and each envelope's
    (index, position, stream, signing time) for the check of commit times."""

    findings: list[Finding] = field(default_factory=list)
    time_limits: tuple[Finding, ...] = ()
    dated: list[tuple[int, int, str, Dated]] = field(default_factory=list)


def _read(records: list[Indexed], keys: dict[str, bytes]) -> list[Read]:
    return read_chunk([payload(r) for _, r in records], keys)


def _cases_here(
    cases: list[Indexed],
    replay: StreamReplay,
    filing: _Filing,
    progress: Callable[[int], None] | None,
) -> _Judged:
    """The case streams replayed in this process, in commit order."""
    keys = {**replay.directory.root_keys}
    keys.update((kid, k.public_key) for kid, k in replay.directory.keys.items())
    deadlines = DeadlineTracker()
    out = _Judged()
    before = len(replay.findings)
    for count, ((index, record), got) in enumerate(
        zip(cases, _read(cases, keys), strict=True), start=1
    ):
        if progress is not None and count % 1000 == 0:
            progress(count)
        envelope = filing.filed(index, record, got)
        if envelope is not None:
            out.dated.append((index, record.position, envelope.stream, envelope))
            replay.case_step(envelope, record.position)
            deadlines.step(envelope)
    out.findings = replay.findings[before:]
    del replay.findings[before:]
    out.time_limits = tuple(
        Finding(stream, seq, code, detail)
        for stream, seq, code, detail in deadlines.findings(replay.cases, replay.directory)
    )
    return out


def _cases_in_workers(
    cases: list[Indexed],
    replay: StreamReplay,
    filing: _Filing,
    workers: int,
    progress: Callable[[int], None] | None,
) -> _Judged | None:
    """The case streams replayed in worker processes, whole streams apart
    (:mod:`ledger.store.audit_cases`); None if an envelope is not filed under its own
    stream or the office's table says two commitments a worker took for two people are one,
    since the streams must then be replayed together, here."""
    streams: dict[str, Share] = {}
    for index, record in cases:
        streams.setdefault(record.stream_key, []).append((index, record.position, payload(record)))
    work = shares(list(streams.values()), workers)
    by_index = dict(cases)
    out = _Judged()
    found: list[tuple[int, Finding]] = []
    limits: list[tuple[int, list[tuple[str, int, str, str]]]] = []
    asked: set[tuple[str, str]] = set()
    count = 0
    pool = CaseWorkers(
        workers,
        replay.directory.org,
        replay.directory.root_keys,
        replay.directory,
        ask_same_person=replay.same_person is not None,
    )
    with pool:
        for result in pool.replay(work):
            for index, step, stored_hash in result.reads:
                record = by_index[index]
                if filing.filed(index, record, (step, stored_hash)) is None:
                    continue
                assert not isinstance(step, str)  # noqa: S101 - filed() refuses those
                if filing.key(step.stream) != record.stream_key:
                    return None
                out.dated.append((index, record.position, step.stream, step))
            found += result.findings
            limits += result.time_limits
            asked |= result.asked
            if progress is not None and (count + len(result.reads)) // 1000 > count // 1000:
                progress((count + len(result.reads)) // 1000 * 1000)
            count += len(result.reads)
    same_person = replay.same_person
    if same_person is not None and any(same_person(a, b) for a, b in sorted(asked)):
        return None
    out.dated.sort(key=lambda item: item[0])
    found.sort(key=lambda item: item[0])  # stable: a record's findings keep their order
    limits.sort(key=lambda item: item[0])
    out.findings = [f for _, f in found]
    out.time_limits = tuple(
        Finding(stream, seq, code, detail)
        for _, items in limits
        for stream, seq, code, detail in items
    )
    return out


class _Filing:
    """Whether each envelope read is filed where the store keeps it; the findings come out
    in record order, as the records were read, whichever stream was read first."""

    def __init__(self, stream_key: Callable[[str], str]) -> None:
        self._stream_key = stream_key
        self._keys: dict[str, str] = {}  # a stream's key, derived once per stream
        self._found: list[tuple[int, Finding]] = []

    def key(self, stream: str) -> str:
        key = self._keys.get(stream)
        if key is None:
            key = self._keys[stream] = self._stream_key(stream)
        return key

    @staticmethod
    def merged(*filings: _Filing) -> list[Finding]:
        found = [item for filing in filings for item in filing._found]
        return [f for _, f in sorted(found, key=lambda item: item[0])]

    def filed(
        self,
        index: int,
        record: StoredRecord | StoredState,
        read: tuple[F | str, str | None],
    ) -> F | None:
        envelope, stored_hash = read
        found = self._found
        if isinstance(envelope, str):
            finding = Finding(
                record.stream_key, record.version, "envelope.malformed", envelope, record.position
            )
            found.append((index, finding))
            return None
        if self.key(envelope.stream) != record.stream_key or envelope.seq != record.version:
            detail = f"filed as version {record.version} of another place"
            finding = Finding(
                envelope.stream, envelope.seq, "chain.seq_mismatch", detail, record.position
            )
            found.append((index, finding))
        if stored_hash is not None and stored_hash != envelope.hash:
            detail = "the stored hash is not the hash of the stored text"
            finding = Finding(
                envelope.stream, envelope.seq, "store.hash_mismatch", detail, record.position
            )
            found.append((index, finding))
        return envelope


def record_from_state(position: int, stream_key: str, version: int, state: bytes) -> StoredState:
    """A stored record from an eventsourcing notification's transcoded state; the reader
    decodes it (in a worker process, when there are workers)."""
    return StoredState(position, stream_key, version, state)
