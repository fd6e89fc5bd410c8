"""The supervision page in a real browser: a suspended case listed with since when, how long
and why; the warning that a deadline runs into a year with no published calendar; the figures;
a case's timeline; and a 督办 signed with the supervisor's browser key."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, expect

from tests.e2e.e2ekit import ADMIN, STAFF, ShiftedClock, Staff, enrol, field_of, new_office, serve
from tests.e2e.test_e2e_browser import _browser_key, _shot, _sign_in, browser  # noqa: F401

pytestmark = pytest.mark.browser

# Four hundred working days run past any year a calendar has been published for yet.
LONG_MATTER = """\
code = "XK-370100-400"
name = "大型项目审批"
legal_basis = "《中华人民共和国行政许可法》"
review_levels = ["reviewer"]
statutory_days = 400
committed_days = 400
required_materials = ["食品经营许可申请书"]
seal_issued = true
"""


def _apply(wang: Staff, matter: str, name: str) -> tuple[str, str]:
    applied = wang("apply", "--matter", matter, "--applicant-name", name,
                   "--applicant-kind", "organisation", "--applicant-id", "91370100MA3C000001",
                   "--material", "食品经营许可申请书.pdf=" + "ab" * 32)  # fmt: skip
    return field_of(applied, "case id"), field_of(applied, "case number")


def test_supervision_shows_a_suspended_case_and_the_calendar_warning(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
) -> None:
    cli, port, keys = new_office(tmp_path, None)
    with serve(cli.home, None, port, ShiftedClock()) as server:
        enrol(cli, server, keys, tmp_path)
        (tmp_path / "long.toml").write_text(LONG_MATTER, encoding="utf-8")
        cli("matter", "add", str(tmp_path / "long.toml"), "--server", server, *ADMIN)
        cli("staff", "add", "staff:sun.qi", "--name", "孙琦", "--id-number", "370102199007070072",
            "--unit", "监察室", "--server", server, *ADMIN)  # fmt: skip
        cli("staff", "grant", "staff:sun.qi", "--role", "supervisor", "--server", server, *ADMIN)
        wang = Staff(cli, server, keys, STAFF[0][0])
        paused, paused_number = _apply(wang, "XK-370100-001", "济南泉城食品有限公司")
        wang("accept", paused)
        wang("suspend", paused, "--reason", "组织专家评审")
        long, long_number = _apply(wang, "XK-370100-400", "历下区某建设公司")
        wang("accept", long)
        zhang = Staff(cli, server, keys, STAFF[2][0])
        too_long = zhang("extend", long, "--days", "11", "--reason", "现场核查",
                         "--notice", "办理期限延长。", ok=False)  # fmt: skip
        assert "order.not_allowed" in too_long.stderr
        zhang("extend", long, "--days", "5", "--reason", "现场核查",
              "--notice", "办理期限延长五个工作日。")  # fmt: skip
        shown = wang("show", paused).stdout
        assert "not started" not in shown
        assert "clock stopped since" in shown and "组织专家评审" in shown
        assert "clock.calendar_unknown" in wang("show", long).stdout

        page = browser.new_page(locale="zh-CN")
        _browser_key(page, server, "staff:sun.qi", cli)
        _sign_in(page)
        suspended = page.locator(f"#suspended tr[data-case-id='{paused}']")
        expect(suspended).to_contain_text(paused_number)
        expect(suspended.locator(".reason")).to_have_text("组织专家评审")
        expect(suspended).to_contain_text("0 天（0 个工作日）")
        warning = page.locator("#calendar-warning .notice.warn")
        expect(warning).to_contain_text("clock.calendar_unknown")
        expect(warning).to_contain_text("工作日历尚未发布")
        unknown = page.locator(f"#calendar-unknown tr[data-case-id='{long}']")
        expect(unknown).to_contain_text(long_number)
        expect(unknown.locator(".calendar-unknown")).to_contain_text("工作日历未发布")
        expect(unknown).to_contain_text("延期 5 日")
        expect(page.locator("#overdue")).not_to_contain_text(paused_number)
        expect(page.locator("#figures")).to_contain_text("在办")
        _shot(page, tmp_path, "supervision-clock")

        # 督办: the prompt's text becomes the signed order, signed by this browser's key.
        def answer(dialog: Dialog) -> None:
            dialog.accept("请于三个工作日内说明中止理由。")

        page.once("dialog", answer)
        suspended.locator("button.order").click()
        expect(page.locator("#order-result .notice.good")).to_contain_text(paused_number)
        suspended.locator("a.case-link").click()
        expect(page.locator("#timeline")).to_contain_text("督办")
        expect(page.locator("#timeline")).to_contain_text("staff:sun.qi")
    history = wang.cli("case", "history", paused, "--json", *wang.args).stdout.split()
    assert '"SupervisionOrdered"' in history[-1]
