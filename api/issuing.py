"""Issue one sealed document of a case, in an order that survives a crash at any point.

1. claim the document's 文号 (ledger/store/doc_numbers.py): the same number on every retry;
2. render it, attach its receipt, seal it (PAdES);
3. write the file durably under ``documents/`` (temporary file, fsync, rename, fsync folder);
4. append the signed step that records it (ResultIssued or DocumentIssued: type, 文号, hash);
5. mark the claim recorded.

A crash before 4 leaves a claim and perhaps a file the ledger does not name: the recovery
(api/recovery.py) issues the document again under the same number and the stray file is
never served. A crash after 4 leaves a recorded document whose file is already on the disk.
The step is dated no earlier than the case's last step, so a signer whose clock runs ahead
(within the allowed skew) cannot push the seal service's step into ``chain.time_reversed``.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pyhanko.sign.timestamps import TimeStamper

from api.durable import crash_point, write_durably
from api.office_documents import OfficeDocuments
from api.org import SEAL_SERVICE, OrgHome
from api.sealing import Drawing, Sealer, SealJob, seal_document
from ledger.client import Signer, StreamWriter
from ledger.clock import china_date
from ledger.envelope import Envelope
from ledger.receipt import Receipt
from ledger.state import CaseState
from ledger.store.application import AppendResult, CaseLedger
from ledger.store.doc_numbers import DocumentNumbers

__all__ = [
    "DOCUMENT_STEPS",
    "DocumentDraft",
    "IssuedDocument",
    "RecordedDocument",
    "document_numbers",
    "document_path",
    "issue_document",
    "issue_time",
    "recorded_documents",
]

# The steps that record a sealed document of a case.
DOCUMENT_STEPS = ("ResultIssued", "DocumentIssued")
_NUMBERS: weakref.WeakKeyDictionary[CaseLedger, DocumentNumbers] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class DocumentDraft:
    """What one document type supplies: which step it answers, what it records, and what
    is drawn once its 文号 and time are known."""

    stream: str
    doc_type: str
    answers: Envelope
    step: str
    render: Callable[[str, datetime], Drawing]
    receipt: Callable[[datetime], Receipt]
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    pdf: bytes
    sha256: str
    path: Path
    document_number: str
    appended: AppendResult


@dataclass(frozen=True, slots=True)
class RecordedDocument:
    """A document as the ledger records it (the step that recorded it, parsed)."""

    doc_type: str
    sha256: str
    document_number: str
    answers: str
    envelope: Envelope


def issue_time(state: CaseState, now: datetime) -> datetime:
    """When the seal service signs: now, but never before the case's last step."""
    return max(now, state.last_at) if state.last_at is not None else now


def issue_document(
    home: OrgHome,
    ledger: CaseLedger,
    draft: DocumentDraft,
    *,
    now: datetime,
    timestamper: TimeStamper | None = None,
    sealer: Sealer = seal_document,
) -> IssuedDocument:
    """Claim, render, seal, keep and record one document (see the module docstring);
    ``timestamper`` (an RFC 3161 TSA) makes the seal PAdES-B-LT; ``sealer`` draws and seals
    (a server's does it in a process of its own, see :mod:`api.sealing`)."""
    state = ledger.case_state(draft.stream)
    at = issue_time(state, now)
    numbers = document_numbers(ledger, home)
    claim = numbers.claim(draft.doc_type, china_date(at).year, draft.stream, draft.answers.hash, at)
    office = OfficeDocuments.load(home.path, home.org_name)
    number = office.number_text(draft.doc_type, claim.year, claim.number)
    receipt = draft.receipt(at).dumps()
    sealed = sealer(SealJob(home.path, draft.render(number, at), receipt, at, timestamper))
    sha256 = hashlib.sha256(sealed.pdf).hexdigest()
    crash_point("document.before_file")
    path = document_path(home, draft.stream, draft.doc_type, sha256)
    write_durably(path, sealed.pdf)
    crash_point("document.before_record")
    body = {
        **draft.body,
        "document": draft.doc_type,
        "document_number": number,
        "numbering": {"year": claim.year, "number": claim.number},
        "answers": draft.answers.hash,
        "pdf_sha256": sha256,
        "seal_serial": format(sealed.certificate_serial, "x"),
    }
    appended = _record(home, ledger, state, draft.step, at, body)
    crash_point("document.after_record")
    numbers.mark_recorded(claim, sha256)
    return IssuedDocument(sealed.pdf, sha256, path, number, appended)


def _record(
    home: OrgHome,
    ledger: CaseLedger,
    state: CaseState,
    step: str,
    at: datetime,
    body: dict[str, Any],
) -> AppendResult:
    writer = StreamWriter(state.stream, state.seq, state.head_hash)
    signer = Signer(SEAL_SERVICE, "seal_service", home.key("seal-service"))
    return ledger.append(writer.sign(step, signer, at, body))


def document_numbers(ledger: CaseLedger, home: OrgHome) -> DocumentNumbers:
    """The office's 文号 claims, in the ledger's database (one handle per ledger)."""
    numbers = _NUMBERS.get(ledger)
    if numbers is None:
        engine = ledger.log.engine if ledger.log is not None else ledger.store.engine()
        numbers = _NUMBERS.setdefault(ledger, DocumentNumbers(engine, home.org))
    return numbers


def document_path(home: OrgHome, stream: str, doc_type: str, sha256: str) -> Path:
    """Where a sealed document is kept: by case, type and hash, so no two ever share a name."""
    return home.path / "documents" / stream.removeprefix("case:") / f"{doc_type}-{sha256}.pdf"


def recorded_documents(ledger: CaseLedger, stream: str) -> list[RecordedDocument]:
    """Every document the case's steps record, in order."""
    found = []
    for envelope in ledger.events(stream):
        if envelope.type not in DOCUMENT_STEPS:
            continue
        body = envelope.body
        found.append(
            RecordedDocument(
                doc_type=str(body.get("document", "approval")),
                sha256=str(body.get("pdf_sha256", "")),
                document_number=str(body.get("document_number", "")),
                answers=str(body.get("answers", "")),
                envelope=envelope,
            )
        )
    return found
