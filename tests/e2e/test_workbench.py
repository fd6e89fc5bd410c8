"""The staff workbench and the admin console in a real browser (Debian's chromium).

One case goes the whole way in the browser: recorded at the window with its materials hashed
there, 补正 of every missing item at once, the supplement received, acceptance, two review
levels (the second says 不同意 and returns the case; level 1 and then level 2 agree), approval,
and delivery by post with its tracking number. Each person signs in by choosing their name,
opens their own passphrase-protected key file in the browser, reads the case (timeline,
applicant, materials, time limit) and the draft in plain Chinese before signing. The sealed
result then verifies and the ledger passes the audit. The admin console enrols a member of
staff with their key and grants a role, signed in the browser with the admin's key file.
Set CASELEDGER_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.org import OrgHome
from ledger.envelope import Envelope
from ledger.keyfile import KeyFile
from tests.browser import open_chromium
from tests.e2e.e2ekit import ADMIN, PASSPHRASES, STAFF, Cli, enrol, field_of, new_office, serve

pytestmark = pytest.mark.browser

TWO_LEVELS = "XK-370100-009"
MATTER = f"""\
code = "{TWO_LEVELS}"
name = "食品生产许可证核发"
legal_basis = "《中华人民共和国食品安全法》"
review_levels = ["reviewer", "reviewer"]
statutory_days = 20
committed_days = 10
required_materials = ["食品生产许可申请书", "营业执照副本"]
seal_issued = true
"""
# The staff beyond the kit's three: principal, name, id number, role, passphrase.
MORE_STAFF = (
    ("staff:chen.jing", "陈静", "370102199101010013", "handler", "chen-pw-4"),
    ("staff:zhou.qiang", "周强", "370102198811110011", "reviewer", "zhou-pw-5"),
    ("staff:sun.hui", "孙慧", "370102199202020021", "handler", "sun-pw-6"),
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium("--lang=zh-CN")


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CASELEDGER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def _sign_in(browser: Browser, url: str, name: str, key_file: Path, passphrase: str) -> Page:
    """A person's own browser: choose their name, open their key file with its passphrase."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(url)
    page.fill("#person-filter", name)
    expect(page.locator("#person")).to_contain_text(name)
    page.fill("#key-passphrase", passphrase)
    page.set_input_files("#key-file", str(key_file))
    key_id = KeyFile.load(key_file, passphrase).key.key_id
    expect(page.locator("#key-status")).to_have_attribute("data-key-id", key_id, timeout=20_000)
    page.click("#signin")
    expect(page.locator("#work")).to_be_visible()
    expect(page.locator("#who")).to_contain_text(name)
    return page


def _open_case(page: Page, number: str, role: str) -> None:
    page.click(f"#queue-{role} button[data-case='{number}']")
    expect(page.locator("#case h2")).to_contain_text(number)


def _take(
    page: Page, step: str, fill: dict[str, str], selects: dict[str, str] | None = None
) -> None:
    """Choose a step on the open case, fill its form, read the draft, then sign it."""
    page.click(f"#case-actions button[data-step='{step}']")
    form = page.locator(f"#action-form form[data-step='{step}']")
    for name, value in (selects or {}).items():
        form.locator(f"[name='{name}']").select_option(value)
    for name, value in fill.items():
        form.locator(f"[name='{name}']").fill(value)
    form.locator("button[type=submit]").click()
    expect(form.locator(".draft-text")).to_be_visible()
    form.locator("button.confirm").click()
    expect(page.locator("#step-result .notice.good")).to_contain_text("已签名提交")


def _office(tmp_path: Path) -> tuple[Cli, int, dict[str, Path], dict[str, str]]:
    cli, port, keys = new_office(tmp_path, None)
    passphrases = {p: PASSPHRASES[v] for p, *_, v in STAFF}
    for principal, *_, passphrase in MORE_STAFF:
        path = tmp_path / "keys" / f"{principal.split(':')[1]}.key"
        cli("keygen", "--principal", principal, "--out", str(path), "--passphrase-env", "NEW_PASS",
            env={"NEW_PASS": passphrase})  # fmt: skip
        keys[principal], passphrases[principal] = path, passphrase
    return cli, port, keys, passphrases


