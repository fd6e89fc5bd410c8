"""The verifier speaks Chinese unless the locale asks for English: every check detail, every
meaning and the verdict's words come from its tables, and the code builds no check from a
literal text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ledger.trust import TrustFile
from verify import verify_bundle, verify_pdf
from verify.meanings import MEANINGS, WORDS
from verify.texts import DETAILS
from verify.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Chinese text, or at least its full-width punctuation (a text that only joins others).
CHINESE_TEXT = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
USED = re.compile(r"""\bdetail\(\s*["']([a-z_.]+)["']""")


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")


def _all_chinese(verdict: Verdict) -> None:
    for check in verdict.checks:
        assert CJK.search(check.detail), f"{check.id}: {check.detail}"
        assert not check.meaning or CJK.search(check.meaning), check.id


def test_a_genuine_result_is_judged_in_chinese(
    chinese: None, genuine: bytes, trust: TrustFile
) -> None:
    verdict = verify_pdf(genuine, trust)
    _all_chinese(verdict)
    deadline = verdict.check("case.deadline")
    assert deadline is not None and "个工作日" in deadline.detail
    assert re.search(r"法定时限\d+个工作日", deadline.detail), deadline.detail
    text = verdict.render_text()
    assert text.startswith("无法确定") or text.startswith("核验"), text  # status not given
    assert "[通过" in text and "含义：" in text.replace(": ", "：")


def test_a_bundle_is_judged_in_chinese_with_its_timeline(
    chinese: None, bundle: bytes, trust: TrustFile
) -> None:
    verdict = verify_bundle(bundle, trust)
    _all_chinese(verdict)
    text = verdict.render_text()
    assert text.startswith("核验通过 — 受理号"), text
    assert "已签署的步骤（办理经过）：" in text and "北京时间" in text


def test_a_failed_check_says_what_it_means_in_chinese(
    chinese: None, genuine: bytes, trust: TrustFile
) -> None:
    tampered = (
        genuine.replace(b"/Producer", b"/Produkt!", 1)
        if b"/Producer" in genuine
        else (genuine[:-1] + b" ")
    )
    verdict = verify_pdf(tampered + b"\n% appended\n", trust)
    assert verdict.verdict == "FAILED"
    _all_chinese(verdict)
    assert verdict.render_text().startswith("核验未通过")


def test_english_when_the_locale_asks(genuine: bytes, trust: TrustFile) -> None:
    verdict = verify_pdf(genuine, trust)  # the suite's own locale is English (tests/conftest.py)
    seal = verdict.check("seal.integrity")
    assert seal is not None and seal.detail.startswith("the seal's signature")


def test_every_detail_used_has_a_chinese_and_an_english_text() -> None:
    used: set[str] = set()
    for path in (ROOT / "verify").rglob("*.py"):
        used.update(USED.findall(path.read_text(encoding="utf-8")))
    assert {"seal.covers", "deadline.limits", "status.in_force"} <= used
    assert sorted(used - set(DETAILS)) == []
    for key, (zh, en) in DETAILS.items():
        assert CHINESE_TEXT.search(zh), key
        assert en, key
        assert set(re.findall(r"\{(\w+)", zh)) == set(re.findall(r"\{(\w+)", en)), key
    for check_id, pairs in MEANINGS.items():
        for zh, en in pairs:
            assert CJK.search(zh) and en, check_id
    assert all(CJK.search(zh) and en for zh, en in WORDS.values())


def _literal_checks(path: Path) -> list[str]:
    """Checks ``path`` builds with a literal detail (a string or f-string) instead of a text."""
    makers = {"passed": 1, "failed": 1, "indeterminate": 1, "Check": 2}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            where = makers.get(node.func.id)
            literal = where is not None and len(node.args) > where
            if literal and isinstance(node.args[where], ast.Constant | ast.JoinedStr):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_check_is_built_from_a_literal_text(tmp_path: Path) -> None:
    code = [p for p in (ROOT / "verify").rglob("*.py") if p.name != "verdict.py"]
    assert [hit for path in code for hit in _literal_checks(path)] == []
    (tmp_path / "x.py").write_text('failed("seal.chain", f"{subject} is foreign")\n')
    assert _literal_checks(tmp_path / "x.py") == ["x.py:1"]
