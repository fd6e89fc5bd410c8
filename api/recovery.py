"""Finish what a crash cut short, and report what no recovery can mend.

At the server's start and then on a schedule, :func:`recover`:

- finishes every claimed 文号 whose document is not recorded (the crash came between the
  claim and the signed step): the document is issued again under the same number, or, if the
  ledger already records it (the crash came after the step), the claim is marked recorded;
- issues the result of every approved case that has none (the crash came before the claim);

:func:`document_findings` is the audit's side: a recorded document whose file is not kept
(``result.file_missing`` / ``document.file_missing``), a 文号 given twice, or a gap in an
office's numbers that no claim in flight explains.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from api.issuing import DOCUMENT_STEPS, RecordedDocument, document_numbers
from api.org import OrgHome
from api.sealing import Sealer, seal_document
from ledger.errors import CaseLedgerError
from ledger.store.application import CaseLedger
from ledger.store.audit import Finding
from ledger.store.doc_numbers import Claim

__all__ = [
    "RecoveryReport",
    "RecoveryRunner",
    "document_findings",
    "file_matches",
    "recover",
    "settle_claims",
]

_log = logging.getLogger("caseledger.recovery")

# Issues the document of one claim again (by type); notices register theirs in api.notices.
Reissuer = Callable[[OrgHome, CaseLedger, Claim, datetime, Sealer], object]


@dataclass
class RecoveryReport:
    finished: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.finished or self.issued)


def file_matches(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def recover(
    home: OrgHome,
    ledger: CaseLedger,
    *,
    now: datetime,
    awaiting: Iterable[str] | None = None,
    sealer: Sealer = seal_document,
) -> RecoveryReport:
    """One pass (see the module docstring). ``awaiting``: the approved cases without a result
    (from the read models); by default the ledger is read through to find them. ``sealer``
    draws and seals (a server's seal process, see api.sealing)."""
    from api.results import ensure_result

    report = RecoveryReport()
    for claim in document_numbers(ledger, home).pending():
        _finish_claim(home, ledger, claim, now, report, sealer)
    for stream in awaiting if awaiting is not None else _awaiting_from_ledger(ledger):
        try:
            if ensure_result(home, ledger, stream, now=now, sealer=sealer) is not None:
                report.issued.append(stream)
        except CaseLedgerError as exc:
            report.failed.append(f"{stream}: {exc.code}")
    return report


def settle_claims(
    home: OrgHome,
    ledger: CaseLedger,
    stream: str,
    *,
    now: datetime,
    sealer: Sealer = seal_document,
) -> None:
    """Finish the claims of one case left in flight (a client retrying after a crash)."""
    report = RecoveryReport()
    for claim in document_numbers(ledger, home).pending(stream):
        _finish_claim(home, ledger, claim, now, report, sealer)


def _finish_claim(
    home: OrgHome,
    ledger: CaseLedger,
    claim: Claim,
    now: datetime,
    report: RecoveryReport,
    sealer: Sealer,
) -> None:
    from api.results import ensure_result

    numbers = document_numbers(ledger, home)
    done = [
        d
        for _, d in _recorded(ledger, [claim.stream])
        if d.doc_type == claim.doc_type and d.answers == claim.answers
    ]
    label = f"{claim.doc_type} {claim.year}-{claim.number} {claim.stream}"
    try:
        if done:
            numbers.mark_recorded(claim, done[-1].sha256)
            report.finished.append(label)
        elif claim.doc_type == "approval":
            if ensure_result(home, ledger, claim.stream, now=now, sealer=sealer) is not None:
                report.issued.append(label)
        elif (reissue := _reissuer(claim.doc_type)) is not None:
            reissue(home, ledger, claim, now, sealer)
            report.issued.append(label)
    except CaseLedgerError as exc:
        report.failed.append(f"{label}: {exc.code}")
        _log.warning("document %s not recovered yet: %s", label, exc.code)


REISSUERS: dict[str, Reissuer] = {}


def _reissuer(doc_type: str) -> Reissuer | None:
    importlib.import_module("api.notices")  # registers the notice types' reissuers
    return REISSUERS.get(doc_type)


def _recorded(
    ledger: CaseLedger, streams: Iterable[str] | None = None
) -> Iterable[tuple[str, RecordedDocument]]:
    from api.issuing import recorded_documents

    if streams is None:
        streams = sorted({s for _, s, e in ledger.all_notifications() if e.type in DOCUMENT_STEPS})
    for stream in streams:
        for document in recorded_documents(ledger, stream):
            yield stream, document


def _awaiting_from_ledger(ledger: CaseLedger) -> list[str]:
    from api.results import awaits_result

    streams = {s for _, s, e in ledger.all_notifications() if e.type == "Decided"}
    return sorted(s for s in streams if awaits_result(ledger.case_state(s)))


def awaiting_from_read_models(engine: sa.Engine) -> list[str]:
    """Approved cases without a result, as the case summaries know them."""
    from ledger.store.read_models.tables import rm_cases

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rm_cases.c.stream).where(
                rm_cases.c.status == "decided", rm_cases.c.outcome == "approved"
            )
        ).all()
    return [str(row[0]) for row in rows]


