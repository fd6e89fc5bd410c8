"""The tamper matrix: every published attack class and every receipt fault, one row each.

Each row names the attack, builds the attacker's file from a genuine one, and names the check
that must fail. Every row must fail with its check (and the verdict must be FAILED, or the
input refused as unreadable where the row says so); every genuine document must pass.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pdf_attacks as attacks
import pytest
import record_tampering as tampering
from verifykit import (
    CHECK_AT,
    SEALED_AT,
    Org,
    document,
    make_log,
    make_receipt,
    minimal_receipt,
    seal,
    sealed_pdf,
    status_statement,
    unsealed_pdf,
)

from ledger.receipt import BUNDLE_KIND
from ledger.trust import TrustFile
from seals import SealAuthority, add_revocation_info
from seals.render import render_result
from verify import CHECK_IDS, InputUnreadable, StatusEvidence, Verdict, verify_pdf

UNREADABLE = "input.unreadable"


@dataclass(frozen=True)
class Ctx:
    org: Org
    other_org: Org
    genuine: bytes
    unsealed: bytes
    with_overlay: bytes
    with_shadow: tuple[bytes, int]
    genuine_other_org: bytes
    genuine_far_org: bytes  # a genuine document of an office with another name


@dataclass(frozen=True)
class Row:
    name: str
    make: Callable[[Ctx], bytes]
    expected: str  # the check id that must fail, or UNREADABLE
    receipt_field: str | None = None  # the receipt field the row tampers with, if any
    ending: str = "valid"  # what the office's status statement says of the file

    def __str__(self) -> str:
        return self.name


def _sealed_record(
    builder: Callable[[Org], tuple[list, list]],
) -> Callable[[Ctx], bytes]:
    def make(ctx: Ctx) -> bytes:
        case, directory = builder(ctx.org)
        return sealed_pdf(ctx.org, make_receipt(ctx.org, case, directory).dumps())

    return make


def _sealed_receipt(**kwargs: Callable[[Ctx], object]) -> Callable[[Ctx], bytes]:
    def make(ctx: Ctx) -> bytes:
        values = {k: f(ctx) for k, f in kwargs.items()}
        return sealed_pdf(ctx.org, make_receipt(ctx.org, **values).dumps())  # type: ignore[arg-type]

    return make


def _receipt_json(change: Callable[[dict[str, object]], None]) -> Callable[[Ctx], bytes]:
    def make(ctx: Ctx) -> bytes:
        obj = make_receipt(ctx.org).to_json()
        change(obj)
        return sealed_pdf(ctx.org, json.dumps(obj, ensure_ascii=False).encode())

    return make


def _revoked(days_after_seal: int) -> Callable[[Ctx], bytes]:
    def make(ctx: Ctx) -> bytes:
        authority = ctx.org.authority
        sealed = seal(ctx.org, ctx.unsealed, crl=False)
        revoked = authority.revoke(
            authority.seal.serial, at=SEALED_AT + timedelta(days=days_after_seal)
        )
        crl = revoked.crl(now=SEALED_AT + timedelta(days=abs(days_after_seal) + 1))
        return add_revocation_info(sealed, crl)

    return make


def _expired(ctx: Ctx) -> bytes:
    expired = ctx.org.authority.issue_seal(now=SEALED_AT - timedelta(days=60), days=30)
    return seal(ctx.org, ctx.unsealed, authority=expired, crl=False)


def _lookalike(ctx: Ctx) -> bytes:
    return seal(ctx.other_org, ctx.unsealed)


def _no_receipt(ctx: Ctx) -> bytes:
    return seal(ctx.org, render_result(document(ctx.org)))


def _minimal(
    change: Callable[[Ctx, dict[str, Any]], None],
    record: Callable[[Org], tuple[list, list]] | None = None,
) -> Callable[[Ctx], bytes]:
    """A genuine minimal receipt (of ``record``'s case and directory), then ``change``d."""

    def make(ctx: Ctx) -> bytes:
        case, directory = record(ctx.org) if record else (None, None)
        obj = minimal_receipt(ctx.org, case, directory).to_json()
        change(ctx, obj)
        return sealed_pdf(ctx.org, json.dumps(obj, ensure_ascii=False).encode())

    return make


def _drop_revocation(ctx: Ctx, obj: dict[str, Any]) -> None:
    # The approver's key was revoked before the decision; without the revocation the record
    # would look legitimate, so the attacker leaves it out.
    obj["directory"] = [t for t in obj["directory"] if '"KeyRevoked"' not in t]


def _drop_revocation_and_its_seq(ctx: Ctx, obj: dict[str, Any]) -> None:
    _drop_revocation(ctx, obj)
    obj["selection"]["entries"] = obj["selection"]["entries"][:-1]


def _drop_selection(ctx: Ctx, obj: dict[str, Any]) -> None:
    _drop_revocation(ctx, obj)
    del obj["selection"]


def _add_unrelated_entry(ctx: Ctx, obj: dict[str, Any]) -> None:
    # The seal service signs no step up to the decision: its enrolment bears on nobody here.
    directory = ctx.org.directory()
    unrelated = next(e for e in directory if e.body.get("staff") == "service:seal")
    log = make_log(ctx.org, [*directory, *ctx.org.case()])
    obj["directory"] = sorted(
        [*obj["directory"], unrelated.text], key=lambda t: json.loads(t)["seq"]
    )
    obj["proofs"][unrelated.hash] = log.proof(unrelated.hash)


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    return lambda obj: obj.__setitem__(key, value)


ROWS: tuple[Row, ...] = (
    # The office's own word on the document, and its issuer
    Row(
        "revoked by the office after delivery",
        lambda c: c.genuine,
        "result.status",
        None,
        "revoked",
    ),
    Row(
        "superseded by a re-issued document",
        lambda c: c.genuine,
        "result.status",
        None,
        "superseded",
    ),
    Row("a genuine document of another office", lambda c: c.genuine_far_org, "document.issuer"),
    # Metadata changed after the seal (pages untouched)
    Row(
        "/Info title rewritten after the seal",
        lambda c: attacks.metadata_retitled(c.genuine),
        "seal.modifications",
    ),
    Row(
        "XMP title rewritten after the seal",
        lambda c: attacks.xmp_retitled(c.genuine),
        "seal.modifications",
    ),
    # Published PDF attack classes
    Row(
        "universal signature forgery: signature value zeroed",
        lambda c: attacks.usf_contents_zeroed(c.genuine),
        "seal.integrity",
    ),
    Row(
        "universal signature forgery: byte range nulled",
        lambda c: attacks.usf_byte_range_nulled(c.genuine),
        "seal.integrity",
    ),
    Row(
        "incremental saving attack: new content stream on the page",
        lambda c: attacks.isa_new_content(c.genuine),
        "seal.modifications",
    ),
    Row(
        "signature wrapping: attacker bytes inside the excluded gap",
        lambda c: attacks.swa_wrap_injected_bytes(c.genuine),
        "seal.integrity",
    ),
    Row(
        "shadow attack: hide (cover dropped after sealing)",
        lambda c: attacks.shadow_hide(c.with_overlay),
        "seal.modifications",
    ),
    Row(
        "shadow attack: replace (font object overwritten)",
        lambda c: attacks.shadow_replace(c.genuine),
        "seal.modifications",
    ),
    Row(
        "shadow attack: hide-and-replace (page pointed at a sealed shadow stream)",
        lambda c: attacks.shadow_hide_and_replace(*c.with_shadow),
        "seal.modifications",
    ),
    # Other changes to the file
    Row(
        "a byte changed inside the signed range",
        lambda c: attacks.flip_signed_byte(c.genuine),
        "seal.integrity",
    ),
    Row(
        "incremental update rewriting the page's content",
        lambda c: attacks.isa_rewrite_content(c.genuine),
        "seal.modifications",
    ),
    Row(
        "incremental update adding an annotation over the text",
        lambda c: attacks.isa_annotation_over_text(c.genuine),
        "seal.modifications",
    ),
    Row(
        "incremental update adding a form field over the text",
        lambda c: attacks.isa_form_field_over_text(c.genuine),
        "seal.modifications",
    ),
    Row(
        "attached receipt swapped in a later revision",
        lambda c: attacks.swap_receipt(
            c.genuine, make_receipt(c.org, tampering.missing_step(c.org)[0]).dumps()
        ),
        "seal.modifications",
    ),
    Row(
        "attached receipt edited in place",
        lambda c: attacks.edit_receipt_in_place(c.genuine),
        "seal.integrity",
    ),
    Row(
        "unsigned bytes hidden in the signature's padding",
        lambda c: attacks.signature_padding_used(c.genuine),
        "seal.integrity",
    ),
    Row(
        "byte range stops short of the revision's end",
        lambda c: attacks.byte_range_short_tail(c.genuine),
        "seal.integrity",
    ),
    Row(
        "bytes appended after the last %%EOF",
        lambda c: attacks.trailing_garbage(c.genuine),
        "seal.modifications",
    ),
    Row("seal stripped", lambda c: c.unsealed, "seal.integrity"),
    Row("re-sealed with a look-alike certificate from another CA", _lookalike, "seal.chain"),
    Row("seal certificate revoked before sealing", _revoked(-1), "seal.revocation"),
    Row("seal certificate expired before sealing", _expired, "seal.chain"),
    Row("a genuine result of another organisation", lambda c: c.genuine_other_org, "seal.chain"),
    Row("truncated file", lambda c: c.genuine[: len(c.genuine) // 2], UNREADABLE),
    Row("random bytes", lambda c: os.urandom(4096), UNREADABLE),
    Row("random bytes after a PDF header", lambda c: b"%PDF-1.7\n" + os.urandom(4096), UNREADABLE),
    # The page against the receipt
    Row(
        "page shows another case number",
        lambda c: sealed_pdf(c.org, case_number="20261124-FFFFFFFFFFFF"),
        "document.matches",
    ),
    Row(
        "page shows another outcome",
        lambda c: sealed_pdf(c.org, outcome_text="不予行政许可", title="不予行政许可决定书"),
        "document.matches",
    ),
    # The receipt inside a genuine seal
    Row("no receipt attached", _no_receipt, "receipt.present"),
    Row(
        "a genuine record of a case decided after its time limits",
        _sealed_record(tampering.decided_late),
        "case.deadline",
    ),
    Row(
        "receipt of the wrong kind",
        _receipt_json(_set("kind", BUNDLE_KIND)),
        "receipt.present",
        "kind",
    ),
    Row("receipt of another version", _receipt_json(_set("v", 2)), "receipt.present", "v"),
    Row(
        "receipt envelope with a forged signature",
        _sealed_record(tampering.forged_signature),
        "receipt.signatures",
        "envelopes",
    ),
    Row(
        "receipt envelope in the wrong role",
        _sealed_record(tampering.wrong_role),
        "receipt.rules",
        "envelopes",
    ),
    Row(
        "same person in two roles",
        _sealed_record(tampering.same_person_two_roles),
        "receipt.rules",
        "directory",
    ),
    Row(
        "key revoked before use",
        _sealed_record(tampering.key_revoked_before_use),
        "receipt.rules",
        "directory",
    ),
    Row(
        "broken prev chain",
        _sealed_record(tampering.broken_prev_chain),
        "receipt.rules",
        "envelopes",
    ),
    Row("missing step", _sealed_record(tampering.missing_step), "receipt.rules", "envelopes"),
    Row(
        "minimal receipt omits a revocation of a signer's key",
        _minimal(_drop_revocation, tampering.key_revoked_before_use),
        "receipt.rules",
        "directory",
    ),
    Row(
        "minimal receipt omits a revocation and edits the selection to match",
        _minimal(_drop_revocation_and_its_seq, tampering.key_revoked_before_use),
        "receipt.rules",
        "selection",
    ),
    Row(
        "minimal receipt omits a revocation and its selection statement",
        _minimal(_drop_selection, tampering.key_revoked_before_use),
        "receipt.rules",
        "selection",
    ),
    Row(
        "minimal receipt adds an unrelated directory entry",
        _minimal(_add_unrelated_entry),
        "receipt.rules",
        "directory",
    ),
    Row(
        "receipt names another organisation",
        _receipt_json(_set("org", "qingdao-approval")),
        "receipt.rules",
        "org",
    ),
    Row(
        "receipt names another case",
        _receipt_json(_set("case", "case:00000000-0000-4000-8000-000000000000")),
        "receipt.rules",
        "case",
    ),
    Row(
        "checkpoint signed by the wrong key",
        _sealed_receipt(log=lambda c: tampering.wrong_log_key_log(c.org)),
        "checkpoint.signature",
        "checkpoint",
    ),
    Row(
        "checkpoint without the witness quorum",
        _sealed_receipt(log=lambda c: tampering.unwitnessed_log(c.org)),
        "checkpoint.witnesses",
        "checkpoint",
    ),
    Row(
        "proof for another tree size (its own checkpoint)",
        _sealed_receipt(
            proofs=lambda c: tampering.proof_for_smaller_tree(
                c.org, make_log(c.org, [*c.org.directory(), *c.org.case()])
            )
        ),
        "receipt.inclusion",
        "proofs",
    ),
    Row(
        "proof hashes for another tree size",
        _sealed_receipt(
            proofs=lambda c: tampering.proof_hashes_for_other_size(
                make_log(c.org, [*c.org.directory(), *c.org.case()])
            )
        ),
        "receipt.inclusion",
        "proofs",
    ),
    Row(
        "a proof missing",
        _receipt_json(lambda o: o.__setitem__("proofs", dict(list(o["proofs"].items())[1:]))),
        "receipt.inclusion",
        "proofs",
    ),  # type: ignore[union-attr]
)


@pytest.fixture(scope="module")
def ctx(
    org: Org,
    other_org: Org,
    genuine: bytes,
    unsealed: bytes,
    with_overlay: bytes,
    with_shadow: tuple[bytes, int],
    genuine_other_org: bytes,
) -> Ctx:
    far = sealed_pdf(Org.create(org="qingdao-approval", name="青岛市行政审批服务局"))
    return Ctx(org, other_org, genuine, unsealed, with_overlay, with_shadow, genuine_other_org, far)


def _judge(data: bytes, trust: TrustFile, org: Org, ending: str = "valid") -> Verdict | str:
    # Each file comes with the office's signed statement about exactly its bytes, so that
    # every row fails by its own check, not by a missing status.
    statement = StatusEvidence(statement=status_statement(org, data, ending).dumps())
    try:
        return verify_pdf(data, trust, at=CHECK_AT, status=statement)
    except InputUnreadable:
        return UNREADABLE


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_every_tampered_document_fails_with_its_check(row: Row, ctx: Ctx, trust: TrustFile) -> None:
    result = _judge(row.make(ctx), trust, ctx.org, row.ending)
    if row.expected == UNREADABLE:
        assert result == UNREADABLE
        return
    assert isinstance(result, Verdict), f"{row.name}: refused as unreadable"
    assert result.verdict == "FAILED", result.render_text()
    assert row.expected in result.failed_ids(), result.render_text()


def test_the_genuine_document_passes_every_check(
    genuine: bytes, trust: TrustFile, org: Org
) -> None:
    verdict = _judge(genuine, trust, org)
    assert isinstance(verdict, Verdict) and verdict.verdict == "PASSED", verdict
    expected = set(CHECK_IDS) - {"checkpoint.consistency", "document.issuer", "verify.limits"}
    assert {c.id for c in verdict.checks} == expected
    assert verdict.exit_code == 0


def test_the_matrix_covers_every_check_and_every_receipt_field(org: Org) -> None:
    # A check or a receipt member without a row would be one nobody has tried to break; the
    # members are read off a real receipt, so a new member fails here until it has a row.
    failing = {row.expected for row in ROWS}
    assert set(CHECK_IDS) - {"checkpoint.consistency", "verify.limits"} <= failing
    assert set(make_receipt(org).to_json()) <= {row.receipt_field for row in ROWS}
    assert set(minimal_receipt(org).to_json()) <= {row.receipt_field for row in ROWS}


GENUINE_VARIANTS: tuple[tuple[str, Callable[[Ctx], bytes]], ...] = (
    ("sealed B-B with a CRL, no timestamp", lambda c: seal(c.org, c.unsealed, timestamp=False)),
    ("revoked after the timestamped seal", _revoked(+1)),
    (
        "a minimal receipt (the directory entries bearing on its signers)",
        lambda c: sealed_pdf(c.org, minimal_receipt(c.org).dumps()),
    ),
    (
        "metadata dates and producer updated later",
        lambda c: attacks.metadata_dates_updated(c.genuine),
    ),
)


@pytest.mark.parametrize(("name", "make"), GENUINE_VARIANTS, ids=[n for n, _ in GENUINE_VARIANTS])
def test_genuine_variants_pass(
    name: str, make: Callable[[Ctx], bytes], ctx: Ctx, trust: TrustFile
) -> None:
    verdict = _judge(make(ctx), trust, ctx.org)
    assert isinstance(verdict, Verdict) and verdict.verdict == "PASSED", verdict


def test_a_seal_without_revocation_data_is_indeterminate(ctx: Ctx, trust: TrustFile) -> None:
    verdict = verify_pdf(seal(ctx.org, ctx.unsealed, crl=False), trust, at=CHECK_AT)
    assert verdict.verdict == "INDETERMINATE", verdict.render_text()
    assert verdict.check("seal.revocation").status == "indeterminate"  # type: ignore[union-attr]
    assert verdict.exit_code == 2


def test_an_expired_certificate_without_timestamp_is_indeterminate(
    ctx: Ctx, trust: TrustFile
) -> None:
    # Valid when the seal says it was made, expired now, and nothing proves the seal older.
    short = ctx.org.authority.issue_seal(now=SEALED_AT - timedelta(days=1), days=2)
    sealed = seal(ctx.org, ctx.unsealed, authority=short, timestamp=False)
    verdict = verify_pdf(sealed, trust, at=SEALED_AT + timedelta(days=10))
    assert verdict.check("seal.chain").status == "indeterminate", verdict.render_text()  # type: ignore[union-attr]
    assert verdict.verdict == "INDETERMINATE"


def test_an_expired_certificate_with_a_timestamp_passes(ctx: Ctx, trust: TrustFile) -> None:
    short = ctx.org.authority.issue_seal(now=SEALED_AT - timedelta(days=1), days=2)
    sealed = seal(ctx.org, ctx.unsealed, authority=short)
    statement = status_statement(ctx.org, sealed, stated_at=SEALED_AT + timedelta(days=9))
    evidence = StatusEvidence(statement=statement.dumps())
    verdict = verify_pdf(sealed, trust, at=SEALED_AT + timedelta(days=10), status=evidence)
    assert verdict.verdict == "PASSED", verdict.render_text()


def test_a_look_alike_trust_root_of_another_key_type_fails_the_chain(
    genuine: bytes, org: Org
) -> None:
    # pyhanko-certvalidator asserts on a root with the seal CA's name and an RSA key while the
    # chain is ECDSA; the verdict must still be a failed chain, with the seal itself judged.
    twin = SealAuthority.create(
        org.office.org_name,
        now=SEALED_AT - timedelta(days=30),
        crl_url="http://x/crl",
        algorithm="rsa-3072",
    )
    trust = org.trust(seal_ca_pems=(_pem(twin),))
    verdict = verify_pdf(genuine, trust, at=CHECK_AT)
    assert verdict.check("seal.chain").status == "failed", verdict.render_text()  # type: ignore[union-attr]
    assert verdict.check("seal.integrity").status == "passed"  # type: ignore[union-attr]
    assert verdict.check("seal.modifications").status == "passed"  # type: ignore[union-attr]


def _pem(authority: SealAuthority) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return authority.ca_certificate.public_bytes(Encoding.PEM).decode("ascii")


def test_a_genuine_rsa_seal_passes(trust: TrustFile, org: Org) -> None:
    rsa = SealAuthority.create(
        org.office.org_name,
        now=SEALED_AT - timedelta(days=30),
        crl_url="http://x/crl",
        algorithm="rsa-3072",
    )
    rsa_org = Org(
        org.office,
        rsa,
        rsa.issue_tsa(now=SEALED_AT - timedelta(days=30)),
        org.log_key,
        org.witness_key,
    )
    verdict = _judge(seal(rsa_org, unsealed_pdf(org)), rsa_org.trust(), rsa_org)
    assert isinstance(verdict, Verdict) and verdict.verdict == "PASSED", verdict
