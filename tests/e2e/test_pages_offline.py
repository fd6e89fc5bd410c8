"""Every page, the API's documentation included, loads nothing from another host: an office's
network often reaches no CDN. Checked in a real browser, request by request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import open_chromium
from tests.e2e.e2ekit import new_office, serve

pytestmark = pytest.mark.browser

PAGES = ("/", "/public", "/verify", "/staff", "/supervision", "/admin", "/docs", "/redoc")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from open_chromium()


def test_no_page_loads_anything_from_another_host(tmp_path: Path, browser: Browser) -> None:
    cli, port, _ = new_office(tmp_path, None)
    with serve(cli.home, None, port) as server:
        page = browser.new_page(locale="zh-CN")
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        for path in PAGES:
            reply = page.goto(f"{server}{path}")
            assert reply is not None and reply.status == 200, path
            # The documentation pages fetch the schema and their assets after loading.
            page.wait_for_load_state("networkidle" if path in ("/docs", "/redoc") else "load")
        page.goto(f"{server}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("caseledger")
        page.goto(f"{server}/redoc")
        expect(page.locator("h1").first).to_contain_text("caseledger")
    # blob: and data: URLs are made inside the page itself.
    local = (server, f"blob:{server}", "data:")
    elsewhere = sorted({url for url in asked if not url.startswith(local)})
    assert elsewhere == [], elsewhere
    assert any(url.endswith("swagger-ui-bundle.js") for url in asked)