def document_findings(home: OrgHome, ledger: CaseLedger) -> list[Finding]:
    """What the audit reports about the office's documents (see the module docstring)."""
    from api.results import kept_file

    findings: list[Finding] = []
    numbers: dict[tuple[str, int], dict[int, RecordedDocument]] = defaultdict(dict)
    for stream, document in _recorded(ledger):
        if kept_file(home, stream, document) is None:
            code = (
                "result.file_missing"
                if document.doc_type == "approval"
                else "document.file_missing"
            )
            findings.append(
                Finding(
                    stream,
                    document.envelope.seq,
                    code,
                    f"{document.doc_type} {document.sha256[:16]}… is not kept",
                )
            )
        numbering = document.envelope.body.get("numbering")
        if isinstance(numbering, dict):
            key = (document.doc_type, int(numbering.get("year", 0)))
            seen = numbers[key]
            number = int(numbering.get("number", 0))
            if number in seen and seen[number].answers != document.answers:
                findings.append(
                    Finding(
                        stream,
                        document.envelope.seq,
                        "document.number_duplicate",
                        f"{document.document_number} was given before",
                    )
                )
            seen[number] = document
    return findings + _gaps(home, ledger, numbers)


def _gaps(
    home: OrgHome, ledger: CaseLedger, numbers: dict[tuple[str, int], dict[int, RecordedDocument]]
) -> list[Finding]:
    in_flight = {(c.doc_type, c.year, c.number) for c in document_numbers(ledger, home).pending()}
    findings = []
    for (doc_type, year), seen in sorted(numbers.items()):
        missing = [
            n
            for n in range(1, max(seen) + 1)
            if n not in seen and (doc_type, year, n) not in in_flight
        ]
        if missing:
            findings.append(
                Finding(
                    f"documents:{doc_type}:{year}",
                    0,
                    "document.number_gap",
                    f"no document holds number(s) {missing[:10]} of {year}",
                )
            )
    return findings


class RecoveryRunner:
    """Runs :func:`recover` now and then every ``interval`` seconds in a daemon thread."""

    def __init__(self, run: Callable[[], RecoveryReport], interval: float) -> None:
        self._run = run
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="caseledger-recovery", daemon=True)

    def start(self) -> RecoveryReport:
        report = self._once()
        if self._interval > 0:
            self._thread.start()
        return report

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._once()

    def _once(self) -> RecoveryReport:
        try:
            report = self._run()
        except Exception:  # a failing pass must not end the schedule; the next one retries
            _log.exception("document recovery pass failed")
            return RecoveryReport(failed=["recovery.failed"])
        if report.changed or report.failed:
            _log.info(
                "document recovery: %d finished, %d issued, %d failed",
                len(report.finished),
                len(report.issued),
                len(report.failed),
            )
        return report
