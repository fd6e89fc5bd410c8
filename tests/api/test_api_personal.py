"""Identity numbers over HTTP: beside the envelope, never in it; read back only by those who
handle the case (or an admin, for staff), each read recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta

from apikit import T1, Api, openings_header, person_applicant

from ledger.client import StreamWriter
from ledger.personal import commit
from ledger.sample import applied_body

NUMBER = "370102199901010015"


def _applied(api: Api, applicant: dict[str, str]) -> tuple[StreamWriter, bytes, object]:
    body = applied_body("王小明")
    body["applicant"] = applicant
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    envelope = writer.sign("Applied", api.office.handler, T1, body)
    return writer, envelope.raw, envelope


def test_a_plain_identity_number_is_refused_and_nothing_is_stored(api: Api) -> None:
    body = {"kind": "person", "name": "王小明", "id_number": NUMBER}
    _, raw, envelope = _applied(api, body)
    reply = api.client.post("/v1/envelopes", content=raw)
    assert reply.status_code == 403
    assert "body.personal_data" in reply.json()["codes"]
    assert NUMBER not in reply.text
    assert list(api.services().ledger.events(envelope.stream)) == []  # type: ignore[attr-defined]


def test_a_commitment_without_its_opening_or_with_a_wrong_one_is_refused(api: Api) -> None:
    opening = commit(NUMBER)
    applicant = {"kind": "person", "name": "王小明", "id_commitment": opening.commitment}
    _, raw, envelope = _applied(api, applicant)
    bare = api.client.post("/v1/envelopes", content=raw)
    assert bare.status_code == 422 and bare.json()["code"] == "body.commitment"
    wrong = commit("370102198502020027")
    forged = openings_header([type(opening)(opening.commitment, wrong.value, opening.salt)])
    reply = api.client.post("/v1/envelopes", content=raw, headers=forged)
    assert reply.status_code == 422 and reply.json()["code"] == "body.commitment"
    garbled = api.client.post("/v1/envelopes", content=raw, headers={"Caseledger-Openings": "%%%"})
    assert garbled.status_code == 422 and garbled.json()["code"] == "body.commitment"
    assert list(api.services().ledger.events(envelope.stream)) == []  # type: ignore[attr-defined]
    personal = api.services().ledger.personal  # type: ignore[attr-defined]
    assert personal.same_person(opening.commitment, commit(NUMBER).commitment) is False


def test_a_refused_step_takes_its_opening_back(api: Api) -> None:
    applicant = person_applicant(api.office, "王小明", NUMBER)
    body = applied_body("王小明")
    body["applicant"] = applicant
    body["channel"] = ""  # refused by the rules (body.invalid)
    envelope = StreamWriter(f"case:{uuid.uuid4()}").sign("Applied", api.office.handler, T1, body)
    assert api.post(envelope).status_code == 403
    personal = api.services().ledger.personal  # type: ignore[attr-defined]
    reader = {"reader": "test", "purpose": "test", "now": T1}
    assert personal.read(applicant["id_commitment"], **reader) is None


def test_case_detail_shows_the_number_only_to_those_handling_the_case(api: Api) -> None:
    applicant = person_applicant(api.office, "王小明", NUMBER)
    writer, _, _ = _applied(api, applicant)
    writer = StreamWriter(writer.stream)
    body = applied_body("王小明")
    body["applicant"] = applicant
    steps = [
        writer.sign("Applied", api.office.handler, T1, body),
        writer.sign("Accepted", api.office.handler, T1 + timedelta(minutes=5), {"opinion": "受理"}),
    ]
    for step in steps:
        assert api.post(step).status_code == 201
    case = f"/v1/cases/{writer.stream[5:]}"
    handler = api.client.get(case, headers=api.sign_in(api.office.handler)).json()
    reviewer = api.client.get(case, headers=api.sign_in(api.office.reviewer)).json()
    approver = api.client.get(case, headers=api.sign_in(api.office.approver))
    assert handler["applicant"]["id_number"] == NUMBER
    assert reviewer["applicant"]["id_number"] == NUMBER  # the next step is the review
    assert approver.status_code == 200 and NUMBER not in approver.text
    assert "id_number" not in approver.json()["applicant"]
    assert NUMBER not in str(handler["history"])
    reads = api.services().ledger.personal.reads(applicant["id_commitment"])  # type: ignore[attr-defined]
    assert [(r.reader, r.purpose) for r in reads] == [
        ("staff:wang.li", "case detail"),
        ("staff:li.na", "case detail"),
    ]


def test_an_admin_reads_a_staff_members_number_and_the_read_is_recorded(api: Api) -> None:
    path = "/v1/staff/staff:wang.li/identity"
    reply = api.client.get(path, headers=api.sign_in(api.office.admin))
    assert reply.status_code == 200
    assert reply.json()["id_number"] == "370102198502020027"
    refused = api.client.get(path, headers=api.sign_in(api.office.handler))
    assert refused.status_code == 403 and refused.json()["code"] == "role.missing"
    unknown = api.client.get(
        "/v1/staff/staff:nobody/identity", headers=api.sign_in(api.office.admin)
    )
    assert unknown.status_code == 404
    commitment = reply.json()["id_commitment"]
    reads = api.services().ledger.personal.reads(commitment)  # type: ignore[attr-defined]
    assert [(r.reader, r.purpose) for r in reads] == [("staff:admin", "staff staff:wang.li")]


def test_directory_and_trust_carry_commitments_only(api: Api) -> None:
    directory = api.client.get("/v1/directory", headers=api.sign_in(api.office.admin))
    assert directory.status_code == 200
    for number in ("370102198502020027", "370102198703030037", "370102197904040042"):
        assert number not in directory.text
