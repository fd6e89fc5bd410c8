"""The result document: an A4 licensing decision (准予行政许可决定书) drawn with reportlab.

:func:`render_result` turns a :class:`ResultDocument` into PDF bytes: a red-headed decision
letter with the applicant (identity number masked), the matter, the decision, its legal basis
and validity, the issuing organisation and the date in Chinese numerals, the visible round
seal over the signature block, and a QR code to the public verification page of the case.
Every glyph comes from one embedded TrueType font (:mod:`seals.fonts`), so the text can be
extracted and searched. The visible seal is a picture; the legal seal is the PAdES signature.

What a verifier can rely on in the extracted text: a line ``案件编号：<case number>`` and a
line ``办理结果：<outcome text>``; the same two values are in the PDF's Subject.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import qrcode
import qrcode.constants
from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas
from reportlab.platypus import Paragraph

from seals.errors import RenderError
from seals.fonts import glyph_outline, register_font

__all__ = [
    "DEFAULT_APPEAL_NOTICE",
    "ResultDocument",
    "chinese_date",
    "draw_round_seal",
    "mask_id_number",
    "render_result",
]

_MM: float = mm
SEAL_RED = Color(0.84, 0.07, 0.09)
GREY = Color(0.35, 0.35, 0.35)
DEFAULT_APPEAL_NOTICE = (
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)
_DIGITS = "〇一二三四五六七八九"
_PAGE_W: float = A4[0]
_PAGE_H: float = A4[1]
_MARGIN: float = 26 * _MM


@dataclass(frozen=True, slots=True)
class ResultDocument:
    """What a result document says. A natural person's identity number is masked when drawn;
    an organisation's credit code (``applicant_is_person`` False) is public and printed whole."""

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
    appeal_notice: str = DEFAULT_APPEAL_NOTICE
    applicant_is_person: bool = True

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


def chinese_date(day: date) -> str:
    """A date as written on official documents: ``二〇二六年十一月二十三日``."""
    year = "".join(_DIGITS[int(d)] for d in f"{day.year:04d}")
    return f"{year}年{_chinese_number(day.month)}月{_chinese_number(day.day)}日"


