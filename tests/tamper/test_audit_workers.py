"""The audit with worker processes reading the records gives exactly the findings of the audit in
one process: on every ledger of the tamper matrix, on a clean one, on applicant-signed steps
whose application another worker read, and on hostile streams."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from cli.jobs import audit_with_log
from ledger.client import Signer, StreamWriter
from ledger.directory import DirectoryState
from ledger.envelope import Envelope, seal_envelope
from ledger.errors import CaseLedgerError
from ledger.messages import message
from ledger.sample import applied_body
from ledger.signing import PrivateKey
from ledger.store.audit import AuditReport, StoredRecord, audit_records
from ledger.store.audit_cases import CaseWorkers, Share
from ledger.store.log_audit import audit_commit_times
from tests.tamper.test_audit_tamper import T1, TAMPERS, Scene
from tests.tamper.test_audit_tamper import scene as scene  # the fixture
from tests.unit.test_replay import OFFICE, directory_with, hostile_streams


def same(one: AuditReport, other: AuditReport) -> None:
    # Whole findings, in order: stream, seq, code, detail, store position and step type.
    assert other.findings == one.findings
    assert other.time_limits == one.time_limits
    assert other.backdated == one.backdated
    assert (other.envelopes, other.streams) == (one.envelopes, one.streams)


@pytest.mark.parametrize(("name", "mutate", "expected"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_workers_find_what_one_process_finds(
    scene: Scene, name: str, mutate: Callable[[Scene], None], expected: object
) -> None:
    mutate(scene)
    one = scene.ledger.audit()
    assert not one.ok
    for workers in (2, 3):
        same(one, scene.ledger.audit(workers=workers))


def test_workers_pass_a_clean_ledger(scene: Scene) -> None:
    one = scene.ledger.audit()
    two = scene.ledger.audit(workers=2)
    assert one.ok and two.ok
    same(one, two)


def test_workers_must_be_at_least_one(scene: Scene) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        scene.ledger.audit(workers=0)


# Applicant-signed steps: the key is in the application, which another worker may have read ---

APPLICANT_KEY = PrivateKey(bytes(range(1, 33)))
APPLICANT = Signer("applicant:quancheng", "applicant", APPLICANT_KEY)


def applicant_case() -> list[Envelope]:
    writer = StreamWriter("case:6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    body = {**applied_body("济南泉城食品有限公司"), "applicant_key": APPLICANT_KEY.public_key_b64}
    material = {"name": "营业执照副本.pdf", "sha256": "cd" * 32}
    steps = [
        ("Applied", APPLICANT, body),
        ("SupplementRequested", OFFICE.handler, {"items": ["营业执照副本"], "notice": "请补正。"}),
        ("SupplementProvided", APPLICANT, {"materials": [material]}),
        ("Withdrawn", APPLICANT, {"reason": "申请人撤回"}),
    ]
    return [
        writer.sign(step, signer, T1 + timedelta(minutes=i), step_body)
        for i, (step, signer, step_body) in enumerate(steps)
    ]


def audit(envelopes: list[Envelope], workers: int) -> AuditReport:
    records = [
        StoredRecord(position, env.stream, env.seq, env.text, env.hash)
        for position, env in enumerate(envelopes, start=1)
    ]
    return audit_records(
        records,
        org=OFFICE.org,
        root_keys={OFFICE.root_key.key_id: OFFICE.root_key.public_key},
        stream_key=lambda stream: stream,
        workers=workers,
    )


def test_applicant_steps_read_apart_from_their_application() -> None:
    # Two workers get two case steps each: the second never sees the Applied carrying the key,
    # so the rules check those signatures themselves.
    envelopes = [*directory_with(), *applicant_case()]
    one = audit(envelopes, 1)
    assert one.ok, one.findings
    same(one, audit(envelopes, 2))


def test_a_forged_applicant_step_fails_with_workers_too() -> None:
    # The applicant and their key id named, signed with another key: in one process the
    # reader knew the key and its check failed; with two, the worker did not know it.
    case = applicant_case()
    unsigned = {k: v for k, v in case[-1].to_json().items() if k != "sig"}
    case[-1] = seal_envelope(unsigned, PrivateKey.generate())
    envelopes = [*directory_with(), *case]
    one = audit(envelopes, 1)
    assert [(f.seq, f.code) for f in one.findings] == [(4, "sig.invalid")]
    same(one, audit(envelopes, 2))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_streams())
def test_workers_agree_on_hostile_streams(streams: tuple[list[Envelope], list[Envelope]]) -> None:
    directory, case = streams
    envelopes = [*directory, *case]
    same(audit(envelopes, 1), audit(envelopes, 2))


def test_a_worker_killed_from_outside_stops_the_audit_with_a_code() -> None:
    envelopes = [*directory_with(), *applicant_case()]
    work: list[Share] = [
        [(i, i, (e.text, e.hash))] for i, e in enumerate(envelopes) if e.stream.startswith("case:")
    ]
    root_keys = {OFFICE.root_key.key_id: OFFICE.root_key.public_key}
    directory = DirectoryState(org=OFFICE.org, root_keys=root_keys)
    with CaseWorkers(2, OFFICE.org, root_keys, directory, ask_same_person=False) as workers:
        pool = workers._pool
        assert pool is not None
        os.kill(pool.submit(os.getpid).result(), signal.SIGKILL)
        # The other worker could finish every share before the pool notices the death.
        while not pool._broken:  # type: ignore[attr-defined]
            time.sleep(0.01)
        with pytest.raises(CaseLedgerError) as caught:
            list(workers.replay(work))
    assert caught.value.code == "audit.worker_lost"
    assert message("audit.worker_lost")


def test_steps_dated_long_before_one_committed_earlier_are_found_in_the_same_reading(
    scene: Scene,
) -> None:
    late = scene.office.case_until_decided(T1 - timedelta(hours=2))
    for envelope in late:  # committed after the scene's case, dated two hours before it
        scene.ledger.append(envelope)
    one = scene.ledger.audit()
    assert one.ok  # the commit order is the log audit's finding, added beside the rules'
    assert list(one.backdated) == audit_commit_times(scene.ledger.all_notifications())
    assert {(f.stream, f.seq, f.code) for f in one.backdated} == {
        (late[0].stream, seq, "time.backdated") for seq in range(1, len(late) + 1)
    }
    same(one, scene.ledger.audit(workers=2))
    # The audit with the log reports them among its findings, read once.
    with_log = audit_with_log(scene.ledger, "", workers=2)
    assert [f for f in with_log.findings if f.code == "time.backdated"] == list(one.backdated)
    assert not with_log.ok
