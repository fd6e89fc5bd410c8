"""The visible round seal: a red ring, the organisation along the upper arc, a star, and the
seal's purpose below it, the lettering in the document's Song face drawn as outlines.

The visible seal is a picture; the legal seal is the PAdES signature (:mod:`seals.pades`).
"""

from __future__ import annotations

import math

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

from seals.fonts import glyph_outline

__all__ = ["SEAL_INK", "draw_round_seal"]

SEAL_INK = Color(0.84, 0.07, 0.09)


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
    canvas.setStrokeColor(SEAL_INK)
    canvas.setFillColor(SEAL_INK)
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
    """One character as a filled outline, centred on the current origin, slightly stroked
    so that the thin horizontals of a Song face carry as a carved seal's do."""
    outline = glyph_outline(char)
    canvas.saveState()
    canvas.scale(size * width_scale, size)
    # The em box's centre is at half the advance and, for CJK faces, about 0.38 em up.
    canvas.translate(-outline.advance / 2, -0.38)
    canvas.setLineWidth(0.035)
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
    canvas.drawPath(path, stroke=1, fill=1, fillMode=FILL_NON_ZERO)
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
