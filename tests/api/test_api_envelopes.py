"""POST /v1/envelopes and /v1/directory: every outcome and error, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from apikit import T1, Api, canonical_bytes, openings_header

from ledger.client import StreamWriter
from ledger.envelope import Envelope, seal_envelope
from ledger.personal import commit
from ledger.signing import PrivateKey


def test_a_case_runs_through_http_and_replay_gives_the_same_result(any_api: Api) -> None:
    envelopes = any_api.office.case_until_decided(T1)
    results = []
    for envelope in envelopes:
        any_api.clock.now = envelope.at
        reply = any_api.post(envelope)
        assert reply.status_code == 201, reply.text
        results.append(reply.json())
    assert [r["seq"] for r in results] == [1, 2, 3, 4]
    assert results[2]["hash"] == envelopes[2].hash
    assert results[2]["stream"] == envelopes[2].stream
    again = any_api.post(envelopes[2])
    assert again.status_code == 200
    assert {k: again.json()[k] for k in ("stream", "seq", "hash", "leaf_index")} == {
        k: results[2][k] for k in ("stream", "seq", "hash", "leaf_index")
    }
    assert again.json()["replayed"] is True
    head = any_api.services().ledger.head(envelopes[0].stream)
    assert head == (4, envelopes[3].hash)


def test_malformed_and_non_canonical_json_are_400_with_the_parser_code(api: Api) -> None:
    reply = api.client.post("/v1/envelopes", content=b"{not json")
    assert reply.status_code == 400 and reply.json()["code"] == "json.invalid"
    envelope = api.office.case_until_decided(T1)[0]
    spaced = json.dumps(json.loads(envelope.raw), indent=1).encode()
    reply = api.client.post("/v1/envelopes", content=spaced)
    assert reply.status_code == 400 and reply.json()["code"] == "json.not_canonical"
    fields = json.loads(envelope.raw)
    del fields["prev"]
    reply = api.client.post("/v1/envelopes", content=canonical_bytes(fields))
    assert reply.status_code == 400 and reply.json()["code"] == "envelope.fields"
    assert set(reply.json()) >= {"code", "message"}


def test_forged_signature_is_401_with_sig_codes_only(api: Api) -> None:
    applied = api.office.case_until_decided(T1)[0]
    fields = json.loads(applied.raw)
    fields["body"]["applicant"]["name"] = "别的公司"  # changed after signing
    reply = api.client.post("/v1/envelopes", content=canonical_bytes(fields))
    assert reply.status_code == 401
    assert reply.json()["codes"] == ["sig.invalid"]


def test_unknown_key_is_401(api: Api) -> None:
    stranger = api.office.handler.__class__("staff:wang.li", "handler", PrivateKey.generate())
    envelope = StreamWriter(api.office.case_until_decided(T1)[0].stream).sign(
        "Applied", stranger, T1, api.office.case_until_decided(T1)[0].body
    )
    reply = api.post(envelope)
    assert reply.status_code == 401 and reply.json()["codes"] == ["sig.unknown_key"]


def test_wrong_role_and_same_person_are_403_with_the_violation_codes(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    for envelope in envelopes[:2]:
        api.clock.now = envelope.at
        assert api.post(envelope).status_code == 201
    at = api.clock.now
    writer = StreamWriter(envelopes[0].stream, 2, envelopes[1].hash)
    review = envelopes[2].body
    # The handler reviews their own acceptance: a second capacity on one case.
    as_reviewer = writer.sign("Reviewed", api.office.handler.as_role("reviewer"), at, review)
    reply = api.post(as_reviewer)
    assert reply.status_code == 403
    assert "duty.same_person" in reply.json()["codes"]
    assert "role.missing" in reply.json()["codes"]
    writer = StreamWriter(envelopes[0].stream, 2, envelopes[1].hash)
    decided_early = writer.sign("Decided", api.office.approver, at, envelopes[3].body)
    reply = api.post(decided_early)
    assert reply.status_code == 403 and reply.json()["codes"] == ["order.not_allowed"]


def test_stale_seq_is_409_with_the_head(api: Api) -> None:
    envelopes = api.office.case_until_decided(T1)
    for envelope in envelopes[:3]:
        api.clock.now = envelope.at
        assert api.post(envelope).status_code == 201
    writer = StreamWriter(envelopes[0].stream, 1, envelopes[0].hash)
    late = writer.sign("Accepted", api.office.handler, api.clock.now, {"opinion": "再受理"})
    reply = api.post(late)
    assert reply.status_code == 409
    assert reply.json()["head_seq"] == 3 and reply.json()["head_hash"] == envelopes[2].hash


def test_clock_skew_is_422(api: Api) -> None:
    envelope = api.office.case_until_decided(T1)[0]
    api.clock.now = T1 + timedelta(minutes=6)
    reply = api.post(envelope)
    assert reply.status_code == 422 and reply.json()["code"] == "time.skew"


def test_oversize_bodies_are_413_json(api: Api) -> None:
    reply = api.client.post("/v1/envelopes", content=b"x" * (64 * 1024 + 1))
    assert reply.status_code == 413 and reply.json()["code"] == "request.too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(70):
            yield b"y" * 1024

    reply = api.client.post("/v1/envelopes", content=chunks())
    assert reply.status_code == 413 and reply.json()["code"] == "request.too_large"


def test_directory_endpoint_takes_only_directory_envelopes(api: Api) -> None:
    applied = api.office.case_until_decided(T1)[0]
    reply = api.client.post("/v1/directory", content=applied.raw)
    assert reply.status_code == 400 and reply.json()["code"] == "envelope.stream"
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    opening = commit("X-1")
    body = {
        "staff": "staff:qian.yu",
        "name": "钱宇",
        "unit": "行政审批科",
        "id_commitment": opening.commitment,
    }
    enrolled = writer.sign("StaffEnrolled", api.office.admin, T1, body)
    reply = api.client.post(
        "/v1/directory", content=enrolled.raw, headers=openings_header([opening])
    )
    assert reply.status_code == 201 and reply.json()["seq"] == directory.seq
    forged: Envelope = seal_envelope(
        {**json.loads(enrolled.raw), "seq": enrolled.seq + 1, "prev": enrolled.hash},
        PrivateKey.generate(),
    )
    reply = api.client.post("/v1/directory", content=forged.raw)
    assert reply.status_code == 401
