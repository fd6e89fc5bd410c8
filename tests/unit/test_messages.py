"""Every stable code a person may meet has a Chinese text (and an English one): the code base
is scanned for the codes it raises or reports, and each must be in ledger/messages.py."""

from __future__ import annotations

import re
from pathlib import Path

from ledger.messages import MESSAGES, message
from ledger.violations import CODES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "api", "cli", "verify", "seals")
CODE = r"([a-z_]+\.[a-z_0-9.]+|internal)"
RAISED = [
    re.compile(rf'\bcode\s*=\s*"{CODE}"'),
    re.compile(rf'ApiError\(\s*\d+,\s*"{CODE}"'),
    re.compile(rf'Violation\(\s*"{CODE}"'),
    re.compile(rf'error_body\(\s*"{CODE}"'),
    re.compile(rf'too_many\(\s*"{CODE}"'),
    re.compile(rf'code="{CODE}"'),
    re.compile(rf'"error: {CODE}:'),
]


def raised_codes() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in RAISED:
                found.update(pattern.findall(text))
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    found = raised_codes()
    assert {"order.not_allowed", "auth.required", "keyfile.invalid", "internal"} <= found
    assert "file.unavailable" in found
    assert len(found) > 150


def test_every_code_raised_has_a_chinese_and_an_english_text() -> None:
    missing = sorted((raised_codes() | set(CODES)) - set(MESSAGES))
    assert missing == []
    for code, (zh, en) in MESSAGES.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), code
        assert en and not re.search(r"[\u4e00-\u9fff]", en), code


def test_a_message_is_read_in_the_language_asked() -> None:
    assert message("order.not_allowed") == "办理顺序不允许此步骤"
    assert message("order.not_allowed", "en-GB") == "this step may not follow the current state"
    assert message("no.such") is None