def _chinese_number(n: int) -> str:
    """1–31 in Chinese numerals: 十, 十一, 二十, 二十三, 三十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def mask_id_number(number: str) -> str:
    """An identity number with its middle hidden: the first 6 and last 4 characters stay.

    ``110101199003071234`` becomes ``110101********1234``; short numbers keep only their
    last character, and an already masked number is returned unchanged.
    """
    number = number.strip()
    if "*" in number:
        return number
    if len(number) <= 10:
        return "*" * max(len(number) - 1, 0) + number[-1:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _iso_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_result(doc: ResultDocument, *, font_path: Path | None = None) -> bytes:
    """The result document as a one-page A4 PDF (bytes) with the font embedded.

    Raises FontMissing if the font cannot be found, RenderError if the text does not fit.
    """
    font = register_font(font_path)
    out = BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)
    canvas.setTitle(f"{doc.title}（{doc.case_number}）")
    canvas.setAuthor(doc.organisation)
    canvas.setSubject(f"案件编号：{doc.case_number}；办理结果：{doc.outcome_text}")
    canvas.setCreator("caseledger")
    canvas.setKeywords([doc.case_number, doc.matter_code, doc.outcome_text])
    y = _draw_header(canvas, doc, font)
    y = _draw_body(canvas, doc, font, y)
    _draw_signature_block(canvas, doc, font, y)
    _draw_footer(canvas, doc, font)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_header(canvas: Canvas, doc: ResultDocument, font: str) -> float:
    """The red head (organisation), the red rule, the title and the numbers; returns y below."""
    y = _PAGE_H - 30 * _MM
    canvas.setFillColor(SEAL_RED)
    canvas.setFont(font, 26)
    canvas.drawCentredString(_PAGE_W / 2, y, doc.organisation)
    y -= 9 * _MM
    canvas.setStrokeColor(SEAL_RED)
    canvas.setLineWidth(1.6)
    canvas.line(_MARGIN, y, _PAGE_W - _MARGIN, y)
    canvas.setLineWidth(0.5)
    canvas.line(_MARGIN, y - 1.2 * _MM, _PAGE_W - _MARGIN, y - 1.2 * _MM)
    y -= 16 * _MM
    canvas.setFillColor(black)
    canvas.setFont(font, 22)
    canvas.drawCentredString(_PAGE_W / 2, y, doc.title)
    y -= 10 * _MM
    canvas.setFont(font, 11)
    if doc.document_number:
        canvas.drawCentredString(_PAGE_W / 2, y, doc.document_number)
        y -= 6.5 * _MM
    canvas.drawRightString(_PAGE_W - _MARGIN, y, f"案件编号：{doc.case_number}")
    return y - 10 * _MM


def _styles(font: str) -> tuple[ParagraphStyle, ParagraphStyle]:
    body = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=12,
        leading=20,
        firstLineIndent=24,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
    )
    field = ParagraphStyle("field", parent=body, firstLineIndent=0, leftIndent=0)
    return body, field


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _printed_id(doc: ResultDocument) -> str:
    if doc.applicant_is_person:
        return mask_id_number(doc.applicant_id_number)
    return doc.applicant_id_number.strip()


def _body_paragraphs(doc: ResultDocument) -> list[tuple[str, bool]]:
    """The body as (text, is_field_line) pairs, in reading order."""
    lines: list[tuple[str, bool]] = [
        (f"申请人：{doc.applicant_name}", True),
        (f"证件号码：{_printed_id(doc)}", True),
        (f"许可事项：{doc.matter_name}（事项编码：{doc.matter_code}）", True),
        (f"办理结果：{doc.outcome_text}", True),
        ("", True),
        (
            f"你（单位）申请的{doc.matter_name}事项，本机关已依法受理。经审查，{doc.decision_text}",
            False,
        ),
    ]
    if doc.legal_basis.strip():
        lines.append((f"依据：{doc.legal_basis}", False))
    validity = _validity_text(doc)
    if validity:
        lines.append((validity, False))
    if doc.appeal_notice.strip():
        lines.append((doc.appeal_notice, False))
    return lines


def _validity_text(doc: ResultDocument) -> str:
    if doc.valid_from and doc.valid_until:
        return f"有效期限：自{_iso_day(doc.valid_from)}起至{_iso_day(doc.valid_until)}止。"
    if doc.valid_from:
        return f"有效期限：自{_iso_day(doc.valid_from)}起长期有效。"
    return ""


def _draw_body(canvas: Canvas, doc: ResultDocument, font: str, y: float) -> float:
    """The applicant, matter and decision paragraphs from ``y`` down; returns y below them."""
    body, field = _styles(font)
    width = _PAGE_W - 2 * _MARGIN
    floor = 100 * _MM  # the signature block and the footer live below this line
    for text, is_field in _body_paragraphs(doc):
        if not text:
            y -= 3 * _MM
            continue
        paragraph = Paragraph(_escape(text), field if is_field else body)
        _, height = paragraph.wrap(width, y)
        if y - height < floor:
            raise RenderError("the decision text is too long for one page")
        paragraph.drawOn(canvas, _MARGIN, y - height)
        y -= height + (1 * _MM if is_field else 2.5 * _MM)
    return y


def _draw_signature_block(canvas: Canvas, doc: ResultDocument, font: str, y: float) -> None:
    """Organisation and date at the right, with the round seal stamped across them."""
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


def _draw_footer(canvas: Canvas, doc: ResultDocument, font: str) -> None:
    """The QR code to the verification page and the notes on checking the seal."""
    size = 30 * _MM
    bottom = 30 * _MM
    _draw_qr(canvas, doc.verification_url, _MARGIN, bottom, size)
    canvas.setFillColor(black)
    canvas.setFont(font, 9.5)
    text_x = _MARGIN + size + 5 * _MM
    notes = [
        "扫描左侧二维码，或访问下列地址，核验本决定书的电子印章与办理过程：",
        doc.verification_url,
        "本决定书加盖电子印章，与加盖实物印章的纸质文书具有同等法律效力。",
        "离线核验：caseledger-verify pdf 本文件 --trust trust.json",
    ]
    for index, line in enumerate(notes):
        canvas.setFillColor(GREY if index == 1 else black)
        canvas.drawString(text_x, bottom + size - 4 * _MM - index * 6.5 * _MM, line)
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.4)
    canvas.line(_MARGIN, 22 * _MM, _PAGE_W - _MARGIN, 22 * _MM)
    canvas.setFont(font, 8.5)
    canvas.setFillColor(GREY)
    footer = f"{doc.organisation}　案件编号 {doc.case_number}　事项编码 {doc.matter_code}"
    canvas.drawCentredString(_PAGE_W / 2, 16 * _MM, footer)


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code (error correction M) as filled squares in a ``size`` box at (x, y).

    Drawn module by module on the page rather than through reportlab's graphics renderer,
    which would add an unembedded standard font to the page resources (not allowed in PDF/A).
    """
    # A fixed mask skips the encoder's search over all eight (most of its time); every mask
    # is valid and readers undo whichever one is used.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    path = canvas.beginPath()
    for row, cells in enumerate(matrix):
        top = y + size - (row + 1) * module
        col = 0
        while col < len(cells):  # one rectangle per run of dark modules in the row
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            path.rect(x + start * module, top, (col - start) * module, module)
    canvas.saveState()
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def draw_round_seal(
    canvas: Canvas,
    cx: float,
    cy: float,
    radius: float,
    *,
    organisation: str,
    purpose: str,
) -> None:
    """A red round official seal centred at (cx, cy): ring, name along the arc, star, purpose.

    The lettering is drawn as glyph outlines (a picture, as a carved seal is), so it does not
    mix with the document's text when the text is extracted.
    """
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(radius * 0.055)
    canvas.circle(cx, cy, radius * 0.96, stroke=1, fill=0)
    _draw_star(canvas, cx, cy, radius * 0.3)
    _draw_arc_text(canvas, cx, cy, radius * 0.72, organisation)
    _draw_line_of_glyphs(canvas, cx, cy - radius * 0.52, purpose, radius * 0.16)
    canvas.restoreState()


