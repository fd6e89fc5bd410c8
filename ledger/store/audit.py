"""The audit: replay every stored event, raw, through the same rules as the append path.

Nothing is taken from caches or snapshots: events are read from the store's notification
log, each stored text is parsed again and checked against where the store files it, and the
envelopes are replayed by :class:`ledger.replay.StreamReplay` (the verifier's replay too):
signatures and ``prev`` re-verified, :func:`ledger.policy.check` re-run against the
directory as it stood at the envelope's ``at``.

Reading the records (decoding, parsing, the signature checks) may be spread over worker
processes (:mod:`ledger.store.audit_read`); the filing checks, the fold and the rules run
here, in commit order, so the findings are the same whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.deadline import DeadlineTracker
from ledger.envelope import Envelope
from ledger.replay import Finding, StreamReplay
from ledger.store.audit_read import (
    Read,
    Reader,
    StoredRecord,
    StoredState,
    payload,
)

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
    ``workers`` > 1 reads the case records in that many processes (same findings).

    The directory stream is judged first, in order; case streams are then judged against the
    whole directory, which answers every question as of the envelope's ``at``, so a grant
    recorded later cannot legitimise an earlier step, and a key revoked from a time before
    its use is caught even if the revocation was recorded later.
    """
    with Reader(workers) as reader:  # the workers start while the store is read
        records = list(records)
        replay = StreamReplay(org, root_keys, same_person)
        filing = _Filing(stream_key)
        directory_key = filing.key(replay.directory.stream)
        read: list[tuple[int, str, Envelope] | None] = [None] * len(records)  # commit order
        directory = [(i, r) for i, r in enumerate(records) if r.stream_key == directory_key]
        cases = [(i, r) for i, r in enumerate(records) if r.stream_key != directory_key]
        # The directory is read first, here: its keys are those the case steps are checked under.
        for (index, record), got in _zip(directory, reader, dict(root_keys)):
            envelope = filing.filed(index, record, got)
            if envelope is not None:
                read[index] = (record.position, envelope.stream, envelope)
                replay.directory_step(envelope, record.position)
        keys = {**root_keys, **{kid: k.public_key for kid, k in replay.directory.keys.items()}}
        deadlines = DeadlineTracker()
        for count, ((index, record), got) in enumerate(_zip(cases, reader, keys), start=1):
            if progress is not None and count % 1000 == 0:
                progress(count)
            envelope = filing.filed(index, record, got)
            if envelope is not None:
                read[index] = (record.position, envelope.stream, envelope)
                replay.case_step(envelope, record.position)
                deadlines.step(envelope)
    time_limits = tuple(
        Finding(stream, seq, code, detail)
        for stream, seq, code, detail in deadlines.findings(replay.cases, replay.directory)
    )
    # Imported here: the log's audit builds on this module's findings.
    from ledger.store.log_audit import audit_commit_times

    return AuditReport(
        envelopes=len(records),
        streams=len({r.stream_key for r in records}),
        findings=(*filing.findings(), *replay.findings),
        time_limits=time_limits,
        backdated=tuple(audit_commit_times(r for r in read if r is not None)),
    )


Indexed = tuple[int, StoredRecord | StoredState]


def _zip(
    records: list[Indexed], reader: Reader, keys: dict[str, bytes]
) -> Iterator[tuple[Indexed, Read]]:
    return zip(records, reader.read([payload(r) for _, r in records], keys), strict=True)


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

    def findings(self) -> list[Finding]:
        return [f for _, f in sorted(self._found, key=lambda item: item[0])]

    def filed(self, index: int, record: StoredRecord | StoredState, read: Read) -> Envelope | None:
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
