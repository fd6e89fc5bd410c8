"""The pages as HTTP resources: served with a strict content policy, scripts from a fixed set,
input echoed escaped, and the public lookup answering the same for a wrong code as for an
unknown case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.e2e.e2ekit import Cli


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("pages") / "office"
    Cli(home)("init", "--org", "jinan-pages", "--name", "济南市行政审批服务局", "--no-passphrase")
    with TestClient(create_app(Settings(home=home))) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/public", "/verify", "/staff", "/supervision", "/admin"])
def test_pages_are_html_under_a_strict_policy(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "济南市行政审批服务局" in page.text
    assert "<script>" not in page.text  # every script is a file from /static
    # Blobs only where a case's checked files are shown, as images and framed PDFs.
    blobs = "img-src 'self' data: blob:; frame-src blob:;" in policy
    assert blobs == (path == "/staff") and "connect-src 'self'" in policy
    assert "blob:" not in policy.replace("img-src 'self' data: blob:; frame-src blob:;", "")


def test_static_files_are_a_fixed_set(client: TestClient) -> None:
    script = client.get("/static/common.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "caseledger/signin/v1" in script.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    for wrong in ("/static/nothing.js", "/static/..%2Fpages.py", "/static/pages.py"):
        refused = client.get(wrong)
        assert refused.status_code == 404
        assert refused.json()["code"] == "http.not_found"


def test_lookup_input_is_echoed_escaped(client: TestClient) -> None:
    page = client.get("/public", params={"number": '"><script>x()</script>', "code": "1"})
    assert page.status_code == 404
    assert "<script>x()" not in page.text
    assert "&quot;&gt;&lt;script&gt;x()" in page.text
    assert "未找到该办件" in page.text


def test_lookup_needs_both_number_and_code(client: TestClient) -> None:
    blank = client.get("/public")
    assert blank.status_code == 200 and 'id="case-result"' not in blank.text
    too_long = client.get("/public", params={"number": "1" * 49, "code": "1"})
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "request.invalid"


def test_the_qr_code_address_fills_in_the_case_number(client: TestClient) -> None:
    page = client.get("/verify", params={"case": "20261124-3F6C2A9B1D04"})
    assert page.status_code == 200
    assert 'value="20261124-3F6C2A9B1D04"' in page.text
    assert 'id="verify-form"' in page.text
