"""Issue a sealed result: 文号 → receipt → render → attach → seal → file → ResultIssued.

The orchestration lives at the outer layer because it joins the ledger (application and
log) with the seal machinery; ``seals/`` itself stays free of the ledger's storage. The
order of the steps and why it survives a crash are in :mod:`api.issuing`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyhanko.sign.timestamps import TimeStamper

from api.issuer_lock import IssuerTurn, alone
from api.issuing import (
    DocumentDraft,
    RecordedDocument,
    document_path,
    issue_document,
    recorded_documents,
)
from api.org import SEAL_SERVICE, OrgHome
from api.personal import applicant_number
from api.sealing import Drawing, Sealer, seal_document
from ledger.clock import china_date
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.state import CaseState
from ledger.store.application import AppendResult, CaseLedger
from ledger.store.bundles import build_receipt
from ledger.store.followers import Handler
from ledger.store.read_models.summary import case_number
from ledger.validity import validity_days
from seals import ResultDocument, render_result

__all__ = [
    "IssuedResult",
    "auto_issue",
    "awaits_result",
    "calls_for_result",
    "ensure_result",
    "issue_result",
    "legacy_result_path",
    "result_file",
]

_log = logging.getLogger("caseledger.results")


@dataclass(frozen=True, slots=True)
class IssuedResult:
    pdf: bytes
    sha256: str
    case_number: str
    appended: AppendResult
    path: Path
    document_number: str


def issue_result(
    home: OrgHome,
    ledger: CaseLedger,
    stream: str,
    *,
    now: datetime,
    supersede: bool = False,
    timestamper: TimeStamper | None = None,
    sealer: Sealer = seal_document,
) -> IssuedResult:
    """Seal the result of an approved case and record ResultIssued with the file's hash.

    With ``supersede`` the case's document in force (issued, not yet delivered) is replaced
    by a new one whose ResultIssued names it (``supersedes``) and keeps its 文号.
    ``timestamper`` (an RFC 3161 TSA, see :func:`seals.timestamper_for_url`) makes the seal
    PAdES-B-LT.

    Raises CaseLedgerError (``case.not_approved``) unless the case is decided and approved,
    SealError if rendering or sealing fails, and the ledger's errors if the append is refused.
    """
    state = ledger.case_state(stream)
    ready = awaits_result(state) or (
        supersede and state.status == "result_issued" and state.outcome == "approved"
    )
    if not ready:
        raise CaseLedgerError(
            f"{stream} is not an approved decision awaiting its result", code="case.not_approved"
        )
    envelopes = list(ledger.events(stream))
    decided = next(e for e in reversed(envelopes) if e.type == "Decided")
    accepted = next((e for e in envelopes if e.type == "Accepted"), None)
    number = case_number(stream, state.applied_at or decided.at)
    # The QR code cannot carry the file's own hash (it is printed before sealing), so it
    # carries a fresh document id that ResultIssued records next to the hash.
    document_id = secrets.token_hex(16)

    def render(document_number: str, at: datetime) -> Drawing:
        url = f"{home.public_base_url}/verify/{document_id}"
        signed = (decided, accepted)
        return Drawing(
            render_result, _document(home, ledger, state, signed, (document_number, url), at)
        )

    draft = DocumentDraft(
        stream=stream,
        doc_type="approval",
        answers=decided,
        step="ResultIssued",
        render=render,
        receipt=lambda at: build_receipt(
            ledger, ledger.kept_log(), stream, log_key=home.key("log"), now=at
        ),
        body={
            "case_number": number,
            "document_id": document_id,
            **({"supersedes": state.result_sha256} if supersede else {}),
        },
    )
    issued = issue_document(home, ledger, draft, now=now, timestamper=timestamper, sealer=sealer)
    return IssuedResult(
        issued.pdf, issued.sha256, number, issued.appended, issued.path, issued.document_number
    )


def calls_for_result(envelope: Envelope) -> bool:
    """Whether ``envelope`` may leave its case awaiting a sealed result (an approval); a
    result that could not be issued then is taken up by the recovery (see api.recovery)."""
    return envelope.type == "Decided" and envelope.body.get("outcome") == "approved"


def awaits_result(state: CaseState) -> bool:
    return (
        state.status == "decided" and state.outcome == "approved" and state.applied_at is not None
    )


def _document(
    home: OrgHome,
    ledger: CaseLedger,
    state: CaseState,
    signed: tuple[Envelope, Envelope | None],
    numbering: tuple[str, str],
    at: datetime,
) -> ResultDocument:
    """What the decision letter says, every date a China date: issued on the China date of
    ``at``, applied and accepted on those of the signed steps. ``signed`` is (the Decided
    step, the Accepted step if any); ``numbering`` is (文号, the URL its QR code carries)."""
    decided, accepted = signed
    document_number, verification_url = numbering
    applied_at = state.applied_at or decided.at
    matter = ledger.directory().matter_at(
        state.matter_code or "", state.matter_version or 0, applied_at
    )
    valid_from, valid_until = validity_days(decided.body.get("validity") or {})
    scope = decided.body.get("scope") or []
    return ResultDocument(
        case_number=case_number(state.stream, applied_at),
        applicant_name=str(state.applicant.get("name", "")),
        applicant_id_number=_printed_number(ledger, state, at),
        applicant_kind=str(state.applicant.get("kind", "person")),
        matter_name=matter.name if matter else str(state.matter_code),
        matter_code=str(state.matter_code),
        decision_text=str(decided.body["decision"]),
        legal_basis=str(decided.body["legal_basis"]),
        organisation=home.org_name,
        issued_on=china_date(at),
        applied_on=china_date(applied_at),
        accepted_on=china_date(accepted.at) if accepted else None,
        verification_url=verification_url,
        valid_from=valid_from,
        valid_until=valid_until,
        document_number=document_number,
        licence_number=decided.body.get("licence_number"),
        scope=tuple(str(item) for item in scope),
        review_body=home.review_body,
        court=home.court,
    )


def _printed_number(ledger: CaseLedger, state: CaseState, now: datetime) -> str:
    """The number the document prints (masked by the renderer): an organisation's credit code,
    or a natural applicant's identity number read from the private table (the read recorded)."""
    if state.applicant.get("kind") == "organisation":
        return str(state.applicant.get("id_number", ""))
    number = applicant_number(
        ledger, state, reader=SEAL_SERVICE, purpose="result document", now=now
    )
    return number or ""


