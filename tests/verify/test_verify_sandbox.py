"""Hostile but valid PDFs cannot hang or exhaust the verifier.

Two bombs, built here: a sealed result whose ToUnicode CMap has 190,000 full bfrange lines
(about 12 billion table entries, about 40 minutes of CPU in the unbounded parser) and one whose
extra content stream, deflated twice, inflates to 4 GiB. The caps refuse both before any parser
runs; with the caps lifted, the child process's limits stop them. Bounds are asserted on what
the child used (getrusage of children, measured in a fresh process) and on the answer arriving,
never on a tight time.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from bombs import CMAP_RANGES, cmap_bomb, content_bomb
from verifykit import CHECK_AT, Org

from ledger.trust import TrustFile
from verify import InputUnreadable, verify_pdf
from verify._prescan import TOO_COMPLEX, check_streams
from verify._text import _CMap, cmap_entries
from verify.limits import MIB, VerifyLimits
from verify.sandbox import CheckAbandoned, Sandbox

# Caps high enough that the bombs reach the parsers: only the child's limits stop them then.
NO_CAPS = VerifyLimits(max_inflated_bytes=1 << 40, max_cmap_entries=10**9)
SHORT = replace(NO_CAPS, wall_seconds=4.0, cpu_seconds=4, memory_bytes=384 * MIB)
ANSWER_WITHIN = 60.0  # generous: the machine may be busy; a hang would take hours


@pytest.fixture(scope="session")
def cmap_bombed(org: Org, unsealed: bytes) -> bytes:
    return cmap_bomb(org, unsealed)


@pytest.fixture(scope="session")
def content_bombed(org: Org, unsealed: bytes) -> bytes:
    return content_bomb(org, unsealed)


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    return Sandbox(SHORT)


def test_the_bombs_are_small_and_what_they_claim(cmap_bombed: bytes, content_bombed: bytes) -> None:
    assert len(cmap_bombed) < 150_000 and len(content_bombed) < 150_000
    with pytest.raises(InputUnreadable) as caught:
        check_streams(cmap_bombed, replace(NO_CAPS, max_cmap_entries=CMAP_RANGES - 1))
    assert caught.value.code == TOO_COMPLEX
    # The document's own fonts add their few thousand entries to the bomb's.
    check_streams(cmap_bombed, replace(NO_CAPS, max_cmap_entries=CMAP_RANGES + 10_000))
    with pytest.raises(InputUnreadable) as caught:
        check_streams(content_bombed, replace(NO_CAPS, max_inflated_bytes=512 * MIB))
    assert caught.value.code == TOO_COMPLEX


def test_the_caps_refuse_both_bombs_before_parsing(
    cmap_bombed: bytes, content_bombed: bytes, trust: TrustFile
) -> None:
    for bomb in (cmap_bombed, content_bombed):
        started = time.monotonic()
        with pytest.raises(InputUnreadable) as caught:
            verify_pdf(bomb, trust, at=CHECK_AT)
        assert caught.value.code == TOO_COMPLEX
        assert time.monotonic() - started < ANSWER_WITHIN


def test_the_caps_leave_a_genuine_result_alone(genuine: bytes, trust: TrustFile) -> None:
    check_streams(genuine, VerifyLimits(max_inflated_bytes=1 * MIB, max_cmap_entries=1_000))


def test_the_caps_count_every_stage_of_a_filter_chain() -> None:
    inner = zlib.compress(b" " * (8 * MIB))
    data = b"%PDF-1.7\n1 0 obj <<>> stream\n" + zlib.compress(inner) + b"\nendstream endobj\n"
    check_streams(data, replace(NO_CAPS, max_inflated_bytes=9 * MIB))
    with pytest.raises(InputUnreadable):
        check_streams(data, replace(NO_CAPS, max_inflated_bytes=8 * MIB))


def test_overlapping_streams_cannot_make_the_scan_reread_the_file() -> None:
    # Every "stream" keyword starts a trial inflation. Deflated data nested inside deflated
    # data (stored blocks keep it verbatim), each layer after its own keyword, would otherwise
    # have the scan read the rest of the file once per layer.
    layers = b"x" * 1000
    for _ in range(3000):
        layers = zlib.compress(b"stream\n" + layers, 0)
    data = b"%PDF-1.7\n1 0 obj <<>> stream\n" + layers
    started = time.monotonic()
    with pytest.raises(InputUnreadable) as caught:
        check_streams(data, NO_CAPS)
    assert caught.value.code == TOO_COMPLEX
    assert time.monotonic() - started < ANSWER_WITHIN


def test_cmap_entries_are_counted_in_one_pass() -> None:
    text = "2 beginbfchar <01> <0041> <02> <0042> endbfchar 1 beginbfrange <03> <05> <0043>"
    text += " endbfrange 1 begincidrange <0000> <00FF> 1 endcidrange"
    assert cmap_entries(text) == 4
    # Unterminated blocks: a lazy regex would rescan the rest of the text for each one.
    started = time.monotonic()
    assert cmap_entries("beginbfrange <0000> <FFFF> <0041> " * 100_000) == 0
    assert time.monotonic() - started < ANSWER_WITHIN


def test_the_cmap_parser_bounds_its_work() -> None:
    ranges = "<0000> <FFFF> <4E00>\n" * 50_000
    started = time.monotonic()
    table = _CMap.parse(
        f"1 begincodespacerange <0000> <FFFF> endcodespacerange beginbfrange\n{ranges}endbfrange"
    )
    assert table.width == 2 and len(table.table) == 65_536
    assert time.monotonic() - started < ANSWER_WITHIN


def test_the_sandbox_gives_the_same_verdict_as_the_process(
    genuine: bytes, trust: TrustFile, sandbox: Sandbox
) -> None:
    assert sandbox.verify_pdf(genuine, trust, at=CHECK_AT) == verify_pdf(
        genuine, trust, at=CHECK_AT
    )
    with pytest.raises(InputUnreadable) as caught:
        sandbox.verify_pdf(b"%PDF-1.7 nothing else", trust, at=CHECK_AT)
    assert caught.value.code == "input.unreadable"


def test_a_content_bomb_past_the_caps_is_stopped_as_indeterminate(
    content_bombed: bytes, trust: TrustFile, sandbox: Sandbox
) -> None:
    started = time.monotonic()
    verdict = sandbox.verify_pdf(content_bombed, trust, at=CHECK_AT)
    assert time.monotonic() - started < ANSWER_WITHIN
    assert verdict.verdict == "INDETERMINATE" and verdict.exit_code == 2
    assert [c.id for c in verdict.checks] == ["verify.limits"]


def test_a_cmap_bomb_past_the_caps_gives_a_verdict(
    cmap_bombed: bytes, trust: TrustFile, sandbox: Sandbox
) -> None:
    # The parser's own budget on expanded codes keeps the check short; were it not, the
    # child's limits would stop it (INDETERMINATE). It never hangs either way.
    started = time.monotonic()
    verdict = sandbox.verify_pdf(cmap_bombed, trust, at=CHECK_AT)
    assert time.monotonic() - started < ANSWER_WITHIN
    assert verdict.verdict in ("FAILED", "INDETERMINATE")
    assert verdict.verdict == "INDETERMINATE" or "document.matches" in verdict.failed_ids()


def test_a_check_nobody_waits_for_is_killed(content_bombed: bytes, trust: TrustFile) -> None:
    check = Sandbox(replace(SHORT, wall_seconds=120.0, cpu_seconds=120)).start(
        "pdf", content_bombed, trust, at=CHECK_AT
    )
    asked = []
    with pytest.raises(CheckAbandoned):
        check.wait(cancelled=lambda: asked.append(1) or len(asked) > 2)
    assert not check.process.is_alive()


def test_a_check_killed_from_outside_says_so_and_the_log_names_the_signal(
    content_bombed: bytes, trust: TrustFile, caplog: pytest.LogCaptureFixture
) -> None:
    check = Sandbox(replace(SHORT, wall_seconds=120.0, cpu_seconds=120)).start(
        "pdf", content_bombed, trust, at=CHECK_AT
    )
    os.kill(check.process.pid, signal.SIGSEGV)
    with caplog.at_level(logging.WARNING, logger="verify.sandbox"):
        verdict = check.wait()
    assert verdict.verdict == "INDETERMINATE"
    assert [c.id for c in verdict.checks] == ["verify.limits"]
    assert "ended abruptly" in verdict.checks[0].detail or "意外终止" in verdict.checks[0].detail
    assert "signal SIGSEGV" in caplog.text


def _measured(tmp_path: Path, pdf: bytes, trust: TrustFile, *options: str) -> dict[str, float]:
    """Run caseledger-verify on ``pdf`` from a fresh process; its exit code, and what its
    children (the command and the checking process it forks) used."""
    (tmp_path / "doc.pdf").write_bytes(pdf)
    (tmp_path / "trust.json").write_text(trust.dumps(), encoding="utf-8")
    command = [
        str(Path(sys.executable).with_name("caseledger-verify")),
        "pdf",
        str(tmp_path / "doc.pdf"),
        "--trust",
        str(tmp_path / "trust.json"),
        "--at",
        CHECK_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        *options,
    ]
    script = textwrap.dedent(
        f"""
        import json, resource, subprocess, time
        started = time.monotonic()
        done = subprocess.run({command!r}, capture_output=True, timeout=300)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(json.dumps({{"code": done.returncode, "stderr": done.stderr.decode(),
            "cpu": usage.ru_utime + usage.ru_stime, "maxrss_mib": usage.ru_maxrss / 1024,
            "wall": time.monotonic() - started}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=400
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def test_the_command_line_refuses_both_bombs_cheaply(
    tmp_path: Path, cmap_bombed: bytes, content_bombed: bytes, trust: TrustFile
) -> None:
    for bomb in (cmap_bombed, content_bombed):
        used = _measured(tmp_path, bomb, trust)
        assert used["code"] == 3, used
        assert "Traceback" not in str(used["stderr"]) and "不予处理" in str(used["stderr"])
        assert used["maxrss_mib"] < 512 and used["cpu"] < ANSWER_WITHIN


def test_the_command_line_stops_a_bomb_past_the_caps_at_its_limits(
    tmp_path: Path, content_bombed: bytes, trust: TrustFile
) -> None:
    lifted = ("--max-inflated", str(1 << 20), "--max-cmap-entries", str(10**9))
    used = _measured(
        tmp_path, content_bombed, trust, "--time-limit", "4", "--memory-limit", "384", *lifted
    )
    assert used["code"] == 2, used
    assert "Traceback" not in str(used["stderr"])
    # Unbounded, this file took 3.3 GB and a minute; the child may take its 384 MiB on top of
    # the command's own memory, and at most its time limit.
    assert used["maxrss_mib"] < 1024 and used["wall"] < ANSWER_WITHIN
