"""Replay a receipt's envelopes through the ledger's one replay, as the audit does, and read
the case history for people.

The directory is folded from seq 1 with the trust file's root keys (so seq 1 must be signed by
a root key, and admins after); then the case is replayed step by step, both by
:class:`ledger.replay.StreamReplay`, which the store's audit uses too, so the verifier and the
audit report the same findings for the same steps. Findings are sorted into two checks:
signatures (the signature does not verify, or the key is not the actor's) and rules
(everything else: chain, order, roles, keys' validity, duties).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time
from ledger.receipt import Receipt
from ledger.replay import Finding, StreamReplay
from ledger.state import CaseState
from ledger.steps import describe
from ledger.trust import TrustFile
from verify._text import case_number
from verify.verdict import TimelineEntry, VerifiedCase

__all__ = ["SIGNATURE_CODES", "Replay", "replay"]

# Violations that mean "not signed by the key and person it names".
SIGNATURE_CODES = frozenset(
    {"sig.invalid", "sig.unknown_key", "key.wrong_owner", "directory.root_required"}
)


@dataclass(frozen=True, slots=True)
class Replay:
    """The outcome of replaying a receipt: findings, the case's final state, the history."""

    signature_findings: tuple[Finding, ...]
    rule_findings: tuple[Finding, ...]
    state: CaseState
    directory: DirectoryState
    envelopes_checked: int
    timeline: tuple[TimelineEntry, ...]

    def summary(self) -> VerifiedCase:
        state = self.state
        matter = state.matter_code
        known = self.directory.latest_matter(matter) if matter else None
        number = None
        if state.applied_at is not None:
            try:
                number = case_number(state.stream, state.applied_at)
            except ValueError:
                number = None
        return VerifiedCase(
            id=state.stream.removeprefix("case:"),
            number=number,
            matter=f"{matter} {known.name}" if matter and known else matter,
            outcome=state.outcome,
            decided_at=format_time(state.decided_at) if state.decided_at else None,
        )


def replay(receipt: Receipt, trust: TrustFile) -> Replay:
    """Judge every envelope of ``receipt`` with the rules; never raises for a bad envelope."""
    replayed = StreamReplay(trust.org, trust.root_keys)
    if receipt.org != trust.org:
        replayed.add(
            Finding(
                "receipt",
                0,
                "directory.invalid",
                f"the record is of organisation {receipt.org!r}, the trust file {trust.org!r}",
            )
        )
    for env in receipt.directory:
        replayed.directory_step(env)
    stream = "case:" + receipt.case.removeprefix("case:")
    for env in receipt.envelopes:
        replayed.case_step(env, stream=stream)
    signatures = tuple(f for f in replayed.findings if f.code in SIGNATURE_CODES)
    rules = tuple(f for f in replayed.findings if f.code not in SIGNATURE_CODES)
    timeline = tuple(_entry(env, replayed.directory) for env in receipt.envelopes)
    return Replay(
        signatures,
        rules,
        replayed.case(stream),
        replayed.directory,
        len(receipt.directory) + len(receipt.envelopes),
        timeline,
    )


def _entry(env: Envelope, directory: DirectoryState) -> TimelineEntry:
    person = directory.staff.get(env.actor.id)
    actor = f"{person.name} ({env.actor.id})" if person else env.actor.id
    return TimelineEntry(
        seq=env.seq,
        at=env.at_text,
        actor=actor,
        role=env.actor.role,
        step=env.type,
        what=describe(env.type, env.body),
    )
