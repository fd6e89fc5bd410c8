"""The web pages in a real browser (Debian's chromium, driven by Playwright).

A reviewer makes a key in the browser (WebCrypto Ed25519, never leaving it), the admin enrols
it with the command line, and the reviewer signs in and signs the review step from the queue
page; the approver then decides with the command line on top of the browser-signed step. The
public finds the case by number and query code, and a supervisor whose browser key was
enrolled the same way sees the other case overdue once the server's clock is weeks ahead.
Set CASELEDGER_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from reportlab.pdfgen import canvas

from ledger.envelope import Envelope
from tests.browser import open_chromium
from tests.e2e.e2ekit import (
    ADMIN,
    STAFF,
    Cli,
    ShiftedClock,
    Staff,
    apply,
    enrol,
    new_office,
    serve,
)

pytestmark = pytest.mark.browser

ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium(*ARGS)


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CASELEDGER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def _browser_key(page: Page, server: str, principal: str, cli: Cli) -> str:
    """Make a key in the browser, enrol its public key with the CLI; return its key id."""
    page.goto(f"{server}{'/supervision' if principal == 'staff:sun.qi' else '/staff'}")
    page.fill("#principal", principal)
    page.dispatch_event("#principal", "change")
    page.click("#generate-key")
    expect(page.locator("#enrol")).to_be_visible()
    command = page.locator("#enrol-command").inner_text().split()
    assert command[:4] == ["caseledger", "staff", "add-key", principal]
    cli(*command[1:], "--server", server, *ADMIN)
    key_id = page.locator("#key-status").get_attribute("data-key-id")
    assert key_id and len(key_id) == 16
    return key_id


def _sign_in(page: Page) -> None:
    page.click("#signin")
    expect(page.locator("#work")).to_be_visible()


def _review_in_browser(page: Page, server: str, cli: Cli, number: str) -> str:
    key_id = _browser_key(page, server, "staff:li.na", cli)
    _sign_in(page)
    expect(page.locator("#who")).to_contain_text("staff:li.na")
    button = page.locator(f"#queue-reviewer button[data-case='{number}']")
    expect(button).to_be_visible()
    button.click()
    # The case is read before signing; the step's name comes from the step table the server
    # renders into the page.
    expect(page.locator("#timeline tr[data-step='Accepted']")).to_contain_text("王立")
    action = page.locator("#case-actions button[data-step='Reviewed']")
    expect(action).to_have_text("审查")
    action.click()
    form = page.locator("#action-form form[data-step='Reviewed']")
    form.locator("textarea[name=comments]").fill("经审查，申请人符合许可条件。")
    form.locator("input[name=basis]").fill("《食品经营许可和备案管理办法》")
    form.locator("button[type=submit]").click()
    expect(form.locator(".draft-text")).to_contain_text("同意")
    form.locator("button.confirm").click()
    expect(page.locator("#step-result .notice.good")).to_contain_text(number)
    return key_id


def _plain_pdf(path: Path) -> Path:
    sheet = canvas.Canvas(str(path))
    sheet.drawString(72, 720, "not a sealed result")
    sheet.save()
    return path


def _status_page(
    page: Page, server: str, wang: Staff, zhang: Staff, result: tuple[str, Path], tmp_path: Path
) -> None:
    """Where the printed result's QR code leads: its status, issuer, matter, holder and signed
    steps; the file compared by upload; after revocation, why and by whom, and the upload
    no longer shows the result as if it held."""
    case, sealed = result
    history = [Envelope.from_bytes(x) for x in wang("history", case, "--json").stdout.split()]
    issued = next(e for e in history if e.type == "ResultIssued")
    page.goto(f"{server}/verify/{issued.body['document_id']}")
    expect(page.locator("#status-text")).to_have_text("该文书有效")
    document = page.locator("#document")
    expect(document).to_contain_text("济南市行政审批服务局")
    expect(document).to_contain_text("济南泉城食品有限公司")
    expect(document).to_contain_text("准予许可")
    expect(page.locator("#full-hash")).to_have_text(str(issued.body["pdf_sha256"]))
    steps = page.locator("#steps")
    expect(steps.locator("tr[data-step='Accepted']")).to_contain_text("王立")
    expect(steps.locator("tr[data-step='Accepted']")).to_contain_text("受理人")
    expect(steps.locator("tr[data-step='Reviewed']")).to_contain_text("李娜")
    expect(steps.locator("tr[data-step='Decided']")).to_contain_text("张伟")
    expect(steps.locator("tr[data-step='Decided']")).to_contain_text("审批人")
    page.set_input_files("#pdf", str(sealed))
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#verdict-text")).to_have_text("核验通过")
    expect(page.locator("tr[data-check='result.status']")).to_contain_text("通过")
    expect(page.locator("#verdict-steps tr[data-step='Decided']")).to_contain_text("张伟")
    _shot(page, tmp_path, "status")

    wang("deliver", case, "--recipient", "济南泉城食品有限公司", "--channel", "window")
    zhang("revoke", case, "--reason", "以欺骗手段取得行政许可", "--legal-basis", "第六十九条")
    page.reload()
    expect(page.locator("#status-text")).to_have_text("该文书已撤销")
    expect(page.locator("#ending")).to_contain_text("以欺骗手段取得行政许可")
    expect(page.locator("#ending")).to_contain_text("张伟")
    page.set_input_files("#pdf", str(sealed))
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#verdict-text")).to_have_text("核验未通过")
    expect(page.locator("tr[data-check='result.status']")).to_contain_text("未通过")
    expect(page.locator("#verdict")).not_to_contain_text("准予许可")
    expect(page.locator("#not-relied")).to_be_visible()
    _shot(page, tmp_path, "status-revoked")
    page.goto(f"{server}/verify/{'0' * 32}")
    expect(page.locator("#status-text")).to_contain_text("未找到该文件")


def test_pages_in_a_real_browser(tmp_path: Path, browser: Browser) -> None:
    cli, port, keys = new_office(tmp_path, None)
    clock = ShiftedClock()
    with serve(cli.home, None, port, clock) as server:
        enrol(cli, server, keys, tmp_path)
        cli("staff", "add", "staff:sun.qi", "--name", "孙琦", "--id-number", "370102199007070072",
            "--unit", "监察室", "--server", server, *ADMIN)  # fmt: skip
        cli("staff", "grant", "staff:sun.qi", "--role", "supervisor", "--server", server, *ADMIN)
        wang, _, zhang = (Staff(cli, server, keys, p) for p, *_ in STAFF)
        case, number, code = apply(wang, "济南泉城食品有限公司")
        wang("accept", case)
        late, late_number, _ = apply(wang, "历下区某餐饮店")
        wang("accept", late)

        page = browser.new_page(locale="zh-CN")
        key_id = _review_in_browser(page, server, cli, number)
        _shot(page, tmp_path, "staff")
        zhang("decide", case, "--decision", "准予行政许可。", "--legal-basis", "第三十八条")
        envelopes = [Envelope.from_bytes(x) for x in wang("history", case, "--json").stdout.split()]
        assert (envelopes[2].type, envelopes[2].actor.key) == ("Reviewed", key_id)

        public = browser.new_page(locale="zh-CN")
        public.goto(f"{server}/public")
        public.fill("#number", number)
        public.fill("#code", code)
        public.click("#lookup button[type=submit]")
        # The server seals an approved result at once: the case shows as issued (已出证).
        expect(public.locator("#case-result")).to_contain_text("已出证")
        expect(public.locator("#case-result")).to_contain_text("准予许可")
        public.set_input_files("#pdf", str(_plain_pdf(tmp_path / "plain.pdf")))
        public.click("#verify-form button[type=submit]")
        expect(public.locator("#verdict-text")).to_have_text("核验未通过")
        # The sealed result, reached the way its QR code leads: /verify?case=NUMBER.
        sealed = tmp_path / "result.pdf"
        # Sealing runs its own event loop: off the thread where Playwright's loop runs.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(cli, "case", "issue", case, "--out", str(sealed)).result()
        _status_page(public, server, wang, zhang, (case, sealed), tmp_path)

        # The applicant rates the revoked case with the query code: a 差评, due to be put right.
        rating = {"level": "不满意", "channel": "offline", "indicators": {"服务态度": "不满意"}}
        rated = httpx.post(f"{server}/v1/public/cases/{number}/rating?code={code}", json=rating)
        assert rated.status_code == 201, rated.text

        supervisor = browser.new_page(locale="zh-CN")
        _browser_key(supervisor, server, "staff:sun.qi", cli)
        # Six weeks on: the second case, accepted and never decided, is past its limit.
        clock.offset = timedelta(days=40)
        _sign_in(supervisor)
        overdue = supervisor.locator("#overdue")
        expect(overdue).to_contain_text(late_number)
        expect(overdue.locator(f"tr[data-case-id='{late}'] .card-red")).to_have_text("红牌")
        expect(overdue).not_to_contain_text(number)
        due = supervisor.locator(f"#reform-due tr[data-case-id='{case}']")
        expect(due).to_contain_text("差评待整改")
        expect(due).to_contain_text("已逾期")
        expect(supervisor.locator("#ratings")).to_contain_text("0.0%")  # one rating, a 差评
        _shot(supervisor, tmp_path, "supervision")
