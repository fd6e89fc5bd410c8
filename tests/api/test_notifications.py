"""The applicant told by message, the departments by webhook: the outbox follows the ledger,
writes one message per step that concerns the applicant and channel, sends it through the
local file adapter (or an SMS gateway, retried when it fails), and pushes each department's
feed to its URL with a signature it verifies — a failure to send never touching a step."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from apikit import T1, Api, open_api
from storykit import EMAIL, PHONE, Story, approved_by_post, sealing_office
from test_api_feed import _enrol_departments, _post_case

from api.org import OrgHome
from api.webhooks import SIGNATURE_HEADER, verify_delivery
from ledger.feed import FeedFollower, FeedPage
from ledger.signing import SignatureInvalid
from ledger.store.outbox import backoff
from ledger.telling import TOLD_STEPS
from ledger.trust import TrustFile


class Receiver:
    """A local HTTP server that answers ``statuses`` in turn (then 200) and keeps what came;
    with ``hold``, it answers only once that is set (``reached`` tells a request came)."""

    def __init__(self, statuses: list[int], hold: threading.Event | None = None) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.reached = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                receiver.reached.set()
                if hold is not None:
                    hold.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def quiet_api(request: pytest.FixtureRequest, org: OrgHome) -> Iterator[Api]:
    """The API with no background sender: the test runs each round itself."""
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(org.path, db, sealing_office(org), notify_seconds=0)


def test_one_message_per_step_to_the_local_adapter(quiet_api: Api) -> None:
    api = quiet_api
    story = approved_by_post(api)
    notifier = api.services().notifier
    first = notifier.run_once()
    again = notifier.run_once()
    assert again.written == 0 and again.sent == 0  # nothing twice
    steps = [e.type for e in api.services().ledger.events(story.stream)]
    told = [step for step in steps if step in TOLD_STEPS]
    assert "Reviewed" not in told and "ResultIssued" in told
    assert first.written == first.sent == 2 * len(told)
    sent_file = api.home / "notifications" / "sent.jsonl"
    lines = [json.loads(x) for x in sent_file.read_text("utf-8").splitlines()]
    sms = [x for x in lines if x["channel"] == "sms"]
    assert [x["to"] for x in sms] == [PHONE] * len(told)
    assert {x["to"] for x in lines if x["channel"] == "email"} == {EMAIL}
    by_step = dict(zip(told, (x["text"] for x in sms), strict=True))
    assert by_step["SupplementRequested"].startswith("【济南市行政审批服务局】")
    assert "营业执照副本、卫生许可证" in by_step["SupplementRequested"]
    assert "EMS1234567890" in by_step["Delivered"] and "2026-11-24" in by_step["Delivered"]
    # The outbox names the recipient by commitment; each read of the number is recorded.
    messages = notifier.outbox.messages(story.stream)
    assert all(m.state == "sent" and m.recipient.startswith("pc1:") for m in messages)
    reads = api.services().ledger.personal.reads()
    assert sum(r.reader == "service:notify" for r in reads) == len(messages)


def test_a_failing_gateway_is_retried_with_backoff_and_never_fails_a_step(
    org: OrgHome, tmp_path: Path
) -> None:
    with Receiver([503, 503]) as gateway:
        limits = {"notify_seconds": 0, "notify_sms": gateway.url, "notify_email": "none"}
        for api in open_api(org.path, None, sealing_office(org), **limits):
            story = Story(api)
            story.apply()  # the step is stored whatever the gateway does
            notifier = api.services().notifier
            now = api.clock.now
            failed = notifier.run_once(now)
            assert (failed.sent, failed.failed) == (0, 2)  # SMS tried, e-mail has no sender
            sms = next(m for m in notifier.outbox.messages() if m.channel == "sms")
            assert (sms.state, sms.attempts, sms.last_error) == (
                "pending",
                1,
                "SMS gateway answered 503",
            )
            assert notifier.run_once(now + timedelta(seconds=10)).sent == 0  # not yet due
            assert notifier.run_once(now + backoff(1)).failed == 1
            sent = notifier.run_once(now + backoff(1) + backoff(2))
            assert sent.sent == 1
            email = next(m for m in notifier.outbox.messages() if m.channel == "email")
            assert email.state == "failed" and email.attempts == 1  # given up: not retried
    bodies = [json.loads(body) for _, body in gateway.received]
    assert len(bodies) == 3 and all(b["to"] == PHONE for b in bodies)
    assert bodies[0]["text"] == bodies[2]["text"] and "已收到您的申请" in bodies[0]["text"]


@pytest.fixture
def department_api(org: OrgHome) -> Iterator[Api]:
    for api in open_api(
        org.path, None, sealing_office(org), notify_seconds=0, checkpoint_seconds=0
    ):
        _enrol_departments(api)
        yield api


def test_a_department_webhook_gets_signed_deliveries_and_a_retry(department_api: Api) -> None:
    api = department_api
    trust = TrustFile.from_json(api.client.get("/v1/trust.json").content)
    market = api.sign_in(api.signer("dept:market", "department"))
    handler = api.sign_in(api.office.handler)
    with Receiver([500]) as receiver:
        refused = api.client.put("/v1/feed/webhook", json={"url": receiver.url}, headers=handler)
        assert (refused.status_code, refused.json()["code"]) == (403, "feed.forbidden")
        bad = api.client.put("/v1/feed/webhook", json={"url": "ftp://x"}, headers=market)
        assert (bad.status_code, bad.json()["code"]) == (422, "webhook.url")
        put = api.client.put("/v1/feed/webhook", json={"url": receiver.url}, headers=market)
        assert put.status_code == 200 and put.json()["position"] == 0
        case = _post_case(api, T1)
        notifier = api.services().notifier
        now = api.clock.now
        market = api.sign_in(api.signer("dept:market", "department"))
        assert notifier.run_once(now).delivered == 0
        hook = api.client.get("/v1/feed/webhook", headers=market).json()
        assert (hook["attempts"], hook["last_error"]) == (1, "answered 500")
        assert notifier.run_once(now + backoff(1)).delivered >= 1
        hook = api.client.get("/v1/feed/webhook", headers=market).json()
        assert hook["attempts"] == 0 and hook["position"] > 0
        assert notifier.run_once(now + backoff(1)).delivered == 0  # nothing new, nothing twice
    assert len(receiver.received) == 2
    headers, body = receiver.received[1]
    verify_delivery(body, headers[SIGNATURE_HEADER], trust.status_keys)
    with pytest.raises(SignatureInvalid):
        verify_delivery(body.replace(b"dept:market", b"dept:marker"), headers[SIGNATURE_HEADER],
                        trust.status_keys)  # fmt: skip
    delivery = json.loads(body)
    assert delivery["kind"] == "caseledger/feed-delivery/v1"
    assert delivery["department"] == "dept:market"
    accepted = FeedFollower(trust).accept(FeedPage.from_json(delivery["page"]), None)
    received = [e.type for e in accepted if e.stream == case[0].stream]
    # The case as signed, with the result the seal service issued on the approval.
    assert received == [e.type for e in case] + ["ResultIssued"]


def _notify_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "caseledger.notify" and r.levelno >= level]


@pytest.mark.postgres
def test_an_app_closed_under_a_round_ends_it_quietly(
    org: OrgHome, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="caseledger.notify")
    release = threading.Event()
    with Receiver([], hold=release) as gateway:
        limits = {"notify_seconds": 0.05, "notify_sms": gateway.url, "notify_email": "none"}
        for api in open_api(org.path, pg_url, sealing_office(org), **limits):
            notifier = api.services().notifier
            notifier.stop_timeout = 0.2
            rounds = notifier._rounds._thread
            assert rounds is not None and rounds.is_alive()
            Story(api).apply()
            assert gateway.reached.wait(30)  # a round waits on the gateway's answer
        # The app has closed under the round; then its schema goes, as after every test.
        dsn, schema = pg_url.split("?schema=")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        release.set()
        rounds.join(30)
    assert not rounds.is_alive()
    assert _notify_records(caplog, logging.ERROR) == []
    ended = [r.getMessage() for r in _notify_records(caplog, logging.INFO)]
    assert any("ended by the service closing" in message for message in ended), ended


def test_a_round_that_fails_while_the_app_runs_is_still_logged(
    org: OrgHome, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"notify_seconds": 0.05, "notify_email": "none"}
    for api in open_api(org.path, None, sealing_office(org), **limits):
        with api.services().notifier.outbox.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE out_messages"))
        Story(api).apply()  # the step is stored; its messages have nowhere to go
        deadline = time.monotonic() + 30
        while not _notify_records(caplog, logging.ERROR) and time.monotonic() < deadline:
            time.sleep(0.05)
    failed = _notify_records(caplog, logging.ERROR)
    assert failed and failed[0].getMessage() == "notification round failed"
    assert failed[0].exc_info is not None  # with its traceback
