"""Issue the sealed notices of a case (受理通知书, 补正材料通知书, 不予受理通知书, 延期通知书,
不予行政许可决定书, 撤销行政许可决定书), each recorded with a signed DocumentIssued.

A notice is drawn from the signed envelope it answers and the office's template for its type
(``HOME/templates/<type>.txt``, else the shipped one), carries the receipt of the case's steps
up to that envelope, and goes through the same claim → seal → durable file → record order as
the result (api/issuing.py), so a crash leaves nothing half issued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from api.auth import query_code
from api.issuer_lock import IssuerTurn, alone
from api.issuing import DocumentDraft, IssuedDocument, issue_document, recorded_documents
from api.office_documents import DOCUMENT_KINDS, OfficeDocuments
from api.org import OrgHome
from api.recovery import REISSUERS
from api.sealing import Drawing, Sealer, seal_document
from ledger.calendar import WorkCalendar
from ledger.clock import china_date, china_date_text
from ledger.deadline import case_deadline
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.state import CaseState
from ledger.store.application import AppendResult, CaseLedger
from ledger.store.bundles import build_notice_receipt, build_receipt
from ledger.store.doc_numbers import Claim
from ledger.store.followers import Handler
from ledger.store.read_models.summary import case_number
from ledger.timelimits import add_working_days
from seals.notices import NoticeDocument, default_template, fill_template, render_notice

__all__ = [
    "NOTICE_OUTCOMES",
    "NOTICE_TYPES",
    "auto_notices",
    "issue_notice",
    "notice_due",
]

_log = logging.getLogger("caseledger.notices")

# The notice types and what each prints after 办理结果 (the verifier matches it).
NOTICE_OUTCOMES = {
    "acceptance": "予以受理",
    "supplement": "需补正材料",
    "not_accepted": "不予受理",
    "extension": "延长办理期限",
    "denial": "不予行政许可",
    "revocation": "撤销行政许可",
}
NOTICE_TYPES = tuple(NOTICE_OUTCOMES)


def notice_due(ledger: CaseLedger, stream: str, doc_type: str) -> Envelope | None:
    """The envelope a notice of ``doc_type`` would answer (the latest such step of the case),
    if the case has one and that notice is not recorded yet."""
    if doc_type not in NOTICE_OUTCOMES:
        raise CaseLedgerError(f"no notice of type {doc_type}", code="document.unknown_type")
    step = DOCUMENT_KINDS[doc_type].answers
    answered = [e for e in ledger.events(stream) if e.type == step]
    if doc_type == "denial":
        answered = [e for e in answered if e.body.get("outcome") == "denied"]
    if not answered:
        return None
    done = {d.answers for d in recorded_documents(ledger, stream) if d.doc_type == doc_type}
    return None if answered[-1].hash in done else answered[-1]


def issue_notice(
    home: OrgHome,
    ledger: CaseLedger,
    stream: str,
    doc_type: str,
    *,
    now: datetime,
    sealer: Sealer = seal_document,
) -> IssuedDocument:
    """Seal and record the notice of ``doc_type``; CaseLedgerError ``document.not_due`` if the
    case has not taken the step it answers, or the notice was issued already."""
    answers = notice_due(ledger, stream, doc_type)
    if answers is None:
        raise CaseLedgerError(
            f"{stream} has no step awaiting a {doc_type} notice", code="document.not_due"
        )
    state = ledger.case_state(stream)
    kind = DOCUMENT_KINDS[doc_type]
    office = OfficeDocuments.load(home.path, home.org_name)
    values = _values(home, ledger, state, answers, office)
    template = _template(home, doc_type)

    def render(document_number: str, at: datetime) -> Drawing:
        document = NoticeDocument(
            title=kind.title,
            outcome_text=NOTICE_OUTCOMES[doc_type],
            organisation=home.org_name,
            document_number=document_number,
            case_number=values["case_number"],
            paragraphs=fill_template(template, values),
            issued_on=china_date(at),
            verification_url=f"{home.public_base_url}/verify?case={values['case_number']}",
        )
        return Drawing(render_notice, document)

    draft = DocumentDraft(
        stream=stream,
        doc_type=doc_type,
        answers=answers,
        step="DocumentIssued",
        render=render,
        receipt=_receipt_maker(home, ledger, stream, answers),
    )
    return issue_document(home, ledger, draft, now=now, sealer=sealer)


def _receipt_maker(home: OrgHome, ledger: CaseLedger, stream: str, answers: Envelope) -> Any:
    key = home.key("log")
    if answers.type == "Decided":
        return lambda at: build_receipt(ledger, ledger.kept_log(), stream, log_key=key, now=at)
    return lambda at: build_notice_receipt(
        ledger, ledger.kept_log(), stream, answers.hash, log_key=key, now=at
    )


def _template(home: OrgHome, doc_type: str) -> str:
    own = home.path / "templates" / f"{doc_type}.txt"
    return own.read_text("utf-8") if own.is_file() else default_template(doc_type)


def _values(
    home: OrgHome,
    ledger: CaseLedger,
    state: CaseState,
    answers: Envelope,
    office: OfficeDocuments,
) -> dict[str, str]:
    """Every value a template may name (docs/seals.md lists them)."""
    applied = state.applied_at or answers.at
    matter = ledger.directory().matter_at(
        state.matter_code or "", state.matter_version or 0, applied
    )
    body = answers.body
    values = {
        "applicant": str(state.applicant.get("name", "")),
        "matter": matter.name if matter else str(state.matter_code),
        "case_number": case_number(state.stream, applied),
        "query_code": query_code(home.server_secret(), state.stream.removeprefix("case:")),
        "organisation": home.org_name,
        "applied_date": china_date_text(applied),
        "accepted_date": china_date_text(state.accepted_at) if state.accepted_at else "",
        "decided_date": china_date_text(state.decided_at) if state.decided_at else "",
        "review_body": office.review_body or "本级人民政府",
        "court": office.court or "有管辖权的人民法院",
        "contact": office.contact or "见本机关政务服务窗口公告",
        "reason": str(body.get("reason", "")),
        "legal_basis": str(body.get("legal_basis", "")),
        "decision": str(body.get("decision", "")),
        "notice": str(body.get("notice", "")),
        "items": "；".join(f"{i}. {item}" for i, item in enumerate(body.get("items") or [], 1)),
    }
    calendar = ledger.directory().work_calendar()
    return values | _deadlines(state, answers, matter, calendar) | _extension(ledger, answers)


def _extension(ledger: CaseLedger, answers: Envelope) -> dict[str, str]:
    """What a 延期通知书 tells: the days added and both deadlines as they stand after the
    延期, counted by the one deadline function over the case's steps up to it (the verifier's
    ``case.deadline`` gives the same dates)."""
    found = {"extended_days": "", "new_committed_date": "", "new_statutory_date": ""}
    if answers.type != "Extended":
        return found
    steps = list(ledger.events(answers.stream, lte=answers.seq))
    timing = case_deadline(steps, ledger.directory(), now=answers.at)
    found["extended_days"] = str(answers.body.get("days", ""))
    if timing is not None:
        for name, day, days in (
            ("new_committed_date", timing.committed_deadline, timing.committed_days),
            ("new_statutory_date", timing.statutory_deadline, timing.statutory_days),
        ):
            # A year not yet published is written as the count, never guessed.
            found[name] = china_date_text(day) if day else f"受理之日起第{days}个工作日"
    return found


def _deadlines(
    state: CaseState, answers: Envelope, matter: Any, calendar: WorkCalendar
) -> dict[str, str]:
    accepted = china_date(state.accepted_at) if state.accepted_at else None
    found = {"committed_date": "", "statutory_date": "", "supplement_deadline": ""}
    if accepted is not None and matter is not None:
        # Counted on the signed calendar; a date it cannot give yet (a year not published)
        # is written as the count of working days, never guessed.
        for name, days in (("committed_date", matter.committed_days),
                           ("statutory_date", matter.statutory_days)):  # fmt: skip
            day = add_working_days(accepted, days, (), calendar)
            found[name] = china_date_text(day) if day else f"受理之日起第{days}个工作日"
    if answers.type == "SupplementRequested":
        # The law gives the applicant no fixed term; offices commonly allow thirty days.
        until = china_date(answers.at) + timedelta(days=30)
        found["supplement_deadline"] = china_date_text(until)
    return found


def _reissue(
    home: OrgHome, ledger: CaseLedger, claim: Claim, now: datetime, sealer: Sealer
) -> object:
    if notice_due(ledger, claim.stream, claim.doc_type) is None:
        return None
    return issue_notice(home, ledger, claim.stream, claim.doc_type, now=now, sealer=sealer)


for _type in NOTICE_TYPES:
    REISSUERS[_type] = _reissue

# Which notice each step calls for, when the office issues them as the steps come in.
_NOTICE_FOR_STEP = {
    "Accepted": "acceptance",
    "SupplementRequested": "supplement",
    "NotAccepted": "not_accepted",
    "ResultRevoked": "revocation",
    "Extended": "extension",
}


def auto_notices(
    home: OrgHome,
    clock: Callable[[], datetime],
    *,
    turns: IssuerTurn = alone,
    sealer: Sealer = seal_document,
) -> Handler:
    """An after-append hook (with ``auto_notices`` in the office's settings): issue the notice a
    step calls for as soon as the step is stored, in this process's turn for the case (see
    :mod:`api.issuer_lock`), sealed by ``sealer``."""

    def hook(ledger: CaseLedger, result: AppendResult) -> AppendResult:
        if not result.stream.startswith("case:"):
            return result
        step = result.envelope
        doc_type = _NOTICE_FOR_STEP.get(step.type)
        if step.type == "Decided" and step.body.get("outcome") == "denied":
            doc_type = "denial"
        if doc_type is None or notice_due(ledger, result.stream, doc_type) is None:
            return result
        with turns(result.stream) as ours:
            if not ours:
                return result
            try:
                issue_notice(home, ledger, result.stream, doc_type, now=clock(), sealer=sealer)
            except CaseLedgerError as exc:
                _log.warning("no %s notice for %s yet: %s", doc_type, result.stream, exc.code)
        return result

    return hook
