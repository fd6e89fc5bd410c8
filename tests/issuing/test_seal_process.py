"""Results sealed in a process of their own (a server's sealer, api.sealing): the same checks
pass as on a result sealed in the calling thread; a refusal in the child arrives with its
code; a sealing process killed from outside is reported, then replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from issuekit import T1, Office, make_office

from api.results import auto_issue, result_file
from api.sealing import Drawing, SealJob, SealProcess
from ledger.clock import FixedClock
from ledger.errors import CaseLedgerError
from ledger.store.followers import follow
from seals.errors import SealError
from verify import verify_pdf

NOW = T1 + timedelta(minutes=30)


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return make_office(tmp_path / "org")


@pytest.fixture
def sealer() -> Iterator[SealProcess]:
    process = SealProcess()
    yield process
    process.close()


def _decided_and_followed(office: Office, sealer: SealProcess) -> tuple[str, bytes]:
    case = office.sample.case_until_decided(T1)
    ledger = office.home.open_ledger(office.db)
    try:
        follow(ledger, auto_issue(office.home, FixedClock(NOW), sealer=sealer))
        for envelope in case:
            ledger.append(envelope)
        path = result_file(office.home, ledger, case[0].stream)
        assert path is not None, "no result issued"
        assert ledger.audit().ok
        return case[0].stream, path.read_bytes()
    finally:
        ledger.close()


def test_a_result_sealed_in_the_seal_process_verifies(office: Office, sealer: SealProcess) -> None:
    _, pdf = _decided_and_followed(office, sealer)
    verdict = verify_pdf(pdf, office.home.trust()).to_json()
    open_checks = {c["id"] for c in verdict["checks"] if c["status"] != "passed"}
    assert open_checks <= {"result.status"}, verdict
    assert sealer._pool is not None  # sealed there, not in this thread


def test_a_refusal_in_the_seal_process_keeps_its_code(
    office: Office, sealer: SealProcess, tmp_path: Path
) -> None:
    job = SealJob(tmp_path / "no-such-folder", _drawing(), b"{}", NOW)
    with pytest.raises(CaseLedgerError) as caught:
        sealer(job)
    assert caught.value.code == "org.invalid"  # raised in the child, as OrgHome.load does


def test_a_seal_process_killed_from_outside_is_replaced(
    office: Office, sealer: SealProcess
) -> None:
    _decided_and_followed(office, sealer)  # started, warm
    pool = sealer._pool
    assert pool is not None
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(SealError) as caught:
        sealer(SealJob(office.home.path, _drawing(), b"{}", NOW))
    assert caught.value.code == "seal.process"
    _, pdf = _decided_and_followed(office, sealer)  # a new process
    assert sealer._pool is not pool
    assert pdf.startswith(b"%PDF")


def _drawing() -> Drawing:
    """A drawing the jobs here never reach."""
    return Drawing(bytes, b"")


def test_the_seal_process_ends_with_the_server_s_process(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL) leaves no sealing process behind."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from datetime import UTC, datetime
        from pathlib import Path
        from api.sealing import Drawing, SealJob, SealProcess
        if __name__ == "__main__":
            sealer = SealProcess()
            try:
                sealer(SealJob(Path({str(tmp_path / "none")!r}), Drawing(bytes, b""), b"{{}}",
                       datetime.now(UTC)))
            except Exception:
                pass  # not an organisation folder: the process is started all the same
            print(*sealer._pool._processes, flush=True)
            time.sleep(600)
        """
    )
    (tmp_path / "server.py").write_text(script)
    server = subprocess.Popen(
        [sys.executable, str(tmp_path / "server.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        (child,) = (int(pid) for pid in server.stdout.readline().split())
        assert _alive(child)
    finally:
        server.kill()
        server.wait(timeout=30)
    for _ in range(200):
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_closed_seal_process_takes_no_more_documents(office: Office) -> None:
    sealer = SealProcess()
    _decided_and_followed(office, sealer)
    sealer.close()
    with pytest.raises(SealError) as caught:
        sealer(SealJob(office.home.path, _drawing(), b"{}", NOW))
    assert caught.value.code == "seal.closed"
    assert sealer._pool is None  # none started again after the close
