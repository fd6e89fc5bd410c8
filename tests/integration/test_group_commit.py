"""Group commit: envelopes queued together are checked one by one and written, with their log
leaves, in one transaction; a refused one never holds back the others; a failed transaction
is written again envelope by envelope, leaving nothing half-written.

The writer's turn is held while the threads queue, so each test knows exactly which batch it
makes; transactions are counted on the ledger's own engine.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ledger.client import StreamWriter
from ledger.envelope import Envelope
from ledger.errors import ClockSkew, RulesRefused, StaleVersion, StoreBusy
from ledger.personal import Opening, commit
from ledger.sample import SampleOffice, applied_body
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger
from ledger.store.followers import Follower
from ledger.store.log_store import LEAVES, LogError


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "caseledger.db")
    return str(request.getfixturevalue("pg_url"))


def office_ledger(db: str, office: SampleOffice) -> CaseLedger:
    """The office's ledger with its log on ``db`` (a second one stands for another server
    process)."""
    return open_ledger(
        db,
        org=office.org,
        root_keys={office.root_key.key_id: office.root_key.public_key},
        log_origin="test.example/log",
    )


@pytest.fixture
def ledger(db: str, office: SampleOffice, t0: Any) -> Iterator[CaseLedger]:
    opened = office_ledger(db, office)
    for envelope in office.directory_envelopes(t0):
        opened.append(envelope, openings=office.openings.values())
    yield opened
    opened.close()


class Commits:
    """Counts the transactions committed on an engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "commit", self._seen)

    def _seen(self, _conn: Any) -> None:
        self.count += 1


def together(ledger: CaseLedger, envelopes: list[Envelope], **kwargs: Any) -> list[Any]:
    """Append ``envelopes`` from one thread each while the writer's turn is held, so that
    all of them are queued before one batch takes them; return each result or error."""
    answers: list[Any] = [None] * len(envelopes)

    def go(i: int, envelope: Envelope) -> None:
        try:
            answers[i] = ledger.append(envelope, **kwargs)
        except Exception as exc:
            answers[i] = exc

    turn = ledger._writer.group._turn  # the writer's turn (see ledger.store.commit.GroupCommit)
    threads = [threading.Thread(target=go, args=(i, e)) for i, e in enumerate(envelopes)]
    with turn:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(ledger._writer.group._queue) < len(envelopes) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(ledger._writer.group._queue) == len(envelopes), answers  # none refused before
    for thread in threads:
        thread.join(timeout=30)
    return answers


def leaves_of(ledger: CaseLedger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(LEAVES.c.envelope_hash, LEAVES.c.idx)).all()
    return {bytes(h).hex(): int(i) for h, i in rows}


