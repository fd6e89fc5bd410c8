"""The result document: text, fonts, the visible seal, and the values that go into it."""

from __future__ import annotations

import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sealkit import ORG, pdftotext, sample_document

from seals import FontMissing, RenderError, chinese_date, mask_id_number, render_result
from seals.fonts import DEFAULT_FONT_PATH, FONT_ENV, font_path, glyph_outline


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 23), "二〇二六年十一月二十三日"),
        (date(2030, 1, 5), "二〇三〇年一月五日"),
        (date(2026, 10, 10), "二〇二六年十月十日"),
        (date(2026, 12, 31), "二〇二六年十二月三十一日"),
        (date(2027, 2, 20), "二〇二七年二月二十日"),
    ],
)
def test_chinese_date(day: date, text: str) -> None:
    assert chinese_date(day) == text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("330106199003071236", "330106********1236"),
        ("91330100MA2XXXXX1K", "913301********XX1K"),
        ("330106********1234", "330106********1234"),
        ("A1234567", "*******7"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_text_can_be_extracted_and_identity_is_masked(rendered: bytes, tmp_path: Path) -> None:
    text = pdftotext(rendered, tmp_path)
    for needle in (
        "杭州清河餐饮管理有限公司",
        "食品经营许可（新办）",
        ORG,
        "准予行政许可决定书",
        "案件编号：XH-2026-000123",
        "办理结果：准予行政许可",
        "330106********1236",
        "二〇二六年十一月二十三日",
        "自2026年11月23日起至2031年11月22日止",
        "https://zwfw.example.gov.cn/v/3f6c2a1e-7b1d-4c55-9a0e-1234567890ab",
    ):
        assert needle in text, needle
    assert "330106199003071236" not in text
    # The seal's lettering is a picture, so its purpose line is not text.
    assert "行政审批专用章" not in text


def test_every_font_is_embedded(rendered: bytes) -> None:
    with pikepdf.open(BytesIO(rendered)) as pdf:
        fonts = list(pdf.pages[0].Resources.Font.values())
        assert fonts
        for font in fonts:
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            assert "/FontFile2" in descendant.FontDescriptor, font.BaseFont
        assert str(pdf.docinfo.Subject) == "案件编号：XH-2026-000123；办理结果：准予行政许可"


def test_visible_seal_is_red_and_round_near_the_date(rendered: bytes, tmp_path: Path) -> None:
    source = tmp_path / "page.pdf"
    source.write_bytes(rendered)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(source), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    width, height = image.size
    red = [
        (x, y)
        for x in range(width)
        for y in range(height)
        if (lambda r, g, b: r > 180 and g < 90 and b < 90)(*image.getpixel((x, y)))
    ]
    seal = [(x, y) for x, y in red if y > height * 0.45]  # below the red head of the letter
    assert len(seal) > 200
    xs, ys = [x for x, _ in seal], [y for _, y in seal]
    # A round seal: as wide as it is tall, in the right half of the page.
    seal_w, seal_h = max(xs) - min(xs), max(ys) - min(ys)
    assert abs(seal_w - seal_h) <= 3 and min(xs) > width / 2


def test_decision_too_long_for_a_page_is_a_render_error() -> None:
    with pytest.raises(RenderError):
        render_result(sample_document(decision_text="经审查，符合法定条件。" * 300))


@pytest.mark.parametrize("field", ["case_number", "applicant_name", "organisation"])
def test_missing_fields_are_refused(field: str) -> None:
    with pytest.raises(RenderError):
        sample_document(**{field: " "})


def test_validity_must_not_end_before_it_begins() -> None:
    with pytest.raises(RenderError):
        sample_document(valid_from=date(2027, 1, 1), valid_until=date(2026, 1, 1))


def test_font_lookup_default_override_and_missing(tmp_path: Path) -> None:
    assert font_path({}) == DEFAULT_FONT_PATH
    assert font_path({FONT_ENV: str(DEFAULT_FONT_PATH)}) == DEFAULT_FONT_PATH
    with pytest.raises(FontMissing) as caught:
        font_path({FONT_ENV: str(tmp_path / "absent.ttf")})
    assert caught.value.code == "seal.font_missing"
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with pytest.raises(FontMissing):
        render_result(sample_document(), font_path=broken)


def test_glyph_outlines_come_from_the_font() -> None:
    outline = glyph_outline("印")
    assert outline.advance > 0.5
    assert outline.commands[0][0] == "M" and any(op == "Z" for op, _ in outline.commands)
    with pytest.raises(FontMissing):
        glyph_outline("印章")


def test_qr_code_reads_back_as_the_verification_url(rendered: bytes, tmp_path: Path) -> None:
    import zxingcpp

    source = tmp_path / "page.pdf"
    source.write_bytes(rendered)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(source), str(tmp_path / "q")], check=True)
    image = Image.open(next(tmp_path.glob("q*.png")))
    codes = [(code.format, code.text) for code in zxingcpp.read_barcodes(image)]
    assert codes == [(zxingcpp.BarcodeFormat.QRCode, sample_document().verification_url)]
