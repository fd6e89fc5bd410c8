"""Drawing helpers shared by every document an office issues (A4, after GB/T 9704).

A document is drawn top to bottom on a :class:`DocumentPage`: the red head with the issuing
organisation (:func:`draw_red_head`), the title and its 文号 (:func:`draw_title`), the body as
:class:`Line` items (:func:`draw_lines`), the organisation and the China date of issue with the
round seal pressed over them (:func:`draw_signature`), and the verification footer with its QR
code (:func:`draw_verification_footer`). All text is set in one embedded Song-style (Ming)
TrueType face (:mod:`seals.fonts`): the title slightly emboldened, as 小标宋 is heavier than
the body's 宋体. The seal's lettering is drawn as glyph outlines, a picture as a carved seal is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import qrcode
import qrcode.constants
from reportlab.lib import textsplit as _reportlab_textsplit
from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from reportlab.platypus import paragraph as _reportlab_paragraph

from ledger.clock import china_date_text
from seals.errors import RenderError
from seals.fonts import register_font
from seals.seal_image import SEAL_INK, draw_round_seal

__all__ = [
    "GREY",
    "MARGIN",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "SEAL_RED",
    "DocumentPage",
    "Line",
    "draw_lines",
    "draw_qr",
    "draw_red_head",
    "draw_signature",
    "draw_title",
    "draw_verification_footer",
    "start_page",
]

MM: float = mm
SEAL_RED = SEAL_INK
GREY = Color(0.35, 0.35, 0.35)
PAGE_WIDTH: float = A4[0]
PAGE_HEIGHT: float = A4[1]
MARGIN: float = 26 * MM
# Body type: 13 pt Song on a 21 pt line (GB/T 9704 sets 16 pt 仿宋; one page holds a
# decision with its validity, scope and appeal notice at this size).
BODY_SIZE = 13.0
BODY_LEADING = 21.0
FIELD_LEADING = 19.0
_SIGNATURE_FLOOR = 100 * MM  # the signature block and the footer live below this line

# reportlab's CJK line breaking keeps closing brackets and the ideographic comma and stop
# off the start of a line, but not the full-width comma, colon, semicolon, ? and ! that
# Chinese text uses: a line would begin with "，". Add them to its list (禁则), in both
# modules that read it (one for single-style paragraphs, one for mixed ones).
_NOT_AT_LINE_START = "，：；？！》」』"
for _module in (_reportlab_textsplit, _reportlab_paragraph):
    if _NOT_AT_LINE_START not in _module.ALL_CANNOT_START:
        _module.ALL_CANNOT_START += _NOT_AT_LINE_START


def _split_by_rule(word: str, widths: list[float], max_widths: float | list[float]) -> Any:
    """reportlab's character split, and then the rule it misses: it hangs one mark that may
    not start a line in the margin, so in "《…》。" at a line end the "。" after the hung "》"
    opens the next line. Where a line opens so, the line before is narrowed until its last
    character that may start a line goes down with the marks (…许可 / 证》。), and the width
    taken off is given back as the line's extra space, so justification stays as it was."""
    given = list(max_widths) if isinstance(max_widths, list | tuple) else [max_widths]
    limits = list(given)
    lines = _plain_split(word, widths, limits)
    for _ in range(len(word)):  # every round narrows a line: bounded
        bad = _opening_mark(word, widths, lines)
        if bad is None:
            break
        line, narrower = bad
        limits = [_limit(limits, n) for n in range(max(len(lines), line) + 1)]
        limits[line] = narrower
        lines = _plain_split(word, widths, limits)
    for n, entry in enumerate(lines):
        entry[0] += _limit(given, n) - _limit(limits, n)
    return lines


def _limit(limits: Sequence[float], n: int) -> float:
    return limits[n] if n < len(limits) else limits[-1]


def _opening_mark(
    word: str, widths: list[float], lines: list[list[Any]]
) -> tuple[int, float] | None:
    """(line, narrower width) for the first line before one that opens with a mark, or None."""
    position = 0
    for n, (_space, text) in enumerate(lines):
        start = word.find(text, position) if text else position
        position = start + len(text)
        following = lines[n + 1][1] if n + 1 < len(lines) else ""
        if following and following[0] in _reportlab_textsplit.ALL_CANNOT_START and len(text) > 1:
            # Just short of the line without its last character: that one overflows, and
            # reportlab carries it down when it may start a line (else narrows again).
            return n, sum(widths[start : position - 1]) - 2 * _SPLIT_FUZZ
    return None


# reportlab's own split, kept on its module so that a second import wraps it, not this.
_plain_split = vars(_reportlab_textsplit).setdefault(
    "_plain_dumb_split", _reportlab_textsplit.dumbSplit
)
_SPLIT_FUZZ: float = _reportlab_textsplit._FUZZ
# wordSplit, which single-style CJK paragraphs use, looks dumbSplit up at each call.
_reportlab_textsplit.dumbSplit = _split_by_rule


@dataclass
class DocumentPage:
    """One A4 page being drawn: the reportlab canvas, its buffer, and the font's name."""

    canvas: Canvas
    font: str
    buffer: BytesIO = field(default_factory=BytesIO)

    def finish(self) -> bytes:
        """Close the page and return the PDF bytes."""
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def start_page(
    *,
    title: str,
    author: str,
    subject: str,
    keywords: Sequence[str],
    font_path: Path | None = None,
) -> DocumentPage:
    """A fresh page with the document's metadata set. Raises FontMissing without the font."""
    font = register_font(font_path)
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator("caseledger")
    canvas.setKeywords(list(keywords))
    return DocumentPage(canvas, font, buffer)


