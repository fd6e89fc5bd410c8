"""result.status: the office's signed statement decides; anything doubtful is never PASSED."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from verifykit import CHECK_AT, SEALED_AT, Org, status_statement

from ledger.signing import PrivateKey
from ledger.status import StatusMalformed, StatusStatement
from ledger.trust import TrustFile
from verify import StatusEvidence, verify_pdf
from verify.status import check_status


def _check(org: Org, pdf: bytes, trust: TrustFile, statement: bytes) -> str:
    sha = hashlib.sha256(pdf).hexdigest()
    evidence = StatusEvidence(statement=statement)
    return check_status(evidence, trust, sha, sealed_at=SEALED_AT, moment=CHECK_AT).status.value


def test_a_statement_round_trips_and_its_signature_covers_every_field(org: Org) -> None:
    statement = status_statement(org, b"a document", "revoked")
    again = StatusStatement.from_json(statement.dumps())
    assert again == statement
    again.verify_with(org.status_key.public_key)
    obj = json.loads(statement.dumps())
    obj["extra"] = "unsigned"
    with pytest.raises(StatusMalformed):
        StatusStatement.from_json(json.dumps(obj))


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("signature changed", "failed"),
        ("reason changed after signing", "failed"),
        ("signed by a key the trust file does not name", "indeterminate"),
        ("dated a day after the check", "indeterminate"),
        ("older than the seal", "indeterminate"),
        ("about another document", "indeterminate"),
        ("not JSON", "indeterminate"),
        ("proof from another log key", "indeterminate"),
    ],
)
def test_a_doubtful_statement_is_never_passed(
    how: str, expected: str, org: Org, genuine: bytes, trust: TrustFile
) -> None:
    good = status_statement(org, genuine)
    data = _spoiled(how, org, genuine, good)
    assert _check(org, genuine, trust, data) == expected, how
    verdict = verify_pdf(genuine, trust, at=CHECK_AT, status=StatusEvidence(statement=data))
    assert verdict.verdict != "PASSED"


def _spoiled(how: str, org: Org, pdf: bytes, good: StatusStatement) -> bytes:
    obj = json.loads(good.dumps())
    if how == "signature changed":
        obj["sig"]["sig"] = good.signed(PrivateKey.generate()).to_json()["sig"]["sig"]
    elif how == "reason changed after signing":
        revoked = json.loads(status_statement(org, pdf, "revoked").dumps())
        revoked["revocation"]["reason"] = "另一个理由"
        obj = revoked
    elif how == "signed by a key the trust file does not name":
        return good.signed(PrivateKey.generate()).dumps()
    elif how == "dated a day after the check":
        return status_statement(org, pdf, stated_at=CHECK_AT + timedelta(days=1)).dumps()
    elif how == "older than the seal":
        return status_statement(org, pdf, stated_at=SEALED_AT - timedelta(days=1)).dumps()
    elif how == "about another document":
        return status_statement(org, pdf + b"\n").dumps()
    elif how == "not JSON":
        return b"\x00not a statement"
    elif how == "proof from another log key":
        return status_statement(org, pdf, log_key=PrivateKey.generate()).dumps()
    return json.dumps(obj, ensure_ascii=False).encode()


def test_the_office_not_knowing_the_document_fails(genuine: bytes, trust: TrustFile) -> None:
    sha = hashlib.sha256(genuine).hexdigest()
    check = check_status(
        StatusEvidence(unknown=True), trust, sha, sealed_at=SEALED_AT, moment=CHECK_AT
    )
    assert check.status.value == "failed"


def test_a_trust_file_without_a_status_key_leaves_it_indeterminate(
    org: Org, genuine: bytes, trust: TrustFile
) -> None:
    from dataclasses import replace

    bare = replace(trust, status_keys={})
    data = status_statement(org, genuine).dumps()
    assert _check(org, genuine, bare, data) == "indeterminate"
    assert TrustFile.from_json(bare.dumps()).status_keys == {}
    assert TrustFile.from_json(trust.dumps()).status_keys == trust.status_keys


def test_online_without_a_reachable_office_is_indeterminate(
    genuine: bytes, trust: TrustFile
) -> None:
    from dataclasses import replace

    from verify.status import fetch_status

    nowhere = replace(trust, public_base_url="http://127.0.0.1:9")
    evidence = fetch_status(nowhere, hashlib.sha256(genuine).hexdigest(), timeout=2)
    assert evidence.statement is None and not evidence.unknown and evidence.problem
    not_http = fetch_status(replace(trust, public_base_url="file:///etc"), "0" * 64)
    assert not_http.problem and not_http.statement is None
