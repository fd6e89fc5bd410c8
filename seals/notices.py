"""The notices an office issues besides the licence: 受理通知书, 补正材料通知书, 不予受理通知书,
不予行政许可决定书 and 撤销行政许可决定书, drawn with the result document's hand (seals.render).

Each notice's wording is a text template: the one shipped in ``seals/templates/<type>.txt``
or the office's own copy (the caller passes its text). ``$name`` / ``${name}`` is filled from
the values the caller gives; lines starting with ``#`` are notes; a blank line separates
paragraphs. What the verifier relies on is drawn by the code, not the template: the title, a
line ``案件编号：<case number>`` and a line ``办理结果：<outcome>`` (see verify.pdf).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from importlib import resources
from io import BytesIO
from pathlib import Path

from reportlab.lib.colors import black
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from seals.errors import RenderError
from seals.fonts import register_font
from seals.render import (
    _MARGIN,
    _MM,
    _PAGE_H,
    _PAGE_W,
    GREY,
    SEAL_RED,
    _draw_qr,
    _escape,
    _styles,
    chinese_date,
    draw_round_seal,
)

__all__ = ["NoticeDocument", "default_template", "fill_template", "render_notice"]


@dataclass(frozen=True, slots=True)
class NoticeDocument:
    """One notice, its wording already filled in."""

    title: str
    outcome_text: str
    organisation: str
    document_number: str
    case_number: str
    paragraphs: tuple[str, ...]
    issued_on: date
    verification_url: str
    seal_purpose: str = "行政审批专用章"


def default_template(doc_type: str) -> str:
    """The shipped wording of a notice type; RenderError if there is none."""
    try:
        return (resources.files("seals") / "templates" / f"{doc_type}.txt").read_text("utf-8")
    except FileNotFoundError:
        raise RenderError(f"no template for documents of type {doc_type}") from None


def fill_template(template: str, values: dict[str, str]) -> tuple[str, ...]:
    """The template's paragraphs with every ``$name`` filled; RenderError naming an unknown
    name, so that an office's edited template fails when it is tried, not silently."""
    text = "\n".join(line for line in template.splitlines() if not line.startswith("#"))
    try:
        filled = string.Template(text).substitute(values)
    except (KeyError, ValueError) as exc:
        raise RenderError(f"the notice template names an unknown value: {exc}") from None
    paragraphs = [" ".join(p.split("\n")).strip() for p in filled.split("\n\n")]
    return tuple(p for p in paragraphs if p)


def render_notice(doc: NoticeDocument, *, font_path: Path | None = None) -> bytes:
    """The notice as a one-page A4 PDF with the font embedded (RenderError if too long)."""
    font = register_font(font_path)
    out = BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)
    canvas.setTitle(f"{doc.title}（{doc.document_number}）")
    canvas.setAuthor(doc.organisation)
    canvas.setSubject(f"案件编号：{doc.case_number}；办理结果：{doc.outcome_text}")
    canvas.setCreator("caseledger")
    y = _draw_head(canvas, doc, font)
    y = _draw_paragraphs(canvas, doc, font, y)
    _draw_signature(canvas, doc, font, y)
    _draw_foot(canvas, doc, font)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_head(canvas: Canvas, doc: NoticeDocument, font: str) -> float:
    y = _PAGE_H - 30 * _MM
    canvas.setFillColor(SEAL_RED)
    canvas.setFont(font, 26)
    canvas.drawCentredString(_PAGE_W / 2, y, doc.organisation)
    y -= 9 * _MM
    canvas.setStrokeColor(SEAL_RED)
    canvas.setLineWidth(1.6)
    canvas.line(_MARGIN, y, _PAGE_W - _MARGIN, y)
    y -= 16 * _MM
    canvas.setFillColor(black)
    canvas.setFont(font, 22)
    canvas.drawCentredString(_PAGE_W / 2, y, doc.title)
    y -= 10 * _MM
    canvas.setFont(font, 11)
    canvas.drawCentredString(_PAGE_W / 2, y, doc.document_number)
    y -= 6.5 * _MM
    canvas.drawRightString(_PAGE_W - _MARGIN, y, f"案件编号：{doc.case_number}")
    canvas.drawString(_MARGIN, y, f"办理结果：{doc.outcome_text}")
    return y - 10 * _MM


def _draw_paragraphs(canvas: Canvas, doc: NoticeDocument, font: str, y: float) -> float:
    body, field = _styles(font)
    width = _PAGE_W - 2 * _MARGIN
    floor = 100 * _MM
    for index, text in enumerate(doc.paragraphs):
        paragraph = Paragraph(_escape(text), field if index == 0 else body)
        _, height = paragraph.wrap(width, y)
        if y - height < floor:
            raise RenderError(f"the text of the {doc.title} is too long for one page")
        paragraph.drawOn(canvas, _MARGIN, y - height)
        y -= height + 2.5 * _MM
    return y


def _draw_signature(canvas: Canvas, doc: NoticeDocument, font: str, y: float) -> None:
    right = _PAGE_W - _MARGIN - 8 * _MM
    base = min(y - 16 * _MM, 92 * _MM)
    canvas.setFillColor(black)
    canvas.setFont(font, 13)
    date_text = chinese_date(doc.issued_on)
    canvas.drawRightString(right, base, doc.organisation)
    canvas.drawRightString(right, base - 9 * _MM, date_text)
    centre_x = right - canvas.stringWidth(date_text, font, 13) / 2
    draw_round_seal(
        canvas,
        centre_x,
        base - 2 * _MM,
        21 * _MM,
        organisation=doc.organisation,
        purpose=doc.seal_purpose,
    )


def _draw_foot(canvas: Canvas, doc: NoticeDocument, font: str) -> None:
    size = 30 * _MM
    bottom = 30 * _MM
    _draw_qr(canvas, doc.verification_url, _MARGIN, bottom, size)
    text_x = _MARGIN + size + 5 * _MM
    notes = [
        f"扫描左侧二维码，或访问下列地址，核验本{doc.title}的电子印章与办理过程：",
        doc.verification_url,
        f"本{doc.title}加盖电子印章，与加盖实物印章的纸质文书具有同等法律效力。",
    ]
    canvas.setFont(font, 9.5)
    for index, line in enumerate(notes):
        canvas.setFillColor(GREY if index == 1 else black)
        canvas.drawString(text_x, bottom + size - 4 * _MM - index * 6.5 * _MM, line)
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.4)
    canvas.line(_MARGIN, 22 * _MM, _PAGE_W - _MARGIN, 22 * _MM)
    canvas.setFont(font, 8.5)
    canvas.setFillColor(GREY)
    footer = f"{doc.organisation}　{doc.document_number}　案件编号 {doc.case_number}"
    canvas.drawCentredString(_PAGE_W / 2, 16 * _MM, footer)
