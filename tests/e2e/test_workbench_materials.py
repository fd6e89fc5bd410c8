"""A case's files in the staff workbench, in a real browser (Debian's chromium).

The window records an application with a PDF and a photo: the browser keeps both in the
office's material store before it signs the step naming them. The reviewer opens the case,
follows each material's link and sees the file in the page — the PDF framed, the photo drawn —
once the browser has checked its SHA-256 against the signed step; then signs the review. A
file changed in the store afterwards is refused with the reason, a material named by a signed
step but never uploaded says 未存档, and no one without a staff token reads a file.
Set CASELEDGER_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Frame, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from tests.browser import open_chromium
from tests.e2e.e2ekit import MATTER_CODE, PASSPHRASES, STAFF, Staff, apply, enrol, new_office, serve
from tests.e2e.test_workbench import _shot, _sign_in, _take
from tests.e2e.test_workbench_steps import _find

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium("--lang=zh-CN")


def _form_pdf(path: Path) -> Path:
    """A one-page application form, as a scanner or a word processor would hand it over."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    sheet = canvas.Canvas(str(path), pagesize=A4)
    sheet.setTitle("食品经营许可申请书")
    sheet.setFont("STSong-Light", 22)
    sheet.drawString(150, 760, "食品经营许可申请书")
    sheet.setFont("STSong-Light", 13)
    lines = ("申请人：济南泉城食品有限公司", "统一社会信用代码：91370100MA3C000001",
             "经营场所：济南市历下区", "申请项目：预包装食品销售")  # fmt: skip
    for row, line in enumerate(lines):
        sheet.drawString(80, 700 - 28 * row, line)
    sheet.save()
    return path


def _photo(path: Path) -> Path:
    """A photo of the premises: a plain picture, big enough to tell drawn from broken."""
    image = Image.new("RGB", (480, 300), (222, 235, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 80, 420, 260), fill=(150, 90, 60), outline=(60, 40, 20), width=4)
    draw.rectangle((200, 170, 280, 260), fill=(90, 60, 40))
    image.save(path, format="PNG")
    return path


def _pdf_viewer(page: Page) -> Frame:
    """The frame of Chromium's own PDF viewer (an extension page), once it is there."""
    for _ in range(200):
        found = [f for f in page.frames if f.url.startswith("chrome-extension://")]
        if found:
            return found[0]
        page.wait_for_timeout(50)
    raise AssertionError("the PDF is not shown in chromium's PDF viewer")


def _scroll_to(page: Page, selector: str) -> None:
    """Scroll ``selector`` into view and let the page draw before it is clicked: in Debian's
    chromium (headless) a click made at once after the scroll was seen to land in the PDF
    viewer's frame instead, as if where that frame stood were not yet updated."""
    page.locator(selector).scroll_into_view_if_needed()
    page.evaluate("() => new Promise((done) => setTimeout(done, 250))")


def _open_material(page: Page, name: str) -> None:
    page.locator("#case-materials a.material-link", has_text=name).click()


