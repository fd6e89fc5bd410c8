"""The audit: replay every stored event, raw, through the same rules as the append path.

Nothing is taken from caches or snapshots: events are read from the store's notification
log, each stored text is parsed again and checked against where the store files it, and the
envelopes are replayed by :class:`ledger.replay.StreamReplay` (the verifier's replay too):
signatures and ``prev`` re-verified, :func:`ledger.policy.check` re-run against the
directory as it stood at the envelope's ``at``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger.deadline import DeadlineTracker
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.replay import Finding, StreamReplay

__all__ = ["AuditReport", "Finding", "StoredRecord", "audit_records"]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One stored event as the store holds it: where it is filed, and the text it holds."""

    position: int
    stream_key: str
    version: int
    text: str
    stored_hash: str | None


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
    records: Iterable[StoredRecord],
    *,
    org: str,
    root_keys: dict[str, bytes],
    stream_key: Callable[[str], str],
    progress: Callable[[int], None] | None = None,
    same_person: Callable[[str, str], bool] | None = None,
) -> AuditReport:
    """Audit stored records (in commit order). ``stream_key`` maps a stream name to the key the
    store files it under, so an envelope moved to another stream or position is caught.

    The directory stream is judged first, in order; case streams are then judged against the
    whole directory, which answers every question as of the envelope's ``at``, so a grant
    recorded later cannot legitimise an earlier step, and a key revoked from a time before
    its use is caught even if the revocation was recorded later.
    """
    records = list(records)
    findings: list[Finding] = []
    replay = StreamReplay(org, root_keys, same_person)
    directory_key = stream_key(replay.directory.stream)
    parsed: list[tuple[StoredRecord, Envelope]] = []
    for record in records:
        envelope = _parse(record, findings, stream_key)
        if envelope is not None:
            parsed.append((record, envelope))
    for record, envelope in parsed:
        if record.stream_key == directory_key:
            replay.directory_step(envelope, record.position)
    deadlines = DeadlineTracker()
    for count, (record, envelope) in enumerate(parsed, start=1):
        if progress is not None and count % 1000 == 0:
            progress(count)
        if record.stream_key != directory_key:
            replay.case_step(envelope, record.position)
            deadlines.step(envelope)
    time_limits = tuple(
        Finding(stream, seq, code, detail)
        for stream, seq, code, detail in deadlines.findings(replay.cases, replay.directory)
    )
    return AuditReport(
        envelopes=len(records),
        streams=len({r.stream_key for r in records}),
        findings=(*findings, *replay.findings),
        time_limits=time_limits,
    )


def _parse(
    record: StoredRecord, findings: list[Finding], stream_key: Callable[[str], str]
) -> Envelope | None:
    try:
        envelope = Envelope.from_bytes(record.text)
    except CaseLedgerError as exc:
        findings.append(
            Finding(
                record.stream_key,
                record.version,
                "envelope.malformed",
                exc.message,
                position=record.position,
            )
        )
        return None
    if stream_key(envelope.stream) != record.stream_key or envelope.seq != record.version:
        findings.append(
            Finding(
                envelope.stream,
                envelope.seq,
                "chain.seq_mismatch",
                f"filed as version {record.version} of another place",
                position=record.position,
            )
        )
    if record.stored_hash is not None and record.stored_hash != envelope.hash:
        findings.append(
            Finding(
                envelope.stream,
                envelope.seq,
                "store.hash_mismatch",
                "the stored hash is not the hash of the stored text",
                position=record.position,
            )
        )
    return envelope


def record_from_state(position: int, stream_key: str, version: int, state: bytes) -> StoredRecord:
    """A StoredRecord from an eventsourcing notification's transcoded state."""
    try:
        obj = json.loads(state)
        text = obj["envelope"]
        stored_hash = obj.get("hash")
    except (ValueError, KeyError, TypeError):
        text, stored_hash = "", None
    return StoredRecord(
        position,
        stream_key,
        version,
        str(text),
        stored_hash if isinstance(stored_hash, str) else None,
    )
