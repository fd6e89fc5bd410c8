"""The other steps of the staff workbench in a real browser (Debian's chromium): 不予受理 with
its reason and legal basis, 中止 and 恢复计时, 撤回, and 撤销 of a delivered result. Each is
signed in the browser by the person who takes it, with their own key file; the case's
timeline then shows the step with what was signed, and the record names that person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from api.org import OrgHome
from tests.browser import open_chromium
from tests.e2e.e2ekit import PASSPHRASES, STAFF, Staff, apply, enrol, new_office, serve
from tests.e2e.test_workbench import _sign_in, _take

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium("--lang=zh-CN")


def _find(page: Page, number: str) -> None:
    """Open a case by its number, as the window does for a case in no queue of theirs."""
    page.fill("#find-number", number)
    page.click("#find-case button[type=submit]")
    expect(page.locator("#case h2")).to_contain_text(number)


def _row(page: Page, step: str) -> Locator:
    return page.locator(f"#timeline tr[data-step='{step}']")


def test_refusal_suspension_withdrawal_and_revocation_in_the_browser(
    tmp_path: Path, browser: Browser
) -> None:
    cli, port, keys = new_office(tmp_path, None)
    with serve(cli.home, None, port) as server:
        enrol(cli, server, keys, tmp_path)
        wang_cli, li_cli, zhang_cli = (Staff(cli, server, keys, p) for p, *_ in STAFF)
        names = {p: n for p, n, *_ in STAFF}

        def person(principal: str) -> Page:
            variable = next(v for p, *_, v in STAFF if p == principal)
            return _sign_in(browser, f"{server}/staff", names[principal], keys[principal],
                            PASSPHRASES[variable])  # fmt: skip

        refused_id, refused, _ = apply(wang_cli, "历下区某餐馆")
        paused_id, paused, _ = apply(wang_cli, "市中区某食品店")
        wang_cli("accept", paused_id)
        revoked_id, revoked, _ = apply(wang_cli, "槐荫区某超市")
        wang_cli("accept", revoked_id)
        li_cli("review", revoked_id, "--comments", "符合条件。")
        zhang_cli("decide", revoked_id, "--decision", "准予行政许可。",
                  "--legal-basis", "第三十八条")  # fmt: skip
        wang_cli("deliver", revoked_id, "--recipient", "槐荫区某超市", "--channel", "window")

        # 不予受理: the reason and the legal basis, as the applicant is told them.
        wang = person("staff:wang.li")
        _find(wang, refused)
        basis = "《中华人民共和国行政许可法》第三十二条第一款第二项"
        reason = "申请事项不属于本机关职权范围。"
        _take(wang, "NotAccepted", {"reason": reason, "legal_basis": basis})
        expect(_row(wang, "NotAccepted")).to_contain_text("申请事项不属于本机关职权范围。")
        expect(_row(wang, "NotAccepted")).to_contain_text("王立")
        expect(wang.locator("#case-actions button[data-step='Accepted']")).to_have_count(0)

        # 中止, then 恢复计时, then 撤回 on the applicant's written request.
        _find(wang, paused)
        _take(wang, "Suspended", {"reason": "需要组织听证。"})
        expect(_row(wang, "Suspended")).to_contain_text("需要组织听证。")
        expect(wang.locator("#case-limit")).to_contain_text("中止")
        _take(wang, "Resumed", {"reason": "听证已结束。"})
        expect(_row(wang, "Resumed")).to_contain_text("听证已结束。")
        expect(wang.locator("#case-limit")).to_contain_text("剩余")
        _take(wang, "Withdrawn", {"reason": "申请人书面申请撤回。"})
        expect(_row(wang, "Withdrawn")).to_contain_text("申请人书面申请撤回。")
        expect(wang.locator("#case-actions button[data-step='Reviewed']")).to_have_count(0)

        # 撤销 of the delivered licence, by the approver, naming the document it ends.
        zhang = person("staff:zhang.wei")
        _find(zhang, revoked)
        expect(_row(zhang, "Delivered")).to_be_visible()
        _take(zhang, "ResultRevoked", {"reason": "被许可人以欺骗手段取得行政许可。"})
        expect(_row(zhang, "ResultRevoked")).to_contain_text("被许可人以欺骗手段取得行政许可。")
        expect(_row(zhang, "ResultRevoked")).to_contain_text("张伟")

    ledger = OrgHome.load(cli.home).open_ledger(None)
    try:
        signed = {
            case: [(e.type, e.actor.id) for e in ledger.events(f"case:{case}")]
            for case in (refused_id, paused_id, revoked_id)
        }
        assert signed[refused_id][-1] == ("NotAccepted", "staff:wang.li")
        assert signed[paused_id][-3:] == [
            ("Suspended", "staff:wang.li"), ("Resumed", "staff:wang.li"),
            ("Withdrawn", "staff:wang.li"),
        ]  # fmt: skip
        assert signed[revoked_id][-1] == ("ResultRevoked", "staff:zhang.wei")
        refusal = list(ledger.events(f"case:{refused_id}"))[-1].body
        assert refusal["legal_basis"].endswith("第三十二条第一款第二项")
        revoked_steps = list(ledger.events(f"case:{revoked_id}"))
        issued = [e for e in revoked_steps if e.type == "ResultIssued"]
        assert revoked_steps[-1].body["result"] == issued[-1].body["pdf_sha256"]
        assert ledger.audit().ok
    finally:
        ledger.close()
