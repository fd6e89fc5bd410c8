"""Issue a sealed result: receipt → render → attach → seal → ResultIssued.

The orchestration lives at the outer layer because it joins the ledger (application and
log) with the seal machinery; ``seals/`` itself stays free of the ledger's storage.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pyhanko.sign.timestamps import TimeStamper

from api.org import SEAL_SERVICE, OrgHome
from ledger.client import Signer, StreamWriter
from ledger.clock import china_date
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.state import CaseState
from ledger.store.application import AfterAppend, AppendResult, CaseLedger
from ledger.store.bundles import build_receipt
from ledger.store.read_models.summary import case_number
from ledger.validity import validity_days
from seals import (
    FileKeySigner,
    ResultDocument,
    attach_receipt,
    keeps_pdf_version,
    render_result,
    seal_pdf,
)

__all__ = ["IssuedResult", "auto_issue", "issue_result", "result_path"]

_log = logging.getLogger("caseledger.results")


@dataclass(frozen=True, slots=True)
class IssuedResult:
    pdf: bytes
    sha256: str
    case_number: str
    appended: AppendResult


def issue_result(
    home: OrgHome,
    ledger: CaseLedger,
    stream: str,
    *,
    now: datetime,
    supersede: bool = False,
    timestamper: TimeStamper | None = None,
    document_number: str | None = None,
) -> IssuedResult:
    """Seal the result of an approved case and record ResultIssued with the file's hash.

    With ``supersede`` the case's document in force (issued, not yet delivered) is replaced
    by a new one whose ResultIssued names it (``supersedes``); its status then says so.
    ``timestamper`` (an RFC 3161 TSA, see :func:`seals.timestamper_for_url`) makes the seal
    PAdES-B-LT; ``document_number`` is the 文号 printed under the title and recorded in
    ResultIssued. Raises CaseLedgerError (``case.not_approved``) unless the case is decided
    and approved, SealError if rendering or sealing fails, and the ledger's errors if the
    append is refused.
    """
    state = ledger.case_state(stream)
    ready = state.status == "decided" or (supersede and state.status == "result_issued")
    if not ready or state.outcome != "approved" or state.applied_at is None:
        raise CaseLedgerError(
            f"{stream} is not an approved decision awaiting its result", code="case.not_approved"
        )
    receipt = build_receipt(ledger, ledger.log, stream, log_key=home.key("log"), now=now)
    # The QR code cannot carry the file's own hash (it is printed before sealing), so it
    # carries a fresh document id that ResultIssued records next to the hash.
    document_id = secrets.token_hex(16)
    document = result_document(
        home, ledger, state, receipt.envelopes, now, document_id, document_number
    )
    authority = home.seal_authority()
    signer = FileKeySigner.from_authority(authority)
    archival = keeps_pdf_version(signer)
    sealed = seal_pdf(
        attach_receipt(render_result(document), receipt.dumps(), at=now, archival=archival),
        signer,
        crl=authority.crl(now=now),
        timestamper=timestamper,
        at=now,
    )
    body: dict[str, Any] = {
        "pdf_sha256": sealed.sha256,
        "seal_serial": format(sealed.certificate_serial, "x"),
        "case_number": document.case_number,
        "document_id": document_id,
        **({"supersedes": state.result_sha256} if supersede else {}),
        **({"document_number": document_number} if document_number else {}),
    }
    writer = StreamWriter(stream, state.seq, state.head_hash)
    signer_of_record = Signer(SEAL_SERVICE, "seal_service", home.key("seal-service"))
    appended = ledger.append(writer.sign("ResultIssued", signer_of_record, now, body))
    return IssuedResult(
        sealed.pdf, hashlib.sha256(sealed.pdf).hexdigest(), document.case_number, appended
    )


def result_document(
    home: OrgHome,
    ledger: CaseLedger,
    state: CaseState,
    envelopes: Sequence[Envelope],
    now: datetime,
    document_id: str,
    document_number: str | None = None,
) -> ResultDocument:
    """What the decision letter of ``state`` says, every date a China date: issued on the
    China date of ``now``, applied and accepted on those of the signed steps."""
    decided = next(e for e in reversed(envelopes) if e.type == "Decided")
    accepted = next((e for e in envelopes if e.type == "Accepted"), None)
    applied_at = state.applied_at or decided.at
    matter = ledger.directory().matter_at(
        state.matter_code or "", state.matter_version or 0, applied_at
    )
    number = case_number(state.stream, applied_at)
    valid_from, valid_until = validity_days(decided.body.get("validity") or {})
    scope = decided.body.get("scope") or []
    return ResultDocument(
        case_number=number,
        applicant_name=str(state.applicant.get("name", "")),
        applicant_id_number=str(state.applicant.get("id_number", "")),
        applicant_kind=str(state.applicant.get("kind", "person")),
        matter_name=matter.name if matter else str(state.matter_code),
        matter_code=str(state.matter_code),
        decision_text=str(decided.body["decision"]),
        legal_basis=str(decided.body["legal_basis"]),
        organisation=home.org_name,
        issued_on=china_date(now),
        applied_on=china_date(applied_at),
        accepted_on=china_date(accepted.at) if accepted else None,
        verification_url=f"{home.public_base_url}/verify/{document_id}",
        valid_from=valid_from,
        valid_until=valid_until,
        document_number=document_number,
        licence_number=decided.body.get("licence_number"),
        scope=tuple(str(item) for item in scope),
        review_body=home.review_body,
        court=home.court,
    )


def results_folder(home: OrgHome) -> Path:
    return home.path / "results"


def result_path(home: OrgHome, stream: str) -> Path:
    """Where the sealed result of a case is kept (its hash is in the case's ResultIssued)."""
    return results_folder(home) / f"{stream.removeprefix('case:')}.pdf"


def auto_issue(
    home: OrgHome, clock: Callable[[], datetime], timestamper: TimeStamper | None = None
) -> AfterAppend:
    """An after-append hook: when a case reaches an approved decision of a matter that issues
    a sealed result, issue it at once (timestamped by ``timestamper`` when given) and keep
    the PDF in the organisation folder."""

    seal_key_id = home.key("seal-service").key_id

    def hook(ledger: CaseLedger, result: AppendResult) -> AppendResult:
        if result.replayed or not result.stream.startswith("case:"):
            return result
        record = ledger.directory().key(seal_key_id)
        if record is None or record.void_from is not None:
            return result  # this office's seal service is not enrolled: nothing to issue with
        state = ledger.case_state(result.stream)
        if state.status != "decided" or state.outcome != "approved" or state.applied_at is None:
            return result
        matter = ledger.directory().matter_at(
            state.matter_code or "", state.matter_version or 0, state.applied_at
        )
        if matter is None or not matter.seal_issued:
            return result
        try:
            issued = issue_result(home, ledger, result.stream, now=clock(), timestamper=timestamper)
        except CaseLedgerError as exc:
            # The decision is stored whatever happens here; a result that could not be issued
            # now (the seal service not enrolled, a revoked seal certificate…) is issued later
            # with `caseledger case issue` once that is mended.
            _log.warning(
                "no sealed result for %s yet: %s: %s", result.stream, exc.code, exc.message
            )
            return result
        path = result_path(home, result.stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(issued.pdf)
        return result

    return hook
