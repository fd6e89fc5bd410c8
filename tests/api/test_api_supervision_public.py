"""Supervision lists and statistics on working days; the public lookup, trust file, log
and verification endpoints; rate limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apikit import T1, Api, open_api

from ledger.envelope import Envelope
from ledger.sample import SampleOffice


def _run(api: Api, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at
        assert api.post(envelope).status_code == 201


def _supervisor(api: Api) -> dict[str, str]:
    return api.sign_in(api.signer("staff:sun.qi", "supervisor"))


def test_near_due_then_overdue_on_working_days(api: Api) -> None:
    # Accepted Tuesday 24 November 2026; ten committed working days end on 8 December.
    envelopes = api.office.case_until_decided(T1)
    _run(api, envelopes[:2])
    case_id = envelopes[0].stream[5:]
    api.clock.now = datetime(2026, 12, 4, 2, tzinfo=UTC)
    near = api.client.get("/v1/supervision/near-due", headers=_supervisor(api)).json()
    assert [c["case_id"] for c in near["cases"]] == [case_id]
    assert near["cases"][0]["timing"]["remaining_days"] == 2
    overdue = api.client.get("/v1/supervision/overdue", headers=_supervisor(api)).json()
    assert overdue["cases"] == []
    api.clock.now = datetime(2026, 12, 9, 2, tzinfo=UTC)
    overdue = api.client.get("/v1/supervision/overdue", headers=_supervisor(api)).json()
    assert [c["case_id"] for c in overdue["cases"]] == [case_id]
    assert overdue["cases"][0]["timing"]["card"] == "red"
    filtered = api.client.get(
        "/v1/supervision/overdue?matter=OTHER", headers=_supervisor(api)
    ).json()
    assert filtered["cases"] == []


def test_stats_give_the_on_time_rate_per_matter_and_unit(api: Api) -> None:
    _run(api, api.office.case_until_decided(T1))  # decided within the hour
    late = api.office.case_until_decided(T1 + timedelta(minutes=1))
    _run(api, late[:3])
    api.clock.now = datetime(2026, 12, 10, 2, tzinfo=UTC)
    decided_late = late[3].__class__.from_bytes(_resign_at(api, late, api.clock.now))
    assert api.post(decided_late).status_code == 201
    stats = api.client.get("/v1/supervision/stats", headers=_supervisor(api)).json()
    (row,) = stats["rows"]
    assert row["matter"] == "XK-370100-001" and row["unit"] == "行政审批科"
    assert row["cases"] == 2 and row["decided"] == 2 and row["decided_late"] == 1
    assert row["on_time_rate"] == 0.5 and row["yellow_cards"] == 1


def _resign_at(api: Api, envelopes: list[Envelope], at: datetime) -> bytes:
    from ledger.client import StreamWriter

    writer = StreamWriter(envelopes[0].stream, 3, envelopes[2].hash)
    return writer.sign("Decided", api.office.approver, at, envelopes[3].body).raw


def test_supervision_needs_the_supervisor_role(api: Api) -> None:
    reply = api.client.get("/v1/supervision/stats", headers=api.sign_in(api.office.handler))
    assert reply.status_code == 403 and reply.json()["code"] == "role.missing"


def _person_case(api: Api) -> list[Envelope]:
    from ledger.client import StreamWriter
    from ledger.sample import applied_body

    body = applied_body("王小明")
    body["applicant"] = {"kind": "person", "name": "王小明", "id_number": "370102199901010012"}
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    return [
        writer.sign("Applied", api.office.handler, T1, body),
        writer.sign("Accepted", api.office.handler, T1 + timedelta(minutes=5), {"opinion": "受理"}),
    ]


def test_public_lookup_by_case_number_and_query_code_masks_the_person(api: Api) -> None:
    envelopes = _person_case(api)
    _run(api, envelopes)
    detail = api.client.get(
        f"/v1/cases/{envelopes[0].stream[5:]}", headers=api.sign_in(api.office.handler)
    ).json()
    number, code = detail["case"]["case_number"], detail["query_code"]
    assert number == f"20261124-{uuid.UUID(envelopes[0].stream[5:]).hex.upper()}"
    reply = api.client.get(f"/v1/public/cases/{number}?code={code}")
    assert reply.status_code == 200
    public = reply.json()
    assert public["status"] == "accepted" and public["status_text"] == "已受理"
    assert public["committed_deadline"] == "2026-12-08"
    assert public["applicant"] == "王**"
    assert "小明" not in reply.text and "370102199901010012" not in reply.text
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    reply = api.client.get(f"/v1/public/cases/{number}?code={wrong}")
    assert reply.status_code == 404 and reply.json()["code"] == "case.not_found"
    reply = api.client.get(f"/v1/public/cases/20990101-000000000000?code={code}")
    assert reply.status_code == 404 and reply.json()["code"] == "case.not_found"


def test_public_endpoints_are_rate_limited(api_home: Path, office: SampleOffice) -> None:
    for api in open_api(api_home, None, office, public_rate_per_minute=3):
        codes = [api.client.get("/v1/trust.json").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        reply = api.client.get("/v1/trust.json")
        assert reply.json()["code"] == "rate.limited" and int(reply.headers["retry-after"]) >= 1


def test_trust_file_is_served(api: Api) -> None:
    reply = api.client.get("/v1/trust.json")
    assert reply.status_code == 200
    assert reply.json()["organisation"]["id"] == "jinan-approval"
    root = api.office.root_key
    assert reply.json()["root_keys"] == [{"key_id": root.key_id, "public_key": root.public_key_b64}]


def _blank_pdf() -> bytes:
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_verify_upload_gives_the_verdict_json(api: Api) -> None:
    reply = api.client.post(
        "/v1/verify", files={"file": ("x.pdf", _blank_pdf(), "application/pdf")}
    )
    assert reply.status_code == 200
    verdict = reply.json()
    assert verdict["verdict"] in ("FAILED", "INDETERMINATE")
    assert "seal.integrity" in {c["id"] for c in verdict["checks"]}
    reply = api.client.post(
        "/v1/verify", files={"file": ("x.pdf", b"%PDF-1.7 nonsense", "application/pdf")}
    )
    assert reply.status_code == 400 and reply.json()["code"] == "input.unreadable"
    reply = api.client.post("/v1/verify")
    assert reply.status_code == 422 and reply.json()["code"] == "request.invalid"


def test_the_status_route_is_rate_limited_and_tells_nothing_of_unknown_hashes(
    api_home: Path, office: SampleOffice
) -> None:
    for api in open_api(api_home, None, office, public_rate_per_minute=3):
        unknown = api.client.get(f"/v1/public/results/{'ab' * 32}")
        assert unknown.status_code == 404 and unknown.json()["code"] == "result.not_found"
        malformed = api.client.get("/v1/public/results/ABC")
        assert malformed.status_code == 422 and malformed.json()["code"] == "status.bad_hash"
        page = api.client.get(f"/verify/{'ab' * 16}")
        assert page.status_code == 404 and "未找到该文件" in page.text
        limited = api.client.get(f"/v1/public/results/{'cd' * 32}")
        assert limited.status_code == 429 and limited.json()["code"] == "rate.limited"
