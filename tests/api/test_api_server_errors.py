"""After an unexpected error the server answers 500 JSON and keeps the connection; its log
names the error's kind and the request, never the data the error carried."""

from __future__ import annotations

import http.client
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from apikit import Api, served

from api.app import create_app
from api.settings import Settings

SECRET_NAME = "济南泉城食品有限公司"
SECRET_ID = "370102199901010012"


def failing(*_: Any, **__: Any) -> Any:
    # A fault deep in the service whose message quotes an applicant, as a driver's might.
    raise RuntimeError(f"cannot store applicant_name={SECRET_NAME} id_number={SECRET_ID}")


def test_a_500_keeps_the_connection_and_logs_no_applicant_data(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    services = api.services()
    headers = api.sign_in(api.office.handler)
    app = create_app(Settings(home=api.home), services=services)
    services.read_models.waiting_for = failing  # type: ignore[method-assign]
    with served(app) as base, caplog.at_level(logging.DEBUG):
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request("GET", "/v1/queues/handler", headers=headers)
        first = conn.getresponse()
        body = json.loads(first.read())
        assert first.status == 500 and body["code"] == "internal"
        request_id = first.getheader("x-request-id")
        assert request_id and request_id in body.get("request_id", "")
        conn.request("GET", "/v1/trust.json")
        second = conn.getresponse()
        assert second.status == 200
        second.read()
        conn.close()
    logged = "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "RuntimeError" in logged and request_id in logged
    assert SECRET_NAME not in logged and SECRET_ID not in logged


def test_access_lines_carry_no_query_code(
    api: Api, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    app = create_app(Settings(home=api.home), services=api.services())
    # The access line may be written after the answer is sent: the server stops before the
    # captured level is put back.
    with caplog.at_level(logging.INFO), served(app) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request("GET", "/v1/public/cases/20261124-00?code=87654321")
        conn.getresponse().read()
        conn.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/v1/public/cases/" in logged and "87654321" not in logged
