"""What the signing client reads from the command line: case ids, materials, times, matter
files. Wrong input is a ClientError (or EnvelopeError) with a stable code, never a crash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.client._case import case_id_of, material
from cli.client._common import ClientError
from cli.client._matter import _matter_file, matter_definition
from cli.client._target import parse_when
from ledger.errors import CaseLedgerError, EnvelopeError


def test_case_id_with_or_without_the_stream_prefix() -> None:
    text = "3f6c2a9b-1d04-4e4b-9a51-0c7d2e8f6a11"
    assert str(case_id_of(text)) == text
    assert str(case_id_of(f"case:{text}")) == text
    assert str(case_id_of("20261124-3F6C2A9B1D044E4B9A510C7D2E8F6A11")) == text
    with pytest.raises(ClientError) as caught:
        case_id_of("20261124-3F6C2A9B1D04")
    assert caught.value.code == "input.case"


def test_material_from_a_file_or_a_named_hash(tmp_path: Path) -> None:
    scan = tmp_path / "营业执照.pdf"
    scan.write_bytes(b"%PDF-1.7 scan")
    assert material(str(scan)) == {
        "name": "营业执照.pdf",
        "sha256": hashlib.sha256(b"%PDF-1.7 scan").hexdigest(),
    }
    assert material("申请书=" + "AB" * 32) == {"name": "申请书", "sha256": "ab" * 32}
    for wrong in ("missing.pdf", "申请书=abc", "=" + "ab" * 32):
        with pytest.raises(ClientError) as caught:
            material(wrong)
        assert caught.value.code == "input.material"


def test_times_are_dates_in_china_or_zoned_times() -> None:
    assert parse_when("2026-12-01") == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert parse_when("2026-12-01T08:30:00Z") == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert parse_when("2026-12-01T16:30:00+08:00") == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    for wrong in ("2026-13-01", "tomorrow", "2026-12-01T08:30:00"):
        with pytest.raises(ClientError) as caught:
            parse_when(wrong)
        assert caught.value.code == "input.time"


def test_matter_file_in_toml_with_role_names(tmp_path: Path) -> None:
    path = tmp_path / "matter.toml"
    path.write_text(
        'code = "XK-1"\nname = "食品经营许可证核发"\nversion = 2\n'
        'review_levels = ["reviewer", "approver"]\ncommitted_days = 8\nseal_issued = false\n',
        encoding="utf-8",
    )
    body = matter_definition(_matter_file(path))
    assert body["review_levels"] == [
        {"level": 1, "role": "reviewer"},
        {"level": 2, "role": "approver"},
    ]
    assert (body["version"], body["committed_days"], body["seal_issued"]) == (2, 8, False)
    assert body["statutory_days"] == 20  # defaults filled in


def test_matter_file_in_json_with_level_tables(tmp_path: Path) -> None:
    path = tmp_path / "matter.json"
    levels = [{"level": 1, "role": "reviewer"}]
    path.write_text(json.dumps({"code": "XK-2", "name": "许可", "review_levels": levels}))
    assert matter_definition(_matter_file(path))["review_levels"] == levels


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ('code = "X"\nname = "n"\ncolour = "red"\n', "input.file"),
        ('name = "n"\n', "input.file"),
        ('code = "X"\nname = "n"\nreview_levels = ["admin"]\n', "body.invalid"),
        ('code = "X"\nname = "n"\nstatutory_days = -1\n', "body.invalid"),
        ('code = "X"\nname = "n"\nseal_issued = "yes"\n', "body.invalid"),
        ("code = \n", "input.file"),
        ("[[x]]\n", "input.file"),
    ],
)
def test_bad_matter_files_are_refused_with_a_code(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "matter.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CaseLedgerError) as caught:
        matter_definition(_matter_file(path))
    assert caught.value.code == code
    assert isinstance(caught.value, ClientError | EnvelopeError)


def test_missing_matter_file(tmp_path: Path) -> None:
    with pytest.raises(ClientError) as caught:
        _matter_file(tmp_path / "none.toml")
    assert caught.value.code == "input.file"
