"""The main job end to end, the log commands, the witness and the log's side of the audit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.org import OrgHome
from cli.main import _mount_subcommands, app
from ledger.checkpoint import verify_cosignatures
from verify import StatusEvidence, verify_bundle, verify_pdf

_mount_subcommands()
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "office"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_demo_leaves_an_organisation_folder_with_a_sealed_verified_result(demo_home: Path) -> None:
    for name in ("trust.json", "caseledger.db", "result.pdf", "case-bundle.json", "org.json"):
        assert (demo_home / name).is_file()
    trust = OrgHome.load(demo_home).trust()
    statement = StatusEvidence(statement=(demo_home / "status.json").read_bytes())
    pdf = verify_pdf((demo_home / "result.pdf").read_bytes(), trust, status=statement).to_json()
    assert pdf["verdict"] == "PASSED"
    check = next(c for c in pdf["checks"] if c["id"] == "result.status")
    assert check["status"] == "passed"
    assert pdf["case"]["outcome"] == "approved"
    bundle = json.loads((demo_home / "case-bundle.json").read_text())
    steps = [json.loads(e)["type"] for e in bundle["envelopes"]]
    assert steps == [
        "Applied",
        "Accepted",
        "Reviewed",
        "Decided",
        "ResultIssued",
        "DocumentIssued",
        "Delivered",
    ]
    signers = {json.loads(e)["actor"]["id"] for e in bundle["envelopes"][:4]}
    assert len(signers) == 3
    verdict = verify_bundle((demo_home / "case-bundle.json").read_bytes(), trust).to_json()
    assert verdict["verdict"] == "PASSED"
    # The time limits, recomputed from the bundle's steps and the calendars it carries.
    deadline = next(c for c in verdict["checks"] if c["id"] == "case.deadline")
    assert deadline["status"] == "passed"
    assert "within the statutory and the committed limit" in deadline["detail"]
    assert next(c for c in pdf["checks"] if c["id"] == "case.deadline")["status"] == "passed"


def test_demo_result_is_trusted_by_pdfsig(demo_home: Path, tmp_path: Path) -> None:
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-n",
            "ca",
            "-t",
            "CT,C,C",
            "-i",
            str(demo_home / "seal" / "seal-ca.pem"),
            "-d",
            f"sql:{nss}",
        ],
        check=True,
    )
    out = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(demo_home / "result.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Signature is Valid." in out
    assert "Certificate is Trusted." in out


def test_audit_passes_then_names_a_rewritten_log_leaf(demo_home: Path, tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "copy"
    shutil.copytree(demo_home, home)
    ok = runner.invoke(app, ["audit", "--home", str(home), "--json"])
    assert ok.exit_code == 0, ok.output
    bundle = json.loads((demo_home / "case-bundle.json").read_text())
    calendars = sum('"CalendarPublished"' in e for e in bundle["directory"])
    assert calendars >= 1  # the package's years from the year before the demo's on
    # The demo case records 7 steps.
    assert json.loads(ok.output)["log"]["size"] == 23 + calendars
    engine = sa.create_engine(f"sqlite:///{home / 'caseledger.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE log_leaves SET envelope_hash = zeroblob(32) WHERE idx = 5")
    bad = runner.invoke(app, ["audit", "--home", str(home), "--json"])
    assert bad.exit_code == 1
    codes = {f["code"] for f in json.loads(bad.output)["findings"]}
    assert "log.leaf_mismatch" in codes


def test_audit_with_materials_names_a_signed_file_that_is_not_kept(
    demo_home: Path, tmp_path: Path
) -> None:
    import shutil

    home = tmp_path / "copy"
    shutil.copytree(demo_home, home)
    ok = runner.invoke(app, ["audit", "--home", str(home), "--json", "--materials"])
    assert ok.exit_code == 0, ok.output
    kept = [p for p in (home / "materials").rglob("*") if p.is_file()]
    assert len(kept) == 1
    kept[0].unlink()
    bad = runner.invoke(app, ["audit", "--home", str(home), "--json", "--materials"])
    assert bad.exit_code == 1
    found = json.loads(bad.output)["findings"]
    assert [(f["code"], f["seq"]) for f in found] == [("material.missing", 1)]


def test_export_writes_a_bundle_that_verifies(demo_home: Path, tmp_path: Path) -> None:
    case = json.loads((demo_home / "case-bundle.json").read_text())["case"]
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export", case, "--out", str(out), "--home", str(demo_home)])
    assert result.exit_code == 0, result.output
    trust = OrgHome.load(demo_home).trust()
    assert verify_bundle(out.read_bytes(), trust).to_json()["verdict"] == "PASSED"
    refused = runner.invoke(
        app, ["export", "not-a-case", "--out", str(out), "--home", str(demo_home)]
    )
    assert refused.exit_code != 0


def test_log_inclusion_and_leaf_index(demo_home: Path) -> None:
    result = runner.invoke(app, ["log", "inclusion", "3", "--json", "--home", str(demo_home)])
    assert result.exit_code == 0, result.output
    proof = json.loads(result.output)
    assert proof["index"] == 3 and proof["size"] >= 22 and proof["hashes"]
    index = runner.invoke(
        app, ["log", "leaf-index", proof["envelope_hash"], "--home", str(demo_home)]
    )
    assert index.output.strip() == "3"


def test_witness_cosigns_consistent_growth_and_refuses_a_fork(
    demo_home: Path, tmp_path: Path
) -> None:
    state = tmp_path / "witness"
    vkey = runner.invoke(
        app, ["witness", "init", "--name", "witness.example", "--state", str(state)]
    ).output.strip()
    log_key = OrgHome.load(demo_home).trust().log_verifier_key
    first = tmp_path / "cp1.txt"
    first.write_text(runner.invoke(app, ["log", "checkpoint", "--home", str(demo_home)]).output)
    cosigned = runner.invoke(
        app, ["witness", "cosign", str(first), "--state", str(state), "--log-key", log_key]
    )
    assert cosigned.exit_code == 0, cosigned.output
    assert len(verify_cosignatures(cosigned.output, [vkey], 1)) == 1

    forged = tmp_path / "fork.txt"
    lines = first.read_text().split("\n")
    lines[2] = "A" * 43 + "="  # another root for the same size: a fork (and a bad signature)
    forged.write_text("\n".join(lines))
    refused = runner.invoke(
        app, ["witness", "cosign", str(forged), "--state", str(state), "--log-key", log_key]
    )
    assert refused.exit_code != 0


def test_audit_with_workers_prints_the_same_report(demo_home: Path, tmp_path: Path) -> None:
    import shutil

    from ledger.store.storage import open_store
    from tests.tamper.test_audit_tamper import Admin

    home = tmp_path / "copy"
    shutil.copytree(demo_home, home)
    args = ["audit", "--home", str(home), "--json"]

    def both() -> tuple[int, dict[str, object]]:
        one, two = (runner.invoke(app, [*args, "--workers", n]) for n in ("1", "2"))
        assert one.exit_code == two.exit_code, two.output
        assert json.loads(one.output) == json.loads(two.output)
        return one.exit_code, json.loads(one.output)

    assert both()[0] == 0
    bundle = json.loads((demo_home / "case-bundle.json").read_text())
    stream = json.loads(bundle["envelopes"][2])["stream"]
    admin = Admin(open_store(home / "caseledger.db"))
    try:
        admin.drop_guard()
        state = admin.state(stream, 3)
        state["envelope"] = state["envelope"].replace('"seq":3', '"seq":4')
        admin.set_state(stream, 3, state)
        code, report = both()
        assert code == 1
        findings = report["findings"]
        assert isinstance(findings, list)
        assert {"store.hash_mismatch", "chain.seq_mismatch"} <= {f["code"] for f in findings}
    finally:
        admin.close()
    refused = runner.invoke(app, [*args, "--workers", "0"])
    assert refused.exit_code == 2
