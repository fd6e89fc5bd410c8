"""The material store, one contract run against each place files can be kept: a folder, the
database (SQLite and PostgreSQL) and an S3-compatible server (moto's, started here on the
loopback). A file is kept only under its own hash and re-checked on every read; the gate
refuses empty, oversized, unknown and infected files; the audit names a signed hash with no
file."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.sample import SampleOffice
from ledger.store.materials import (
    DatabaseMaterials,
    FolderMaterials,
    MaterialError,
    MaterialStore,
    S3Materials,
    admit,
    command_scanner,
    missing_materials,
    open_materials,
)
from ledger.store.storage import open_store

PDF = b"%PDF-1.7\n% a scanned application form\n"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on a loopback port, for this module's tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "caseledger-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "caseledger-test")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(
    params=["folder", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "s3"]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MaterialStore:
    if request.param == "folder":
        return open_materials("folder", home=tmp_path)
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"m-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        opened = open_materials(f"s3://{bucket}/cases?endpoint={endpoint}", home=tmp_path)
        assert isinstance(opened, S3Materials)
        opened.client.create_bucket(Bucket=bucket)
        return opened
    url = str(tmp_path / "m.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return open_materials("database", home=tmp_path, engine=open_store(url).engine())


def test_a_file_is_kept_under_its_hash_and_read_back(store: MaterialStore) -> None:
    sha = hashlib.sha256(PDF).hexdigest()
    assert not store.has(sha)
    store.put(sha, PDF)
    store.put(sha, PDF)  # a second upload of the same file is no error
    assert store.has(sha) and store.get(sha) == PDF
    with pytest.raises(MaterialError) as caught:
        store.put(sha, PDF + b"x")
    assert caught.value.code == "material.corrupt"
    with pytest.raises(MaterialError) as caught:
        store.get("ab" * 32)
    assert caught.value.code == "material.not_found"
    with pytest.raises(MaterialError) as caught:
        store.get("../../etc/passwd")
    assert caught.value.code == "material.hash"


def test_a_kept_file_changed_behind_the_store_is_caught(tmp_path: Path) -> None:
    store = FolderMaterials(tmp_path)
    sha = hashlib.sha256(PDF).hexdigest()
    store.put(sha, PDF)
    path = tmp_path / sha[:2] / sha
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".incoming-")]
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(PDF.replace(b"form", b"fake"))
    with pytest.raises(MaterialError) as caught:
        store.get(sha)
    assert caught.value.code == "material.corrupt"


def test_the_gate_refuses_empty_large_unknown_and_infected_files(tmp_path: Path) -> None:
    assert admit(PDF) == hashlib.sha256(PDF).hexdigest()
    for data, limit, code in (
        (b"", 1024, "material.empty"),
        (PDF + b"0" * 2048, 1024, "material.too_large"),
        (b"MZ\x90\x00 an executable named form.pdf", 1024, "material.type"),
    ):
        with pytest.raises(MaterialError) as caught:
            admit(data, max_bytes=limit)
        assert caught.value.code == code
    scanner = tmp_path / "scan.sh"
    # A stand-in scanner with clamscan's exit codes: 1 when the file holds the EICAR marker.
    scanner.write_text("#!/bin/sh\nif grep -q EICAR; then exit 1; fi\nexit 0\n")
    scanner.chmod(0o755)
    scan = command_scanner(str(scanner))
    admit(PDF, scan=scan)
    with pytest.raises(MaterialError) as caught:
        admit(PDF + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE", scan=scan)
    assert caught.value.code == "material.infected"
    for broken in (str(tmp_path / "no-such-scanner"), "sh -c 'exit 2'"):
        with pytest.raises(MaterialError) as caught:
            admit(PDF, scan=command_scanner(broken))
        assert caught.value.code == "material.scan_failed"


def test_an_unknown_store_is_a_configuration_error(tmp_path: Path) -> None:
    for where in ("ftp://x", "database"):
        with pytest.raises(MaterialError) as caught:
            open_materials(where, home=tmp_path)
        assert caught.value.code == "material.config"


def test_every_signed_material_without_its_file_is_named(tmp_path: Path) -> None:
    office = SampleOffice()
    case = office.case_until_decided(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    store = DatabaseMaterials(open_store(str(tmp_path / "a.db")).engine())
    open_materials("database", home=tmp_path, engine=store.engine)
    missing = missing_materials(enumerate(case, start=1), store)
    assert [(position, env.type) for position, env, _ in missing] == [(1, "Applied")]
    sha = missing[0][2]
    store.put(sha, "食品经营许可申请书.pdf".encode())
    assert missing_materials(enumerate(case, start=1), store) == []
