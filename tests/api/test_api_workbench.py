"""The workbench's reads: the names staff sign in by, the matters in force, and a case as it
is read before signing — its timeline with names, the applicant, materials, and the steps the
caller may take now (no more and no less than the rules allow them)."""

from __future__ import annotations

from apikit import T1, Api

from ledger.envelope import Envelope


def _run(api: Api, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at
        reply = api.post(envelope)
        assert reply.status_code == 201, reply.text


def _actions(api: Api, case_id: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    reply = api.client.get(f"/v1/cases/{case_id}/view", headers=headers)
    assert reply.status_code == 200, reply.text
    return [(a["step"], a["role"]) for a in reply.json()["actions"]]


def test_sign_in_names_and_matters_are_public_and_hold_no_personal_data(api: Api) -> None:
    names = api.client.get("/v1/staff-names").json()["staff"]
    wang = next(s for s in names if s["id"] == "staff:wang.li")
    assert wang == {
        "id": "staff:wang.li",
        "name": "王立",
        "unit": wang["unit"],
        "number": "wang.li",
    }
    assert not any(s["id"].startswith("service:") for s in names)
    assert all(set(s) == {"id", "name", "unit", "number"} for s in names)
    matters = api.client.get("/v1/matters").json()["matters"]
    assert [(m["code"], m["version"]) for m in matters] == [("XK-370100-001", 1)]


def test_a_case_view_names_the_people_and_offers_what_each_may_take(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    case_id = envelopes[0].stream[5:]
    handler = api.sign_in(api.office.handler)
    reviewer = api.sign_in(api.office.reviewer)
    approver = api.sign_in(api.office.approver)
    _run(api, envelopes[:1])
    assert _actions(api, case_id, handler) == [
        ("SupplementRequested", "handler"), ("Accepted", "handler"), ("NotAccepted", "handler"),
        ("Withdrawn", "handler"),
    ]  # fmt: skip
    assert _actions(api, case_id, reviewer) == []
    _run(api, envelopes[1:2])
    assert _actions(api, case_id, handler) == [("Suspended", "handler"), ("Withdrawn", "handler")]
    assert _actions(api, case_id, reviewer) == [("Reviewed", "reviewer")]
    # The approver may extend the time limit (延期) while the case is on the clock.
    assert _actions(api, case_id, approver) == [("Extended", "approver")]
    _run(api, envelopes[2:3])
    # The reviewer who reviewed may not decide; the approver may.
    assert _actions(api, case_id, approver) == [("Decided", "approver"), ("Extended", "approver")]
    view = api.client.get(f"/v1/cases/{case_id}/view", headers=approver).json()
    assert [(s["type"], s["name"], s["role"]) for s in view["timeline"]] == [
        ("Applied", "王立", "handler"), ("Accepted", "王立", "handler"),
        ("Reviewed", "李娜", "reviewer"),
    ]  # fmt: skip
    assert view["applicant"]["identifier"] == "91370100MA3C000001"
    assert view["applicant"]["identifier_label"] == "统一社会信用代码"
    assert view["materials"][0]["sha256"] == envelopes[0].body["materials"][0]["sha256"]
    assert view["matter"]["code"] == "XK-370100-001"
    assert view["query_code"] is None  # for handlers only


def test_an_error_carries_the_codes_chinese_text(api: Api) -> None:
    reply = api.client.get("/v1/queues/handler")
    assert reply.status_code == 401
    assert reply.json()["zh"] == "请先登录"
