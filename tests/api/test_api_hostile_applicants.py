"""What anyone may send without signing in (applicant self-service) cannot break the reads.

Each test is one hostile-but-valid input: a very long applicant name, two case ids that share
their first hex digits on the same day, and a flood of applications from one address.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from apikit import T1, Api, open_api

from ledger.client import Signer, StreamWriter
from ledger.envelope import Envelope
from ledger.sample import SampleOffice, applied_body
from ledger.signing import PrivateKey


def self_applied(
    case_id: uuid.UUID | None = None, name: str = "济南泉城食品有限公司", at: Any = T1
) -> Envelope:
    """An Applied signed by an applicant with a key of their own (no sign-in needed)."""
    key = PrivateKey.generate()
    applicant = Signer(f"applicant:{key.key_id[:12]}", "applicant", key)
    body = {**applied_body(name), "applicant_key": key.public_key_b64}
    return StreamWriter(f"case:{case_id or uuid.uuid4()}").sign("Applied", applicant, at, body)


def reads_answer(api: Api, case_id: str) -> None:
    """Queue, case detail and public lookup all answer (no 500)."""
    handler = api.sign_in(api.office.handler)
    queue = api.client.get("/v1/queues/handler", headers=handler)
    assert queue.status_code == 200, queue.text
    assert case_id in [c["case_id"] for c in queue.json()["cases"]]
    detail = api.client.get(f"/v1/cases/{case_id}", headers=handler)
    assert detail.status_code == 200, detail.text
    number, code = detail.json()["case"]["case_number"], detail.json()["query_code"]
    public = api.client.get(f"/v1/public/cases/{number}", params={"code": code})
    assert public.status_code == 200, public.text


def test_a_300_character_applicant_name_is_read_back_whole(any_api: Api) -> None:
    name = "济南" + "泉" * 296 + "有限公司"
    envelope = self_applied(name=name)
    reply = any_api.post(envelope)
    assert reply.status_code == 201, reply.text
    case_id = envelope.stream.removeprefix("case:")
    reads_answer(any_api, case_id)
    services = any_api.services()
    summary = services.read_models.case(envelope.stream)
    assert summary is not None and summary.applicant_name == name


def test_case_ids_sharing_their_first_hex_digits_get_different_numbers(any_api: Api) -> None:
    shared = "3f6c2a9b-1d04-4"
    first = uuid.UUID(f"{shared}e4b-9a51-0c7d2e8f6a11")
    second = uuid.UUID(f"{shared}f00-8000-000000000000")
    for case_id in (first, second):
        reply = any_api.post(self_applied(case_id, at=T1 + timedelta(seconds=len(str(case_id)))))
        assert reply.status_code == 201, reply.text
    for case_id in (first, second):
        reads_answer(any_api, str(case_id))
    models = any_api.services().read_models
    numbers = {models.case(f"case:{c}").case_number for c in (first, second)}  # type: ignore[union-attr]
    assert len(numbers) == 2


def test_a_flood_of_self_applications_is_refused_with_429(
    api_home: Path, office: SampleOffice
) -> None:
    gen: Iterator[Api] = open_api(api_home, None, office)
    api = next(gen)
    try:
        codes = [api.post(self_applied()).status_code for _ in range(100)]
        assert 429 in codes
        admitted = codes.count(201)
        assert admitted <= api.services().settings.applicant_burst
        refused = api.post(self_applied())
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate.applicants"
        assert int(refused.headers["retry-after"]) >= 1
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["message"])
        # Staff steps, signed by enrolled keys, are not held back by the applicants' flood.
        staff_case = office.case_until_decided(T1)[0]
        assert api.post(staff_case).status_code == 201
    finally:
        gen.close()


def test_applicants_from_many_addresses_meet_the_overall_limit(
    api_home: Path, office: SampleOffice
) -> None:
    for api in open_api(api_home, None, office, applicant_total_burst=5):
        # Straight from the app (no wait for its followers): the allowance refills with time.
        gate = api.client.app.state.services.applicants  # type: ignore[attr-defined]
        for n in range(5):
            gate.admit(f"192.0.2.{n}", 100)  # five other addresses took the whole allowance
        reply = api.post(self_applied())
        assert reply.status_code == 429 and reply.json()["code"] == "rate.applicants_overall"


def test_an_applicant_envelope_over_the_cap_is_refused_with_413(any_api: Api) -> None:
    envelope = self_applied(name="大" * 6000)  # ~18 KB of UTF-8, under the general body cap
    reply = any_api.post(envelope)
    assert reply.status_code == 413 and reply.json()["code"] == "applicant.too_large"
    assert any_api.services().ledger.head(envelope.stream)[0] == 0
