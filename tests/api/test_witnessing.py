"""Witnesses in practice: a witness on another machine runs `caseledger witness cosign
--server URL` against the office's server (fetch checkpoint and consistency proof, cosign,
post the line back); the server serves the cosigned checkpoint; a result sealed afterwards
passes checkpoint.witnesses with witness quorum 1, which it failed before."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from apikit import T1, Api, open_api
from typer.testing import CliRunner

from api.org import OrgHome
from cli.main import _mount_subcommands, app
from ledger.checkpoint import cosign, parse_checkpoint, verify_cosignatures
from ledger.keyfile import KeyFile
from ledger.receipt import Receipt
from ledger.sample import SampleOffice
from ledger.signing import PrivateKey
from ledger.store.bundles import build_receipt
from verify.bundle import check_receipt

WITNESS = "witness.supervision.example"


@contextmanager
def serving(api: Api) -> Iterator[str]:
    """The API's app over real HTTP on a loopback port (its lifespan stays the TestClient's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(api.client.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    _mount_subcommands()
    state = tmp_path / "witness"
    state.mkdir()
    result = CliRunner().invoke(app, ["witness", "init", "--name", WITNESS, "--state", str(state)])
    assert result.exit_code == 0, result.output
    return state


@pytest.fixture
def witnessed_api(org: OrgHome, office: SampleOffice, witness: Path) -> Iterator[Api]:
    vkey = (witness / "witness.vkey").read_text().strip()
    runner = CliRunner()
    too_many = runner.invoke(app, ["log", "witnesses", "--home", str(org.path), "--quorum", "1"])
    assert too_many.exit_code != 0
    added = ["log", "witnesses", "--home", str(org.path), "--add", vkey, "--quorum", "1"]
    assert runner.invoke(app, added).exit_code == 0
    assert OrgHome.load(org.path).trust().witness_quorum == 1
    yield from open_api(org.path, None, office, checkpoint_seconds=0)


def _sealed_receipt(api: Api, stream: str) -> Receipt:
    """The receipt a result sealed now carries (what api/results.py embeds in the PDF)."""
    home = OrgHome.load(api.home)
    ledger = api.services().ledger
    receipt = build_receipt(ledger, ledger.log, stream, log_key=home.key("log"), now=api.clock.now)
    return Receipt.from_json(receipt.dumps())  # as a verifier reads it back


def _witnesses(api: Api, stream: str) -> str:
    trust = OrgHome.load(api.home).trust()
    report = check_receipt(_sealed_receipt(api, stream), trust, require_decision=True)
    by_id = {c.id: c.status.value for c in report.checks}
    assert set(by_id.values()) <= {"passed", "failed"}
    return by_id["checkpoint.witnesses"]


def _post(api: Api, envelopes: list[object]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at  # type: ignore[attr-defined]
        reply = api.post(envelope)  # type: ignore[arg-type]
        assert reply.status_code == 201, reply.text


def _cosign(url: str, witness: Path, log_key: str | None) -> str:
    args = ["witness", "cosign", "--state", str(witness), "--server", url]
    result = CliRunner().invoke(app, [*args, *(["--log-key", log_key] if log_key else [])])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_witness_cosigns_over_http_and_results_pass_with_quorum_one(
    witnessed_api: Api, witness: Path
) -> None:
    api = witnessed_api
    trust = OrgHome.load(api.home).trust()
    first = api.office.case_until_decided(T1)
    _post(api, first)  # sealed at once, before any witness has cosigned
    assert _witnesses(api, first[0].stream) == "failed"
    assert api.client.get("/v1/log/checkpoint/cosigned").status_code == 404

    with serving(api) as url:
        _cosign(url, witness, trust.log_verifier_key)
        cosigned = api.client.get("/v1/log/checkpoint/cosigned")
        assert cosigned.status_code == 200
        assert len(verify_cosignatures(cosigned.text, trust.witness_keys, 1)) == 1
        second = api.office.case_until_decided(T1 + timedelta(hours=1))
        _post(api, second)
        assert _witnesses(api, second[0].stream) == "passed"
        report = check_receipt(_sealed_receipt(api, second[0].stream), trust, require_decision=True)
        assert {c.status.value for c in report.checks} == {"passed"}, report.checks
        sealed = _sealed_receipt(api, second[0].stream)
        assert sealed.witnessed is not None and sealed.witnessed_consistency
        zero = "A" * 43 + "="  # a 32-byte hash that is not the proof's
        bent = replace(sealed, witnessed_consistency=(zero, *sealed.witnessed_consistency[1:]))
        checks = {c.id: c for c in check_receipt(bent, trust, require_decision=True).checks}
        assert checks["checkpoint.witnesses"].status.value == "failed"
        # The witness follows the log: the next run checks consistency from its last size.
        before = parse_checkpoint(cosigned.text).checkpoint.size
        _cosign(url, witness, None)  # the log key is pinned in the witness folder
        again = api.client.get("/v1/log/checkpoint/cosigned").text
        assert parse_checkpoint(again).checkpoint.size > before


def test_cosignatures_by_strangers_or_garbage_are_refused(witnessed_api: Api) -> None:
    api = witnessed_api
    _post(api, api.office.case_until_decided(T1)[:1])
    note = api.client.get("/v1/log/checkpoint").text
    size = parse_checkpoint(note).checkpoint.size
    stranger = cosign(note, PrivateKey.generate(), "stranger.example", api.clock.now)
    reply = api.client.post("/v1/log/cosignature", content=stranger.encode())
    assert reply.status_code == 403 and reply.json()["code"] == "witness.unknown"
    reply = api.client.post(f"/v1/log/cosignature?size={size}", content=b"\xe2\x80\x94 x y\n")
    assert reply.status_code == 400 and reply.json()["code"] == "cosignature.malformed"
    reply = api.client.post("/v1/log/cosignature?size=99999", content="— a AAAAAAAA\n".encode())
    assert reply.status_code == 404


def test_a_forged_cosignature_by_a_known_witness_is_refused(
    witnessed_api: Api, witness: Path
) -> None:
    api = witnessed_api
    _post(api, api.office.case_until_decided(T1)[:1])
    note = api.client.get("/v1/log/checkpoint").text
    key = KeyFile.load(witness / "witness.key")
    good = cosign(note, key.key, key.principal, api.clock.now)
    line = good.rstrip("\n").rsplit("\n", 1)[-1]
    forged = line[:-6] + ("AAAA==" if not line.endswith("AAAA==") else "BBBB==")
    size = parse_checkpoint(note).checkpoint.size
    reply = api.client.post(f"/v1/log/cosignature?size={size}", content=(forged + "\n").encode())
    assert reply.status_code in (400, 422), reply.text
    reply = api.client.post(f"/v1/log/cosignature?size={size}", content=(line + "\n").encode())
    assert reply.status_code == 200, reply.text