def test_a_reviewer_reads_the_cases_files_before_signing(tmp_path: Path, browser: Browser) -> None:
    cli, port, keys = new_office(tmp_path, None)
    with serve(cli.home, None, port) as server:
        enrol(cli, server, keys, tmp_path)
        wang_cli = Staff(cli, server, keys, "staff:wang.li")

        def person(principal: str) -> Page:
            name, variable = next((n, v) for p, n, *_, v in STAFF if p == principal)
            return _sign_in(browser, f"{server}/staff", name, keys[principal],
                            PASSPHRASES[variable])  # fmt: skip

        form_pdf = _form_pdf(tmp_path / "食品经营许可申请书.pdf")
        photo = _photo(tmp_path / "经营场所照片.png")
        wang = person("staff:wang.li")
        wang.click("#new-application")
        form = wang.locator("#application form[data-step='Applied']")
        form.locator("[name=matter]").select_option(MATTER_CODE)
        form.locator("[name='applicant.kind']").select_option("organisation")
        form.locator("[name='applicant.name']").fill("济南泉城食品有限公司")
        form.locator("[name='applicant.id']").fill("91370100MA3C000001")
        form.locator("[name=materials]").set_input_files([str(form_pdf), str(photo)])
        form.locator("button[type=submit]").click()
        form.locator("button.confirm").click()
        expect(wang.locator("#step-result .notice.good")).to_contain_text("已签名提交")
        number = wang.locator("#case h2").inner_text().split()[-1]
        case_id = wang.locator("#case").get_attribute("data-case-id")
        # Both files kept before the step was signed, under the hash it names.
        expect(wang.locator("#case-materials tr[data-stored='true']")).to_have_count(2)
        _take(wang, "Accepted", {})
        # A case from the command line names a material by its hash alone: never uploaded.
        unkept_id, unkept, _ = apply(wang_cli, "历下区某餐馆")
        wang_cli("accept", unkept_id)

        li = person("staff:li.na")
        li.click(f"#queue-reviewer button[data-case='{number}']")
        expect(li.locator("#case h2")).to_contain_text(number)
        _open_material(li, "经营场所照片.png")
        view = li.locator("#material-view")
        expect(view).to_have_attribute("data-state", "shown")
        expect(view).to_contain_text("SHA-256 与第1步签名记录一致")
        image = view.locator("img.material-image")
        expect(image).to_be_visible()
        assert image.evaluate("(img) => [img.complete, img.naturalWidth, img.naturalHeight]") == [
            True, 480, 300,
        ]  # fmt: skip
        _open_material(li, "食品经营许可申请书.pdf")
        expect(view).to_have_attribute("data-state", "shown")
        frame = view.locator("iframe.material-frame")
        expect(frame).to_be_visible()
        assert (frame.get_attribute("src") or "").startswith("blob:")
        # The browser took the frame's content for a PDF and draws it with its PDF viewer.
        # Chromium's PDF viewer took it, and read the form's own title from the file.
        assert frame.evaluate("(f) => f.contentDocument.contentType") == "application/pdf"
        _pdf_viewer(li).wait_for_function("() => document.title === '食品经营许可申请书'")
        _shot(li, tmp_path, "workbench-material")
        _scroll_to(li, "#case-actions button[data-step='Reviewed']")
        _take(li, "Reviewed", {"comments": "材料齐全，与原件核对一致。"}, {"opinion": "agree"})

        # Bytes other than the signed ones on the way (a proxy, a cache): the page will not
        # show them, whatever the answer says.
        sha = hashlib.sha256(form_pdf.read_bytes()).hexdigest()
        swap = f"**/v1/cases/{case_id}/materials/{sha}"
        li.route(swap, lambda route: route.fulfill(status=200, body=b"%PDF-1.4 swapped",
                                                   content_type="application/pdf"))  # fmt: skip
        _open_material(li, "食品经营许可申请书.pdf")
        expect(view).to_have_attribute("data-state", "mismatch")
        expect(view).to_contain_text("不予显示")
        expect(view.locator("iframe")).to_have_count(0)
        li.unroute(swap)

        # The stored PDF changed behind the office's back: refused, and the page says why.
        (cli.home / "materials" / sha[:2] / sha).write_bytes(b"%PDF-1.4 another form")
        _open_material(li, "食品经营许可申请书.pdf")
        expect(view).to_have_attribute("data-state", "refused")
        expect(view).to_contain_text("与签名记录的 SHA-256 不符")
        expect(view).to_contain_text("material.corrupt")
        expect(view.locator("iframe")).to_have_count(0)

        # Named by the signed step, never uploaded: the row says so, with nothing to follow.
        _find(li, unkept)
        row = li.locator("#case-materials tr", has_text="食品经营许可申请书.pdf")
        expect(row).to_contain_text("未存档")
        expect(row.locator("a")).to_have_count(0)

        # Without a staff token the file is not served, whoever asks.
        photo_sha = hashlib.sha256(photo.read_bytes()).hexdigest()
        link = f"{server}/v1/cases/{case_id}/materials/{photo_sha}"
        assert httpx.get(link, timeout=30).status_code == 401
