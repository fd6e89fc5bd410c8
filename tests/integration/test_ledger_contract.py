"""The ledger's storage contract, written once and run on every store (SQLite file, PostgreSQL).

What a store must do for caseledger: replay is idempotent, a lost race is a StaleVersion naming
the winner's head, a refusal writes nothing, stored events cannot be changed or removed, and
notifications come in commit order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from ledger.client import Signer, StreamWriter
from ledger.envelope import Envelope
from ledger.errors import ClockSkew, RulesRefused, StaleVersion, StreamNotFound
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.store.application import CaseLedger, stream_uuid
from ledger.store.storage import Store

T0 = datetime.fromisoformat("2026-11-23T01:00:00+00:00")
T1 = datetime.fromisoformat("2026-11-24T01:00:00+00:00")

MakeLedger = Callable[[Store], CaseLedger]


def accepted_after(applied: Envelope, signer: Signer, minute: int) -> Envelope:
    """An Accepted step following ``applied``; ``minute`` makes each one distinct."""
    return StreamWriter(applied.stream, applied.seq, applied.hash).sign(
        "Accepted", signer, applied.at + timedelta(minutes=minute), {"opinion": f"受理 {minute}"}
    )


class LedgerStoreContract:
    """Subclasses provide ``store``: a fresh, empty store of one kind."""

    @pytest.fixture
    def store(self) -> Store:  # pragma: no cover - always overridden
        raise NotImplementedError

    @pytest.fixture
    def ledger(self, store: Store, make_ledger: MakeLedger, office: SampleOffice) -> CaseLedger:
        ledger = make_ledger(store)
        for env in office.directory_envelopes(T0):
            ledger.append(env)
        return ledger

    @pytest.fixture
    def case(self, office: SampleOffice) -> list[Envelope]:
        return office.case_until_decided(T1)

    # Replay --------------------------------------------------------------------------------

    def test_append_then_replay_is_idempotent(
        self, ledger: CaseLedger, case: list[Envelope]
    ) -> None:
        first = [ledger.append(env) for env in case]
        assert [r.seq for r in first] == [1, 2, 3, 4]
        assert all(not r.replayed and r.position is not None for r in first)
        before = list(ledger.all_notifications())
        again = [ledger.append(env) for env in case]
        assert all(r.replayed for r in again)
        assert [(r.stream, r.seq, r.hash) for r in again] == [
            (r.stream, r.seq, r.hash) for r in first
        ]
        assert [(p, e.hash) for p, _, e in ledger.all_notifications()] == [
            (p, e.hash) for p, _, e in before
        ]

    def test_replay_through_another_instance(
        self, ledger: CaseLedger, case: list[Envelope], store: Store, make_ledger: MakeLedger
    ) -> None:
        for env in case:
            ledger.append(env)
        other = make_ledger(store)
        assert all(other.append(env).replayed for env in case)
        assert other.head(case[0].stream) == (4, case[-1].hash)

    def test_reads(self, ledger: CaseLedger, case: list[Envelope], office: SampleOffice) -> None:
        stream = case[0].stream
        assert ledger.head(stream) == (0, None)
        with pytest.raises(StreamNotFound) as caught:
            ledger.case_state(stream)
        assert caught.value.code == "stream.not_found"
        for env in case:
            ledger.append(env)
        assert [e.raw for e in ledger.events(stream)] == [e.raw for e in case]
        assert [e.seq for e in ledger.events(stream, gt=1, lte=3)] == [2, 3]
        assert ledger.case_state(stream).status == "decided"
        assert ledger.directory().seq == 16
        assert ledger.head(ledger.directory_stream)[0] == 16

    # Races ---------------------------------------------------------------------------------

    def test_a_second_writer_at_the_same_seq_gets_stale_version(
        self, ledger: CaseLedger, store: Store, make_ledger: MakeLedger, office: SampleOffice
    ) -> None:
        other = make_ledger(store)
        applied = office.case_until_decided(T1)[0]
        ledger.append(applied)
        assert other.case_state(applied.stream).seq == 1  # both have folded seq 1
        mine = accepted_after(applied, office.handler, 1)
        theirs = accepted_after(applied, office.handler, 2)
        won = ledger.append(mine)
        with pytest.raises(StaleVersion) as caught:
            other.append(theirs)
        assert caught.value.code == "chain.stale"
        assert (caught.value.stream, caught.value.head_seq, caught.value.head_hash) == (
            applied.stream,
            2,
            won.hash,
        )
        # The loser signs against the new head and goes on.
        follow = StreamWriter(applied.stream, 2, won.hash).sign(
            "Reviewed",
            office.reviewer,
            T1 + timedelta(minutes=9),
            {"level": 1, "opinion": "agree", "comments": "同意"},
        )
        assert other.append(follow).seq == 3

    def test_concurrent_writers_exactly_one_wins(
        self, ledger: CaseLedger, store: Store, make_ledger: MakeLedger, office: SampleOffice
    ) -> None:
        contenders = [make_ledger(store) for _ in range(4)]
        for round_ in range(3):
            applied = office.case_until_decided(T1 + timedelta(days=round_))[0]
            ledger.append(applied)
            for c in contenders:
                c.case_state(applied.stream)  # every writer has folded the same head
            envelopes = [accepted_after(applied, office.handler, i) for i in range(len(contenders))]
            outcomes = race(contenders, envelopes)
            winners = [o for o in outcomes if not isinstance(o, StaleVersion)]
            losers = [o for o in outcomes if isinstance(o, StaleVersion)]
            assert len(winners) == 1, outcomes
            assert len(losers) == len(contenders) - 1, outcomes
            head = ledger.head(applied.stream)
            assert head == (2, winners[0].hash)
            assert all((s.head_seq, s.head_hash) == head for s in losers)

    # Refusals ------------------------------------------------------------------------------

    def test_a_refused_step_writes_nothing(
        self, ledger: CaseLedger, case: list[Envelope], office: SampleOffice
    ) -> None:
        ledger.append(case[0])
        before = list(ledger.all_notifications())
        writer = StreamWriter(case[0].stream, 1, case[0].hash)
        forged = writer.sign(
            "Accepted",
            Signer("staff:wang.li", "handler", PrivateKey.generate()),
            T1,
            {"opinion": "x"},
        )
        writer = StreamWriter(case[0].stream, 1, case[0].hash)
        out_of_role = writer.sign(
            "Accepted", office.reviewer.as_role("handler"), T1, {"opinion": "x"}
        )
        for env, code in ((forged, "sig.unknown_key"), (out_of_role, "role.missing")):
            with pytest.raises(RulesRefused) as caught:
                ledger.append(env)
            assert code in {v.code for v in caught.value.violations}  # type: ignore[attr-defined]
        with pytest.raises(ClockSkew):
            ledger.append(case[1], now=case[1].at + timedelta(minutes=6))
        assert list(ledger.all_notifications()) == before
        assert ledger.head(case[0].stream) == (1, case[0].hash)
        assert ledger.case_state(case[0].stream).status == "applied"
        # The refused steps left no trace in the cache either: the genuine one goes in.
        assert ledger.append(case[1], now=case[1].at + timedelta(minutes=4)).seq == 2

    def test_a_step_ahead_of_the_head_is_stale(
        self, ledger: CaseLedger, case: list[Envelope]
    ) -> None:
        ledger.append(case[0])
        with pytest.raises(StaleVersion) as caught:
            ledger.append(case[2])
        assert (caught.value.head_seq, caught.value.head_hash) == (1, case[0].hash)
        assert ledger.head(case[0].stream) == (1, case[0].hash)

    # Append-only ---------------------------------------------------------------------------

    def test_stored_events_cannot_be_updated_or_deleted(
        self, ledger: CaseLedger, case: list[Envelope], store: Store
    ) -> None:
        for env in case:
            ledger.append(env)
        key = stream_key(store, case[0].stream)
        table = store.events_table
        engine = store.engine()
        try:
            # The table name is our own Store's, never input.
            for statement in (
                f"UPDATE {table} SET state = state WHERE originator_id = :id",  # noqa: S608
                f"DELETE FROM {table} WHERE originator_id = :id AND originator_version = 4",  # noqa: S608
                f"DELETE FROM {table}",  # noqa: S608
            ):
                with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                    conn.execute(sa.text(statement), {"id": key})
        finally:
            engine.dispose()
        assert [e.hash for e in ledger.events(case[0].stream)] == [e.hash for e in case]
        assert ledger.audit().ok

    # Order ---------------------------------------------------------------------------------

    def test_notifications_come_in_commit_order(
        self, ledger: CaseLedger, office: SampleOffice
    ) -> None:
        a = office.case_until_decided(T1)
        b = office.case_until_decided(T1 + timedelta(minutes=1))
        appended = [env for pair in zip(a, b, strict=True) for env in pair]
        positions = [ledger.append(env).position for env in appended]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        rows = list(ledger.all_notifications(batch=3))
        assert [env.hash for _, _, env in rows][16:] == [env.hash for env in appended]
        assert [p for p, _, _ in rows] == sorted(p for p, _, _ in rows)
        start = rows[15][0]
        after = ledger.notifications_after(start, limit=5)
        assert [h.hex() for _, h in after] == [env.hash for env in appended[:5]]
        assert [p for p, _ in after] == positions[:5]


class TestSQLiteLedgerStore(LedgerStoreContract):
    @pytest.fixture
    def store(self, sqlite_store: Store) -> Store:
        return sqlite_store


@pytest.mark.postgres
class TestPostgresLedgerStore(LedgerStoreContract):
    @pytest.fixture
    def store(self, pg_store: Store) -> Store:
        return pg_store

    def test_stored_events_cannot_be_truncated(self, ledger: CaseLedger, store: Store) -> None:
        engine = store.engine()
        try:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {store.events_table}"))
        finally:
            engine.dispose()
        assert ledger.head(ledger.directory_stream)[0] == 16


def stream_key(store: Store, stream: str) -> str:
    """How the store files a stream's originator id (hex on SQLite, uuid text on PostgreSQL)."""
    key = stream_uuid(stream)
    return key.hex if store.kind == "sqlite" else str(key)


def race(ledgers: list[CaseLedger], envelopes: list[Envelope]) -> list[Any]:
    """Append envelopes[i] through ledgers[i], all released at once; results or errors."""
    barrier = threading.Barrier(len(ledgers))
    outcomes: list[Any] = [None] * len(ledgers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = ledgers[i].append(envelopes[i])
        except StaleVersion as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ledgers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_revocations_in_the_same_second_leave_the_audit_clean(
    sqlite_ledger: CaseLedger, office: SampleOffice
) -> None:
    directory = office.directory_envelopes(T0)
    case = office.case_until_decided(T1)
    for env in directory + case[:3]:
        sqlite_ledger.append(env)
    writer = StreamWriter(directory[-1].stream, directory[-1].seq, directory[-1].hash)
    reviewed_at = case[2].at
    sqlite_ledger.append(
        writer.sign("RoleRevoked", office.admin, reviewed_at, {"grant": "g-li.na", "reason": "x"})
    )
    sqlite_ledger.append(
        writer.sign(
            "KeyRevoked",
            office.admin,
            reviewed_at,
            {"key_id": office.reviewer.key.key_id, "reason": "x"},
        )
    )
    assert sqlite_ledger.audit().findings == ()
