"""The verdict: what a verifier concludes about a sealed document, a bundle or a log extension.

A :class:`Verdict` is a value built from :class:`Check` values. Its overall word follows from
the checks alone: any failed check makes it FAILED; otherwise any indeterminate check (or no
check at all) makes it INDETERMINATE; only when every check passed is it PASSED. A verifier never
raises for a failed check; it raises :class:`InputUnreadable` only for input it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from ledger.clock import china_minute_text
from ledger.envelope import parse_time
from ledger.errors import CaseLedgerError
from ledger.language import pad, pick
from verify.meanings import MEANINGS, WORDS

__all__ = [
    "CHECK_IDS",
    "MEANINGS",
    "Check",
    "ExitCode",
    "InputUnreadable",
    "Status",
    "TimelineEntry",
    "Verdict",
    "VerifiedCase",
]


class InputUnreadable(CaseLedgerError):
    """The input is not a PDF, bundle, checkpoint or trust file that can be read at all."""

    code = "input.unreadable"


class Status(StrEnum):
    """The outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


class ExitCode(IntEnum):
    """Exit codes of ``caseledger-verify``: other programs depend on them."""

    PASSED = 0
    FAILED = 1
    INDETERMINATE = 2
    UNREADABLE = 3


# Stable check ids, in the order a reader meets them.
CHECK_IDS: tuple[str, ...] = (
    "document.issuer",
    "seal.integrity",
    "seal.chain",
    "seal.revocation",
    "seal.modifications",
    "receipt.present",
    "receipt.signatures",
    "receipt.rules",
    "receipt.inclusion",
    "checkpoint.signature",
    "checkpoint.witnesses",
    "checkpoint.consistency",
    "document.matches",
    "result.status",
    "case.deadline",
    "verify.limits",
)


@dataclass(frozen=True, slots=True)
class Check:
    """One check: a stable ``id``, its ``status`` and a detail for the reader."""

    id: str
    status: Status
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status.value, "detail": self.detail}

    @property
    def meaning(self) -> str:
        """What this check's outcome means for a reader ('' when it passed)."""
        if self.status is Status.PASSED:
            return ""
        failed, unclear = MEANINGS.get(self.id, (WORDS["unknown_failed"], WORDS["unknown_unclear"]))
        return pick(failed if self.status is Status.FAILED else unclear)


def passed(check_id: str, detail: str) -> Check:
    return Check(check_id, Status.PASSED, detail)


def failed(check_id: str, detail: str) -> Check:
    return Check(check_id, Status.FAILED, detail)


def indeterminate(check_id: str, detail: str) -> Check:
    return Check(check_id, Status.INDETERMINATE, detail)


@dataclass(frozen=True, slots=True)
class VerifiedCase:
    """The case a document or bundle is about, as its receipt says."""

    id: str
    matter: str | None
    outcome: str | None
    decided_at: str | None
    number: str | None = None
    revoked: str | None = None  # when, by whom and why the result was revoked, if it was

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "number": self.number,
            "matter": self.matter,
            "outcome": self.outcome,
            "decided_at": self.decided_at,
            "revoked": self.revoked,
        }


# How the steps' signers are named for people (王立 受理 · 李娜 审查 · 张伟 审批).
ROLE_TEXT = {
    "applicant": "申请",
    "handler": "受理",
    "reviewer": "审查",
    "approver": "审批",
    "seal_service": "用印",
    "admin": "管理",
}


def _china(at: str) -> str:
    try:
        return china_minute_text(parse_time(at)) + " " + pick(WORDS["china_time"])
    except CaseLedgerError:
        return at


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step of a case, readable: when, who, in which role, what."""

    seq: int
    at: str
    actor: str
    role: str
    step: str
    what: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "role": self.role,
            "step": self.step,
            "what": self.what,
        }

    def line(self) -> str:
        """One line for people: China time, the step, who signed it in which role, what."""
        role = ROLE_TEXT.get(self.role, self.role)
        return f"{self.seq:>3}  {_china(self.at)}  {self.step:<20} {self.actor} {role}: {self.what}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The checks made and the case they concern; the overall word follows from the checks."""

    checks: tuple[Check, ...]
    case: VerifiedCase | None = None
    timeline: tuple[TimelineEntry, ...] = field(default=())

    @property
    def verdict(self) -> str:
        """``PASSED``, ``FAILED`` or ``INDETERMINATE``."""
        statuses = {c.status for c in self.checks}
        if Status.FAILED in statuses:
            return "FAILED"
        if Status.INDETERMINATE in statuses or not self.checks:
            return "INDETERMINATE"
        return "PASSED"

    @property
    def exit_code(self) -> int:
        return int(ExitCode[self.verdict])

    def check(self, check_id: str) -> Check | None:
        """The check with ``check_id``, or None if it was not made."""
        return next((c for c in self.checks if c.id == check_id), None)

    def failed_ids(self) -> set[str]:
        return {c.id for c in self.checks if c.status is Status.FAILED}

    def to_json(self) -> dict[str, Any]:
        """The verdict as the JSON object of the design (plus the timeline for bundles)."""
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "case": self.case.to_json() if self.case else None,
        }
        if self.timeline:
            out["timeline"] = [t.to_json() for t in self.timeline]
        return out

    def render_text(self) -> str:
        """Human output: the verdict line, then one line per check, failed ones first, each
        non-passed one followed by what it means for the reader; then the timeline, if any."""
        order = {Status.FAILED: 0, Status.INDETERMINATE: 1, Status.PASSED: 2}
        lines = [f"{pick(WORDS[self.verdict])}{_case_line(self.case)}"]
        means = pick(WORDS["means"])
        for check in sorted(self.checks, key=lambda c: order[c.status]):
            status = pad(pick(WORDS[check.status.value]), 13)
            lines.append(f"  [{status}] {check.id}: {check.detail}")
            if check.meaning:
                lines.append(f"      {means}: {check.meaning}")
        if self.timeline:
            lines.append("")
            lines.append(pick(WORDS["timeline"]))
            lines.extend("  " + entry.line() for entry in self.timeline)
        return "\n".join(lines) + "\n"


def _case_line(case: VerifiedCase | None) -> str:
    if case is None:
        return ""

    def said(word: str, value: str) -> str:
        return f"{pick(WORDS[word])} {value}"

    parts = [said("case", case.number or case.id)]
    if case.matter:
        parts.append(said("matter", case.matter))
    if case.outcome:
        outcome = pick(WORDS[case.outcome]) if case.outcome in WORDS else case.outcome
        parts.append(said("outcome", outcome))
    if case.decided_at:
        parts.append(said("decided", case.decided_at))
    if case.revoked:
        parts.append(said("result", case.revoked))
    return " — " + ", ".join(parts)
