"""What the office publishes holds no identity number in clear; the keys the server does not
need are sealed under a passphrase; an auditor can open a commitment."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from personal_scan import id_numbers_in, id_numbers_in_tree
from typer.testing import CliRunner

from api.org import OrgHome
from cli.main import _mount_subcommands, app
from ledger.keyfile import KeyFile, KeyFileError
from ledger.personal import commit
from ledger.sample import SampleOffice

_mount_subcommands()
runner = CliRunner()
CREDIT_CODE = "91370100MA3C000001"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-privacy") / "office"
    result = runner.invoke(app, ["demo", "--out", str(out)], env={"CASELEDGER_PASSPHRASE": ""})
    assert result.exit_code == 0, result.output
    return out


def test_no_demo_artefact_holds_an_identity_number_in_clear(demo: Path) -> None:
    assert id_numbers_in_tree(demo) == {}
    receipt = _attachment(demo / "result.pdf")
    office = SampleOffice()
    office.directory_envelopes(office_start())
    numbers = [o.value for o in office.openings.values()]
    assert len(numbers) == 5 and all(n not in receipt for n in numbers)
    # The office does hold them: in the private table of its database.
    with sqlite3.connect(demo / "caseledger.db") as db:
        stored = {row[0] for row in db.execute("SELECT value FROM pd_openings")}
    assert stored == set(numbers)


def test_the_scan_finds_a_number_planted_in_a_receipt(demo: Path, tmp_path: Path) -> None:
    planted = tmp_path / "planted.pdf"
    with pikepdf.open(demo / "result.pdf") as pdf:
        pdf.attachments["note.json"] = pikepdf.AttachedFileSpec(
            pdf, json.dumps({"id": "11010519491231002X"}).encode()
        )
        pdf.save(planted)
    assert id_numbers_in(planted) == {"11010519491231002X"}
    planted.unlink()


def test_the_scan_reads_a_bomb_s_raw_bytes_without_inflating_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    with pikepdf.new() as pdf:
        inflated = b"\0" * (64 * 1024 * 1024) + b" 11010519491231002X"
        stream = pikepdf.Stream(pdf, zlib.compress(inflated, 9))
        stream["/Filter"] = pikepdf.Name.FlateDecode
        pdf.Root["/Bomb"] = pdf.make_indirect(stream)
        pdf.save(bomb, compress_streams=False)
    # Past the bound the number stays unread: hostile inputs are not what the office publishes.
    assert id_numbers_in(bomb) == set()
    bomb.unlink()


def test_the_organisations_credit_code_prints_whole_on_its_own_licence(demo: Path) -> None:
    text = subprocess.run(
        ["pdftotext", str(demo / "result.pdf"), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert CREDIT_CODE in text


def test_the_receipt_is_minimal_and_carries_commitments(demo: Path) -> None:
    receipt = json.loads(_attachment(demo / "result.pdf"))
    staff = [json.loads(t) for t in receipt["directory"]]
    enrolled = {e["body"]["staff"] for e in staff if e["type"] == "StaffEnrolled"}
    assert enrolled == {"staff:admin", "staff:wang.li", "staff:li.na", "staff:zhang.wei"}
    enrolments = [e["body"] for e in staff if e["type"] == "StaffEnrolled"]
    assert all(b["id_commitment"].startswith("pc1:") and "id_number" not in b for b in enrolments)
    bundle = json.loads((demo / "case-bundle.json").read_text())
    assert len(bundle["directory"]) > len(receipt["directory"])
    assert receipt["selection"]["entries"] == [e["seq"] for e in staff]


def test_the_root_admin_and_seal_ca_keys_are_sealed_and_the_server_keys_are_not(
    demo: Path,
) -> None:
    keys = demo / "keys"
    assert KeyFile.is_sealed(keys / "root.key") and KeyFile.is_sealed(keys / "admin.key")
    assert not KeyFile.is_sealed(keys / "log.key")
    assert not KeyFile.is_sealed(keys / "seal-service.key")
    assert b"ENCRYPTED PRIVATE KEY" in (demo / "seal" / "seal-ca.key.pem").read_bytes()
    assert b"ENCRYPTED" not in (demo / "seal" / "seal.key.pem").read_bytes()
    home = OrgHome.load(demo)
    with pytest.raises(KeyFileError):
        home.key("admin")
    assert home.key("admin", "caseledger-demo").key_id
    assert home.seal_authority().ca_key is None
    assert home.stored_crl()


def test_init_asks_for_a_passphrase_it_cannot_get(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["init", "--home", str(tmp_path / "o")], env={"CASELEDGER_PASSPHRASE": ""}
    )
    assert result.exit_code != 0
    assert not (tmp_path / "o" / "keys").exists()


def test_init_with_a_passphrase_file_then_a_server_job_runs_without_it(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("file-pass\n")
    made = runner.invoke(
        app,
        ["init", "--home", str(tmp_path / "o"), "--passphrase-file", str(secret)],
        env={"CASELEDGER_PASSPHRASE": ""},
    )
    assert made.exit_code == 0, made.output
    home = OrgHome.load(tmp_path / "o")
    assert home.key("root", "file-pass").key_id in home.trust().root_keys
    audited = runner.invoke(
        app, ["audit", "--home", str(tmp_path / "o")], env={"CASELEDGER_PASSPHRASE": ""}
    )
    assert audited.exit_code == 0, audited.output


def test_an_auditor_checks_a_commitment_with_its_number_and_salt() -> None:
    opening = commit("370102198502020027")
    ok = runner.invoke(
        app,
        ["commitment", "check", opening.commitment, "--salt", opening.salt,
         "--number", opening.value],
    )  # fmt: skip
    assert ok.exit_code == 0 and json.loads(ok.output) == {"opens": True}
    wrong = runner.invoke(
        app,
        ["commitment", "check", opening.commitment, "--salt", opening.salt,
         "--number", "370102198703030037"],
    )  # fmt: skip
    assert wrong.exit_code == 1 and json.loads(wrong.output) == {"opens": False}
    malformed = runner.invoke(
        app, ["commitment", "check", "sha256:00", "--salt", opening.salt, "--number", "1"]
    )
    assert malformed.exit_code == 1 and json.loads(malformed.output)["code"] == "body.commitment"


def office_start() -> datetime:
    return datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _attachment(pdf_path: Path) -> str:
    with pikepdf.open(pdf_path) as pdf:
        return bytes(pdf.attachments["case-receipt.json"].get_file().read_bytes()).decode()
