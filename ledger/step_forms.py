"""What a person fills in for each case step: the form fields the web pages build.

Keyed by the step names of :data:`ledger.steps.STEPS`; every member of a step's body template
has a field here (a test holds the two together). Field kinds the pages know:

``line``/``text`` a short or long text; ``choice`` one of ``choices`` (value, Chinese);
``list`` one item per line (a JSON list); ``fixed`` drafted by the server, shown, not edited;
``files`` files chosen in the browser, recorded by name and SHA-256 (and kept in the office's
material store before the step is signed); ``matter`` a matter of
the directory (its current version); ``identity`` an identity number, committed in the
browser when the party is a person; ``address`` a postal address, committed in the browser
(the number or address goes to the office's private table, never into the signed body);
``years`` a validity in years (the body's ``validity`` span). ``when`` shows a field only
when another field has a value (``"channel=post"``). Seal-service steps have no form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.reform import RATING_LEVELS

__all__ = ["FORMS", "ROLES", "Field", "forms_json"]

# The roles as people name them: (Chinese, English, what the role does in Chinese).
ROLES: dict[str, tuple[str, str, str]] = {
    "applicant": ("申请人", "applicant", "申请、补正、撤回"),
    "handler": ("经办", "handler", "收件、受理、补正告知、送达"),
    "reviewer": ("审查", "reviewer", "逐级审查"),
    "approver": ("审批", "approver", "审批决定、撤销"),
    "admin": ("管理员", "admin", "人员、密钥、授权与事项"),
    "supervisor": ("监察", "supervisor", "电子监察"),
    "seal_service": ("电子印章", "seal service", "出证用印"),
    "department": ("协同部门", "department", "订阅本部门事项的办件记录"),
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    zh: str
    en: str
    kind: str = "line"
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""
    required: bool = True
    when: str | None = None


_OPINION = (("agree", "同意"), ("disagree", "不同意"))
_OUTCOME = (("approved", "准予许可"), ("denied", "不予许可"))
_CHANNEL = (("window", "窗口领取"), ("post", "邮寄送达"), ("electronic", "电子送达"))
_APPLIED_CHANNEL = (("window", "窗口"), ("post", "邮寄"), ("online", "网上"))
_KIND = (("organisation", "法人或其他组织"), ("person", "自然人"))
_BASIS = "《中华人民共和国行政许可法》"
_SUPPLEMENT = "请于十五个工作日内一次性补正下列材料。"
_ACCEPT = "材料齐全，符合法定形式，予以受理。"


def _reason(zh: str = "原因") -> Field:
    return Field("reason", zh, "reason", "text")


FORMS: dict[str, tuple[Field, ...]] = {
    "Applied": (
        Field("matter", "申请事项", "matter", "matter"),
        Field("applicant.kind", "申请人类型", "applicant kind", "choice", _KIND),
        Field("applicant.name", "申请人名称或姓名", "applicant name"),
        Field(
            "applicant.id", "统一社会信用代码或身份证号码", "credit code or id number", "identity"
        ),
        Field("materials", "申请材料（选择文件，在本机计算 SHA-256 并存档）", "materials", "files"),
        Field("channel", "收件方式", "channel", "choice", _APPLIED_CHANNEL),
    ),
    "SupplementRequested": (
        Field("items", "需补正的全部材料（每行一项，一次告知）", "every missing item", "list"),
        Field(
            "notice", "补正告知", "notice", "text", default="请于十五个工作日内一次性补正下列材料。"
        ),
    ),
    "SupplementProvided": (Field("materials", "补正材料（选择文件）", "materials", "files"),),
    "Accepted": (
        Field(
            "opinion", "受理意见", "opinion", "text", default="材料齐全，符合法定形式，予以受理。"
        ),
    ),
    "NotAccepted": (
        Field("reason", "不予受理理由", "reason", "text"),
        Field("legal_basis", "法律依据", "legal basis", default=_BASIS + "第三十二条"),
    ),
    "Reviewed": (
        Field("level", "审查层级", "level", "fixed"),
        Field("opinion", "审查意见", "opinion", "choice", _OPINION),
        Field("comments", "审查说明", "comments", "text"),
        Field("basis", "依据", "basis", required=False),
    ),
    "Returned": (
        Field("level", "退回的审查层级", "level", "fixed"),
        _reason("退回理由"),
    ),
    "Decided": (
        Field("outcome", "决定", "outcome", "choice", _OUTCOME),
        Field("decision", "决定内容", "decision", "text", default="准予行政许可。"),
        Field("legal_basis", "法律依据", "legal basis", default=_BASIS + "第三十八条"),
        Field(
            "valid_years",
            "有效期（年，准予时）",
            "validity (years)",
            "years",
            default="5",
            required=False,
        ),
        Field("licence_number", "许可证编号", "licence number", required=False),
        Field("scope", "许可范围（每行一项）", "scope", "list", required=False),
    ),
    "Delivered": (
        Field("channel", "送达方式", "channel", "choice", _CHANNEL),
        Field("recipient", "受送达人（签收人）", "recipient"),
        Field("address", "邮寄地址", "postal address", "address", when="channel=post"),
        Field("carrier", "寄递企业", "carrier", default="中国邮政EMS", when="channel=post"),
        Field("tracking_number", "邮件号码", "tracking number", when="channel=post"),
    ),
    "Suspended": (_reason("中止原因"),),
    "Resumed": (_reason("恢复计时原因"),),
    "Withdrawn": (_reason("撤回原因（申请人书面申请）"),),
    "ResultRevoked": (
        Field("result", "撤销的文书（SHA-256）", "document revoked", "fixed", required=False),
        _reason("撤销理由"),
        Field("legal_basis", "法律依据", "legal basis", default=_BASIS + "第六十九条"),
    ),
    "DeliveryReceived": (Field("tracking_number", "邮件号码", "tracking number"),),
    "DeliveryReturned": (
        Field("tracking_number", "邮件号码", "tracking number"),
        _reason("退件原因（如查无此人、拒收）"),
    ),
    "Extended": (
        Field("days", "延长的工作日数", "working days added", "number", default="10"),
        _reason("延期理由（经本机关负责人批准）"),
        Field(
            "notice",
            "告知申请人的内容",
            "what the applicant is told",
            "text",
            default="因情况复杂，经本机关负责人批准，办理期限延长十个工作日。",
        ),
    ),
    "SupervisionOrdered": (
        Field("order", "督办事项", "supervision order", "text"),
        Field("due", "办结回复期限（YYYY-MM-DD）", "answer due", required=False),
    ),
    "Promised": (
        Field("replaces", "以承诺代替的材料（每行一项）", "materials promised", "list"),
        Field("statement", "承诺内容", "promise", "text"),
        Field(
            "exclusions_declared",
            "声明不属于的排除情形（每行一项）",
            "exclusions declared",
            "list",
            required=False,
        ),
    ),
    "ToleratedProvided": (Field("materials", "容缺补齐的材料（选择文件）", "materials", "files"),),
    "TerminatedForMissing": (
        _reason("终止理由"),
        Field("missing", "逾期未补齐的材料（每行一项）", "materials still missing", "list"),
    ),
    "Verified": (
        Field("outcome", "核查结果", "outcome", "choice", (("passed", "属实"), ("failed", "不实"))),
        Field("findings", "核查情况", "findings", "text"),
    ),
    "Rated": (
        Field("level", "总体评价", "rating", "choice", tuple((v, v) for v in RATING_LEVELS)),
        Field(
            "channel", "评价渠道", "channel", "choice", (("online", "网上"), ("offline", "现场"))
        ),
        Field("indicators", "分项评价（申请人填写）", "indicators", "fixed", required=False),
    ),
    "RectificationReplied": (
        Field("reply", "答复申请人", "reply", "text"),
        Field("measures", "整改措施", "measures", "text"),
    ),
}


def forms_json() -> dict[str, list[dict[str, Any]]]:
    return {
        step: [
            {
                "name": f.name,
                "zh": f.zh,
                "en": f.en,
                "kind": f.kind,
                "choices": [list(c) for c in f.choices],
                "default": f.default,
                "required": f.required,
                "when": f.when,
            }
            for f in fields
        ]
        for step, fields in FORMS.items()
    }
