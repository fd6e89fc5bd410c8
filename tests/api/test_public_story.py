"""The applicant told: the public status (number + query code) shows the timeline of steps in
China time, what a 补正 asks, a refusal's reason, the delivery's channel and tracking number,
the documents issued with their download links, and the result's status — over the API, on
SQLite and PostgreSQL, and on the public page in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from apikit import T1, Api, open_api, served
from playwright.sync_api import Browser, expect
from storykit import (
    ADDRESS,
    TRACKING,
    Story,
    approved_by_post,
    refused_and_served,
    sealing_office,
)

from api.app import create_app
from api.org import OrgHome
from api.settings import Settings
from ledger.steps import STEPS
from tests.browser import open_chromium


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def told_api(request: pytest.FixtureRequest, org: OrgHome) -> Iterator[Api]:
    """The API whose seal service seals results, once on SQLite, once on PostgreSQL."""
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(org.path, db, sealing_office(org))


@pytest.fixture
def api(org: OrgHome) -> Iterator[Api]:
    yield from open_api(org.path, None, sealing_office(org))


def test_the_public_status_tells_the_whole_case(told_api: Api) -> None:
    story = Story(told_api)
    story.apply()
    o = told_api.office
    story.step("SupplementRequested", o.handler, {"items": ["营业执照副本"], "notice": "请补正。"})
    asked = story.public()
    assert asked["supplement_items"] == ["营业执照副本"]
    assert asked["timeline"][-1]["name"] == STEPS["SupplementRequested"].zh

    story = approved_by_post(told_api)
    public = story.public()
    steps = [s["step"] for s in public["timeline"]]
    assert steps[:6] == ["Applied", "SupplementRequested", "SupplementProvided", "Accepted",
                         "Reviewed", "Decided"]  # fmt: skip
    assert steps[-2:] == ["Delivered", "DeliveryReceived"] and "ResultIssued" in steps
    # 01:07 UTC is 09:07 in China.
    assert public["timeline"][0]["at_china"] == "2026-11-24 09:07"
    assert public["supplement_items"] == []  # provided since
    delivery = public["delivery"]
    assert (delivery["channel_text"], delivery["tracking_number"]) == ("邮寄送达", TRACKING)
    assert (delivery["outcome"], delivery["document"]) == ("received", "approval")
    [document] = public["documents"]
    assert (document["title"], document["status"]) == ("准予行政许可决定书", "valid")
    assert public["result_status"] == "valid" and "〔" in document["document_number"]
    got = told_api.client.get(document["url"])
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    text = str(public)
    assert ADDRESS not in text and "泉城路" not in text and "13912345678" not in text


def test_a_refusal_is_told_with_its_reason_and_its_served_notice(api: Api) -> None:
    story = refused_and_served(api, T1 + timedelta(hours=1))
    public = story.public()
    assert public["status"] == "not_accepted"
    assert public["refusal"] == "不属于本机关职权范围（依据：《行政许可法》第三十二条）"
    assert public["delivery"]["document"] == "not_accepted"
    [notice] = public["documents"]
    assert notice["title"] == "不予受理通知书" and notice["status"] is None
    assert api.client.get(notice["url"]).content.startswith(b"%PDF")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium()


@pytest.mark.browser
def test_the_public_page_shows_the_timeline_and_a_document_link(
    org: OrgHome, browser: Browser
) -> None:
    api_home = org.path
    for api in open_api(api_home, None, sealing_office(org)):
        story = approved_by_post(api)
        number, code, now = story.number, story.code, api.clock.now
    settings = Settings(home=api_home, public_rate_per_minute=10_000, recovery_seconds=0)
    with served(create_app(settings, clock=lambda: now)) as base:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{base}/public")
        page.fill("#number", number)
        page.fill("#code", code)
        page.click("#lookup button[type=submit]")
        timeline = page.locator("#timeline")
        expect(timeline.locator("tr[data-step='SupplementRequested']")).to_contain_text(
            "营业执照副本"
        )
        expect(timeline.locator("tr[data-step='Accepted']")).to_contain_text("2026-11-24")
        expect(timeline.locator("tr[data-step='DeliveryReceived']")).to_contain_text("签收")
        expect(page.locator("#delivery")).to_contain_text(TRACKING)
        expect(page.locator("#case-result")).to_contain_text("有效")
        link = page.locator("#documents tr[data-document='approval'] a")
        expect(link).to_have_text("准予行政许可决定书")
        href = link.get_attribute("href")
        assert href is not None
        pdf = httpx.get(base + href, timeout=30)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        page.close()
