"""Shared fixtures: fixed UTC times, the sample office, and real ledgers on SQLite and PostgreSQL.

PostgreSQL fixtures give each test its own schema in the ``test`` database, created before the
test and dropped (CASCADE) after it, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger
from ledger.store.storage import Store, open_store

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    """A bare ``faketime -f '@…' pytest`` fakes the monotonic clock too, so a thread waiting
    with a timeout never wakes (and libfaketime 0.9.10 breaks ``time.sleep``): the run starts
    again as ``./dev test-clock`` runs it, the wall clock moved alone and tests/clock_shift
    loaded in every process."""
    if not os.environ.get("FAKETIME") or os.environ.get("DONT_FAKE_MONOTONIC"):
        return
    shift = str(Path(__file__).resolve().parent / "clock_shift")
    path = os.pathsep.join(p for p in (shift, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, DONT_FAKE_MONOTONIC="1", PYTHONPATH=path)
    # The output is captured into files by now; the run started again writes to the terminal.
    config.pluginmanager.getplugin("capturemanager").stop_global_capturing()
    os.execve(sys.executable, sys.orig_argv, env)  # noqa: S606 - the same command, again


# Fixed times: directory set up on the morning of T0, cases from T1 on.
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def receipts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client keeps receipts of admission in the test's own folder, never the checkout."""
    monkeypatch.setenv("CASELEDGER_RECEIPTS", str(tmp_path / "receipts"))


@pytest.fixture(autouse=True)
def english_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages in English, whatever the machine's locale: most tests match the English texts
    of the command line and the verifier (Chinese unless the locale asks for English; the
    tests of the Chinese texts set LANG themselves, see tests/cli/test_cli_chinese.py)."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def t1() -> datetime:
    return T1


@pytest.fixture
def office() -> SampleOffice:
    return SampleOffice()


def new_ledger(store: Store, office: SampleOffice) -> CaseLedger:
    """A CaseLedger for ``office`` on ``store`` (the directory is not yet written)."""
    return open_ledger(
        store.url, org=office.org, root_keys={office.root_key.key_id: office.root_key.public_key}
    )


@pytest.fixture
def make_ledger(office: SampleOffice) -> Iterator[Callable[[Store], CaseLedger]]:
    """Open more CaseLedger instances for ``office`` (closed after the test)."""
    opened: list[CaseLedger] = []

    def make(store: Store) -> CaseLedger:
        opened.append(new_ledger(store, office))
        return opened[-1]

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty schema in the PostgreSQL test database, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_DSN}?schema={schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "caseledger.db")


@pytest.fixture
def pg_store(pg_url: str) -> Store:
    return open_store(pg_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_store(request: pytest.FixtureRequest) -> Store:
    """A fresh store, once on a SQLite file and once on a PostgreSQL schema."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    store: Store = request.getfixturevalue(name)
    return store


@pytest.fixture
def sqlite_ledger(sqlite_store: Store, office: SampleOffice) -> Iterator[CaseLedger]:
    ledger = new_ledger(sqlite_store, office)
    yield ledger
    ledger.close()


@pytest.fixture
def pg_ledger(pg_store: Store, office: SampleOffice) -> Iterator[CaseLedger]:
    ledger = new_ledger(pg_store, office)
    yield ledger
    ledger.close()


@pytest.fixture
def any_ledger(ledger_store: Store, office: SampleOffice) -> Iterator[CaseLedger]:
    """A fresh ledger on each backend in turn."""
    ledger = new_ledger(ledger_store, office)
    yield ledger
    ledger.close()


_IDENTITY_HITS = "identity_hits"
_hits_from_workers: dict[str, list[str]] = {}


def _identity_numbers_left(session: pytest.Session) -> dict[str, list[str]]:
    from personal_scan import id_numbers_in_tree

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or getattr(factory, "_basetemp", None) is None:
        return {}
    root = factory.getbasetemp()
    return {str(root / name): sorted(numbers) for name, numbers in id_numbers_in_tree(root).items()}


def pytest_testnodedown(node: object, error: object) -> None:
    """A worker's own scan, handed to the run that reports."""
    output = getattr(node, "workeroutput", None) or {}
    _hits_from_workers.update(output.get(_IDENTITY_HITS, {}))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No artefact any test made (PDFs and their attachments, bundles, receipts, JSON, logs)
    may hold an identity number in clear; the databases hold the private table and are not
    scanned. Each worker scans its own temporary folder once, at its end; the run that
    reports fails on what any of them found."""
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        worker_output[_IDENTITY_HITS] = _identity_numbers_left(session)
        return
    distributed = session.config.pluginmanager.has_plugin("dsession")
    hits = dict(_hits_from_workers) if distributed else _identity_numbers_left(session)
    if hits:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for name, numbers in sorted(hits.items()):
            line = f"identity number in clear: {name}: {numbers}"
            if reporter is not None:
                reporter.write_line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