def _draw_star(canvas: Canvas, cx: float, cy: float, outer: float) -> None:
    inner = outer * 0.382
    path = canvas.beginPath()
    for index in range(10):
        r = outer if index % 2 == 0 else inner
        angle = math.pi / 2 + index * math.pi / 5
        x, y = cx + r * math.cos(angle), cy + r * math.sin(angle)
        if index == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_arc_text(canvas: Canvas, cx: float, cy: float, text_radius: float, text: str) -> None:
    """``text`` along the upper arc, left to right, each character upright toward the rim."""
    count = len(text)
    # A seal's name fills most of the ring however long it is, in letters of one height;
    # long names get narrower letters, as carved seals do, rather than smaller ones.
    span = math.radians(min(235.0, 40.0 + 20.0 * count))
    step = span / max(count - 1, 1)
    size = text_radius * 0.4
    width_scale = min(0.75, 0.92 * step * text_radius / size)
    start = math.pi / 2 + span / 2 if count > 1 else math.pi / 2
    for index, char in enumerate(text):
        angle = start - index * step
        canvas.saveState()
        canvas.translate(cx + text_radius * math.cos(angle), cy + text_radius * math.sin(angle))
        canvas.rotate(math.degrees(angle) - 90)
        _draw_glyph(canvas, char, size, width_scale=width_scale)
        canvas.restoreState()


def _draw_glyph(canvas: Canvas, char: str, size: float, *, width_scale: float = 1.0) -> None:
    """One character as a filled outline, centred on the current origin."""
    outline = glyph_outline(char)
    canvas.saveState()
    canvas.scale(size * width_scale, size)
    # The em box's centre is at half the advance and, for CJK faces, about 0.38 em up.
    canvas.translate(-outline.advance / 2, -0.38)
    path = canvas.beginPath()
    for op, args in outline.commands:
        if op == "M":
            path.moveTo(*args)
        elif op == "L":
            path.lineTo(*args)
        elif op == "C":
            path.curveTo(*args)
        else:
            path.close()
    canvas.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)
    canvas.restoreState()


def _draw_line_of_glyphs(canvas: Canvas, cx: float, y: float, text: str, size: float) -> None:
    """``text`` as outlines, centred at ``cx`` on a line whose centre height is ``y``."""
    advance = size * 0.95
    x = cx - advance * (len(text) - 1) / 2
    for index, char in enumerate(text):
        canvas.saveState()
        canvas.translate(x + index * advance, y)
        _draw_glyph(canvas, char, size)
        canvas.restoreState()
