"""The verdict value: the overall word, exit codes, JSON shape, human order."""

from __future__ import annotations

import json

import pytest

from verify import CHECK_IDS, Check, ExitCode, Status, Verdict, VerifiedCase
from verify.verdict import MEANINGS, failed, indeterminate, passed


def _verdict(*statuses: Status) -> Verdict:
    ids = CHECK_IDS[: len(statuses)]
    return Verdict(tuple(Check(i, s, f"detail of {i}") for i, s in zip(ids, statuses, strict=True)))


@pytest.mark.parametrize(
    ("statuses", "word", "code"),
    [
        ((Status.PASSED, Status.PASSED), "PASSED", 0),
        ((Status.PASSED, Status.FAILED), "FAILED", 1),
        ((Status.INDETERMINATE, Status.FAILED), "FAILED", 1),
        ((Status.PASSED, Status.INDETERMINATE), "INDETERMINATE", 2),
        ((), "INDETERMINATE", 2),
    ],
)
def test_the_word_follows_from_the_checks(
    statuses: tuple[Status, ...], word: str, code: int
) -> None:
    verdict = _verdict(*statuses)
    assert verdict.verdict == word
    assert verdict.exit_code == code


def test_exit_codes_are_the_published_ones() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]


def test_json_is_the_design_shape() -> None:
    verdict = Verdict(
        (passed("seal.integrity", "ok"), failed("seal.chain", "foreign CA")),
        VerifiedCase("3f6c", "XK-1", "approved", "2026-11-24T01:21:00Z", "20261124-3F6C"),
    )
    obj = json.loads(json.dumps(verdict.to_json()))
    assert obj["verdict"] == "FAILED"
    assert obj["checks"][1] == {"id": "seal.chain", "status": "failed", "detail": "foreign CA"}
    assert obj["case"]["id"] == "3f6c"
    assert obj["case"]["decided_at"] == "2026-11-24T01:21:00Z"
    assert "timeline" not in obj


def test_human_output_puts_failures_first_with_their_meaning() -> None:
    verdict = Verdict(
        (
            passed("seal.integrity", "ok"),
            indeterminate("seal.revocation", "no CRL"),
            failed("seal.chain", "foreign CA"),
        )
    )
    lines = verdict.render_text().splitlines()
    assert lines[0] == "FAILED"
    assert lines[1] == "  [failed       ] seal.chain: foreign CA"
    assert lines[2] == "      means: " + MEANINGS["seal.chain"][0][1]
    assert lines[3].startswith("  [indeterminate] seal.revocation")
    assert lines[4] == "      means: " + MEANINGS["seal.revocation"][1][1]
    assert lines[5].startswith("  [passed       ] seal.integrity")


def test_every_check_id_has_a_meaning_for_the_reader() -> None:
    assert set(MEANINGS) == set(CHECK_IDS)
    for failed_text, unclear in MEANINGS.values():
        assert all(failed_text) and all(unclear)
