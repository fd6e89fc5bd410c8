"""ledger.store.log_store on a real SQLite file and on PostgreSQL (a fresh schema per test).

The PostgreSQL engine is the one the application uses (ledger.store.storage.Store.engine), which
sets the connection's ``search_path`` to the test's schema, so the log's tables and its
advisory lock key live in that schema.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.checkpoint import verify_checkpoint, verify_tlog_proof
from ledger.merkle import MemoryTree, TreeRangeError, verify_consistency, verify_inclusion
from ledger.note import SignerKey, verifier_key_string
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.store.application import CaseLedger
from ledger.store.log_store import LogConflict, LogError, LogStore, catch_up
from ledger.store.storage import Store

ORIGIN = "approval.example/log"
LOG_KEY = PrivateKey(hashlib.sha256(b"integration log key").digest())
VKEY = verifier_key_string(ORIGIN, LOG_KEY.public_key)
T = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def entry(i: int) -> tuple[int, bytes]:
    """The i-th envelope of a made-up ledger: positions with gaps, as on PostgreSQL."""
    return 3 * i + 1, hashlib.sha256(b"envelope %d" % i).digest()


def entries(start: int, end: int) -> list[tuple[int, bytes]]:
    return [entry(i) for i in range(start, end)]


@pytest.fixture
def engine(ledger_store: Store) -> Iterator[Engine]:
    eng = ledger_store.engine()
    yield eng
    eng.dispose()


@pytest.fixture
def log(engine: Engine) -> LogStore:
    return LogStore(engine, origin=ORIGIN)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(sa.table(table))
        return int(conn.execute(query).scalar_one())


def test_appends_in_batches_agree_with_the_in_memory_tree(log: LogStore, engine: Engine) -> None:
    rng = random.Random(7)
    n, done = 333, 0
    while done < n:
        step = rng.choice([1, 1, 2, 5, 17, 64])
        assert log.append(entries(done, min(n, done + step))) == min(step, n - done)
        done += step
    tree = MemoryTree.of(h for _, h in entries(0, n))
    assert (log.size(), log.last_position()) == (n, entry(n - 1)[0])
    for size in (1, 2, 3, 31, 32, 33, 200, n):
        assert log.root(size) == tree.root(size)
        for index in {0, size // 2, size - 1}:
            assert log.inclusion_proof(index, size) == tree.inclusion_proof(index, size)
        for old in {1, size // 3 or 1, size}:
            assert log.consistency_proof(old, size) == tree.consistency_proof(old, size)
    assert log.root() == tree.root()
    # Nodes are written once each as leaves complete them: n - popcount(n) rows, no more.
    assert _count(engine, "log_nodes") == n - n.bit_count()


def test_reads(log: LogStore) -> None:
    log.append(entries(0, 10))
    assert log.leaf_index(entry(4)[1]) == 4
    assert log.leaf_index(hashlib.sha256(b"never logged").digest()) is None
    assert log.leaf_hashes(2, 5) == [entry(i)[1] for i in range(2, 5)]
    assert log.leaf_hashes(10, 10) == []
    for start, end in [(0, 11), (5, 4), (-1, 3)]:
        with pytest.raises(TreeRangeError):
            log.leaf_hashes(start, end)
    with pytest.raises(TreeRangeError):
        log.inclusion_proof(3, 11)
    with pytest.raises(TreeRangeError):
        log.consistency_proof(0, 5)
    assert LogStore(log.engine, origin=ORIGIN).size() == 10  # tables already there: kept


def test_append_is_idempotent_and_skips_what_is_logged(log: LogStore) -> None:
    assert log.append(entries(0, 5)) == 5
    assert log.append(entries(0, 5)) == 0
    assert log.append(entries(3, 8)) == 3
    assert log.append([]) == 0
    assert log.size() == 8
    assert log.leaf_hashes(0, 8) == [h for _, h in entries(0, 8)]


def test_append_refuses_to_reorder_or_rewrite(log: LogStore) -> None:
    log.append([entry(0), entry(2)])
    with pytest.raises(LogError) as caught:
        log.append([entry(1)])  # below the last logged position, not logged
    assert caught.value.code == "log.order"
    with pytest.raises(LogError) as caught:
        log.append([entry(4), entry(3)])
    assert caught.value.code == "log.order"
    with pytest.raises(LogError) as caught:
        log.append([(100, b"short")])
    assert caught.value.code == "log.order"
    with pytest.raises(LogConflict):
        log.append([(entry(2)[0], entry(9)[1])])  # a logged position, another hash
    with pytest.raises(LogConflict):
        log.append([(1000, entry(0)[1])])  # a logged hash at a new position
    with pytest.raises(LogConflict):
        log.append([entry(5), (1000, entry(0)[1])])  # one bad entry refuses the whole call
    assert log.size() == 2


def test_sign_checkpoint_and_prove_against_it(log: LogStore) -> None:
    log.append(entries(0, 20))
    first = log.sign_checkpoint(LOG_KEY, T)
    assert (first.size, first.signed_at) == (20, T)
    assert verify_checkpoint(first.note, [VKEY], origin=ORIGIN).root == first.root == log.root()
    assert log.sign_checkpoint(LOG_KEY, T) == first  # nothing new: nothing signed
    log.append(entries(20, 45))
    second = log.sign_checkpoint(SignerKey(ORIGIN, 1, LOG_KEY), T)
    assert second.size == 45
    assert log.latest_checkpoint() == second and log.checkpoints() == [first, second]
    verify_consistency(20, 45, first.root, second.root, log.consistency_proof(20, 45))
    leaf = MemoryTree.of([entry(7)[1]]).levels[0][0]
    verify_inclusion(7, 45, leaf, log.inclusion_proof(7, 45), second.root)
    proof_text = log.tlog_proof(entry(7)[1], first)
    assert verify_tlog_proof(proof_text, entry(7)[1], [VKEY])[1].size == 20
    with pytest.raises(TreeRangeError):
        log.tlog_proof(entry(30)[1], first)  # logged after that checkpoint


def test_signing_time_must_be_aware(log: LogStore) -> None:
    with pytest.raises(LogError) as caught:
        log.sign_checkpoint(LOG_KEY, datetime(2026, 11, 24, 9, 0, 0))
    assert caught.value.code == "log.time"
    assert log.latest_checkpoint() is None


def test_empty_log_checkpoint(log: LogStore) -> None:
    assert log.latest_checkpoint() is None and log.checkpoints() == []
    empty = log.sign_checkpoint(LOG_KEY, T)
    assert empty.size == 0
    assert verify_checkpoint(empty.note, [VKEY]).root == hashlib.sha256(b"").digest()
    log.append(entries(0, 3))
    assert log.sign_checkpoint(LOG_KEY, T).size == 3


def test_refuses_to_sign_a_tree_changed_under_a_checkpoint(log: LogStore, engine: Engine) -> None:
    log.append(entries(0, 12))
    log.sign_checkpoint(LOG_KEY, T)
    with engine.begin() as conn:  # someone rewrites the stored subtree over leaves 8..11
        conn.execute(
            sa.text("UPDATE log_nodes SET hash = :h WHERE level = 2 AND idx = 2"), {"h": bytes(32)}
        )
    log.append(entries(12, 20))
    with pytest.raises(LogError) as caught:
        log.sign_checkpoint(LOG_KEY, T)
    assert caught.value.code == "log.inconsistent"
    assert log.latest_checkpoint() is not None and log.latest_checkpoint().size == 12  # type: ignore[union-attr]


def test_refuses_to_sign_a_swapped_leaf_or_a_shrunk_log(log: LogStore, engine: Engine) -> None:
    log.append(entries(0, 5))
    log.sign_checkpoint(LOG_KEY, T)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE log_leaves SET envelope_hash = :h WHERE idx = 4"), {"h": bytes(32)}
        )
    with pytest.raises(LogError) as caught:
        log.sign_checkpoint(LOG_KEY, T)  # same size, other root
    assert caught.value.code == "log.inconsistent"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM log_leaves WHERE idx = 4"))
    with pytest.raises(LogError) as caught:
        log.sign_checkpoint(LOG_KEY, T)
    assert caught.value.code == "log.inconsistent"


def test_catch_up_follows_a_real_ledger(
    ledger_store: Store, log: LogStore, office: SampleOffice, make_ledger: object
) -> None:
    ledger: CaseLedger = make_ledger(ledger_store)  # type: ignore[operator]
    directory = office.directory_envelopes(T)
    for env in directory[:3]:
        ledger.append(env)
    assert catch_up(ledger, log, batch=2) == 3
    for env in directory[3:]:
        ledger.append(env)
    assert catch_up(ledger, log, batch=2) == len(directory) - 3
    assert catch_up(ledger, log) == 0
    assert [log.leaf_index(bytes.fromhex(e.hash)) for e in directory] == list(range(len(directory)))
    want = ledger.notifications_after(0, 10_000)
    assert log.last_position() == want[-1][0]
    assert log.root() == MemoryTree.of(h for _, h in want).root()


# --- several processes ----------------------------------------------------------------------

WRITER = """
import hashlib, random, sys
from ledger.store.log_store import LogStore
from ledger.store.storage import open_store
url, n, seed, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def entry(i):
    return 3 * i + 1, hashlib.sha256(b"envelope %d" % i).digest()