def _enrol_more(cli: Cli, server: str, keys: dict[str, Path], tmp_path: Path) -> None:
    enrol(cli, server, keys, tmp_path)
    for principal, name, id_number, role, _ in MORE_STAFF:
        cli("staff", "add", principal, "--name", name, "--id-number", id_number,
            "--from-key", str(keys[principal]), "--server", server, *ADMIN)  # fmt: skip
        cli("staff", "grant", principal, "--role", role, "--server", server, *ADMIN)
    matter = tmp_path / "two-levels.toml"
    matter.write_text(MATTER, encoding="utf-8")
    cli("matter", "add", str(matter), "--server", server, *ADMIN)


def test_a_case_from_the_window_to_postal_delivery_in_the_browser(
    tmp_path: Path, browser: Browser
) -> None:
    cli, port, keys, passphrases = _office(tmp_path)
    with serve(cli.home, None, port) as server:
        _enrol_more(cli, server, keys, tmp_path)
        names = {p: n for p, n, *_ in (*STAFF, *MORE_STAFF)}

        def person(principal: str) -> Page:
            return _sign_in(browser, f"{server}/staff", names[principal], keys[principal],
                            passphrases[principal])  # fmt: skip

        # 收件 at the window: the materials' hashes are computed in the browser.
        application = tmp_path / "食品生产许可申请书.pdf"
        application.write_bytes(b"%PDF-1.4 application form")
        wang = person("staff:wang.li")
        _shot(wang, tmp_path, "workbench-queues")
        wang.click("#new-application")
        form = wang.locator("#application form[data-step='Applied']")
        form.locator("[name=matter]").select_option(TWO_LEVELS)
        form.locator("[name='applicant.kind']").select_option("organisation")
        form.locator("[name='applicant.name']").fill("济南泉城食品有限公司")
        form.locator("[name='applicant.id']").fill("91370100MA3C000001")
        form.locator("[name=materials]").set_input_files(str(application))
        form.locator("button[type=submit]").click()
        expect(form.locator(".draft-text")).to_contain_text("食品生产许可申请书.pdf")
        _shot(wang, tmp_path, "workbench-application")
        form.locator("button.confirm").click()
        expect(wang.locator("#step-result .notice.good")).to_contain_text("申请")
        number = wang.locator("#case h2").inner_text().split()[-1]
        case_id = wang.locator("#case").get_attribute("data-case-id")
        assert case_id

        # 补正: every missing item at once.
        chen = person("staff:chen.jing")
        _open_case(chen, number, "handler")
        expect(chen.locator("#case-materials")).to_contain_text("食品生产许可申请书.pdf")
        expect(chen.locator("#case-applicant")).to_contain_text("91370100MA3C000001")
        _take(chen, "SupplementRequested", {"items": "营业执照副本\n食品安全管理制度"})
        expect(chen.locator("#timeline tr[data-step='SupplementRequested']")).to_contain_text(
            "营业执照副本、食品安全管理制度"
        )

        # The window receives the supplement; the case is back for acceptance.
        supplement = tmp_path / "营业执照副本.pdf"
        supplement.write_bytes(b"%PDF-1.4 licence copy")
        rules = tmp_path / "食品安全管理制度.pdf"
        rules.write_bytes(b"%PDF-1.4 food safety rules")
        # Not in a queue (the applicant's step): the window opens the case by its number.
        wang.fill("#find-number", number)
        wang.click("#find-case button[type=submit]")
        expect(wang.locator("#timeline tr[data-step='SupplementRequested']")).to_be_visible()
        wang.click("#case-actions button[data-step='SupplementProvided']")
        provided = wang.locator("#action-form form[data-step='SupplementProvided']")
        provided.locator("[name=materials]").set_input_files([str(supplement), str(rules)])
        provided.locator("button[type=submit]").click()
        provided.locator("button.confirm").click()
        expect(wang.locator("#case-materials")).to_contain_text("营业执照副本.pdf")

        chen.reload()
        _open_case(chen, number, "handler")
        _take(chen, "Accepted", {})
        expect(chen.locator("#case")).to_have_attribute("data-status", "accepted")

        # Level 1 agrees, level 2 says 不同意 and returns the case to level 1.
        li = person("staff:li.na")
        _open_case(li, number, "reviewer")
        expect(li.locator("#timeline tr[data-step='Accepted']")).to_contain_text("陈静")
        expect(li.locator("#case-limit")).to_contain_text("剩余")
        _take(li, "Reviewed", {"comments": "材料齐全，符合条件。"}, {"opinion": "agree"})
        zhou = person("staff:zhou.qiang")
        _open_case(zhou, number, "reviewer")
        expect(zhou.locator("#timeline tr[data-step='Reviewed']")).to_contain_text("李娜")
        _take(zhou, "Reviewed", {"comments": "缺现场核查记录。"}, {"opinion": "disagree"})
        # After a 不同意 the workbench offers 退回, and no approval.
        expect(zhou.locator("#case-actions button[data-step='Returned']")).to_be_visible()
        _shot(zhou, tmp_path, "workbench-case")
        _take(zhou, "Returned", {"reason": "请补充现场核查记录后重新审查。"})
        expect(zhou.locator("#timeline tr[data-step='Returned']")).to_contain_text("周强")

        li.reload()
        _open_case(li, number, "reviewer")
        expect(li.locator("#timeline")).to_contain_text("请补充现场核查记录后重新审查。")
        _take(li, "Reviewed", {"comments": "已补充现场核查记录，符合条件。"}, {"opinion": "agree"})
        zhou.reload()
        _open_case(zhou, number, "reviewer")
        _take(zhou, "Reviewed", {"comments": "同意。"}, {"opinion": "agree"})

        # Approval; the server seals the approved result at once.
        zhang = person("staff:zhang.wei")
        _open_case(zhang, number, "approver")
        expect(zhang.locator("#timeline tr[data-step='Returned']")).to_be_visible()
        zhang.click("#case-actions button[data-step='Decided']")
        decided = zhang.locator("#action-form form[data-step='Decided']")
        decided.locator("button[type=submit]").click()
        expect(decided.locator(".draft-text")).to_contain_text("准予许可")
        _shot(zhang, tmp_path, "workbench-draft")
        decided.locator("button.confirm").click()
        expect(zhang.locator("#step-result .notice.good")).to_contain_text("决定")

        # Delivery by post, with the address (committed) and the tracking number.
        sun = person("staff:sun.hui")
        expect(sun.locator(f"#queue-handler button[data-case='{number}']")).to_be_visible()
        _open_case(sun, number, "handler")
        expect(sun.locator("#timeline tr[data-step='ResultIssued']")).to_be_visible()
        sun.click("#case-actions button[data-step='Delivered']")
        delivery = sun.locator("#action-form form[data-step='Delivered']")
        delivery.locator("[name=channel]").select_option("post")
        delivery.locator("[name=recipient]").fill("济南泉城食品有限公司")
        delivery.locator("[name=address]").fill("济南市历下区泉城路1号")
        delivery.locator("[name=tracking_number]").fill("EMS1234567890CN")
        delivery.locator("button[type=submit]").click()
        expect(delivery.locator(".draft-text")).to_contain_text("EMS1234567890CN")
        delivery.locator("button.confirm").click()
        expect(sun.locator("#case")).to_have_attribute("data-status", "delivered")
        expect(sun.locator("#timeline tr[data-step='Delivered']")).to_contain_text(
            "EMS1234567890CN"
        )
        query_code = sun.locator("#case").inner_text().split("查询密码")[1].split()[0]

        # The record: each step signed by the person whose browser took it.
        history = [Envelope.from_bytes(x.encode()) for x in _history(server, sun, case_id)]
        signed = [(e.type, e.actor.id) for e in history if e.type != "ResultIssued"]
        assert signed == [
            ("Applied", "staff:wang.li"), ("SupplementRequested", "staff:chen.jing"),
            ("SupplementProvided", "staff:wang.li"), ("Accepted", "staff:chen.jing"),
            ("Reviewed", "staff:li.na"), ("Reviewed", "staff:zhou.qiang"),
            ("Returned", "staff:zhou.qiang"), ("Reviewed", "staff:li.na"),
            ("Reviewed", "staff:zhou.qiang"), ("Decided", "staff:zhang.wei"),
            ("Delivered", "staff:sun.hui"),
        ]  # fmt: skip
        delivered = history[-1].body
        assert delivered["tracking_number"] == "EMS1234567890CN"
        assert "泉城路" not in history[-1].text and delivered["address_commitment"].startswith(
            "pc1:"
        )
        reply = httpx.get(f"{server}/v1/public/cases/{number}/result.pdf",
                          params={"code": query_code}, timeout=60)  # fmt: skip
        assert reply.status_code == 200
        checked = httpx.post(f"{server}/v1/verify", files={"file": ("r.pdf", reply.content)},
                             timeout=60)  # fmt: skip
        assert checked.json()["verdict"] == "PASSED", checked.json()
    ledger = OrgHome.load(cli.home).open_ledger(None)
    try:
        report = ledger.audit()
        assert report.ok, report.to_json()
    finally:
        ledger.close()