def test_appends_to_many_cases_land_in_one_transaction_with_their_leaves(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    firsts = [office.case_until_decided(t1 + timedelta(minutes=i))[0] for i in range(12)]
    commits = Commits(ledger.engine)
    results = together(ledger, firsts)
    assert commits.count == 1
    leaves = leaves_of(ledger)
    assert [r.leaf_index for r in results] == [leaves[e.hash] for e in firsts]
    assert len({r.leaf_index for r in results}) == len(firsts)
    assert sorted(leaves.values()) == list(range(len(leaves)))
    assert {r.tree_size for r in results} == {len(leaves)}
    assert all(not r.replayed for r in results)


def test_one_case_in_order_in_one_batch(ledger: CaseLedger, office: SampleOffice, t1: Any) -> None:
    case = office.case_until_decided(t1)
    commits = Commits(ledger.engine)
    # Queued in order: each step is checked against the state the one before it folded.
    results = together_in_order(ledger, case)
    assert commits.count == 1
    assert [r.seq for r in results] == [1, 2, 3, 4]
    assert ledger.case_state(case[0].stream).seq == 4
    assert ledger.audit().ok


def together_in_order(ledger: CaseLedger, envelopes: list[Envelope]) -> list[Any]:
    answers: list[Any] = []
    turn = ledger._writer.group._turn
    threads = []
    with turn:
        for envelope in envelopes:
            thread = threading.Thread(target=lambda e=envelope: answers.append(ledger.append(e)))
            thread.start()
            threads.append(thread)
            deadline = time.monotonic() + 10
            while len(ledger._writer.group._queue) < len(threads) and time.monotonic() < deadline:
                time.sleep(0.005)
    for thread in threads:
        thread.join(timeout=30)
    return sorted(answers, key=lambda r: r.seq)


def test_a_refused_envelope_does_not_hold_back_its_batch(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    good = [office.case_until_decided(t1 + timedelta(minutes=i))[0] for i in range(3)]
    other = office.case_until_decided(t1)
    ledger.append(other[0])
    # A second step on a taken position, and a decision with no acceptance or review.
    stale = StreamWriter(other[0].stream).sign(
        "Applied", office.handler, t1 + timedelta(seconds=1), other[0].body
    )
    skipping = StreamWriter(other[0].stream, 1, other[0].hash).sign(
        "Decided", office.approver, t1, other[3].body
    )
    commits = Commits(ledger.engine)
    answers = together(ledger, [good[0], stale, good[1], skipping, good[2]])
    assert commits.count == 1
    assert isinstance(answers[1], StaleVersion)
    assert isinstance(answers[3], RulesRefused)
    leaves = leaves_of(ledger)
    for i in (0, 2, 4):
        assert answers[i].leaf_index == leaves[answers[i].hash]
    assert stale.hash not in leaves and skipping.hash not in leaves


def test_the_same_envelope_twice_in_a_batch_is_stored_once(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    first = office.case_until_decided(t1)[0]
    answers = together(ledger, [first, first])
    assert sorted(a.replayed for a in answers) == [False, True]
    assert answers[0].leaf_index == answers[1].leaf_index is not None
    assert len(list(ledger.events(first.stream))) == 1


def test_a_failed_transaction_is_written_again_envelope_by_envelope(
    ledger: CaseLedger, db: str, office: SampleOffice, t1: Any
) -> None:
    cases = [office.case_until_decided(t1 + timedelta(minutes=i)) for i in range(3)]
    # Another ledger on the same database writes case 1 first: this ledger's batch, which
    # also starts case 1 (another envelope at its seq 1), fails on the store's key.
    rival = open_ledger(
        db,
        org=office.org,
        root_keys=ledger.root_keys,
        log_origin="test.example/log",
    )
    taken = StreamWriter(cases[1][0].stream).sign(
        "Applied", office.handler, t1 + timedelta(seconds=1), cases[1][0].body
    )
    rival.append(taken)
    rival.close()
    answers = together(ledger, [cases[0][0], cases[1][0], cases[2][0]])
    assert isinstance(answers[1], StaleVersion)
    leaves = leaves_of(ledger)
    assert answers[0].leaf_index == leaves[cases[0][0].hash]
    assert answers[2].leaf_index == leaves[cases[2][0].hash]
    assert sorted(leaves.values()) == list(range(len(leaves)))


def test_envelopes_whose_leaves_cannot_be_written_are_not_stored(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    cases = [office.case_until_decided(t1 + timedelta(minutes=i))[0] for i in range(2)]
    # Someone with database access added a leaf far ahead of the store: the log refuses to
    # grow behind it, so no envelope may be stored either.
    with ledger.engine.begin() as conn:
        size = conn.execute(sa.select(sa.func.count()).select_from(LEAVES)).scalar_one()
        last = conn.execute(sa.select(sa.func.max(LEAVES.c.position))).scalar_one()
        conn.execute(
            sa.insert(LEAVES),
            {"idx": size, "position": last + 1000, "envelope_hash": bytes(32)},
        )
    answers = together(ledger, cases)
    assert all(isinstance(a, LogError) and a.code == "log.order" for a in answers), answers
    assert [list(ledger.events(c.stream)) for c in cases] == [[], []]


def test_a_stored_envelope_is_replayed_whatever_the_clock(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    first = office.case_until_decided(t1)[0]
    ledger.append(first, now=first.at)
    again = ledger.append(first, now=first.at + timedelta(days=3))
    assert again.replayed and again.leaf_index is not None
    fresh = office.case_until_decided(t1)[0]
    with pytest.raises(ClockSkew):
        ledger.append(fresh, now=fresh.at + timedelta(days=3))


def person_applied(office: SampleOffice, writer: StreamWriter, at: Any, opening: Opening) -> Any:
    body = applied_body("张三")
    body["applicant"] = {"kind": "person", "name": "张三", "id_commitment": opening.commitment}
    return writer.sign("Applied", office.handler, at, body)


def test_a_refused_step_takes_no_opening_another_step_of_its_batch_needs(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    opening = commit("370102199101010011")
    taken = office.case_until_decided(t1)[0]
    ledger.append(taken)
    # The same person applies twice: once on a case id already taken (refused), once anew.
    refused = person_applied(office, StreamWriter(taken.stream), t1, opening)
    admitted = person_applied(office, StreamWriter(f"case:{uuid.uuid4()}"), t1, opening)
    answers = together(ledger, [refused, admitted], openings=[opening])
    assert isinstance(answers[0], StaleVersion)
    assert not isinstance(answers[1], Exception)
    assert ledger.personal is not None
    kept = ledger.personal.read(opening.commitment, reader="test", purpose="test", now=t1)
    assert kept == opening


def test_a_handler_cannot_record_their_own_application(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    own = commit("370102198502020027")  # 王立's own number, under a new salt
    envelope = person_applied(office, StreamWriter(f"case:{uuid.uuid4()}"), t1, own)
    with pytest.raises(RulesRefused) as refused:
        ledger.append(envelope, openings=[own])
    assert "duty.own_case" in {v.code for v in refused.value.violations}
    assert ledger.personal is not None
    assert ledger.personal.read(own.commitment, reader="test", purpose="test", now=t1) is None


# From an event loop ---------------------------------------------------------------------------


def test_appends_from_an_event_loop_are_written_together_by_the_writer_thread(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    cases = [office.case_until_decided(t1 + timedelta(minutes=i)) for i in range(8)]
    commits = Commits(ledger.engine)
    loop_thread: list[int] = []

    async def one_case(case: list[Envelope]) -> list[Any]:
        loop_thread.append(threading.get_ident())
        return [await ledger.append_async(e, now=e.at) for e in case]

    async def all_cases() -> list[list[Any]]:
        # The turn is held until every case's first step is queued: one batch takes them.
        with ledger._writer.group._turn:
            tasks = [asyncio.ensure_future(one_case(c)) for c in cases]
            while len(ledger._writer.group._queue) < len(cases):
                await asyncio.sleep(0.005)
        return list(await asyncio.gather(*tasks))

    results = asyncio.run(all_cases())
    assert [[r.seq for r in rs] for rs in results] == [[1, 2, 3, 4]] * len(cases)
    assert len(set(loop_thread)) == 1
    # The firsts went in one transaction (one tree size for all), and no step took more.
    assert len({rs[0].tree_size for rs in results}) == 1
    assert commits.count <= 1 + 3 * len(cases)
    leaves = leaves_of(ledger)
    assert all(leaves[r.hash] == r.leaf_index for rs in results for r in rs)
    assert ledger.audit().ok


def test_an_event_loop_caller_gets_its_own_refusal_and_a_replay(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    case = office.case_until_decided(t1)

    async def run() -> tuple[Any, Any, BaseException]:
        first = await ledger.append_async(case[0], now=case[0].at)
        again = await ledger.append_async(case[0], now=case[0].at + timedelta(days=2))
        try:
            await ledger.append_async(case[2], now=case[2].at)  # seq 3 after seq 1
        except StaleVersion as exc:
            return first, again, exc
        raise AssertionError("a step two ahead of the head was stored")

    first, again, refused = asyncio.run(run())
    assert not first.replayed and again.replayed and again.leaf_index == first.leaf_index
    assert isinstance(refused, StaleVersion)
    assert ledger.head(case[0].stream)[0] == 1


def test_a_closed_ledger_takes_no_more_appends_from_an_event_loop(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    case = office.case_until_decided(t1)
    asyncio.run(ledger.append_async(case[0], now=case[0].at))
    ledger._writer.group.close()
    with pytest.raises(StoreBusy):
        asyncio.run(ledger.append_async(case[1], now=case[1].at))
    assert ledger.head(case[0].stream)[0] == 1


def test_followers_read_what_another_ledger_wrote_between_this_ones_batches(
    ledger: CaseLedger, db: str, office: SampleOffice, t1: Any
) -> None:
    ours, theirs, ours_again = (
        office.case_until_decided(t1 + timedelta(minutes=i)) for i in range(3)
    )
    other = office_ledger(db, office)
    try:
        start = ledger.last_position()
        ledger.append(ours[0])
        other.append(theirs[0])
        ledger.append(ours_again[0])
        stored = [e.hash for _, e in ledger.envelopes_after(start, 100)]
        assert stored == [ours[0].hash, theirs[0].hash, ours_again[0].hash]
        # What this ledger wrote last is served from memory: the same as the store holds.
        last = ledger.last_position()
        ledger.append(ours[1])
        assert [e.hash for _, e in ledger.envelopes_after(last, 100)] == [ours[1].hash]
        other.append(theirs[1])
        assert [e.hash for _, e in ledger.envelopes_after(last, 100)] == [
            ours[1].hash,
            theirs[1].hash,
        ]
    finally:
        other.close()


def test_after_another_ledger_wrote_only_its_streams_are_read_again(
    ledger: CaseLedger, db: str, office: SampleOffice, t1: Any
) -> None:
    shared, untouched = (office.case_until_decided(t1 + timedelta(minutes=i)) for i in range(2))
    other = office_ledger(db, office)
    try:
        for envelope in (shared[0], shared[1], untouched[0]):
            ledger.append(envelope)
        other.append(shared[2])  # this ledger's fold of the shared case is now behind
        result = ledger.append(shared[3])
        assert (result.seq, result.replayed) == (4, False)
        assert ledger.case_state(shared[0].stream).seq == 4
        assert untouched[0].stream in ledger._folds.cases  # kept: nobody else wrote it
        assert ledger.audit().ok
    finally:
        other.close()


def test_a_reader_reads_the_store_while_the_writer_holds_the_ledger(
    ledger: CaseLedger, db: str, office: SampleOffice, t1: Any
) -> None:
    case = office.case_until_decided(t1)
    other = office_ledger(db, office)
    try:
        ledger.append(case[0])
        other.append(case[1])  # stored by another process: this ledger's fold is behind
        store_read = threading.Event()
        stored_after = ledger._stored_after

        def reading(stream: str, seq: int) -> Any:
            found = list(stored_after(stream, seq))
            if stream == case[0].stream:
                store_read.set()
            return found

        ledger._stored_after = reading  # type: ignore[method-assign]
        read: list[int] = []

        def reader() -> None:
            read.append(ledger.case_state(case[0].stream).seq)

        # The lock is the writer's for a whole batch; a reader takes it only around its folds.
        with ledger._lock:
            thread = threading.Thread(target=reader)
            thread.start()
            assert store_read.wait(10)  # its query ran while the writer held the ledger
            assert read == []  # and it waits only to put its fold back
        thread.join(10)
        assert read == [2]
        assert ledger._folds.cases[case[0].stream].seq == 2
        assert ledger.append(case[2]).seq == 3
    finally:
        other.close()


def test_a_reader_s_late_envelopes_apply_once_and_a_dropped_fold_is_read_again(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    case = office.case_until_decided(t1)
    for envelope in case[:3]:
        ledger.append(envelope)
    stream = case[0].stream
    stored = list(ledger.events(stream))
    folds = ledger._folds
    # Read after seq 1 while the writer went on to seq 3: only what the fold lacks applies.
    assert folds.caught_up_case(stream, 1, stored[1:2]).seq == 3
    # Dropped meanwhile (a failed batch forgets its folds): read again, not taken for empty.
    folds.forget(stream)
    assert folds.caught_up_case(stream, 3, []).seq == 3
    folds.forget(stream)
    assert folds.caught_up_case(stream, 2, stored[2:]).seq == 3
    # A case that was not kept starts from nothing.
    folds.forget(stream)
    assert folds.caught_up_case(stream, 0, stored).seq == 3
    directory = list(ledger.events(ledger.directory_stream))
    folds.forget_all()
    assert folds.caught_up_directory(len(directory) - 1, directory[-1:]).seq == len(directory)


def test_a_follower_hands_each_handler_the_envelope_it_follows(
    ledger: CaseLedger, office: SampleOffice, t1: Any
) -> None:
    case = office.case_until_decided(t1)
    handled: list[tuple[str, str]] = []
    follower = Follower(
        ledger,
        lambda _ledger, result: handled.append((result.envelope.type, result.envelope.hash)),
        name="steps",
    ).attach()
    for envelope in case:
        ledger.append(envelope)
    assert handled == [(envelope.type, envelope.hash) for envelope in case]
    assert follower.position == ledger.last_position()
    assert follower.wait_for(ledger.last_position(), timeout=0)
