"""What the applicant is told of each step: the public timeline's lines and the notices sent.

Pure. The step's name is the step table's (:data:`ledger.steps.STEPS`); this module adds, for
the steps that concern the applicant, the one line of detail the public may read (what a 补正
asks, why an application was refused, how a document was served) and the text of the message
sent to the applicant's phone or e-mail. Nothing personal is read from a body: a recipient's
name is masked like the applicant's, an address is a commitment and never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.clock import china_minute_text
from ledger.delivery import CHANNEL_ZH
from ledger.envelope import Envelope
from ledger.masking import public_name
from ledger.steps import STEPS

__all__ = [
    "DOCUMENT_TITLES",
    "TOLD_STEPS",
    "Message",
    "message_for",
    "public_detail",
    "step_name",
]

DOCUMENT_TITLES = {
    "acceptance": "受理通知书",
    "supplement": "补正材料通知书",
    "not_accepted": "不予受理通知书",
    "extension": "延期通知书",
    "approval": "准予行政许可决定书",
    "denial": "不予行政许可决定书",
    "revocation": "撤销行政许可决定书",
}
_OUTCOME = {"approved": "准予许可", "denied": "不予许可"}


def _items(body: dict[str, Any]) -> str:
    return "、".join(str(i) for i in body.get("items") or [])


def _delivery(body: dict[str, Any]) -> str:
    channel = CHANNEL_ZH.get(str(body.get("channel")), str(body.get("channel", "")))
    parts = [channel]
    if body.get("carrier") or body.get("tracking_number"):
        parts.append(f"{body.get('carrier', '')} 运单号 {body.get('tracking_number', '')}".strip())
    document = body.get("document")
    if isinstance(document, dict):
        parts.append(f"送达文书：{DOCUMENT_TITLES.get(str(document.get('type')), '文书')}")
    parts.append(f"受送达人：{public_name(str(body.get('recipient', '')), 'person')}")
    return "；".join(parts)


def _decided(body: dict[str, Any]) -> str:
    outcome = _OUTCOME.get(str(body.get("outcome")), "")
    if body.get("outcome") != "denied":
        return outcome
    return f"{outcome}。理由：{body.get('decision', '')}；依据：{body.get('legal_basis', '')}"


def _document(body: dict[str, Any]) -> str:
    title = DOCUMENT_TITLES.get(str(body.get("document", "approval")), "文书")
    return f"{title} {body.get('document_number', '')}".strip()


# The public line of each step (None: the step's name says all).
_DETAIL: dict[str, Callable[[dict[str, Any]], str]] = {
    "SupplementRequested": lambda b: f"需补正：{_items(b)}。{b.get('notice', '')}",
    "SupplementProvided": lambda b: f"已补充材料 {len(b.get('materials') or [])} 份",
    "NotAccepted": lambda b: f"理由：{b.get('reason', '')}；依据：{b.get('legal_basis', '')}",
    "Decided": _decided,
    "ResultIssued": _document,
    "DocumentIssued": _document,
    "Delivered": _delivery,
    "DeliveryReceived": lambda b: f"已签收（运单号 {b.get('tracking_number', '')}）",
    "DeliveryReturned": lambda b: (
        f"邮件被退回：{b.get('reason', '')}（运单号 {b.get('tracking_number', '')}）"
    ),
    "Suspended": lambda b: f"中止计时：{b.get('reason', '')}",
    "Resumed": lambda b: f"恢复计时：{b.get('reason', '')}",
    "Withdrawn": lambda b: f"理由：{b.get('reason', '')}",
    "ResultRevoked": lambda b: f"理由：{b.get('reason', '')}；依据：{b.get('legal_basis', '')}",
}


def step_name(step_type: str) -> str:
    """The step's Chinese name, from the step table."""
    step = STEPS.get(step_type)
    return step.zh if step else step_type


def public_detail(envelope: Envelope) -> str:
    """The public line of a step ("" when its name says all); never raises."""
    reader = _DETAIL.get(envelope.type)
    try:
        return reader(envelope.body) if reader else ""
    except (AttributeError, TypeError, ValueError):
        return ""


@dataclass(frozen=True, slots=True)
class Message:
    """A notice to the applicant of one step: subject (e-mail) and text (SMS and e-mail)."""

    subject: str
    text: str


# Steps whose notice the applicant gets; a review is internal, a notice follows its step.
TOLD_STEPS = frozenset(
    {"Applied", "SupplementRequested", "Accepted", "NotAccepted", "Decided", "ResultIssued",
     "Delivered", "DeliveryReceived", "DeliveryReturned", "Suspended", "Resumed", "Withdrawn",
     "ResultRevoked"}
)  # fmt: skip

_ASK: dict[str, str] = {
    "Applied": "已收到您的申请，请留意办理进度。",
    "SupplementRequested": "请一次性补正所列材料。",
    "Accepted": "已予受理，可凭受理号和查询密码查询进度。",
    "NotAccepted": "如不服，可依法申请行政复议或提起行政诉讼。",
    "ResultIssued": "可凭查询密码在办件查询页下载。",
    "DeliveryReturned": "请与办理窗口联系重新送达。",
}


def message_for(
    envelope: Envelope, *, org_name: str, case_number: str, matter: str
) -> Message | None:
    """The notice of ``envelope`` for the applicant, or None if the step is not told."""
    if envelope.type not in TOLD_STEPS:
        return None
    name = step_name(envelope.type)
    detail = public_detail(envelope)
    when = china_minute_text(envelope.at)
    lines = [f"【{org_name}】您的办件（{matter}，受理号 {case_number}）于 {when} {name}。"]
    if detail:
        lines.append(detail if detail.endswith("。") else detail + "。")
    if envelope.type in _ASK:
        lines.append(_ASK[envelope.type])
    return Message(subject=f"{org_name}：办件{name}通知（{case_number}）", text="".join(lines))
