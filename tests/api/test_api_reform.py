"""The materials rules and the reform modes over HTTP, on SQLite (and PostgreSQL where marked):
a case refused at Accepted for a missing material and a partial 补正 kept open; 容缺 with a
missed deadline; 告知承诺 with a failed 核查, the revocation naming the promise and the bar; a
差评 made with the query code and its rectification, in supervision and its statistics."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apikit import PASSPHRASE, Api, open_api

from api.auth import query_code
from api.org import OrgHome
from ledger.client import Signer, StreamWriter, matter_body
from ledger.envelope import Envelope
from ledger.sample import SampleOffice, applied_body

STEP = timedelta(minutes=7)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def office_api(request: pytest.FixtureRequest, api_home: Path) -> Iterator[Api]:
    """The API with the sample office whose seal service holds the folder's own key, so the
    server issues results and records ratings made with the query code."""
    home = OrgHome.load(api_home)
    office = SampleOffice(
        org=home.org,
        org_name=home.org_name,
        root_key=home.key("root", PASSPHRASE),
        keys={"service:seal": home.key("seal-service")},
    )
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(api_home, db, office)


class Run:
    """One case driven over HTTP, each step signed at the server's clock."""

    def __init__(self, api: Api, matter: str = "XK-370100-001", *materials: str) -> None:
        self.api = api
        self.writer = StreamWriter(f"case:{uuid.uuid4()}")
        body = {
            **applied_body("济南泉城食品有限公司"),
            "matter": {"code": matter, "version": 1},
        }
        if materials or matter != "XK-370100-001":
            body["materials"] = [file(name) for name in materials]
        self.step("Applied", api.office.handler, body)

    def step(self, step: str, signer: Signer, body: dict[str, Any], status: int = 201) -> Any:
        self.api.clock.now += STEP
        self.catch_up()
        envelope = self.writer.sign(step, signer, self.api.clock.now, body)
        reply = self.api.post(envelope)
        assert reply.status_code == status, reply.text
        if status != 201:
            self.writer.seq, self.writer.prev = envelope.seq - 1, envelope.prev
        return reply.json()

    def catch_up(self) -> None:
        """Follow what the server appended itself (the sealed result)."""
        stored = list(self.api.services().ledger.events(self.writer.stream))
        if stored:
            self.writer.seq, self.writer.prev = stored[-1].seq, stored[-1].hash

    @property
    def case_id(self) -> str:
        return self.writer.stream.removeprefix("case:")

    def detail(self) -> Any:
        headers = self.api.sign_in(self.api.office.handler)
        return self.api.client.get(f"/v1/cases/{self.case_id}", headers=headers).json()

    def decide_and_deliver(self) -> None:
        o = self.api.office
        self.step("Reviewed", o.reviewer, {"level": 1, "opinion": "agree", "comments": "同意。"})
        decided = {"outcome": "approved", "decision": "准予许可。", "legal_basis": "第三十八条"}
        self.step("Decided", o.approver, decided)
        self.step("Delivered", o.handler, {"channel": "window", "recipient": "申请人"})


def file(name: str) -> dict[str, str]:
    return {"name": name, "sha256": hashlib.sha256(name.encode()).hexdigest()}


def define(api: Api, code: str, **settings: Any) -> None:
    services = api.services()
    directory = services.ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    body = matter_body(code, f"事项 {code}", **settings)
    envelope = writer.sign("MatterDefined", api.office.admin, api.clock.now, body)
    assert api.post(envelope).status_code == 201


def admin_does(api: Api, step: str, body: dict[str, Any]) -> Envelope:
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    envelope = writer.sign(step, api.office.admin, api.clock.now, body)
    assert api.post(envelope).status_code == 201
    return envelope


