"""Server-rendered web pages for the public, staff and supervisors (Chinese labels).

- ``/public`` — look up a case by case number and query code (rendered here, works without
  JavaScript) and check a sealed result PDF (the page posts it to ``POST /v1/verify``);
  ``/verify?case=NUMBER``, where a result's QR code points, is the same page.
- ``/staff`` — staff choose themselves by name or 工号 and sign in with a key held by the
  browser (WebCrypto Ed25519: generated there, or imported from their key file, opened with
  its passphrase in the browser), read each case and sign its steps.
- ``/supervision`` — the supervisor's overdue and near-due lists and statistics.
- ``/admin`` — the admin console: staff, keys, grants and matters, each change a directory
  envelope signed in the browser by the admin's key.

The pages are plain HTML from ``api/templates`` with small scripts from ``api/static``; the
scripts only call the documented ``/v1`` API. Private keys never leave the browser: the
server sees challenges' signatures and signed envelopes, as from any other client. Pages are
sent with a Content-Security-Policy that allows scripts from this server only.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import ReadModelsDep, ServicesDep, public_rate
from api.errors import ApiError
from ledger.clock import china_minute_text
from ledger.steps import catalogue

__all__ = ["register_pages", "router"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(js|css)$")
MEDIA = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The workbench shows a case's files from blobs its own script made after checking their hash
# (api/static/materials.js): images and framed PDFs from blob: on that page only.
STAFF_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "img-src 'self' data:;", "img-src 'self' data: blob:; frame-src blob:;"
    ),
}
NOT_FOUND = '<p class="notice bad" id="case-result">未找到该办件：请核对受理号和查询密码。</p>'
OUTCOME_TEXT = {"approved": "准予许可", "denied": "不予许可"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=32)
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(
    name: str, *, title: str, org_name: str, scripts: tuple[str, ...] = (), **parts: str
) -> str:
    """The page ``name`` inside the layout. ``parts`` are HTML already escaped by the caller."""
    content = _template(name).safe_substitute(parts)
    tags = "".join(f'<script src="/static/{s}" defer></script>' for s in scripts)
    if scripts:
        tags = _steps_data() + tags
    return _template("layout.html").safe_substitute(
        title=html.escape(title), org_name=html.escape(org_name), content=content, scripts=tags
    )


@lru_cache(maxsize=1)
def _steps_data() -> str:
    """The step table as a JSON data block the page scripts read (names of steps and
    states), so the pages never keep a copy of their own. ``<`` is escaped so that no text
    in it can close the element."""
    data = json.dumps(catalogue(), ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    return f'<script type="application/json" id="caseledger-steps">{data}</script>'


def _signin_panel(heading: str, example: str) -> str:
    """The sign-in panel the staff and supervision pages share (keys held in the browser)."""
    return _template("signin.html").safe_substitute(
        heading=html.escape(heading), example=html.escape(example)
    )


def _page(body: str, status: int = 200, headers: dict[str, str] = SECURITY_HEADERS) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=headers)


@router.get("/", response_class=HTMLResponse)
def index(services: ServicesDep) -> HTMLResponse:
    """Where to go: public lookup, staff, supervision."""
    return _page(render("index.html", title="首页", org_name=services.trust.org_name))


def _row(label: str, value: str | None) -> str:
    shown = html.escape(value) if value else "—"
    return f"<tr><th>{html.escape(label)}</th><td>{shown}</td></tr>"


def _day(text: str | None) -> str | None:
    """A UTC time from the API (``…Z``) as China time, where the office works."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return china_minute_text(at)


def _public_result(found: Any) -> str:
    status = RESULT_STATUS_TEXT.get(found.result_status or "", found.result_status)
    rows = [
        _row("受理号", found.case_number),
        _row("事项", found.matter_name),
        _row("办理单位", found.unit),
        _row("申请人", found.applicant),
        _row("办理状态", found.status_text),
        _row("申请时间", _day(found.applied_at)),
        _row("受理时间", _day(found.accepted_at)),
        _row("决定时间", _day(found.decided_at)),
        _row("办理结果", OUTCOME_TEXT.get(found.outcome or "", found.outcome)),
        _row("证照状态", status),
        _row("承诺办结期限", found.committed_deadline),
    ]
    parts = [f'<table class="detail">{"".join(rows)}</table>', *_told(found)]
    return f'<div id="case-result">{"".join(parts)}</div>'


RESULT_STATUS_TEXT = {"valid": "有效", "revoked": "已撤销", "superseded": "已被更正文书替代"}
DELIVERY_OUTCOME_TEXT = {"received": "已签收", "returned": "已退回"}


