"""Check a case receipt or an audit bundle: signatures, rules, log inclusion, checkpoint.

Pure: the receipt's envelopes are replayed through ``ledger.policy.check`` against the
directory folded from the receipt (rooted in the trust file's root keys), each envelope's
inclusion proof is checked against the receipt's signed checkpoint, and the checkpoint's
signature and witness cosignatures against the trust file's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.errors import CaseLedgerError
from ledger.note import VerifierKey
from ledger.receipt import BUNDLE_KIND, Receipt, ReceiptError
from ledger.replay import Finding
from ledger.selection import check_selection, verify_selection
from ledger.status import ending_of
from ledger.trust import TrustFile
from verify._log import check_log
from verify._replay import Replay, replay
from verify.deadline import deadline_check
from verify.limits import MAX_BUNDLE_BYTES, check_size
from verify.texts import detail
from verify.verdict import (
    Check,
    InputUnreadable,
    TimelineEntry,
    Verdict,
    VerifiedCase,
    failed,
    passed,
)

__all__ = ["ReceiptReport", "check_receipt", "parse_receipt", "verify_bundle"]

_SHOWN = 5  # findings named in a check's detail; the count says how many more there are


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """The receipt checks, the case they describe, and its readable history."""

    checks: tuple[Check, ...]
    case: VerifiedCase
    timeline: tuple[TimelineEntry, ...]


def parse_receipt(data: bytes) -> Receipt:
    """Parse receipt or bundle JSON; raise InputUnreadable if it cannot be read."""
    check_size(data, MAX_BUNDLE_BYTES, "case record")
    try:
        return Receipt.from_json(data)
    except ReceiptError as exc:
        raise InputUnreadable(f"the case record cannot be read: {exc.message}") from None
    except RecursionError:
        raise InputUnreadable("the case record is nested too deeply") from None


def verify_bundle(data: bytes, trust: TrustFile) -> Verdict:
    """The verdict on an audit bundle (or a bare case receipt) against ``trust``, with the
    case's timeline: who, in which role, when, did what.

    Raises InputUnreadable only if the bundle cannot be read at all; every failed check is in
    the verdict.
    """
    receipt = parse_receipt(data)
    try:
        report = check_receipt(receipt, trust, require_decision=False)
    # The checks turn every fault they know into a failed check; this last line keeps the
    # contract (a verdict or InputUnreadable) for anything a crafted record still trips.
    except (CaseLedgerError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputUnreadable(f"the case record could not be processed: {exc}") from None
    return Verdict(report.checks, report.case, report.timeline)


def check_receipt(receipt: Receipt, trust: TrustFile, *, require_decision: bool) -> ReceiptReport:
    """The checks receipt.signatures, receipt.rules, receipt.inclusion, checkpoint.signature
    and checkpoint.witnesses for ``receipt``. With ``require_decision`` (a sealed result) the
    record must end in a decision. Never raises."""
    result = replay(receipt, trust)
    stream = "case:" + receipt.case.removeprefix("case:")
    steps = tuple(e for e in receipt.envelopes if e.stream == stream)
    checks: tuple[Check, ...] = (
        _signatures(result),
        _rules(result, receipt, trust, require_decision=require_decision),
        *check_log(receipt, trust),
    )
    summary = result.summary()
    if receipt.kind == BUNDLE_KIND:
        # A bundle holds the whole case: what became of its result is part of the verdict.
        # (A notice's receipt ends at the step it answers; its standing is the PDF's check.)
        standing, revoked = _standing(result, receipt)
        checks = (*checks, standing)
        summary = replace(summary, revoked=revoked)
    checks = (*checks, deadline_check(steps, result.directory))
    return ReceiptReport(checks, summary, result.timeline)


def _standing(result: Replay, receipt: Receipt) -> tuple[Check, str | None]:
    """``result.status`` of a bundle: FAILED when the record holds the result's revocation."""
    revocation = next((e for e in receipt.envelopes if e.type == "ResultRevoked"), None)
    if revocation is not None:
        line = ending_of(revocation, result.directory).line()
        return failed("result.status", detail("status.revoked_in_record", line=line)), line
    issued = [e for e in receipt.envelopes if e.type == "ResultIssued"]
    if not issued:
        return passed("result.status", detail("status.none_issued")), None
    current = str(issued[-1].body.get("pdf_sha256", ""))
    replaced = detail("status.superseded", count=len(issued) - 1) if len(issued) > 1 else ""
    in_force = detail("status.in_force_record", sha=current[:16], replaced=replaced)
    return passed("result.status", in_force), None


def _listed(findings: tuple[Finding, ...]) -> str:
    shown = [f.text() for f in findings[:_SHOWN]]
    if len(findings) > _SHOWN:
        shown.append(detail("rules.more", count=len(findings) - _SHOWN))
    return "; ".join(shown)


def _signatures(result: Replay) -> Check:
    if result.signature_findings:
        found = detail("signatures.found", findings=_listed(result.signature_findings))
        return failed("receipt.signatures", found)
    return passed("receipt.signatures", detail("signatures.all", count=result.envelopes_checked))


def _selection_problems(receipt: Receipt, trust: TrustFile) -> list[str]:
    """A minimal receipt's directory against its signed selection statement; a receipt whose
    directory is not whole must carry one."""
    statement = receipt.selection
    if statement is None:
        whole = [e.seq for e in receipt.directory] == list(range(1, len(receipt.directory) + 1))
        return [] if whole else [detail("rules.directory_not_whole")]
    try:
        log_key = VerifierKey.from_string(trust.log_verifier_key).public_key
    except CaseLedgerError:
        return [detail("rules.log_key")]
    if not verify_selection(statement, log_key):
        return [detail("rules.selection_unsigned")]
    return check_selection(
        statement,
        org=receipt.org,
        case="case:" + receipt.case.removeprefix("case:"),
        directory=receipt.directory,
        steps=receipt.envelopes,
    )


def _rules(result: Replay, receipt: Receipt, trust: TrustFile, *, require_decision: bool) -> Check:
    findings = list(result.rule_findings)
    problems = [f.text() for f in findings[:_SHOWN]]
    if len(findings) > _SHOWN:
        problems.append(detail("rules.more", count=len(findings) - _SHOWN))
    if not receipt.envelopes:
        problems.append(detail("rules.no_step"))
    if require_decision and result.state.outcome is None:
        problems.append(detail("rules.no_decision"))
    if receipt.kind == BUNDLE_KIND and not receipt.directory:
        problems.append(detail("rules.no_directory"))
    problems += _selection_problems(receipt, trust)
    if problems:
        return failed("receipt.rules", detail("rules.found", problems="; ".join(problems)))
    state = result.state
    people = len({p.person for p in state.participants})
    kept = detail("rules.kept", steps=len(receipt.envelopes), people=people)
    return passed("receipt.rules", kept)
