"""caseledger-verify: exit codes 0/1/2/3, human and JSON output, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pdf_attacks as attacks
import pytest
from verifykit import Org, status_statement

from ledger.trust import TrustFile
from verify.cli import run

AT = "2026-11-25T08:00:00Z"


@pytest.fixture
def files(tmp_path: Path, org: Org, genuine: bytes, bundle: bytes, trust: TrustFile) -> Path:
    (tmp_path / "trust.json").write_text(trust.dumps(), encoding="utf-8")
    (tmp_path / "result.pdf").write_bytes(genuine)
    (tmp_path / "status.json").write_bytes(status_statement(org, genuine).dumps())
    (tmp_path / "revoked.json").write_bytes(status_statement(org, genuine, "revoked").dumps())
    (tmp_path / "tampered.pdf").write_bytes(attacks.isa_new_content(genuine))
    (tmp_path / "bundle.json").write_bytes(bundle)
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 8)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_genuine_pdf_exits_0_and_says_passed(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys,
        "pdf",
        str(files / "result.pdf"),
        "--trust",
        str(files / "trust.json"),
        "--at",
        AT,
        "--status",
        str(files / "status.json"),
    )
    assert code == 0, out + err
    assert out.startswith("PASSED — case 20261124-3F6C2A9B1D04")
    assert out.count("[passed") == 13  # case.deadline among them
    # The signed steps, with the signer's name, role and China time.
    assert re.search(r"2026-11-24 09:07 China time +Accepted +王立 \(staff:wang\.li\) 受理", out)
    assert re.search(r"Decided +张伟 \(staff:zhang\.wei\) 审批", out)


def test_without_a_status_the_verdict_is_indeterminate_and_says_how_to_ask(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "pdf", str(files / "result.pdf"), "--trust", str(files / "trust.json"), "--at", AT
    )
    assert code == 2
    assert out.startswith("INDETERMINATE")
    assert "result.status: not checked" in out and "--online" in out and "--status FILE" in out


def test_a_revoked_result_exits_1_with_when_why_and_who(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys,
        "pdf",
        str(files / "result.pdf"),
        "--trust",
        str(files / "trust.json"),
        "--at",
        AT,
        "--status",
        str(files / "revoked.json"),
        "--json",
    )
    assert code == 1
    check = next(c for c in json.loads(out)["checks"] if c["id"] == "result.status")
    assert check["status"] == "failed"
    assert "2026-11-25 10:00" in check["detail"] and "张伟 (approver)" in check["detail"]
    assert "以欺骗手段取得行政许可" in check["detail"]


def test_status_and_online_together_are_a_usage_error(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys,
        "pdf",
        str(files / "result.pdf"),
        "--trust",
        str(files / "trust.json"),
        "--status",
        str(files / "status.json"),
        "--online",
    )
    assert code == 3 and "either --status FILE or --online" in err


def test_a_tampered_pdf_exits_1_and_lists_the_failure_first_with_its_meaning(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys,
        "pdf",
        str(files / "tampered.pdf"),
        "--trust",
        str(files / "trust.json"),
        "--at",
        AT,
    )
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("FAILED")
    assert lines[1].startswith("  [failed       ] seal.modifications")
    assert "means: something was added to or changed in the document after it was sealed" in out
    assert "Traceback" not in out


def test_json_output_is_the_verdict_object(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "pdf",
        str(files / "result.pdf"),
        "--trust",
        str(files / "trust.json"),
        "--json",
        "--at",
        AT,
        "--status",
        str(files / "status.json"),
    )
    verdict = json.loads(out)
    assert code == 0
    assert verdict["verdict"] == "PASSED"
    assert {c["status"] for c in verdict["checks"]} == {"passed"}
    assert set(verdict["case"]) >= {"id", "matter", "outcome", "decided_at"}
    assert verdict["case"]["outcome"] == "approved"


def test_indeterminate_exits_2(
    files: Path, org: Org, unsealed: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    from verifykit import seal

    (files / "no-crl.pdf").write_bytes(seal(org, unsealed, crl=False))
    code, out, _ = _run(
        capsys, "pdf", str(files / "no-crl.pdf"), "--trust", str(files / "trust.json"), "--at", AT
    )
    assert code == 2
    assert out.startswith("INDETERMINATE")


def test_a_bundle_prints_its_timeline(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "bundle", str(files / "bundle.json"), "--trust", str(files / "trust.json")
    )
    assert code == 0
    assert "Signed steps (case history):" in out
    assert "Decided" in out and "张伟 (staff:zhang.wei) 审批" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["pdf", "random.bin", "--trust", "trust.json"],
        ["pdf", "missing.pdf", "--trust", "trust.json"],
        ["pdf", "result.pdf", "--trust", "random.bin"],
        ["pdf", "result.pdf", "--trust", "missing.json"],
        ["bundle", "random.bin", "--trust", "trust.json"],
        ["pdf", "result.pdf", "--trust", "trust.json", "--at", "yesterday"],
        ["consistency", "random.bin", "random.bin", "random.bin", "--trust", "trust.json"],
        ["pdf"],
        ["nonsense"],
        [],
    ],
    ids=[
        "random pdf",
        "missing pdf",
        "random trust",
        "missing trust",
        "random bundle",
        "bad time",
        "random checkpoints",
        "no file",
        "unknown command",
        "no command",
    ],
)
def test_unreadable_input_exits_3_with_a_plain_message(
    argv: list[str],
    files: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(files)
    code, out, err = _run(capsys, *argv)
    assert code == 3
    assert "Traceback" not in out + err
    assert err.strip() or out.strip()


def test_the_installed_command_runs_in_its_own_process(files: Path) -> None:
    command = Path(sys.executable).parent / "caseledger-verify"
    done = subprocess.run(
        [
            str(command),
            "pdf",
            "result.pdf",
            "--trust",
            "trust.json",
            "--at",
            AT,
            "--json",
            "--status",
            "status.json",
        ],
        cwd=files,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "PASSED"
    assert done.stderr == ""
    hostile = subprocess.run(
        [str(command), "pdf", "random.bin", "--trust", "trust.json"],
        cwd=files,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert hostile.returncode == 3
    assert hostile.stderr.startswith("caseledger-verify: ")
    assert "Traceback" not in hostile.stderr
