"""Several server processes on one PostgreSQL database (``caseledger serve --workers N``).

Real processes started by the command line, real HTTP from many threads: every envelope
answered 201 is stored once and logged once (leaf indexes dense, no duplicate), racing
decisions leave exactly one winner, a stale seq is 409, and a SIGKILL of every server
process mid-load leaves no envelope without its leaf and loses no answered one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from apikit import extra_staff, openings_header

from api.org import OrgHome
from ledger.client import Signer, StreamWriter
from ledger.envelope import Envelope
from ledger.sample import SampleOffice
from ledger.store.log_store import LEAVES
from ledger.store.personal_store import commitments_in
from ledger.store.storage import open_store

CLI = [sys.executable, "-c", "from cli.main import main; main()"]


@dataclass
class Servers:
    base: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def start(home: Path, db: str, workers: int, port: int) -> Servers:
    process = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--home",
            str(home),
            "--db",
            db,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(home / "servers.log").open("ab"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError((home / "servers.log").read_text(errors="replace"))
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return Servers(base, process)
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("the servers did not start")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(base: str, envelope: Envelope, office: SampleOffice) -> httpx.Response:
    wanted = set(commitments_in(envelope))
    chosen = [o for o in office.openings.values() if o.commitment in wanted]
    headers = {"content-type": "application/json", **(openings_header(chosen) if chosen else {})}
    return httpx.post(f"{base}/v1/envelopes", content=envelope.raw, headers=headers, timeout=60)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def signer_of(office: SampleOffice, envelope: Envelope) -> Signer:
    """Who signed ``envelope``, with the same key (the root key signs the directory's start)."""
    keys = {k.key_id: k for k in (office.root_key, *office.keys.values())}
    return Signer(envelope.actor.id, envelope.actor.role, keys[envelope.actor.key])


def fresh_case(office: SampleOffice) -> list[tuple[str, Signer, dict[str, object]]]:
    """The sample case's steps (type, signer, body), to be signed at the moment of sending:
    the servers run on the machine's clock."""
    return [(e.type, signer_of(office, e), e.body) for e in office.case_until_decided(now())]


def run_case(base: str, office: SampleOffice) -> list[Envelope]:
    """Post one case step by step, each signed now; return the envelopes answered 201."""
    steps = fresh_case(office)
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    stored = []
    for kind, signer, body in steps:
        envelope = writer.sign(kind, signer, now(), body)
        reply = post(base, envelope, office)
        assert reply.status_code == 201, reply.text
        assert reply.json()["leaf_index"] is not None
        stored.append(envelope)
    return stored


@pytest.fixture
def office_home(org: OrgHome, pg_url: str) -> Iterator[tuple[OrgHome, SampleOffice, str]]:
    from apikit import office_of

    office = office_of(org)
    yield org, office, pg_url


def post_directory(base: str, office: SampleOffice) -> None:
    start = now() - timedelta(seconds=60)
    steps = office.directory_envelopes(start)
    steps += extra_staff(office, StreamWriter(steps[0].stream), start)  # 赵磊, a 2nd approver
    writer = StreamWriter(steps[0].stream)
    for envelope in steps:
        signed = writer.sign(envelope.type, signer_of(office, envelope), now(), envelope.body)
        reply = post(base, signed, office)
        assert reply.status_code == 201, reply.text


def assert_logged_once(home: OrgHome, db: str, answered: list[Envelope]) -> None:
    """Every stored envelope has exactly one leaf, indexes dense, every answered one stored.
    Read straight from the tables, before anything opens the ledger (which would catch the
    log up with what it lacks)."""
    store = open_store(db)
    engine = store.engine()
    try:
        with engine.connect() as conn:
            query = f"SELECT state FROM {store.events_table}"  # noqa: S608 - our own table
            states = conn.execute(sa.text(query)).scalars()
            stored = {json.loads(state)["hash"] for state in states}
            leaves = conn.execute(sa.select(LEAVES.c.idx, LEAVES.c.envelope_hash)).all()
    finally:
        engine.dispose()
    assert {env.hash for env in answered} <= stored
    assert sorted(i for i, _ in leaves) == list(range(len(stored)))
    assert {bytes(h).hex() for _, h in leaves} == stored
    ledger = home.open_ledger(db)
    try:
        assert ledger.audit().ok
    finally:
        ledger.close()


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_many_processes_log_every_envelope_once(
    office_home: tuple[OrgHome, SampleOffice, str], workers: int
) -> None:
    home, office, db = office_home
    servers = start(home.path, db, workers, free_port())
    try:
        post_directory(servers.base, office)
        with ThreadPoolExecutor(8) as pool:
            cases = list(pool.map(lambda _: run_case(servers.base, office), range(16)))
        answered = [env for case in cases for env in case]
        races = [race(servers.base, office) for _ in range(3)]
        stale = stale_reply(servers.base, office)
    finally:
        servers.kill()
    assert all(sorted(statuses) == [201, 409] for statuses in races), races
    assert stale == 409
    assert_logged_once(home, db, answered)


def race(base: str, office: SampleOffice) -> list[int]:
    """Two approvers decide one case at the same moment, through whichever processes."""
    steps = fresh_case(office)
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    for kind, signer, body in steps[:3]:
        assert post(base, writer.sign(kind, signer, now(), body), office).status_code == 201
    kind, approver, body = steps[3]
    second = Signer("staff:zhao.lei", "approver", office.keys["staff:zhao.lei"])
    at = now()
    rivals = [
        StreamWriter(writer.stream, writer.seq, writer.prev).sign(kind, who, at, body)
        for who in (approver, second)
    ]
    barrier = threading.Barrier(2)

    def go(envelope: Envelope) -> int:
        barrier.wait()
        return post(base, envelope, office).status_code

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(go, rivals))