log = LogStore(open_store(url).engine(), origin="approval.example/log")
rng = random.Random(seed)
print("ready", flush=True)
while log.size() < n:
    start = max(0, log.size() - rng.randint(0, 3))  # overlap with what the other wrote
    log.append([entry(i) for i in range(start, min(n, start + rng.randint(1, batch)))])
"""


def _writer(store: Store, n: int, seed: int, batch: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, store.url, str(n), str(seed), str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _assert_whole(log: LogStore, n: int) -> None:
    assert log.size() == n
    assert log.leaf_hashes(0, n) == [h for _, h in entries(0, n)]  # no gap, no duplicate
    assert log.root() == MemoryTree.of(h for _, h in entries(0, n)).root()


def test_two_processes_appending_log_each_leaf_once(ledger_store: Store, log: LogStore) -> None:
    writers = [_writer(ledger_store, 400, seed, 9) for seed in (1, 2)]
    for w in writers:
        assert w.wait(timeout=120) == 0
    _assert_whole(log, 400)


def test_writer_killed_mid_append_recovers_without_gap_or_duplicate(
    ledger_store: Store, log: LogStore, engine: Engine
) -> None:
    writer = _writer(ledger_store, 1_000_000, 3, 400)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while log.size() < 800 and time.monotonic() < deadline:  # let it commit a few batches
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    killed_at = log.size()
    assert 800 <= killed_at < 1_000_000
    assert log.leaf_hashes(0, killed_at) == [h for _, h in entries(0, killed_at)]
    n = killed_at + 250
    assert log.append(entries(0, n)) == n - killed_at  # the restart catches up
    _assert_whole(log, n)
    assert _count(engine, "log_nodes") == n - n.bit_count()
