"""Audit bundles: the genuine bundle passes with a readable timeline; each fault fails its check."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import record_tampering as tampering
from verifykit import CASE_ID, Org, make_bundle, make_log

from ledger.receipt import RECEIPT_KIND
from ledger.trust import TrustFile
from verify import InputUnreadable, verify_bundle


def test_the_genuine_bundle_passes_with_its_timeline(bundle: bytes, trust: TrustFile) -> None:
    verdict = verify_bundle(bundle, trust)
    assert verdict.verdict == "PASSED", verdict.render_text()
    assert [c.id for c in verdict.checks] == [
        "receipt.signatures",
        "receipt.rules",
        "receipt.inclusion",
        "checkpoint.signature",
        "checkpoint.witnesses",
        "result.status",
        "case.deadline",
    ]
    steps = [(t.step, t.role) for t in verdict.timeline]
    assert steps == [
        ("Applied", "handler"),
        ("Accepted", "handler"),
        ("Reviewed", "reviewer"),
        ("Decided", "approver"),
    ]
    assert verdict.timeline[2].actor == "李娜 (staff:li.na)"
    assert verdict.case is not None
    assert verdict.case.outcome == "approved"
    assert verdict.case.number == "20261124-" + CASE_ID.hex.upper()
    text = verdict.render_text()
    assert "Signed steps (case history):" in text
    assert "张伟 (staff:zhang.wei)" in text


def test_a_bundle_of_a_revoked_result_fails_and_says_so_in_its_headline(
    org: Org, trust: TrustFile
) -> None:
    from verifykit import after_issue, make_bundle

    case = after_issue(org, b"the sealed result", "revoked")
    verdict = verify_bundle(make_bundle(org, case=case), trust)
    assert verdict.verdict == "FAILED", verdict.render_text()
    assert verdict.failed_ids() == {"result.status"}
    assert verdict.case is not None and verdict.case.revoked is not None
    headline = verdict.render_text().splitlines()[0]
    assert "result revoked on 2026-11-25 10:00 by 张伟 (approver)" in headline


def test_a_bundle_with_a_superseded_document_passes_naming_the_one_in_force(
    org: Org, trust: TrustFile
) -> None:
    from verifykit import after_issue, make_bundle

    case = after_issue(org, b"the sealed result", "superseded")
    verdict = verify_bundle(make_bundle(org, case=case), trust)
    assert verdict.verdict == "PASSED", verdict.render_text()
    standing = verdict.check("result.status")
    assert standing is not None and "abababababababab" in standing.detail
    assert "1 earlier document(s) superseded" in standing.detail


def test_a_bare_case_receipt_is_checked_as_a_bundle(org: Org, trust: TrustFile) -> None:
    verdict = verify_bundle(make_bundle(org).replace(b"audit-bundle", b"case-receipt"), trust)
    assert verdict.verdict == "PASSED"
    assert RECEIPT_KIND == "caseledger/case-receipt"


Builder = Callable[[Org], tuple[list, list]]

RECORD_FAULTS: tuple[tuple[str, Builder, str], ...] = (
    ("forged signature", tampering.forged_signature, "receipt.signatures"),
    ("wrong role", tampering.wrong_role, "receipt.rules"),
    ("same person in two roles", tampering.same_person_two_roles, "receipt.rules"),
    ("key revoked before use", tampering.key_revoked_before_use, "receipt.rules"),
    ("broken prev chain", tampering.broken_prev_chain, "receipt.rules"),
    ("missing step", tampering.missing_step, "receipt.rules"),
)


@pytest.mark.parametrize(
    ("name", "build", "check"), RECORD_FAULTS, ids=[r[0] for r in RECORD_FAULTS]
)
def test_record_faults_fail_their_check(
    name: str, build: Builder, check: str, org: Org, trust: TrustFile
) -> None:
    case, directory = build(org)
    verdict = verify_bundle(make_bundle(org, case=case, directory=directory), trust)
    assert verdict.verdict == "FAILED"
    assert check in verdict.failed_ids(), verdict.render_text()


def test_a_checkpoint_signed_by_another_key_fails(org: Org, trust: TrustFile) -> None:
    verdict = verify_bundle(make_bundle(org, log=tampering.wrong_log_key_log(org)), trust)
    assert verdict.failed_ids() == {"checkpoint.signature"}
    assert verdict.check("receipt.inclusion").status == "indeterminate"  # type: ignore[union-attr]


def test_a_missing_witness_fails_only_when_the_trust_file_asks_for_one(
    org: Org, trust: TrustFile
) -> None:
    bundle = make_bundle(org, log=tampering.unwitnessed_log(org))
    assert verify_bundle(bundle, trust).failed_ids() == {"checkpoint.witnesses"}
    relaxed = org.trust(witness_quorum=0)
    assert verify_bundle(bundle, relaxed).verdict == "PASSED"


def test_a_witness_key_of_another_witness_does_not_count(org: Org) -> None:
    stranger = Org.create()
    trust = org.trust(witness_keys=stranger.trust().witness_keys)
    assert verify_bundle(make_bundle(org), trust).failed_ids() == {"checkpoint.witnesses"}


def test_proofs_for_another_tree_fail_inclusion(org: Org, trust: TrustFile) -> None:
    log = make_log(org, [*org.directory(), *org.case()])
    for proofs in (
        tampering.proof_for_smaller_tree(org, log),
        tampering.proof_hashes_for_other_size(log),
    ):
        verdict = verify_bundle(make_bundle(org, log=log, proofs=proofs), trust)
        assert verdict.failed_ids() == {"receipt.inclusion"}, verdict.render_text()


def test_a_bundle_of_another_organisation_fails(other_org: Org, trust: TrustFile) -> None:
    failed = verify_bundle(make_bundle(other_org), trust).failed_ids()
    assert {"receipt.signatures", "receipt.rules", "checkpoint.signature"} <= failed


def test_a_trust_file_with_another_root_key_fails_the_directory(org: Org) -> None:
    stranger = Org.create()
    trust = org.trust(root_keys=stranger.trust().root_keys)
    assert "receipt.signatures" in verify_bundle(make_bundle(org), trust).failed_ids()


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"v": 1}', b"{" * 100_000, json.dumps({"v": 2}).encode()],
    ids=["empty", "text", "array", "fields missing", "deep nesting", "version 2"],
)
def test_an_unreadable_bundle_raises_input_unreadable(data: bytes, trust: TrustFile) -> None:
    with pytest.raises(InputUnreadable):
        verify_bundle(data, trust)


def test_a_bundle_with_a_malformed_envelope_is_unreadable(org: Org, trust: TrustFile) -> None:
    obj = json.loads(make_bundle(org))
    obj["envelopes"][1] = obj["envelopes"][1].replace('"seq":2', '"seq": 2')
    with pytest.raises(InputUnreadable):
        verify_bundle(json.dumps(obj).encode(), trust)
