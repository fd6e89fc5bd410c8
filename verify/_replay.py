"""Replay a receipt's envelopes through the ledger's one rules function, as the live append
path does, and read the case history for people.

The directory is folded from seq 1 with the trust file's root keys (so seq 1 must be signed by
a root key, and admins after); then the case is replayed step by step with
``ledger.policy.check`` and ``CaseState.apply(envelope, capacity_for(envelope))``. Violations
are sorted into two checks: signatures (the signature does not verify, or the key is not the
actor's) and rules (everything else: chain, order, roles, keys' validity, duties).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time
from ledger.errors import CaseLedgerError
from ledger.policy import capacity_for, check
from ledger.receipt import Receipt
from ledger.state import CaseState
from ledger.trust import TrustFile
from ledger.violations import Violation
from verify._text import case_number
from verify.verdict import CaseSummary, TimelineEntry

__all__ = ["SIGNATURE_CODES", "Replay", "replay"]

# Violations that mean "not signed by the key and person it names".
SIGNATURE_CODES = frozenset(
    {"sig.invalid", "sig.unknown_key", "key.wrong_owner", "directory.root_required"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation found, with the step it was found at."""

    where: str
    violation: Violation

    def text(self) -> str:
        return f"{self.where}: {self.violation.code} ({self.violation.detail})"


@dataclass(frozen=True, slots=True)
class Replay:
    """The outcome of replaying a receipt: findings, the case's final state, the history."""

    signature_findings: tuple[Finding, ...]
    rule_findings: tuple[Finding, ...]
    state: CaseState
    directory: DirectoryState
    envelopes_checked: int
    timeline: tuple[TimelineEntry, ...]

    def summary(self) -> CaseSummary:
        state = self.state
        matter = state.matter_code
        known = self.directory.latest_matter(matter) if matter else None
        number = None
        if state.applied_at is not None:
            try:
                number = case_number(state.stream, state.applied_at)
            except ValueError:
                number = None
        return CaseSummary(
            id=state.stream.removeprefix("case:"),
            number=number,
            matter=f"{matter} {known.name}" if matter and known else matter,
            outcome=state.outcome,
            decided_at=format_time(state.decided_at) if state.decided_at else None,
        )


def replay(receipt: Receipt, trust: TrustFile) -> Replay:
    """Judge every envelope of ``receipt`` with the rules; never raises for a bad envelope."""
    signatures: list[Finding] = []
    rules: list[Finding] = []
    directory = DirectoryState(trust.org, dict(trust.root_keys))
    if receipt.org != trust.org:
        rules.append(
            Finding(
                "receipt",
                Violation(
                    "directory.invalid",
                    f"the record is of organisation {receipt.org!r}, the trust file {trust.org!r}",
                ),
            )
        )
    for env in receipt.directory:
        _sort(_judge(None, directory, env), _where(env), signatures, rules)
        _fold_directory(directory, env, rules)
    stream = "case:" + receipt.case.removeprefix("case:")
    state = CaseState.empty(stream)
    for env in receipt.envelopes:
        _sort(_judge(state, directory, env), _where(env), signatures, rules)
        state = _fold_case(state, env, rules)
    timeline = tuple(_entry(env, directory) for env in receipt.envelopes)
    return Replay(
        tuple(signatures),
        tuple(rules),
        state,
        directory,
        len(receipt.directory) + len(receipt.envelopes),
        timeline,
    )


def _judge(state: CaseState | None, directory: DirectoryState, env: Envelope) -> list[Violation]:
    # check() promises not to raise for an envelope it can read; a receipt is hostile input,
    # so a step that trips it anyway is reported as unreadable rather than crashing the replay.
    try:
        return check(state, directory, env)
    except (CaseLedgerError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return [Violation("body.invalid", f"the step cannot be judged: {exc!r}")]


def _where(env: Envelope) -> str:
    return f"{env.stream.split(':')[0]} seq {env.seq} {env.type}"


def _sort(
    found: list[Violation], where: str, signatures: list[Finding], rules: list[Finding]
) -> None:
    for violation in found:
        bucket = signatures if violation.code in SIGNATURE_CODES else rules
        bucket.append(Finding(where, violation))


def _fold_directory(directory: DirectoryState, env: Envelope, rules: list[Finding]) -> None:
    # A step the rules refused is still folded, so that one bad step is reported once rather
    # than as a cascade of chain errors; the verdict has already failed on it.
    try:
        directory.apply(env)
    except (CaseLedgerError, KeyError, TypeError, ValueError, AttributeError) as exc:
        rules.append(Finding(_where(env), Violation("body.invalid", f"cannot be folded: {exc}")))


def _fold_case(state: CaseState, env: Envelope, rules: list[Finding]) -> CaseState:
    try:
        return state.apply(env, capacity_for(env))
    except (CaseLedgerError, KeyError, TypeError, ValueError, AttributeError) as exc:
        rules.append(Finding(_where(env), Violation("body.invalid", f"cannot be folded: {exc}")))
        return state


def _entry(env: Envelope, directory: DirectoryState) -> TimelineEntry:
    person = directory.staff.get(env.actor.id)
    actor = f"{person.name} ({env.actor.id})" if person else env.actor.id
    return TimelineEntry(
        seq=env.seq,
        at=env.at_text,
        actor=actor,
        role=env.actor.role,
        step=env.type,
        what=_what(env.type, env.body),
    )


_READINGS: dict[str, Callable[[dict[str, Any]], str]] = {
    "Applied": lambda b: f"applies for {_get(b, 'matter', 'code')}: {_get(b, 'applicant', 'name')}",
    "SupplementRequested": lambda b: f"asks for: {', '.join(map(str, b.get('items') or []))}",
    "SupplementProvided": lambda b: f"{len(b.get('materials') or [])} material(s) added",
    "Accepted": lambda b: f"accepted: {b.get('opinion')}",
    "NotAccepted": lambda b: f"not accepted: {b.get('reason')}",
    "Reviewed": lambda b: f"level {b.get('level')} {b.get('opinion')}: {b.get('comments')}",
    "Decided": lambda b: f"{b.get('outcome')}: {b.get('decision')}",
    "ResultIssued": lambda b: f"sealed result {str(b.get('pdf_sha256'))[:16]}…",
    "DocumentIssued": lambda b: (
        f"sealed {b.get('document')} notice {b.get('document_number')} "
        f"{str(b.get('pdf_sha256'))[:16]}…"
    ),
    "Delivered": lambda b: f"delivered by {b.get('channel')} to {b.get('recipient')}",
}


def _what(step: str, body: dict[str, Any]) -> str:
    """A one-line reading of a step's body (values cut short; never raises)."""
    try:
        reading = _READINGS.get(step)
        text = reading(body) if reading else str(body.get("reason", ""))
    except (AttributeError, TypeError, ValueError):
        text = ""
    return text if len(text) <= 120 else text[:119] + "…"


def _get(body: dict[str, Any], outer: str, inner: str) -> str:
    value = body.get(outer)
    return str(value.get(inner)) if isinstance(value, dict) else "?"
