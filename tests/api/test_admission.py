"""Admission: the 201 answer carries a receipt signed by the log key, the client keeps it;
a key or grant revoked by the time a step arrives signs nothing more, whatever date the step
carries; the audit flags envelopes dated long before something committed earlier."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apikit import T1, Api

from api.org import OrgHome
from cli.client._target import keep_receipt
from ledger.admission import AdmissionInvalid, AdmissionReceipt, verify_admission
from ledger.client import StreamWriter
from ledger.envelope import format_time
from ledger.store.log_audit import audit_commit_times


def _log_key(api: Api) -> str:
    return OrgHome.load(api.home).trust().log_verifier_key


def test_the_201_answer_is_a_receipt_signed_by_the_log_key(api: Api) -> None:
    envelope = api.office.case_until_decided(T1)[0]
    reply = api.post(envelope)
    assert reply.status_code == 201
    answer = reply.json()
    receipt = AdmissionReceipt.from_json(answer["receipt"])
    verify_admission(receipt, _log_key(api))
    assert (receipt.stream, receipt.seq, receipt.envelope_hash) == (
        envelope.stream,
        envelope.seq,
        envelope.hash,
    )
    assert receipt.leaf_index == answer["leaf_index"] < receipt.tree_size
    assert receipt.admitted_at == format_time(api.clock.now)
    log = api.services().log
    assert log.leaf_hashes(receipt.leaf_index, receipt.leaf_index + 1) == [
        bytes.fromhex(envelope.hash)
    ]
    replayed = api.post(envelope).json()["receipt"]
    verify_admission(AdmissionReceipt.from_json(replayed), _log_key(api))


@pytest.mark.parametrize(
    ("field", "value"), [("leaf_index", 0), ("tree_size", 1), ("stream", "case:x"), ("seq", 9)]
)
def test_a_changed_receipt_does_not_verify(api: Api, field: str, value: Any) -> None:
    answer = api.post(api.office.case_until_decided(T1)[0]).json()["receipt"]
    changed = {**answer, field: value if answer[field] != value else value + 1}
    with pytest.raises(AdmissionInvalid):
        verify_admission(AdmissionReceipt.from_json(changed), _log_key(api))


def test_the_client_keeps_each_receipt(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASELEDGER_RECEIPTS", str(tmp_path / "receipts"))
    envelope = api.office.case_until_decided(T1)[0]
    answer = api.post(envelope).json()["receipt"]
    kept = keep_receipt(answer)
    assert kept == tmp_path / "receipts" / envelope.stream.replace(":", "_") / "1.json"
    assert kept is not None
    assert AdmissionReceipt.from_json(json.loads(kept.read_text())).sig == answer["sig"]


def _revoke(api: Api, step: str, body: dict[str, Any]) -> None:
    directory = api.services().ledger.directory()
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    revoke = writer.sign(step, api.office.admin, api.clock.now, body)
    assert api.client.post("/v1/directory", content=revoke.raw).status_code == 201


@pytest.mark.parametrize("what", ["key", "grant"])
def test_a_step_dated_before_a_revocation_is_refused_once_it_is_revoked(
    api: Api, what: str
) -> None:
    applied, accepted, reviewed, _ = api.office.case_until_decided(T1)
    for envelope in (applied, accepted):
        api.clock.now = envelope.at
        assert api.post(envelope).status_code == 201
    # Revoked four minutes after the review is dated; the review arrives 30 s later.
    api.clock.now = reviewed.at + timedelta(minutes=4)
    reviewer = api.office.reviewer
    if what == "key":
        _revoke(api, "KeyRevoked", {"key_id": reviewer.key.key_id, "reason": "lost"})
    else:
        directory = api.services().ledger.directory()
        grant = next(
            g for g in directory.grants.values()
            if g.staff == reviewer.principal and g.role == "reviewer"
        )  # fmt: skip
        _revoke(api, "RoleRevoked", {"grant": grant.grant_id, "reason": "transferred"})
    api.clock.now += timedelta(seconds=30)
    reply = api.post(reviewed)
    assert reply.status_code == 403, reply.text
    assert reply.json()["codes"] == [f"{'key' if what == 'key' else 'role'}.revoked_at_admission"]
    # The audit judges the stored ledger by the dates steps carry, and nothing was stored.
    assert api.services().ledger.head(reviewed.stream)[0] == 2


def test_steps_dated_long_before_something_committed_earlier_are_flagged(api: Api) -> None:
    first = api.office.case_until_decided(T1 + timedelta(hours=1))[0]
    late = api.office.case_until_decided(T1)[0]
    near = api.office.case_until_decided(T1 + timedelta(minutes=51))[0]
    notifications = [(1, first.stream, first), (2, near.stream, near), (3, late.stream, late)]
    findings = audit_commit_times(notifications)
    assert [(f.stream, f.code) for f in findings] == [(late.stream, "time.backdated")]
