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

from seals import FontMissing, RenderError, render_result
from seals.fonts import DEFAULT_FONT_PATH, FONT_ENV, font_path, glyph_outline

IDENTITY_NUMBER = sample_document().applicant_id_number


def test_text_can_be_extracted_and_identity_is_masked(rendered: bytes, tmp_path: Path) -> None:
    text = pdftotext(rendered, tmp_path)
    for needle in (
        "杭州清河餐饮管理有限公司",
        "食品经营许可（新办）",
        ORG,
        "准予行政许可决定书",
        "案件编号：XH-2026-000123",
        "办理结果：准予行政许可",
        f"身份证号码：330106********{IDENTITY_NUMBER[-4:]}",
        "2026年11月23日",
        "自2026年11月23日起至2031年11月22日止",
        "https://zwfw.example.gov.cn/v/3f6c2a1e-7b1d-4c55-9a0e-1234567890ab",
        "扫描左侧二维码",
    ):
        assert needle in text, needle
    assert IDENTITY_NUMBER not in text
    # No command for a citizen to type: the verify line says where to look, in words.
    assert "caseledger" not in text and "--trust" not in text
    # The seal's lettering is a picture, so its purpose line is not text.
    assert "行政审批专用章" not in text


def test_an_organisation_s_credit_code_is_printed_in_full(tmp_path: Path) -> None:
    document = sample_document(
        applicant_id_number="91330106MA2B000123", applicant_kind="organisation"
    )
    text = pdftotext(render_result(document), tmp_path)
    assert "统一社会信用代码：91330106MA2B000123" in text


def test_content_of_an_office_document(tmp_path: Path) -> None:
    document = sample_document(
        applied_on=date(2026, 11, 16),
        accepted_on=date(2026, 11, 17),
        document_number="西审批许准〔2026〕123号",
        licence_number="JY13301060012345",
        scope=("预包装食品销售", "热食类食品制售"),
        review_body="杭州市西湖区人民政府",
        court="杭州市西湖区人民法院",
    )
    text = "".join(pdftotext(render_result(document), tmp_path).split())
    for needle in (
        "西审批许准〔2026〕123号",
        "于2026年11月16日提出的",
        "于2026年11月17日依法受理",
        "许可证编号：JY13301060012345",
        "许可事项：预包装食品销售；热食类食品制售",
        "向杭州市西湖区人民政府申请行政复议",
        "向杭州市西湖区人民法院提起行政诉讼",
    ):
        assert needle in text, needle


def test_without_configured_bodies_the_appeal_notice_stays_general(tmp_path: Path) -> None:
    text = "".join(pdftotext(render_result(sample_document()), tmp_path).split())
    assert "依法申请行政复议" in text and "依法向人民法院提起行政诉讼" in text


def test_no_line_starts_with_closing_punctuation(tmp_path: Path) -> None:
    long_text = "你单位提出的申请符合法定条件、标准，决定准予行政许可，核发《食品经营许可证》。" * 3
    text = pdftotext(render_result(sample_document(decision_text=long_text)), tmp_path)
    starts = [line.strip()[:1] for line in text.splitlines() if line.strip()]
    assert not set(starts) & set("，。、：；？！）》")


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
