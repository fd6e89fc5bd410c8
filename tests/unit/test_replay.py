"""One replay: the store's audit and the verifier's receipt replay report the same findings
for the same hostile streams, and one bad step is one finding, not a cascade."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.client import StreamWriter
from ledger.envelope import Envelope
from ledger.receipt import BUNDLE_KIND, Receipt
from ledger.sample import SampleOffice, applied_body, decided_body
from ledger.store.audit import StoredRecord, audit_records
from ledger.trust import TrustFile
from verify._replay import replay

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = T0 + timedelta(days=1)
CASE = uuid.UUID("3f6c2a9b-1d04-4e5f-8a7b-6c5d4e3f2a1b")
OFFICE = SampleOffice()

Key = tuple[str, int, str, str]


def audit_findings(directory: list[Envelope], case: list[Envelope]) -> list[Key]:
    records = [
        StoredRecord(position, env.stream, env.seq, env.text, env.hash)
        for position, env in enumerate([*directory, *case], start=1)
    ]
    report = audit_records(
        records,
        org=OFFICE.org,
        root_keys={OFFICE.root_key.key_id: OFFICE.root_key.public_key},
        stream_key=lambda stream: stream,
    )
    return sorted((f.stream, f.seq, f.code, f.detail) for f in report.findings)


def verifier_findings(directory: list[Envelope], case: list[Envelope]) -> list[Key]:
    receipt = Receipt(BUNDLE_KIND, OFFICE.org, str(CASE), tuple(case), tuple(directory), {}, "")
    trust = TrustFile(
        org=OFFICE.org,
        org_name=OFFICE.org_name,
        root_keys={OFFICE.root_key.key_id: OFFICE.root_key.public_key},
        log_origin="example.org/log",
        log_verifier_key="",
        seal_ca_pems=(),
        witness_keys=(),
        witness_quorum=0,
        public_base_url="https://example.org",
    )
    result = replay(receipt, trust)
    found = [*result.signature_findings, *result.rule_findings]
    return sorted((f.stream, f.seq, f.code, f.detail) for f in found)


def directory_with(*extra: tuple[str, dict[str, Any]]) -> list[Envelope]:
    """The sample directory, then ``extra`` (step type, body) signed by the admin."""
    directory = OFFICE.directory_envelopes(T0)
    last = directory[-1]
    writer = StreamWriter(last.stream, seq=last.seq, prev=last.hash)
    at = T0 + timedelta(hours=1)
    return [
        *directory,
        *(writer.sign(step, OFFICE.admin, at + timedelta(seconds=i), body)
          for i, (step, body) in enumerate(extra)),
    ]  # fmt: skip


_STEPS: dict[str, tuple[str, Any]] = {
    "Applied": ("handler", applied_body("济南泉城食品有限公司")),
    "Accepted": ("handler", {"opinion": "予以受理。"}),
    "Reviewed": ("reviewer", {"level": 1, "opinion": "agree", "comments": "符合条件。"}),
    "Decided": ("approver", decided_body(T1)),
    "ResultIssued": ("seal_service", {"pdf_sha256": "ab" * 32, "seal_serial": "01"}),
    "Delivered": ("handler", {"channel": "window", "recipient": "张三"}),
}
SAMPLE_CASE = list(_STEPS)


def case_of(steps: list[tuple[str, str, dict[str, Any]]]) -> list[Envelope]:
    """A case signed in order: (step type, signer's role in the sample office, body)."""
    writer = StreamWriter(f"case:{CASE}")
    signers = {
        "handler": OFFICE.handler,
        "reviewer": OFFICE.reviewer,
        "approver": OFFICE.approver,
        "seal_service": OFFICE.seal_service,
    }
    return [
        writer.sign(step, signers[who], T1 + timedelta(minutes=7 * i), body)
        for i, (step, who, body) in enumerate(steps)
    ]


def sample_case(**bodies: dict[str, Any]) -> list[Envelope]:
    return case_of([(s, _STEPS[s][0], bodies.get(s, _STEPS[s][1])) for s in SAMPLE_CASE])


def test_the_sample_streams_have_no_finding_in_either() -> None:
    directory, case = directory_with(), sample_case()
    assert audit_findings(directory, case) == verifier_findings(directory, case) == []


def test_two_bad_directory_steps_are_two_findings_in_both() -> None:
    directory = directory_with(
        ("StaffEnrolled", {"staff": "staff:new", "name": "新人", "unit": "行政审批科"}),
        ("KeyRevoked", {"key_id": "0123456789abcdef", "reason": "丢失"}),
    )
    case = sample_case()
    codes = [(f[1], f[2]) for f in audit_findings(directory, case)]
    assert codes == [(17, "body.invalid"), (18, "directory.invalid")]
    assert audit_findings(directory, case) == verifier_findings(directory, case)


def test_an_unreadable_step_is_one_finding_not_a_cascade() -> None:
    directory = directory_with()
    case = sample_case(Accepted={"opinion": 7}, Reviewed={"level": 1, "opinion": "maybe"})
    assert [(f[1], f[2]) for f in audit_findings(directory, case)] == [
        (2, "body.invalid"),
        (3, "body.invalid"),
    ]
    assert audit_findings(directory, case) == verifier_findings(directory, case)


def test_an_applicant_key_that_is_not_text_is_an_unreadable_body() -> None:
    body = {**applied_body("济南泉城食品有限公司"), "applicant_key": 5}
    directory, case = directory_with(), sample_case(Applied=body)
    found = audit_findings(directory, case)
    assert found[0][1:3] == (1, "body.invalid")
    assert found == verifier_findings(directory, case)


HOSTILE_DIRECTORY = [
    ("StaffEnrolled", {"staff": "staff:wang.li", "name": "王立", "unit": "科", "id_number": "1"}),
    ("KeyAdded", {"staff": "staff:nobody", "public_key": OFFICE.admin.key.public_key_b64}),
    ("KeyRevoked", {"key_id": OFFICE.handler.key.key_id, "reason": "丢失"}),
    ("KeyRevoked", {"key_id": "0123456789abcdef"}),
    ("RoleGranted", {"grant": "g-x", "staff": "staff:li.na", "role": "root", "unit": "科"}),
    ("RoleRevoked", {"grant": "g-li.na", "reason": "调岗"}),
    ("RoleRevoked", {"grant": "g-none", "reason": "调岗"}),
    ("MatterRevised", {"code": "XK-370100-001", "version": 9}),
]

_FAULTS = ("keep", "drop_field", "retype_field", "other_signer", "skip")


@st.composite
def hostile_streams(draw: st.DrawFn) -> tuple[list[Envelope], list[Envelope]]:
    extra = draw(st.lists(st.sampled_from(HOSTILE_DIRECTORY), max_size=4))
    steps = []
    for step in SAMPLE_CASE:
        who, body = _STEPS[step]
        fault = draw(st.sampled_from(_FAULTS))
        if fault == "skip":
            continue
        body = dict(body)
        name = draw(st.sampled_from(sorted(body)))
        if fault == "drop_field":
            del body[name]
        elif fault == "retype_field":
            body[name] = draw(st.sampled_from([None, 0, True, [], {}, ""]))
        elif fault == "other_signer":
            who = draw(st.sampled_from(["handler", "reviewer", "approver", "seal_service"]))
        steps.append((step, who, body))
    return directory_with(*extra), case_of(steps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_streams())
def test_the_audit_and_the_verifier_agree_on_hostile_streams(
    streams: tuple[list[Envelope], list[Envelope]],
) -> None:
    directory, case = streams
    assert audit_findings(directory, case) == verifier_findings(directory, case)


@pytest.mark.parametrize("extra", HOSTILE_DIRECTORY, ids=lambda e: f"{e[0]}-{sorted(e[1])}")
def test_each_hostile_directory_step_is_at_most_one_finding(
    extra: tuple[str, dict[str, Any]],
) -> None:
    directory, case = directory_with(extra), sample_case()
    found = audit_findings(directory, case)
    assert len([f for f in found if f[0].startswith("directory:")]) <= 1
    assert found == verifier_findings(directory, case)
