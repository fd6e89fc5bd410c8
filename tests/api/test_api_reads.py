"""Staff and admin reads: queues by role (with separation of duties), case detail and
history, the next draft to sign, the directory."""

from __future__ import annotations

import json
from datetime import timedelta

from apikit import T1, Api

from ledger.client import StreamWriter, grant_body
from ledger.envelope import Envelope, seal_envelope


def _run(api: Api, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at
        reply = api.post(envelope)
        assert reply.status_code == 201, reply.text


def _numbers(reply: object) -> list[str]:
    return [c["case_id"] for c in reply.json()["cases"]]  # type: ignore[attr-defined]


def test_queues_follow_the_next_step_and_the_caller_role(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    case_id = envelopes[0].stream[5:]
    _run(api, envelopes[:1])
    handler = api.sign_in(api.office.handler)
    reviewer = api.sign_in(api.office.reviewer)
    assert _numbers(api.client.get("/v1/queues/handler", headers=handler)) == [case_id]
    assert _numbers(api.client.get("/v1/queues/reviewer", headers=reviewer)) == []
    _run(api, envelopes[1:2])
    assert _numbers(api.client.get("/v1/queues/handler", headers=handler)) == []
    queue = api.client.get("/v1/queues/reviewer", headers=reviewer).json()
    assert [c["case_id"] for c in queue["cases"]] == [case_id]
    assert queue["cases"][0]["next_step"] == "Reviewed"
    assert queue["cases"][0]["timing"]["committed_deadline"] == "2026-12-08"
    reply = api.client.get("/v1/queues/approver", headers=reviewer)
    assert reply.status_code == 403 and reply.json()["code"] == "role.missing"
    reply = api.client.get("/v1/queues/nonsense", headers=reviewer)
    assert reply.status_code == 403


def test_approver_queue_leaves_out_whoever_already_acted_on_the_case(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    # The reviewer also holds the approver role: they may not approve what they reviewed.
    grant = grant_body("g-li.na-approver", "staff:li.na", "approver", valid_from=T1)
    _run(api, [writer.sign("RoleGranted", api.office.admin, T1 - timedelta(hours=1), grant)])
    _run(api, envelopes[:3])
    li_na = api.sign_in(api.office.reviewer.as_role("approver"))
    zhang = api.sign_in(api.office.approver)
    assert _numbers(api.client.get("/v1/queues/approver", headers=li_na)) == []
    assert _numbers(api.client.get("/v1/queues/approver", headers=zhang)) == [
        envelopes[0].stream[5:]
    ]


def test_case_detail_shows_state_history_and_query_code_to_handlers(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    _run(api, envelopes[:2])
    case_id = envelopes[0].stream[5:]
    detail = api.client.get(f"/v1/cases/{case_id}", headers=api.sign_in(api.office.handler))
    assert detail.status_code == 200
    data = detail.json()
    assert [h["type"] for h in data["history"]] == ["Applied", "Accepted"]
    assert data["history"][1]["envelope"] == envelopes[1].text
    assert data["head_hash"] == envelopes[1].hash and len(data["query_code"]) == 8
    as_reviewer = api.client.get(f"/v1/cases/{case_id}", headers=api.sign_in(api.office.reviewer))
    assert as_reviewer.status_code == 200 and as_reviewer.json()["query_code"] is None
    as_admin = api.client.get(f"/v1/cases/{case_id}", headers=api.sign_in(api.office.admin))
    assert as_admin.status_code == 403
    supervisor = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    assert api.client.get(f"/v1/cases/{case_id}", headers=supervisor).status_code == 200
    missing = api.client.get(f"/v1/cases/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=supervisor)
    assert missing.status_code == 404 and missing.json()["code"] == "stream.not_found"
    bad = api.client.get("/v1/cases/not-a-uuid", headers=supervisor)
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"


def test_next_draft_is_signed_by_the_client_and_admitted(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    _run(api, envelopes[:2])
    case_id = envelopes[0].stream[5:]
    api.clock.now += timedelta(minutes=3)
    reviewer = api.sign_in(api.office.reviewer)
    reply = api.client.get(f"/v1/cases/{case_id}/next?type=Reviewed", headers=reviewer)
    assert reply.status_code == 200, reply.text
    draft = reply.json()["draft"]
    assert draft["seq"] == 3 and draft["prev"] == envelopes[1].hash
    assert draft["actor"] == {
        "id": "staff:li.na",
        "role": "reviewer",
        "key": api.office.reviewer.key.key_id,
    }
    assert draft["at"] == "2026-11-24T01:10:00Z" and draft["body"]["level"] == 1
    draft["body"].update(comments="材料真实有效。", basis="《食品经营许可和备案管理办法》")
    signed = seal_envelope(draft, api.office.reviewer.key)
    reply = api.post(signed)
    assert reply.status_code == 201 and reply.json()["seq"] == 3
    bogus = api.client.get(f"/v1/cases/{case_id}/next?type=Bogus", headers=reviewer)
    assert bogus.status_code == 422 and bogus.json()["code"] == "step.unknown"
    handler = api.sign_in(api.office.handler)
    wrong = api.client.get(f"/v1/cases/{case_id}/next?type=Delivered", headers=handler)
    assert wrong.status_code == 409 and wrong.json()["code"] == "order.not_allowed"
    other = api.client.get(f"/v1/cases/{case_id}/next?type=Decided", headers=reviewer)
    assert other.status_code == 403


def test_directory_is_for_admins(api: Api) -> None:
    reply = api.client.get("/v1/directory", headers=api.sign_in(api.office.admin))
    assert reply.status_code == 200
    data = reply.json()
    assert {s["id"] for s in data["staff"]} >= {"staff:admin", "staff:wang.li", "staff:sun.qi"}
    assert "id_number" not in json.dumps(data["staff"])
    assert data["matters"][0]["committed_days"] == 10
    reply = api.client.get("/v1/directory", headers=api.sign_in(api.office.handler))
    assert reply.status_code == 403