def _heavy_text(page: DocumentPage, x: float, y: float, text: str, size: float) -> None:
    """Centred text filled and thinly stroked (still text, still extractable): a heavier
    Song for heads and titles, as 小标宋 is to 宋体."""
    canvas = page.canvas
    canvas.saveState()
    canvas.setLineWidth(size * 0.025)
    text_object = canvas.beginText()
    text_object.setTextRenderMode(2)
    width = canvas.stringWidth(text, page.font, size)
    text_object.setFont(page.font, size)
    text_object.setTextOrigin(x - width / 2, y)
    text_object.textOut(text)
    canvas.drawText(text_object)
    canvas.restoreState()


def draw_red_head(page: DocumentPage, organisation: str) -> float:
    """The organisation in red over a red double rule (版头); returns the y below it."""
    canvas = page.canvas
    y = PAGE_HEIGHT - 27 * MM
    canvas.setFillColor(SEAL_RED)
    canvas.setStrokeColor(SEAL_RED)
    _heavy_text(page, PAGE_WIDTH / 2, y, organisation, 26)
    y -= 8 * MM
    canvas.setLineWidth(1.6)
    canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y - 1.2 * MM, PAGE_WIDTH - MARGIN, y - 1.2 * MM)
    canvas.setFillColor(black)
    canvas.setStrokeColor(black)
    return y - 1.2 * MM


def draw_title(page: DocumentPage, y: float, title: str, document_number: str | None) -> float:
    """The title (二号, heavy Song) and, under it, the 文号 when there is one; returns y below."""
    canvas = page.canvas
    y -= 15 * MM
    _heavy_text(page, PAGE_WIDTH / 2, y, title, 22)
    y -= 9 * MM
    if document_number:
        canvas.setFont(page.font, BODY_SIZE)
        canvas.drawCentredString(PAGE_WIDTH / 2, y, document_number)
        y -= 8 * MM
    return y - 2 * MM


@dataclass(frozen=True, slots=True)
class Line:
    """A body item: a ``field`` line (label：value, flush left), a ``paragraph`` (first line
    indented two characters), or a ``gap``."""

    text: str
    kind: Literal["field", "paragraph", "gap"] = "paragraph"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    paragraph = ParagraphStyle(
        "paragraph",
        fontName=font,
        fontSize=BODY_SIZE,
        leading=BODY_LEADING,
        firstLineIndent=2 * BODY_SIZE,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
    )
    field_line = ParagraphStyle("field", parent=paragraph, firstLineIndent=0, leading=FIELD_LEADING)
    return {"paragraph": paragraph, "field": field_line}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_lines(
    page: DocumentPage, y: float, lines: Sequence[Line], *, floor: float = _SIGNATURE_FLOOR
) -> float:
    """The body from ``y`` down; returns y below it. RenderError if it passes ``floor``."""
    styles = _styles(page.font)
    width = PAGE_WIDTH - 2 * MARGIN
    for line in lines:
        if line.kind == "gap":
            y -= 3 * MM
            continue
        paragraph = Paragraph(_escape(line.text), styles[line.kind])
        _, height = paragraph.wrap(width, y)
        if y - height < floor:
            raise RenderError("the document's text is too long for one page")
        paragraph.drawOn(page.canvas, MARGIN, y - height)
        y -= height + (0.5 * MM if line.kind == "field" else 1.5 * MM)
    return y


def draw_signature(
    page: DocumentPage, y: float, *, organisation: str, issued_on: date, seal_purpose: str
) -> None:
    """The organisation and the China date of issue at the right (the date four characters
    from the margin), with the round seal pressed over both, the two lines a little below
    its centre (GB/T 9704 7.3.5.1)."""
    canvas = page.canvas
    right = PAGE_WIDTH - MARGIN - 4 * BODY_SIZE
    base = min(y - 18 * MM, 92 * MM)
    date_text = china_date_text(issued_on)
    canvas.setFillColor(black)
    canvas.setFont(page.font, BODY_SIZE)
    date_width = canvas.stringWidth(date_text, page.font, BODY_SIZE)
    name_width = canvas.stringWidth(organisation, page.font, BODY_SIZE)
    centre_x = right - date_width / 2
    # The organisation is centred over the date (GB/T 9704 7.3.5.1).
    canvas.drawString(centre_x - name_width / 2, base, organisation)
    canvas.drawRightString(right, base - 9 * MM, date_text)
    draw_round_seal(
        canvas,
        centre_x,
        base + 2 * MM,
        21 * MM,
        organisation=organisation,
        purpose=seal_purpose,
    )


def draw_verification_footer(
    page: DocumentPage, url: str, notes: Sequence[str], footer: str
) -> None:
    """The QR code to ``url`` at the bottom left, ``notes`` beside it (the second note in
    grey, as it is meant to be the address), a rule and a one-line ``footer``."""
    canvas = page.canvas
    size = 30 * MM
    bottom = 30 * MM
    draw_qr(canvas, url, MARGIN, bottom, size)
    styles = _styles(page.font)
    note_style = ParagraphStyle("note", parent=styles["field"], fontSize=9.5, leading=14)
    text_x = MARGIN + size + 5 * MM
    width = PAGE_WIDTH - MARGIN - text_x
    y = bottom + size
    for index, note in enumerate(notes):
        style = ParagraphStyle(
            f"note{index}", parent=note_style, textColor=GREY if index == 1 else black
        )
        paragraph = Paragraph(_escape(note), style)
        _, height = paragraph.wrap(width, y)
        paragraph.drawOn(canvas, text_x, y - height)
        y -= height + 1 * MM
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN, 22 * MM, PAGE_WIDTH - MARGIN, 22 * MM)
    canvas.setFont(page.font, 8.5)
    canvas.setFillColor(GREY)
    canvas.drawCentredString(PAGE_WIDTH / 2, 16 * MM, footer)
    canvas.setFillColor(black)


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
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
