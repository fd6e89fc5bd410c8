"""The directory fold: who was enrolled, which keys and grants existed, as of a time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ledger.client import StreamWriter, grant_body, matter_body
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError
from ledger.policy import check
from ledger.sample import SAMPLE_MATTER, SampleOffice
from ledger.signing import PrivateKey

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
LATER = T0 + timedelta(days=2)


@pytest.fixture
def office() -> SampleOffice:
    return SampleOffice()


def folded(office: SampleOffice, *extra: tuple[str, dict[str, object], datetime]) -> DirectoryState:
    """The sample directory, then ``extra`` changes signed by the admin, each admitted first."""
    envelopes = office.directory_envelopes(T0)
    writer = StreamWriter(envelopes[0].stream, envelopes[-1].seq, envelopes[-1].hash)
    envelopes += [writer.sign(step, office.admin, at, body) for step, body, at in extra]
    state = DirectoryState(
        org=office.org, root_keys={office.root_key.key_id: office.root_key.public_key}
    )
    for env in envelopes:
        assert check(None, state, env) == [], env.type
        state.apply(env)
    return state


def test_the_sample_directory(office: SampleOffice) -> None:
    state = folded(office)
    assert state.seq == 16
    assert state.stream == "directory:jinan-approval"
    assert set(state.staff) == {
        "staff:admin",
        "staff:wang.li",
        "staff:li.na",
        "staff:zhang.wei",
        "service:seal",
    }
    record = state.key(office.reviewer.key.key_id)
    assert record is not None
    assert record.owner == "staff:li.na"
    assert record.public_key == office.reviewer.key.public_key
    assert record.void_from is None
    assert state.latest_matter(SAMPLE_MATTER) is not None


def test_staff_exist_only_from_their_enrolment(office: SampleOffice) -> None:
    state = folded(office)
    enrolled = state.staff["staff:li.na"].recorded_at
    assert state.staff_at("staff:li.na", enrolled) is not None
    assert state.staff_at("staff:li.na", enrolled - timedelta(seconds=1)) is None
    assert state.staff_at("staff:nobody", LATER) is None


def test_grants_count_from_when_they_were_recorded(office: SampleOffice) -> None:
    state = folded(
        office,
        ("RoleGranted", grant_body("g-late", "staff:li.na", "approver", valid_from=T0), LATER),
    )
    assert [g.grant_id for g in state.grants_at("staff:li.na", "approver", LATER)] == ["g-late"]
    assert state.grants_at("staff:li.na", "approver", LATER - timedelta(seconds=1)) == []
    grant = state.grants["g-late"]
    assert grant.valid_from == T0
    assert grant.recorded_at == LATER
    assert grant.covers(SAMPLE_MATTER)
    assert grant.covers(None)


def test_grants_limited_to_matters(office: SampleOffice) -> None:
    state = folded(
        office,
        (
            "RoleGranted",
            grant_body("g-m", "staff:li.na", "approver", valid_from=T0, matters=("A", "B")),
            LATER,
        ),
    )
    grant = state.grants["g-m"]
    assert grant.covers("A")
    assert not grant.covers("C")


def test_a_revoked_grant_keeps_its_first_revocation_time(office: SampleOffice) -> None:
    state = folded(
        office,
        ("RoleRevoked", {"grant": "g-li.na", "reason": "调岗"}, LATER),
        ("RoleRevoked", {"grant": "g-li.na", "reason": "again"}, LATER + timedelta(days=1)),
    )
    assert state.grants["g-li.na"].revoked_at == LATER


def test_key_revocation_keeps_the_earliest_void_from(office: SampleOffice) -> None:
    kid = office.reviewer.key.key_id
    state = folded(
        office,
        ("KeyRevoked", {"key_id": kid, "reason": "a", "void_from": "2026-12-01T00:00:00Z"}, LATER),
        ("KeyRevoked", {"key_id": kid, "reason": "b", "void_from": "2026-11-24T00:00:00Z"}, LATER),
        ("KeyRevoked", {"key_id": kid, "reason": "c", "void_from": "2026-12-05T00:00:00Z"}, LATER),
    )
    record = state.key(kid)
    assert record is not None
    assert record.void_from == datetime.fromisoformat("2026-11-24T00:00:00+00:00")


def test_key_revocation_without_void_from_voids_from_its_own_time(office: SampleOffice) -> None:
    kid = office.reviewer.key.key_id
    state = folded(office, ("KeyRevoked", {"key_id": kid, "reason": "lost"}, LATER))
    record = state.key(kid)
    assert record is not None
    assert record.void_from == LATER


def test_matter_versions_are_asked_for_at_a_time(office: SampleOffice) -> None:
    revised = matter_body(
        SAMPLE_MATTER, "修订版", version=2, review_levels=("reviewer", "reviewer")
    )
    state = folded(office, ("MatterRevised", revised, LATER))
    v1 = state.matter_at(SAMPLE_MATTER, 1, LATER)
    v2 = state.matter_at(SAMPLE_MATTER, 2, LATER)
    assert v1 is not None
    assert v2 is not None
    assert len(v1.review_levels) == 1
    assert [level.role for level in v2.review_levels] == ["reviewer", "reviewer"]
    assert state.matter_at(SAMPLE_MATTER, 2, LATER - timedelta(seconds=1)) is None
    assert state.matter_at(SAMPLE_MATTER, 3, LATER) is None
    latest = state.latest_matter(SAMPLE_MATTER)
    assert latest is not None
    assert latest.version == 2
    assert state.latest_matter("NO-SUCH") is None


def test_keys_added_later_are_looked_up_with_their_record_time(office: SampleOffice) -> None:
    key = PrivateKey.generate()
    state = folded(
        office, ("KeyAdded", {"staff": "staff:li.na", "public_key": key.public_key_b64}, LATER)
    )
    record = state.key(key.key_id)
    assert record is not None
    assert record.recorded_at == LATER
    assert record.owner == "staff:li.na"


def test_folding_an_unreadable_body_raises_envelope_error(office: SampleOffice) -> None:
    # apply() trusts check() to have read the body; an unreadable one is an EnvelopeError,
    # which the audit catches to keep the chain moving.
    state = folded(office)
    env = StreamWriter(state.stream, state.seq, state.head_hash).sign(
        "RoleGranted", office.admin, LATER, {"grant": "g-x", "staff": "staff:li.na"}
    )
    assert isinstance(env, Envelope)
    with pytest.raises(EnvelopeError) as caught:
        state.apply(env)
    assert caught.value.code == "body.invalid"


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("KeyRevoked", {"key_id": "0123456789abcdef", "reason": "x"}),
        ("RoleRevoked", {"grant": "g-none", "reason": "x"}),
    ],
)
def test_folding_a_revocation_of_nothing_raises_envelope_error(
    office: SampleOffice, step: str, body: dict[str, object]
) -> None:
    state = folded(office)
    env = StreamWriter(state.stream, state.seq, state.head_hash).sign(
        step, office.admin, LATER, body
    )
    with pytest.raises(EnvelopeError) as caught:
        state.apply(env)
    assert caught.value.code == "directory.invalid"
