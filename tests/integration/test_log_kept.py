"""Checkpoints kept outside the database, on SQLite and PostgreSQL: the log keeps each one it
signs and refuses to sign (or to pass ``check_kept``) once the stored tree no longer extends
the newest kept one; the audit's recomputation names the tree it holds instead."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.checkpoint import verify_checkpoint
from ledger.note import verifier_key_string
from ledger.signing import PrivateKey
from ledger.store.anchor import CheckpointFolder
from ledger.store.log_audit import recompute_tree
from ledger.store.log_store import LogError, LogStore
from ledger.store.storage import Store

ORIGIN = "approval.example/log"
LOG_KEY = PrivateKey(hashlib.sha256(b"kept log key").digest())
VKEY = verifier_key_string(ORIGIN, LOG_KEY.public_key)
T = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


def entries(start: int, end: int, tag: bytes = b"") -> list[tuple[int, bytes]]:
    return [(i + 1, hashlib.sha256(tag + b"envelope %d" % i).digest()) for i in range(start, end)]


@pytest.fixture
def engine(ledger_store: Store) -> Iterator[Engine]:
    eng = ledger_store.engine()
    yield eng
    eng.dispose()


def _log(engine: Engine, folder: Path) -> LogStore:
    keeper = CheckpointFolder(folder, origin=ORIGIN, log_key=VKEY)
    return LogStore(engine, origin=ORIGIN, keeper=keeper)


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("log_leaves", "log_nodes", "log_checkpoints"):
            conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names


def test_each_checkpoint_is_kept_and_a_rebuilt_tree_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    log = _log(engine, tmp_path)
    log.append(entries(0, 10))
    first = log.sign_checkpoint(LOG_KEY, T)
    assert (tmp_path / "latest.note").read_text() == first.note
    log.append(entries(10, 13))
    second = log.sign_checkpoint(LOG_KEY, T)
    assert verify_checkpoint((tmp_path / "latest.note").read_text(), [VKEY]).size == 13
    assert (tmp_path / "10.note").read_text() == first.note
    assert log.check_kept() is not None and second.size == 13

    _empty(engine)  # the log rebuilt from other history, the checkpoints table emptied
    rebuilt = _log(engine, tmp_path)
    rebuilt.append(entries(0, 14, tag=b"rewritten "))
    with pytest.raises(LogError) as refused:
        rebuilt.sign_checkpoint(LOG_KEY, T)
    assert refused.value.code == "log.inconsistent"
    with pytest.raises(LogError):
        rebuilt.check_kept()
    assert rebuilt.latest_checkpoint() is None  # nothing was signed over it


def test_a_shorter_log_is_refused_and_a_longer_honest_one_signed(
    engine: Engine, tmp_path: Path
) -> None:
    log = _log(engine, tmp_path)
    log.append(entries(0, 9))
    log.sign_checkpoint(LOG_KEY, T)
    _empty(engine)
    shorter = _log(engine, tmp_path)
    shorter.append(entries(0, 7))
    with pytest.raises(LogError):
        shorter.sign_checkpoint(LOG_KEY, T)
    shorter.append(entries(7, 12))  # the same history, grown: consistent with what was kept
    assert shorter.sign_checkpoint(LOG_KEY, T).size == 12


def test_recomputing_the_tree_matches_the_stored_roots(engine: Engine, tmp_path: Path) -> None:
    log = _log(engine, tmp_path)
    log.append(entries(0, 4100))  # more than one batch of the recomputation
    tree = recompute_tree(log, [0, 1, 4096, 4097, 4100])
    assert tree.findings == []
    assert tree.nodes == 4100 - bin(4100).count("1")
    for size in (1, 4096, 4097, 4100):
        assert tree.roots[size] == log.root(size)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM log_nodes WHERE level = 12 AND idx = 0"))
    assert [f.code for f in recompute_tree(log).findings] == ["log.node_missing"]