def stale_reply(base: str, office: SampleOffice) -> int:
    steps = fresh_case(office)
    writer = StreamWriter(f"case:{uuid.uuid4()}")
    kind, signer, body = steps[0]
    applied = writer.sign(kind, signer, now(), body)
    assert post(base, applied, office).status_code == 201
    kind, signer, body = steps[1]
    assert post(base, writer.sign(kind, signer, now(), body), office).status_code == 201
    # Another acceptance signed on the applied head: its seq is taken.
    rewritten = StreamWriter(writer.stream, 1, applied.hash).sign(
        kind, signer, now(), {**body, "opinion": "另一份受理意见。"}
    )
    return post(base, rewritten, office).status_code


ROUNDS = 3


@pytest.mark.parametrize(
    ("backend", "workers"),
    [("sqlite", 1), pytest.param("postgres", 2, marks=pytest.mark.postgres)],
)
def test_sigkills_mid_load_leave_no_envelope_unlogged(
    org: OrgHome, request: pytest.FixtureRequest, backend: str, workers: int
) -> None:
    """Three rounds on one database: load from six clients, SIGKILL of every server process
    in the middle of batches, restart. Then every answered envelope is stored and logged, no
    event lacks its leaf, the audit passes, and the read models, killed with the servers and
    restarted, hold each case once at its last step."""
    from apikit import office_of

    office = office_of(org)
    db = (
        str(org.path / "caseledger.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    answered: list[Envelope] = []
    for round_ in range(ROUNDS):
        servers = start(org.path, db, workers, free_port())
        try:
            if round_ == 0:
                post_directory(servers.base, office)
            answered += load_until_killed(servers, office, at_least=20)
        finally:
            if servers.process.poll() is None:
                servers.kill()
    assert_logged_once(org, db, answered)
    assert_read_models_follow(org, db)


def load_until_killed(servers: Servers, office: SampleOffice, at_least: int) -> list[Envelope]:
    """Post cases from six threads; SIGKILL the servers once ``at_least`` were answered 201;
    return the envelopes answered 201."""
    answered: list[Envelope] = []
    lock = threading.Lock()

    def load() -> None:
        while True:
            writer = StreamWriter(f"case:{uuid.uuid4()}")
            for kind, signer, body in fresh_case(office):
                envelope = writer.sign(kind, signer, now(), body)
                try:
                    reply = post(servers.base, envelope, office)
                except httpx.HTTPError:
                    return  # the servers are gone
                if reply.status_code != 201:
                    return
                with lock:
                    answered.append(envelope)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
    servers.kill()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answered) >= at_least
    return answered


def assert_read_models_follow(home: OrgHome, db: str) -> None:
    from ledger.store.read_models import ReadModels

    ledger = home.open_ledger(db)
    models = ReadModels(ledger.engine)
    try:
        models.catch_up(ledger)
        streams = {
            stream for _, stream, _ in ledger.all_notifications() if stream.startswith("case:")
        }
        for stream in streams:
            summary = models.case(stream)
            assert summary is not None and summary.seq == ledger.head(stream)[0], stream
        with ledger.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM rm_cases")).scalar_one()
        assert rows == len(streams)
    finally:
        models.close()
        ledger.close()
