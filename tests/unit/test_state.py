"""The case fold: status, times, participants and suspensions after each admitted step."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from ledger.client import Signer, StreamWriter
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.policy import check
from ledger.sample import SAMPLE_MATTER, SampleOffice
from ledger.signing import PrivateKey
from ledger.state import CLOSED_STATUSES, OPEN_STATUSES, CaseState, Participation

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = datetime.fromisoformat("2026-11-24T01:00:00+00:00")


@pytest.fixture
def office() -> SampleOffice:
    return SampleOffice()


def directory_of(office: SampleOffice) -> DirectoryState:
    state = DirectoryState(
        org=office.org, root_keys={office.root_key.key_id: office.root_key.public_key}
    )
    for env in office.directory_envelopes(T0):
        state.apply(env)
    return state


def fold(office: SampleOffice, envelopes: list[Envelope]) -> CaseState:
    directory = directory_of(office)
    state = CaseState.empty(envelopes[0].stream)
    for env in envelopes:
        assert check(state, directory, env) == [], env.type
        state = state.apply(env)
    return state


def test_the_sample_case_until_decided(office: SampleOffice) -> None:
    envelopes = office.case_until_decided(T1)
    state = fold(office, envelopes)
    assert state.status == "decided"
    assert state.seq == 4
    assert state.head_hash == envelopes[-1].hash
    assert state.last_at == envelopes[-1].at
    assert state.matter_code == SAMPLE_MATTER
    assert state.matter_version == 1
    assert state.applicant["id_number"] == "91370100MA3C000001"
    assert state.applicant_actor is None  # recorded at the window by the handler
    assert state.applied_at == envelopes[0].at
    assert state.accepted_at == envelopes[1].at
    assert state.decided_at == envelopes[3].at
    assert state.reviews_done == 1
    assert state.outcome == "approved"
    assert state.participants == (
        Participation("staff:wang.li", "handler"),
        Participation("staff:li.na", "reviewer:1"),
        Participation("staff:zhang.wei", "approver"),
    )
    assert state.capacities_of("staff:wang.li") == {"handler"}
    assert state.capacities_of("staff:nobody") == set()


def test_each_step_moves_the_status(office: SampleOffice) -> None:
    envelopes = office.case_until_decided(T1)
    directory = directory_of(office)
    state = CaseState.empty(envelopes[0].stream)
    seen = []
    for env in envelopes:
        state = state.apply(env)
        seen.append(state.status)
    assert seen == ["applied", "accepted", "in_review", "decided"]
    assert directory.seq == 16


def test_suspension_stops_and_resumes_to_where_it_was(office: SampleOffice) -> None:
    handler = office.handler
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    start = T1
    first = office.case_until_decided(start)[0]
    envelopes = [writer.sign("Applied", handler, start, first.body)]
    envelopes.append(
        writer.sign("Accepted", handler, start + timedelta(hours=1), {"opinion": "受理"})
    )
    envelopes.append(
        writer.sign("Suspended", handler, start + timedelta(days=1), {"reason": "专家评审"})
    )
    envelopes.append(
        writer.sign("Resumed", handler, start + timedelta(days=4), {"reason": "评审结束"})
    )
    state = fold(office, envelopes)
    assert state.status == "accepted"
    assert state.resume_to is None
    (span,) = state.suspensions
    assert span.start == start + timedelta(days=1)
    assert span.end == start + timedelta(days=4)
    assert span.reason == "专家评审"
    # The handler suspended and resumed as handler: one capacity, recorded once.
    assert state.participants == (Participation("staff:wang.li", "handler"),)


def test_an_open_suspension_has_no_end(office: SampleOffice) -> None:
    handler = office.handler
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    body = office.case_until_decided(T1)[0].body
    state = fold(
        office,
        [
            writer.sign("Applied", handler, T1, body),
            writer.sign("Accepted", handler, T1, {"opinion": "受理"}),
            writer.sign("Suspended", handler, T1 + timedelta(days=1), {"reason": "听证"}),
        ],
    )
    assert state.status == "suspended"
    assert state.resume_to == "accepted"
    assert state.suspensions[0].end is None


def test_supplement_request_time_is_kept(office: SampleOffice) -> None:
    handler = office.handler
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    body = office.case_until_decided(T1)[0].body
    asked = T1 + timedelta(hours=3)
    state = fold(
        office,
        [
            writer.sign("Applied", handler, T1, body),
            writer.sign(
                "SupplementRequested", handler, asked, {"items": ["章程"], "notice": "补正"}
            ),
        ],
    )
    assert state.status == "awaiting_supplement"
    assert state.supplement_requested_at == asked


def test_an_applicant_who_applies_is_remembered_with_their_key(office: SampleOffice) -> None:
    key = PrivateKey.generate()
    applicant = Signer("applicant:quancheng", "applicant", key)
    body = {**office.case_until_decided(T1)[0].body, "applicant_key": key.public_key_b64}
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    state = fold(office, [writer.sign("Applied", applicant, T1, body)])
    assert state.applicant_actor == "applicant:quancheng"
    assert state.applicant_key == key.public_key
    assert state.participants == ()


def test_apply_returns_a_new_state(office: SampleOffice) -> None:
    env = office.case_until_decided(T1)[0]
    empty = CaseState.empty(env.stream)
    after = empty.apply(env)
    assert empty.seq == 0
    assert empty.status is None
    assert after.seq == 1


def test_statuses_are_either_open_or_closed() -> None:
    assert not OPEN_STATUSES & CLOSED_STATUSES
    assert {"applied", "decided"} <= OPEN_STATUSES
    assert {"delivered", "withdrawn", "not_accepted", "revoked", "terminated"} == CLOSED_STATUSES
