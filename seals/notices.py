"""The notices an office issues besides the licence: 受理通知书, 补正材料通知书, 不予受理通知书,
延期通知书, 不予行政许可决定书 and 撤销行政许可决定书, drawn with the result document's hand
(seals.render).

Each notice's wording is a text template: the one shipped in ``seals/templates/<type>.txt``
or the office's own copy (the caller passes its text). ``$name`` / ``${name}`` is filled from
the values the caller gives; lines starting with ``#`` are notes; a blank line separates
paragraphs. What the verifier relies on is drawn by the code, not the template: the title, a
line ``案件编号：<case number>`` and a line ``办理结果：<outcome>`` (see verify.pdf).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

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
from seals.render import verification_notes

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
    name, so that an office's edited template fails when it is tried, not silently.

    A value written as a whole sentence is fitted to the words around it: where the template
    writes 经审查， (or 经查，, 因) just before it and the value begins the same way, the
    value's copy is left out, and a value's closing 。 before the template's own ，or 。 too
    (经审查，经审查，… would read twice; 因需现场核查。，… stops mid-sentence)."""
    text = "\n".join(line for line in template.splitlines() if not line.startswith("#"))

    def fill(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        name = match.group("named") or match.group("braced")
        if name is None:
            raise ValueError(f"a lone $ at character {match.start()}")
        if name not in values:
            raise KeyError(name)
        return _fitted(text[: match.start()], values[name], text[match.end() :])

    try:
        filled = string.Template.pattern.sub(fill, text)
    except (KeyError, ValueError) as exc:
        raise RenderError(f"the notice template names an unknown value: {exc}") from None
    paragraphs = [" ".join(p.split("\n")).strip() for p in filled.split("\n\n")]
    return tuple(p for p in paragraphs if p)


# What a template may write before a value, and how a value may begin saying the same.
_LEADS = (
    ("经审查", ("经审查",)),
    ("经查", ("经审查", "经查")),
    ("因", ("因为", "由于", "因")),
)
_JOINS = "，,：:"
_STOPS = "。；，"


def _fitted(before: str, value: str, after: str) -> str:
    """``value`` without the words the template already writes around it."""
    head = before.rstrip(_JOINS)
    for lead, openings in _LEADS:
        if not head.endswith(lead):
            continue
        opening = next((o for o in openings if value.startswith(o)), None)
        if opening is not None:
            value = value[len(opening) :].lstrip(_JOINS)
        break
    if after and after[0] in _STOPS:
        value = value.rstrip(_STOPS)
    return value


def render_notice(doc: NoticeDocument, *, font_path: Path | None = None) -> bytes:
    """The notice as a one-page A4 PDF with the font embedded, drawn with the result
    document's helpers (seals.drawing). Raises FontMissing without the font, RenderError if
    the text does not fit on one page."""
    page = start_page(
        title=f"{doc.title}（{doc.document_number}）",
        author=doc.organisation,
        subject=f"案件编号：{doc.case_number}；办理结果：{doc.outcome_text}",
        keywords=[doc.case_number, doc.outcome_text],
        font_path=font_path,
    )
    y = draw_red_head(page, doc.organisation)
    y = draw_title(page, y, doc.title, doc.document_number)
    lines = [
        Line(f"案件编号：{doc.case_number}", "field"),
        Line(f"办理结果：{doc.outcome_text}", "field"),
        Line("", "gap"),
        *(
            Line(text, "field" if index == 0 else "paragraph")
            for index, text in enumerate(doc.paragraphs)
        ),
    ]
    y = draw_lines(page, y, lines)
    draw_signature(
        page,
        y,
        organisation=doc.organisation,
        issued_on=doc.issued_on,
        seal_purpose=doc.seal_purpose,
    )
    notes = verification_notes(doc.verification_url, document=f"本{doc.title}")
    footer = f"{doc.organisation}　{doc.document_number}　案件编号 {doc.case_number}"
    draw_verification_footer(page, doc.verification_url, notes, footer)
    return page.finish()
