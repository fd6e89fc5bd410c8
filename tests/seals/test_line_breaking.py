"""Line breaking in the documents' text (禁则): no line opens with a closing mark, also where
two of them meet at a line end (《…》。, （…）。), which reportlab alone lets through."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph
from sealkit import ORG, pdftotext

from seals.drawing import MARGIN, PAGE_WIDTH, _styles
from seals.fonts import register_font
from seals.notices import NoticeDocument, render_notice

MARKS = set("，。、：；？！）》」』")
WIDTH = PAGE_WIDTH - 2 * MARGIN


def _lines(text: str, kind: str = "paragraph") -> list[tuple[float, str]]:
    """The lines draw_lines would set ``text`` in, each with its extra space."""
    paragraph = Paragraph(text, _styles(register_font())[kind])
    paragraph.wrap(WIDTH, 1000)
    return [(space, "".join(words)) for space, words in paragraph.blPara.lines]


@pytest.mark.parametrize("closing", ["《食品经营许可证》。", "（依申请）。", "《许可法》，"])
def test_no_line_opens_with_a_mark_wherever_the_marks_fall(closing: str) -> None:
    # Sliding the marks over two line widths puts them at a line end in every position.
    for lead in range(80):
        text = "甲" * lead + closing + "乙" * 60
        lines = _lines(text)
        assert "".join(line for _, line in lines) == text
        opened = [(lead, line[:3]) for _, line in lines[1:] if line[:1] in MARKS]
        assert opened == [], opened


def test_the_width_given_up_stays_as_space_so_lines_stay_justified() -> None:
    font = register_font()
    for lead in range(40):
        for space, line in _lines("甲" * lead + "《食品经营许可证》。" + "乙" * 60, "field")[:-1]:
            # Every full line fills the width with its text and its space (a hung mark's
            # space is negative by its own width).
            used = stringWidth(line, font, 13.0) + space
            assert used == pytest.approx(WIDTH, abs=0.05)


def test_a_notice_prints_no_line_that_opens_with_a_full_stop(tmp_path: Path) -> None:
    # The lead that brings 》 to the end of the notice's first line (a field line, no
    # indent), where reportlab alone hangs it and opens the next line with 。: the page must
    # carry 证》。 down together.
    lead = next(
        n
        for n in range(60)
        if any(line.startswith("证》。") for _, line in _lines("甲" * n + "《许可证》。", "field"))
    )
    body = "甲" * lead + "《许可证》。" + "乙" * 20
    document = NoticeDocument(
        title="延期通知书",
        outcome_text="延长办理期限",
        organisation=ORG,
        document_number="西审批延〔2026〕1号",
        case_number="20261124-0000",
        paragraphs=(body,),
        issued_on=date(2026, 11, 27),
        verification_url="https://zwfw.example.gov.cn/verify?case=20261124-0000",
    )
    text = pdftotext(render_notice(document), tmp_path)
    starts = [line.strip()[:1] for line in text.splitlines() if line.strip()]
    assert "。" not in starts
    assert any(line.strip().startswith("证》。") for line in text.splitlines())