def ensure_result(
    home: OrgHome,
    ledger: CaseLedger,
    stream: str,
    *,
    now: datetime,
    timestamper: TimeStamper | None = None,
    sealer: Sealer = seal_document,
) -> IssuedResult | None:
    """Issue the result of a case that awaits one (approved, of a matter that issues a sealed
    result, none recorded yet), sealed by ``sealer``; None if the case needs none."""
    state = ledger.case_state(stream)
    if not awaits_result(state):
        return None
    matter = ledger.directory().matter_at(
        state.matter_code or "", state.matter_version or 0, state.applied_at or now
    )
    if matter is None or not matter.seal_issued:
        return None
    return issue_result(home, ledger, stream, now=now, timestamper=timestamper, sealer=sealer)


def legacy_result_path(home: OrgHome, stream: str) -> Path:
    """Where earlier releases kept a case's sealed result (still read, never written)."""
    return home.path / "results" / f"{stream.removeprefix('case:')}.pdf"


def result_file(home: OrgHome, ledger: CaseLedger, stream: str) -> Path | None:
    """The kept file of the case's recorded result (the last approval document); None if
    none is recorded or its file is not kept (see api.recovery for re-deriving it)."""
    results = [d for d in recorded_documents(ledger, stream) if d.doc_type == "approval"]
    return kept_file(home, stream, results[-1]) if results else None


def kept_file(home: OrgHome, stream: str, document: RecordedDocument) -> Path | None:
    """The file holding exactly the recorded document, where this office keeps it."""
    from api.recovery import file_matches

    for path in (
        document_path(home, stream, document.doc_type, document.sha256),
        legacy_result_path(home, stream),
    ):
        if file_matches(path, document.sha256):
            return path
    return None


def auto_issue(
    home: OrgHome,
    clock: Callable[[], datetime],
    timestamper: TimeStamper | None = None,
    *,
    turns: IssuerTurn = alone,
    sealer: Sealer = seal_document,
) -> Handler:
    """An after-append hook: when a case reaches an approved decision of a matter that issues
    a sealed result, issue it at once. A retried decision (answered "replayed") that has no
    result yet — the first attempt was cut short by a crash — gets it too. It issues only in
    its process's turn for the case (see :mod:`api.issuer_lock`), sealed by ``sealer``."""

    from api.recovery import settle_claims

    seal_key_id = home.key("seal-service").key_id

    def hook(ledger: CaseLedger, result: AppendResult) -> AppendResult:
        if not result.stream.startswith("case:"):
            return result
        # A replayed step may be a decision whose result a crash cut short (see above).
        if not result.replayed and not calls_for_result(result.envelope):
            return result
        record = ledger.directory().key(seal_key_id)
        if record is None or record.void_from is not None:
            return result  # this office's seal service is not enrolled: nothing to issue with
        with turns(result.stream) as ours:
            if not ours:
                return result
            try:
                if result.replayed:
                    settle_claims(home, ledger, result.stream, now=clock(), sealer=sealer)
                ensure_result(
                    home,
                    ledger,
                    result.stream,
                    now=clock(),
                    timestamper=timestamper,
                    sealer=sealer,
                )
            except CaseLedgerError as exc:
                # The decision is stored whatever happens here; the recovery at start and on
                # its schedule issues the result once the cause is mended (see api.recovery).
                _log.warning("no sealed result for %s yet: %s", result.stream, exc.code)
        return result

    return hook
