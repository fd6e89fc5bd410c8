"""The page a result's QR code opens: ``/verify/{document id or SHA-256}``.

Someone holding the paper copy scans the QR code and sees what the office says of that
document now — valid, revoked (when, why, by whom) or superseded — with issuer, matter,
outcome, validity and holder as printed (masked as the document masks), the signed steps (who
accepted, reviewed and approved, by name and role, in China time), the full hash to compare
with a file, and an upload to check the file itself. Everything comes from the signed status
statement and the case's own envelopes; an unknown id answers 404 like an unknown hash.
"""

from __future__ import annotations

import html
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep, public_rate
from api.errors import ApiError
from api.pages import OUTCOME_TEXT, SECURITY_HEADERS, render
from api.status import StatusAnswer, status_answer
from ledger.clock import china_date_text, china_minute_text
from ledger.directory import DirectoryState
from ledger.envelope import Envelope, parse_time
from ledger.errors import CaseLedgerError
from ledger.steps import STEPS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_DOCUMENT_ID = re.compile(r"^[0-9a-f]{32}$")
STATUS_TEXT = {"valid": "有效", "revoked": "已撤销", "superseded": "已被更正文书替代"}
VERDICT_CLASS = {"valid": "PASSED", "revoked": "FAILED", "superseded": "FAILED"}
# The signed steps a document's page lists; their names are the step table's.
SHOWN_STEPS = frozenset(
    {"Applied", "Accepted", "Reviewed", "Decided", "ResultIssued", "Delivered", "ResultRevoked"}
)
ROLE_TEXT = {
    "applicant": "申请人",
    "handler": "受理人",
    "reviewer": "审查人",
    "approver": "审批人",
    "seal_service": "电子印章服务",
}


@router.get("/verify/{ref}", response_class=HTMLResponse, dependencies=[Depends(public_rate)])
def status_page(ref: Annotated[str, Path(max_length=64)], services: ServicesDep) -> HTMLResponse:
    """The document's status page (where its QR code points)."""
    try:
        answer = status_answer(services, _sha256_of(services, ref.lower()))
    except ApiError as exc:
        if exc.status not in (404, 422):
            raise
        body = render("status_missing.html", title="未找到该文件", org_name=services.trust.org_name)
        return HTMLResponse(body, status_code=404, headers=SECURITY_HEADERS)
    page = render(
        "status.html",
        title="电子证照状态",
        org_name=services.trust.org_name,
        scripts=("common.js", "public.js"),
        **_parts(answer, services.ledger.directory(), services.trust.org_name),
    )
    return HTMLResponse(page, headers=SECURITY_HEADERS)


def _sha256_of(services: Any, ref: str) -> str:
    """A QR code carries the document id; a link may carry the full hash."""
    if _DOCUMENT_ID.fullmatch(ref):
        services.read_models.catch_up(services.ledger)
        return str(services.read_models.result_of_document(ref) or "")
    return ref


def _parts(answer: StatusAnswer, directory: DirectoryState, org_name: str) -> dict[str, str]:
    statement = answer.statement
    envelopes = answer.envelopes
    steps = [e for e in envelopes if e.type in SHOWN_STEPS]
    return {
        "status": statement.status,
        "verdict": VERDICT_CLASS[statement.status],
        "status_text": html.escape(f"该文书{STATUS_TEXT[statement.status]}"),
        "ending": _ending(answer),
        "rows": "".join(_rows(answer, directory, org_name)),
        "steps": "".join(_step(e, directory) for e in steps),
        "sha256": statement.sha256,
    }


def _ending(answer: StatusAnswer) -> str:
    ending = answer.statement.ending
    if ending is None:
        return ""
    at = china_minute_text(ending.at)
    who = f"{ending.decided_by}（{ROLE_TEXT.get(ending.role, ending.role)}）"
    if ending.successor:
        text = f"{at} 由 {who} 出具更正文书替代，新文书哈希 {ending.successor}。"
    else:
        text = f"{at} 由 {who} 决定撤销。理由：{ending.reason}；依据：{ending.legal_basis}。"
    return f'<p class="notice bad" id="ending">{html.escape(text)}</p>'


def _rows(answer: StatusAnswer, directory: DirectoryState, org_name: str) -> list[str]:
    first = answer.envelopes[0]
    decided = next((e for e in answer.envelopes if e.type == "Decided"), None)
    applicant = first.body.get("applicant") or {}
    matter = first.body.get("matter") or {}
    known = directory.matter_at(
        str(matter.get("code", "")), int(matter.get("version", 0)), first.at
    )
    outcome = decided.body.get("outcome") if decided else None
    return [
        _row("状态", STATUS_TEXT[answer.statement.status]),
        _row("出具机关", org_name),
        _row("受理号", answer.statement.case_number),
        _row("事项", f"{matter.get('code', '')} {known.name if known else ''}".strip()),
        _row("办理结果", OUTCOME_TEXT.get(str(outcome), str(outcome or ""))),
        _row("有效期", _validity(decided)),
        _row("持证人（按文书所印）", _holder(applicant)),
        _row("出具时间", china_minute_text(answer.statement.issued_at) + " 北京时间"),
        _row("文件 SHA-256", answer.statement.sha256),
    ]


def _row(label: str, value: str) -> str:
    shown = html.escape(value) if value else "—"
    return f"<tr><th>{html.escape(label)}</th><td>{shown}</td></tr>"


def _validity(decided: Envelope | None) -> str:
    validity = (decided.body.get("validity") if decided else None) or {}
    try:
        start = china_date_text(parse_time(validity["from"]))
        end = china_date_text(parse_time(validity["until"])) if validity.get("until") else "长期"
    except (KeyError, TypeError, CaseLedgerError):
        return ""
    return f"{start} 至 {end}"


def _holder(applicant: dict[str, Any]) -> str:
    name = str(applicant.get("name", ""))
    if applicant.get("kind") == "organisation" or not name:
        return name
    return name[0] + "*" * (len(name) - 1)  # a person's name is masked, as on the document


def _step(env: Envelope, directory: DirectoryState) -> str:
    person = directory.staff_at(env.actor.id, env.at)
    name = person.name if person is not None else ROLE_TEXT.get(env.actor.role, env.actor.role)
    if env.actor.role == "applicant":
        name = "申请人"
    cells = (
        STEPS[env.type].zh,
        name,
        ROLE_TEXT.get(env.actor.role, env.actor.role),
        china_minute_text(env.at),
    )
    inner = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    return f'<tr data-step="{env.type}">{inner}</tr>'
