"""The result document: an A4 licensing decision (准予行政许可决定书) drawn with reportlab.

:func:`render_result` turns a :class:`ResultDocument` into PDF bytes with the shared page
helpers of :mod:`seals.drawing`: the red head, the title and its 文号, the applicant (an
organisation's 统一社会信用代码 in full, a person's identity number masked by
:mod:`ledger.masking`), the application and acceptance dates, the decision with its legal basis,
the licence number, scope and validity, the appeal notice naming the office's 复议机关 and
court, the organisation and the China date of issue under the round seal, and a QR code to the
office's verification page with plain instructions for checking the file.

What a verifier can rely on in the extracted text: a line ``案件编号：<case number>`` and a
line ``办理结果：<outcome text>``; the same two values are in the PDF's Subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ledger.clock import china_date_text
from ledger.masking import document_identifier, identifier_label
from ledger.validity import validity_text
from seals.drawing import (
    Line,
    draw_lines,
    draw_red_head,
    draw_signature,
    draw_title,
    draw_verification_footer,
    start_page,
)
from seals.errors import RenderError

__all__ = ["ResultDocument", "appeal_notice", "render_result", "verification_notes"]


@dataclass(frozen=True, slots=True)
class ResultDocument:
    """What a result document says. Dates are China dates; the identity number is shown as
    :func:`ledger.masking.document_identifier` rules for the applicant's kind."""

    case_number: str
    applicant_name: str
    applicant_id_number: str
    matter_name: str
    matter_code: str
    decision_text: str
    legal_basis: str
    organisation: str
    issued_on: date
    verification_url: str
    valid_from: date | None = None
    valid_until: date | None = None
    title: str = "准予行政许可决定书"
    outcome_text: str = "准予行政许可"
    document_number: str | None = None
    seal_purpose: str = "行政审批专用章"
    applicant_kind: str = "person"
    applied_on: date | None = None
    accepted_on: date | None = None
    licence_number: str | None = None
    scope: tuple[str, ...] = ()
    review_body: str = ""
    court: str = ""

    def __post_init__(self) -> None:
        required = {
            "case_number": self.case_number,
            "applicant_name": self.applicant_name,
            "matter_name": self.matter_name,
            "decision_text": self.decision_text,
            "organisation": self.organisation,
            "verification_url": self.verification_url,
        }
        empty = sorted(name for name, value in required.items() if not value.strip())
        if empty:
            raise RenderError(f"the result document lacks {', '.join(empty)}")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise RenderError("the validity ends before it begins")


def appeal_notice(review_body: str, court: str, *, document: str = "本决定书") -> str:
    """The notice of the rights to appeal (行政复议法 §20, 行政诉讼法 §46), naming the
    review body and the court when the office has configured them."""
    review = f"向{review_body}" if review_body.strip() else "依法"
    sue = f"向{court}" if court.strip() else "依法向人民法院"
    return (
        f"如不服{document}，可以自收到{document}之日起六十日内{review}申请行政复议，"
        f"或者自收到{document}之日起六个月内{sue}提起行政诉讼。"
    )


def verification_notes(url: str, *, document: str = "本决定书") -> list[str]:
    """How to check a document, in plain words: scan the QR code or open the office's page."""
    return [
        f"核验方法：用手机扫描左侧二维码，或在浏览器中打开下列地址，"
        f"即可查验{document}的电子印章、办理过程和当前状态：",
        url,
        f"{document}加盖电子印章，与加盖实物印章的纸质文书具有同等法律效力。"
        "文件内附办理过程记录，可在上述页面上传本文件核验。",
    ]


def render_result(doc: ResultDocument, *, font_path: Path | None = None) -> bytes:
    """The result document as a one-page A4 PDF (bytes) with the font embedded.

    Raises FontMissing if the font cannot be found, RenderError if the text does not fit.
    """
    page = start_page(
        title=f"{doc.title}（{doc.case_number}）",
        author=doc.organisation,
        subject=f"案件编号：{doc.case_number}；办理结果：{doc.outcome_text}",
        keywords=[doc.case_number, doc.matter_code, doc.outcome_text],
        font_path=font_path,
    )
    y = draw_red_head(page, doc.organisation)
    y = draw_title(page, y, doc.title, doc.document_number)
    y = draw_lines(page, y, body_lines(doc))
    draw_signature(
        page,
        y,
        organisation=doc.organisation,
        issued_on=doc.issued_on,
        seal_purpose=doc.seal_purpose,
    )
    footer = f"{doc.organisation}　案件编号 {doc.case_number}　事项编码 {doc.matter_code}"
    draw_verification_footer(
        page, doc.verification_url, verification_notes(doc.verification_url), footer
    )
    return page.finish()


def body_lines(doc: ResultDocument) -> list[Line]:
    """The decision's body in reading order."""
    identifier = document_identifier(doc.applicant_id_number, doc.applicant_kind)
    lines = [
        Line(f"申请人：{doc.applicant_name}", "field"),
        Line(f"{identifier_label(identifier, doc.applicant_kind)}：{identifier}", "field"),
        Line(f"案件编号：{doc.case_number}", "field"),
        Line(f"申请事项：{doc.matter_name}（事项编码：{doc.matter_code}）", "field"),
        Line(f"办理结果：{doc.outcome_text}", "field"),
        Line("", "gap"),
        Line(_decision_paragraph(doc)),
    ]
    if doc.legal_basis.strip():
        lines.append(Line(f"依据：{doc.legal_basis}。".replace("。。", "。")))
    lines.extend(_licence_lines(doc))
    lines.append(Line(appeal_notice(doc.review_body, doc.court)))
    return lines


def _decision_paragraph(doc: ResultDocument) -> str:
    applied = f"于{china_date_text(doc.applied_on)}" if doc.applied_on else ""
    accepted = f"于{china_date_text(doc.accepted_on)}" if doc.accepted_on else "已"
    return (
        f"你（单位）{applied}提出的{doc.matter_name}申请，本机关{accepted}依法受理。"
        f"经审查，{doc.decision_text}"
    )


def _licence_lines(doc: ResultDocument) -> list[Line]:
    lines = []
    if doc.licence_number:
        lines.append(Line(f"许可证编号：{doc.licence_number}", "field"))
    if doc.scope:
        lines.append(Line(f"许可事项：{'；'.join(doc.scope)}", "field"))
    validity = validity_text(doc.valid_from, doc.valid_until)
    if validity:
        lines.append(Line(validity, "field"))
    return lines