def _told(found: Any) -> list[str]:
    """What the applicant is told beyond the summary: 补正 items, the reason of a refusal,
    the delivery, the documents to download, and the timeline of steps."""
    esc = html.escape
    parts = []
    if found.supplement_items:
        items = "".join(f"<li>{esc(item)}</li>" for item in found.supplement_items)
        parts.append(
            f'<div class="notice" id="supplement"><p>请一次性补正以下材料：</p>'
            f"<ul>{items}</ul></div>"
        )
    if found.refusal:
        parts.append(f'<p class="notice bad" id="refusal">理由：{esc(found.refusal)}</p>')
    if found.delivery:
        d = found.delivery
        rows = [
            _row("送达方式", d.channel_text),
            _row("邮寄单位", d.carrier),
            _row("运单号", d.tracking_number),
            _row("签收情况", DELIVERY_OUTCOME_TEXT.get(d.outcome or "", d.outcome or "")),
        ]
        parts.append(f'<h3>送达</h3><table class="detail" id="delivery">{"".join(rows)}</table>')
    if found.documents:
        items = "".join(
            f'<tr data-document="{esc(doc.type)}"><td><a href="{esc(doc.url)}" download>'
            f"{esc(doc.title)}</a></td><td>{esc(doc.document_number)}</td>"
            f"<td>{esc(doc.issued_china)}</td>"
            f"<td>{esc(RESULT_STATUS_TEXT.get(doc.status or '', ''))}</td></tr>"
            for doc in found.documents
        )
        head = "<tr><th>文书</th><th>文号</th><th>出具时间（北京时间）</th><th>状态</th></tr>"
        parts.append(
            f'<h3>文书下载</h3><table class="list" id="documents"><thead>{head}</thead>'
            f"<tbody>{items}</tbody></table>"
        )
    steps = "".join(
        f'<tr data-step="{esc(step.step)}"><td>{esc(step.name)}</td>'
        f"<td>{esc(step.at_china)}</td><td>{esc(step.detail)}</td></tr>"
        for step in found.timeline
    )
    head = "<tr><th>步骤</th><th>时间（北京时间）</th><th>说明</th></tr>"
    parts.append(
        f'<h3>办理过程</h3><table class="list" id="timeline"><thead>{head}</thead>'
        f"<tbody>{steps}</tbody></table>"
    )
    return parts


@router.get("/public", response_class=HTMLResponse, dependencies=[Depends(public_rate)])
def public_page(
    services: ServicesDep,
    read_models: ReadModelsDep,
    number: Annotated[str, Query(max_length=48)] = "",
    code: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    """Case lookup (办件查询) by number and query code, and the sealed-PDF check."""
    from api import service

    result, status = "", 200
    if number or code:
        try:
            result = _public_result(service.public_case(services, number.strip(), code.strip()))
        except ApiError as exc:
            if exc.status != 404:
                raise
            status = 404
            result = (
                '<p class="notice bad" id="case-result">未找到该办件：请核对受理号和查询密码。</p>'
            )
    body = render(
        "public.html",
        title="办件查询与证照核验",
        org_name=services.trust.org_name,
        scripts=("common.js", "public.js"),
        number=html.escape(number, quote=True),
        code=html.escape(code, quote=True),
        result=result,
    )
    return _page(body, status)


@router.get("/verify", response_class=HTMLResponse, dependencies=[Depends(public_rate)])
def verify_page(
    services: ServicesDep,
    case: Annotated[str, Query(max_length=48)] = "",
) -> HTMLResponse:
    """Where a result's QR code points (``/verify?case=NUMBER``): the public page with the case
    number filled in, to check the PDF or look the case up with its query code."""
    body = render(
        "public.html",
        title="办件查询与证照核验",
        org_name=services.trust.org_name,
        scripts=("common.js", "public.js"),
        number=html.escape(case, quote=True),
        code="",
        result="",
    )
    return _page(body)


@router.get("/staff", response_class=HTMLResponse)
def staff_page(services: ServicesDep) -> HTMLResponse:
    """Staff workbench: sign in with the browser's key, queues, signing steps."""
    body = render(
        "staff.html",
        title="工作人员办理",
        org_name=services.trust.org_name,
        scripts=("sealed.js", "common.js", "materials.js", "staff.js"),
        signin=_signin_panel("登录", "staff:wang.li"),
    )
    return _page(body, headers=STAFF_HEADERS)


@router.get("/supervision", response_class=HTMLResponse)
def supervision_page(services: ServicesDep) -> HTMLResponse:
    """E-supervision (电子监察): overdue and near-due cases, on-time statistics."""
    body = render(
        "supervision.html",
        title="电子监察",
        org_name=services.trust.org_name,
        scripts=("sealed.js", "common.js", "supervision.js", "reform.js"),
        signin=_signin_panel("监察人员登录", "staff:sun.qi"),
    )
    return _page(body)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(services: ServicesDep) -> HTMLResponse:
    """Admin console: enrol staff and keys, grant and revoke roles, define and revise matters;
    each change a directory envelope signed in the browser with the admin's key."""
    body = render(
        "admin.html",
        title="管理后台",
        org_name=services.trust.org_name,
        scripts=("sealed.js", "common.js", "admin.js"),
        signin=_signin_panel("管理员登录", "staff:admin"),
    )
    return _page(body)


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """The pages' scripts and style sheet (a fixed set of files; nothing else is served)."""
    path = STATIC / name
    match = STATIC_NAME.fullmatch(name)
    if match is None or not path.is_file():
        raise ApiError(404, "http.not_found", "no such file")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=MEDIA[match.group(1)], headers=headers)


def register_pages(app: FastAPI, settings: object | None = None) -> None:
    """Mount the pages on ``app`` (the app factory includes :data:`router` itself)."""
    app.include_router(router)
