"""The installed ``caseledger`` script mounts the signing client, behind the same boundary."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "caseledger"

pytestmark = pytest.mark.skipif(
    not SCRIPT.exists() or importlib.util.find_spec("cli.jobs") is None,
    reason="the caseledger script or its init/demo commands are not installed here",
)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_installed_script_makes_a_key_and_refuses_plainly(tmp_path: Path) -> None:
    env = {"KEY_PASS": "entry-point-pass", "CASELEDGER_HOME": str(tmp_path / "none")}
    out = tmp_path / "k.key"
    made = _run("keygen", "--principal", "staff:wang.li", "--out", str(out),
                "--passphrase-env", "KEY_PASS", env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "key id" in made.stdout and out.exists()
    refused = _run("case", "show", "3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11", env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: org.invalid: ")
    assert "Traceback" not in refused.stderr


def test_a_file_that_cannot_be_written_is_a_plain_line_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    made = _run("demo", "--out", str(blocker / "demo"), env={})
    assert made.returncode == 1
    assert made.stderr.startswith("error: file.unavailable: "), made.stderr
    assert "Traceback" not in made.stderr