def _history(server: str, page: Page, case_id: str) -> list[str]:
    token = page.evaluate("JSON.parse(sessionStorage.getItem('caseledger.session')).token")
    reply = httpx.get(f"{server}/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    return [item["envelope"] for item in reply.json()["history"]]


def test_the_admin_enrols_staff_and_grants_a_role_in_the_browser(
    tmp_path: Path, browser: Browser
) -> None:
    cli, port, keys = new_office(tmp_path, None)
    with serve(cli.home, None, port) as server:
        enrol(cli, server, keys, tmp_path)
        admin = _sign_in(browser, f"{server}/admin", "系统管理员", cli.home / "keys" / "admin.key",
                         PASSPHRASES["ADMIN_PASS"])  # fmt: skip
        expect(admin.locator("#directory-tables")).to_contain_text("王立")
        _shot(admin, tmp_path, "admin-console")
        new_key = tmp_path / "keys" / "qian.key"
        cli("keygen", "--principal", "staff:qian.yu", "--out", str(new_key),
            "--passphrase-env", "Q", env={"Q": "qian-pw-7"})  # fmt: skip
        enrol_form = admin.locator("#enrol-form")
        enrol_form.locator("[name=number]").fill("qian.yu")
        enrol_form.locator("[name=name]").fill("钱宇")
        enrol_form.locator("[name=id_number]").fill("370102199303030031")
        enrol_form.locator("[name=key_file]").set_input_files(str(new_key))
        enrol_form.locator("button[type=submit]").click()
        expect(admin.locator("#admin-result .notice.good")).to_contain_text("KeyAdded")
        expect(admin.locator("tr[data-staff='staff:qian.yu']")).to_contain_text("钱宇")
        grant_form = admin.locator("#grant-form")
        grant_form.locator("[name=staff]").select_option("staff:qian.yu")
        grant_form.locator("[name=role]").select_option("reviewer")
        grant_form.locator("[name=until]").fill("2099-12-31")
        grant_form.locator("button[type=submit]").click()
        expect(admin.locator("#admin-result .notice.good")).to_contain_text("RoleGranted")
        expect(admin.locator("#directory-tables")).to_contain_text("钱宇")
        _shot(admin, tmp_path, "admin-granted")
        # A second key for a member of staff, then void it (lost).
        spare = tmp_path / "keys" / "li-spare.key"
        cli("keygen", "--principal", "staff:li.na", "--out", str(spare), "--passphrase-env", "Q",
            env={"Q": "spare-pw-8"})  # fmt: skip
        spare_id = KeyFile.load(spare, "spare-pw-8").key.key_id
        admin.locator("#key-form [name=staff]").select_option("staff:li.na")
        admin.locator("#key-form [name=key_file]").set_input_files(str(spare))
        admin.locator("#key-form button[type=submit]").click()
        expect(admin.locator("tr[data-staff='staff:li.na']")).to_contain_text(spare_id)
        admin.locator("#void-form [name=key_id]").select_option(spare_id)
        admin.locator("#void-form [name=reason]").fill("丢失")
        admin.locator("#void-form button[type=submit]").click()
        expect(admin.locator("tr[data-staff='staff:li.na']")).to_contain_text(
            f"{spare_id}（已作废）"
        )
        # A revision of the matter: new cases filed through the server apply under it.
        matter = admin.locator("#matter-form")
        matter.locator("[name=existing]").select_option("XK-370100-001")
        matter.locator("[name=committed_days]").fill("7")
        matter.locator("button[type=submit]").click()
        expect(admin.locator("#admin-result .notice.good")).to_contain_text("第2版")

        # The new reviewer signs in with their own key file, as enrolled in the browser.
        qian = _sign_in(browser, f"{server}/staff", "钱宇", new_key, "qian-pw-7")
        expect(qian.locator("#roles")).to_contain_text("审查")
        applied = cli("case", "apply", "--matter", "XK-370100-001", "--applicant-name", "某店",
                      "--applicant-kind", "organisation", "--applicant-id", "91370100MA3C000001",
                      "--key", str(keys["staff:wang.li"]), "--passphrase-env", "WANG_PASS",
                      "--server", server)  # fmt: skip
        case = field_of(applied, "stream")
    ledger = OrgHome.load(cli.home).open_ledger(None)
    try:
        directory = ledger.directory()
        grants = [g for g in directory.grants.values() if g.staff == "staff:qian.yu"]
        assert [(g.role, g.matters) for g in grants] == [("reviewer", ("*",))]
        assert directory.staff["staff:qian.yu"].id_commitment.startswith("pc1:")
        assert ledger.case_state(case).matter_version == 2
        assert ledger.audit().ok
    finally:
        ledger.close()
