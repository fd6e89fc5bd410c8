"""The server killed (SIGKILL) while it seals a result, then started again: the start seals
it, and the client's retry of the decision is answered "replayed" with the result there."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import httpx
from issuekit import make_office

from api.auth import query_code
from api.durable import CRASH_ENV
from api.issuing import recorded_documents
from ledger.clock import system_clock
from ledger.store.read_models import case_number


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(home: Path, port: int, crash_at: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``caseledger serve`` in a child process, yielded once it answers."""
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env["CASELEDGER_RECOVERY_SECONDS"] = "0"
    if crash_at:
        env[CRASH_ENV] = crash_at
    command = Path(sys.executable).with_name("caseledger")
    child = subprocess.Popen(
        [str(command), "serve", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/v1/trust.json", timeout=2).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            assert child.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=60)


def test_a_server_killed_while_sealing_gives_the_result_after_its_restart(tmp_path: Path) -> None:
    now = system_clock()
    office = make_office(tmp_path / "org", start=now - timedelta(hours=1))
    case = office.sample.case_until_decided(now - timedelta(minutes=21))
    ledger = office.home.open_ledger(office.db)
    try:
        for envelope in case[:-1]:
            ledger.append(envelope)
    finally:
        ledger.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/envelopes"
    headers = {"content-type": "application/json"}
    with server(office.home.path, port, crash_at="document.before_record") as child:
        # The server dies mid-request: the client gets no answer.
        with suppress(httpx.HTTPError):
            httpx.post(url, content=case[-1].raw, headers=headers, timeout=120)
        assert child.wait(timeout=120) == -signal.SIGKILL
    with server(office.home.path, port):
        retried = httpx.post(url, content=case[-1].raw, headers=headers, timeout=120)
        assert retried.status_code == 200 and retried.json()["replayed"] is True
        number = case_number(case[0].stream, case[0].at)
        code = query_code(office.home.server_secret(), case[0].stream[5:])
        pdf = httpx.get(
            f"http://127.0.0.1:{port}/v1/public/cases/{number}/result.pdf",
            params={"code": code},
            timeout=60,
        )
        assert pdf.status_code == 200
    ledger = office.home.open_ledger(office.db)
    try:
        [result] = recorded_documents(ledger, case[0].stream)
        assert hashlib.sha256(pdf.content).hexdigest() == result.sha256
        assert result.document_number.endswith("〕1号")
    finally:
        ledger.close()
