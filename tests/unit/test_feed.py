"""A department's follower of the feed (ledger.feed): it accepts a page only when the
checkpoint is the office's and extends the last one, every envelope is in the tree and admitted
by the rules, and positions move forward — and a refused page changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.checkpoint import sign_checkpoint
from ledger.envelope import Envelope
from ledger.feed import FeedEntry, FeedError, FeedFollower, FeedPage
from ledger.merkle import MemoryTree
from ledger.note import verifier_key_string
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.trust import TrustFile

T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
ORIGIN = "approval.example/log"


class Office:
    """The sample office's streams in an in-memory log with a signed checkpoint per page."""

    def __init__(self) -> None:
        self.office = SampleOffice()
        self.log_key = PrivateKey.generate()
        self.tree = MemoryTree()
        self.positions: list[tuple[int, Envelope]] = []

    def trust(self) -> TrustFile:
        return TrustFile(
            org=self.office.org,
            org_name=self.office.org_name,
            root_keys={self.office.root_key.key_id: self.office.root_key.public_key},
            log_origin=ORIGIN,
            log_verifier_key=verifier_key_string(ORIGIN, self.log_key.public_key),
            seal_ca_pems=("-----BEGIN CERTIFICATE-----",),
            witness_keys=(),
            witness_quorum=0,
            public_base_url="https://approval.example",
        )

    def add(self, envelopes: list[Envelope]) -> None:
        for env in envelopes:
            self.tree.append(bytes.fromhex(env.hash))
            self.positions.append((len(self.positions) + 1, env))

    def page(self, after: int, tree: MemoryTree | None = None) -> FeedPage:
        tree = tree or self.tree
        note = sign_checkpoint(ORIGIN, tree.size, tree.root(), self.log_key)
        entries = tuple(
            FeedEntry(position, position - 1, env, tuple(tree.inclusion_proof(position - 1)))
            for position, env in self.positions
            if position > after and position <= tree.size
        )
        last = entries[-1].position if entries else after
        return FeedPage(after, last, note, entries, more=False)


def _case(office: SampleOffice) -> list[Envelope]:
    return office.case_until_decided(T1, case_id=uuid.UUID(int=7))


def test_pages_accepted_in_order_and_through_a_round_trip_of_their_json() -> None:
    office = Office()
    office.add(office.office.directory_envelopes(T0))
    follower = FeedFollower(office.trust())
    first = FeedPage.from_json(office.page(0).to_json())
    assert len(follower.accept(first, None)) == len(office.positions)
    size = office.tree.size
    office.add(_case(office.office))
    second = office.page(follower.position)
    accepted = follower.accept(second, office.tree.consistency_proof(size))
    assert [e.type for e in accepted] == ["Applied", "Accepted", "Reviewed", "Decided"]
    assert follower.position == office.tree.size
    assert follower.cases[accepted[0].stream].status == "decided"


def test_a_forked_log_is_refused_and_the_follower_is_unchanged() -> None:
    office = Office()
    office.add(office.office.directory_envelopes(T0))
    follower = FeedFollower(office.trust())
    follower.accept(office.page(0), None)
    seen = (follower.position, follower.checkpoint)
    # The office's log is rewritten: its last leaf replaced, then it grows on.
    forked = MemoryTree.of(bytes.fromhex(e.hash) for _, e in office.positions[:-1])
    forked.append(bytes(32))
    office.add(_case(office.office))
    for env in _case(office.office):
        forked.append(bytes.fromhex(env.hash))
    page = office.page(follower.position, tree=forked)
    proof = forked.consistency_proof(len(office.positions) - 4)
    with pytest.raises(FeedError) as caught:
        follower.accept(page, proof)
    assert caught.value.code == "feed.fork"
    assert (follower.position, follower.checkpoint) == seen


def test_a_checkpoint_of_another_key_an_entry_not_in_the_tree_and_a_replay_are_refused() -> None:
    office = Office()
    office.add(office.office.directory_envelopes(T0))
    follower = FeedFollower(office.trust())
    page = office.page(0)
    stranger = replace(
        page, checkpoint=sign_checkpoint(ORIGIN, 1, bytes(32), PrivateKey.generate())
    )
    with pytest.raises(FeedError) as caught:
        follower.accept(stranger, None)
    assert caught.value.code == "feed.checkpoint"
    first = page.entries[0]
    bad_proof = replace(first, proof=(bytes(32), *first.proof[1:]))
    with pytest.raises(FeedError) as caught:
        follower.accept(replace(page, entries=(bad_proof, *page.entries[1:])), None)
    assert caught.value.code == "feed.inclusion"
    swapped = (page.entries[1], page.entries[0], *page.entries[2:])
    with pytest.raises(FeedError) as caught:
        follower.accept(replace(page, entries=swapped), None)
    assert caught.value.code == "feed.rules"  # seq 2 before seq 1 of the directory
    backwards = (*page.entries[:2], replace(page.entries[2], position=1), *page.entries[3:])
    with pytest.raises(FeedError) as caught:
        follower.accept(replace(page, entries=backwards), None)
    assert caught.value.code == "feed.order"
    assert follower.position == 0 and follower.directory.seq == 0
    follower.accept(page, None)
    with pytest.raises(FeedError) as caught:
        follower.accept(page, [])  # the same page again: it does not start where we stand
    assert caught.value.code == "feed.order"


def test_a_step_the_rules_refuse_is_refused() -> None:
    office = Office()
    office.add(office.office.directory_envelopes(T0))
    case = _case(office.office)
    # The reviewer signs the decision: properly signed, in the log, but not their role.
    wrong = office.office.case_until_decided(T1, case_id=uuid.UUID(int=8))[:3]
    from ledger.client import StreamWriter

    writer = StreamWriter(wrong[-1].stream, wrong[-1].seq, wrong[-1].hash)
    decided_by_reviewer = writer.sign("Decided", office.office.reviewer, T1, case[-1].body)
    office.add([*wrong, decided_by_reviewer])
    follower = FeedFollower(office.trust())
    with pytest.raises(FeedError) as caught:
        follower.accept(office.page(0), None)
    assert caught.value.code == "feed.rules"


def test_a_page_that_is_not_a_feed_page_is_malformed() -> None:
    for data in ({}, {"kind": "caseledger/feed/v1"}, [], "x", {"kind": "other"}):
        with pytest.raises(FeedError) as caught:
            FeedPage.from_json(data)
        assert caught.value.code == "feed.malformed"
    good = Office()
    good.add(good.office.directory_envelopes(T0))
    data = good.page(0).to_json()
    data["entries"][0]["envelope"] = "{not json"
    with pytest.raises(FeedError) as caught:
        FeedPage.from_json(data)
    assert caught.value.code == "feed.malformed"