def supervision(api: Api, path: str) -> Any:
    headers = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    reply = api.client.get(f"/v1/supervision/{path}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def refused_codes(reply: Any) -> list[str]:
    return sorted(v["code"] for v in reply["violations"])


def test_accepted_refused_for_a_missing_material_and_a_partial_supplement_kept_open(
    office_api: Api,
) -> None:
    api = office_api
    define(api, "ZC-1", required_materials=("申请书", "营业执照", "场所平面图"))
    run = Run(api, "ZC-1", "申请书.pdf")
    handler = api.office.handler
    refused = run.step("Accepted", handler, {"opinion": "予以受理。"}, status=403)
    assert refused["code"] == "rules.refused" and refused_codes(refused) == ["materials.missing"]
    assert "受理缺少必需材料：营业执照、场所平面图" in refused["violations"][0]["detail"]
    assert run.detail()["materials"]["required_missing"] == ["营业执照", "场所平面图"]

    asked = {"items": ["营业执照", "场所平面图"], "notice": "请一次性补正。"}
    run.step("SupplementRequested", handler, asked)
    run.step("SupplementProvided", handler, {"materials": [file("营业执照.pdf")]})
    detail = run.detail()
    assert detail["case"]["status"] == "awaiting_supplement"
    assert detail["materials"]["supplement_missing"] == ["场所平面图"]
    run.step("SupplementProvided", handler, {"materials": [file("场所平面图.pdf")]})
    run.step("Accepted", handler, {"opinion": "予以受理。"})
    assert run.detail()["materials"]["required_missing"] == []


def test_tolerated_materials_missed_by_their_deadline_terminate_the_case(
    office_api: Api,
) -> None:
    api = office_api
    define(
        api,
        "RQ-1",
        required_materials=("申请书", "场所平面图"),
        tolerated_materials=("场所平面图",),
    )
    run = Run(api, "RQ-1", "申请书.pdf")
    handler = api.office.handler
    tolerance = {"items": ["场所平面图"], "deadline": "2026-12-01", "consequence": "逾期终止办理"}
    run.step("Accepted", handler, {"opinion": "容缺受理。", "tolerance": tolerance})
    (due,) = supervision(api, "reform?kind=tolerance")["items"]
    assert (due["case_id"], due["due"], due["overdue"]) == (run.case_id, "2026-12-01", False)
    assert "场所平面图" in due["detail"]
    assert supervision(api, "reform?kind=tolerance&overdue=true")["items"] == []

    api.clock.now = datetime(2026, 12, 2, 1, tzinfo=UTC)
    (late,) = supervision(api, "reform?kind=tolerance&overdue=true")["items"]
    assert late["overdue"]
    refused = run.step(
        "ToleratedProvided", handler, {"materials": [file("场所平面图.pdf")]}, status=403
    )
    assert refused_codes(refused) == ["tolerance.deadline"]
    run.step("TerminatedForMissing", handler, {"reason": "逾期未补齐", "missing": ["场所平面图"]})
    assert run.detail()["case"]["status"] == "terminated"
    assert supervision(api, "reform?kind=tolerance")["items"] == []


def test_a_failed_verification_revokes_naming_the_promise_and_bars_the_applicant(
    office_api: Api,
) -> None:
    api = office_api
    define(
        api,
        "CN-1",
        required_materials=("申请书", "卫生许可证明"),
        mode="告知承诺",
        promise_materials=("卫生许可证明",),
        promise_exclusions=("曾作出虚假承诺",),
        verification_days=20,
    )
    o = api.office
    promise = {
        "replaces": ["卫生许可证明"],
        "statement": "本人承诺符合许可条件。",
        "exclusions_declared": ["曾作出虚假承诺"],
    }
    run = Run(api, "CN-1", "申请书.pdf")
    run.step("Promised", o.handler, promise)
    run.step("Accepted", o.handler, {"opinion": "告知承诺受理。"})
    run.decide_and_deliver()
    (due,) = supervision(api, "reform?kind=verification")["items"]
    # Decided on 24 November 2026: twenty working days end on 22 December.
    assert (due["case_id"], due["due"]) == (run.case_id, "2026-12-22")

    run.step("Verified", o.reviewer, {"outcome": "failed", "findings": "经现场核查，无卫生许可"})
    assert supervision(api, "reform?kind=verification")["items"] == []
    detail = run.detail()
    assert detail["materials"]["verification"] == "failed"
    result = next(h for h in detail["history"] if h["type"] == "ResultIssued")["body"]
    revoke = {"reason": "虚假承诺", "legal_basis": "第六十九条", "result": result["pdf_sha256"]}
    assert refused_codes(run.step("ResultRevoked", o.approver, revoke, 403)) == [
        "order.not_allowed"
    ]
    run.step("ResultRevoked", o.approver, {**revoke, "promise": detail["materials"]["promise"]})

    admin_does(
        api,
        "PromiseBarred",
        {"bar": "bar-1", "subject": "91370100MA3C000001", "case": run.writer.stream,
         "reason": "虚假承诺"},
    )  # fmt: skip
    again = Run(api, "CN-1", "申请书.pdf")
    assert refused_codes(again.step("Promised", o.handler, promise, 403)) == ["promise.barred"]
    admin_does(api, "PromiseBarCleared", {"bar": "bar-1", "reason": "信用修复"})
    again.step("Promised", o.handler, promise)


def test_a_poor_rating_with_the_query_code_and_its_rectification(office_api: Api) -> None:
    api = office_api
    run = Run(api)
    handler = api.office.handler
    run.step("Accepted", handler, {"opinion": "予以受理。"})
    code = query_code(api.services().secret, run.case_id)
    number = run.detail()["case"]["case_number"]
    rating = {
        "level": "不满意",
        "channel": "offline",
        "indicators": {"服务态度": "不满意"},
        "comment": "窗口反复要求补交材料",
    }
    url = f"/v1/public/cases/{number}/rating"
    early = api.client.post(url, params={"code": code}, json=rating)
    assert early.status_code == 403 and refused_codes(early.json()) == ["order.not_allowed"]
    run.decide_and_deliver()
    wrong = api.client.post(url, params={"code": "000000"}, json=rating)
    assert wrong.status_code == 404 and wrong.json()["code"] == "case.not_found"
    bad = api.client.post(url, params={"code": code}, json={**rating, "level": "差"})
    assert bad.status_code == 422 and bad.json()["code"] == "body.invalid"

    claimed = api.client.post(url, params={"code": code}, json={**rating, "on_behalf": "x"})
    assert claimed.status_code == 422  # the server, not the caller, says for whom it signs

    rated = api.client.post(url, params={"code": code}, json=rating)
    assert rated.status_code == 201, rated.text
    assert rated.json()["poor"] and rated.json()["rectification_due"] == "2026-12-15"
    # Recorded as an envelope the seal service signed, its body saying for whom.
    stored = list(api.services().ledger.events(f"case:{run.case_id}"))[-1]
    assert stored.type == "Rated" and stored.seq == rated.json()["seq"]
    assert (stored.actor.id, stored.actor.role) == ("service:seal", "seal_service")
    assert stored.body == {**rating, "on_behalf": "query_code_holder"}
    again = api.client.post(url, params={"code": code}, json=rating)
    assert again.status_code == 403 and refused_codes(again.json()) == ["order.not_allowed"]

    (open_one,) = supervision(api, "reform?kind=rectification")["items"]
    assert (open_one["case_id"], open_one["due"]) == (run.case_id, "2026-12-15")
    (row,) = supervision(api, "ratings")["rows"]
    assert row["ratings"] == 1 and row["levels"]["不满意"] == 1
    assert (row["poor"], row["rectification_open"], row["rectified"]) == (1, 1, 0)

    api.clock.now = datetime(2026, 12, 16, 1, tzinfo=UTC)
    assert supervision(api, "ratings")["rows"][0]["rectification_overdue"] == 1
    reply = {"reply": "已致电申请人致歉说明", "measures": "窗口一次性告知清单上墙"}
    run.catch_up()
    run.step("RectificationReplied", api.office.approver, reply)
    (row,) = supervision(api, "ratings")["rows"]
    assert (row["rectification_open"], row["rectification_overdue"], row["rectified"]) == (0, 0, 1)
    assert supervision(api, "reform?kind=rectification")["items"] == []
    assert run.detail()["materials"]["rating"] == "不满意"


def test_reform_supervision_needs_the_supervisor_and_a_known_kind(office_api: Api) -> None:
    api = office_api
    headers = api.sign_in(api.office.handler)
    assert api.client.get("/v1/supervision/ratings", headers=headers).status_code == 403
    supervisor = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    unknown = api.client.get("/v1/supervision/reform?kind=other", headers=supervisor)
    assert unknown.status_code == 422
