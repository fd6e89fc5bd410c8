"""One replay of stored envelopes through the rules, for the audit and the verifier alike.

Each envelope is judged with :func:`ledger.policy.check` against the state its stream has
reached, then folded. A step the rules refused is folded too, as far as its body can be
read: one bad step is then reported once, not as a cascade of chain and order findings for
every step after it. A step that cannot be folded at all still moves its stream's chain on
(seq, hash, time), for the same reason. The directory stream is replayed first; case steps
are then judged against the whole directory, which answers every question as of the step's
``at``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.policy import check
from ledger.state import CaseState
from ledger.violations import Violation

__all__ = ["Finding", "StreamReplay"]

# What a hostile step may trip in the rules or the fold; each becomes a finding, never a crash.
_UNREADABLE = (CaseLedgerError, KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a stored step: its stream and seq, a stable code, the detail,
    the store position it was read from (in an audit) and the step's type."""

    stream: str
    seq: int
    code: str
    detail: str
    position: int | None = None
    step: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "seq": self.seq,
            "code": self.code,
            "detail": self.detail,
            "position": self.position,
        }

    def text(self) -> str:
        """``case seq 3 Decided: order.not_allowed (…)``, as the verifier lists findings."""
        where = self.stream.split(":")[0]
        if self.step is not None:
            where = f"{where} seq {self.seq} {self.step}"
        return f"{where}: {self.code} ({self.detail})"


class StreamReplay:
    """The directory and the cases replayed so far, and every finding on the way."""

    def __init__(self, org: str, root_keys: dict[str, bytes]) -> None:
        self.directory = DirectoryState(org=org, root_keys=dict(root_keys))
        self.cases: dict[str, CaseState] = {}
        self.findings: list[Finding] = []

    def directory_step(self, envelope: Envelope, position: int | None = None) -> None:
        """Judge and fold the next envelope of the directory stream."""
        directory = self.directory
        self._judge(envelope, position, lambda: check(None, directory, envelope))
        try:
            directory.apply(envelope)
        except _UNREADABLE:
            directory.seq, directory.head_hash = envelope.seq, envelope.hash
            directory.last_at = envelope.at

    def case_step(
        self, envelope: Envelope, position: int | None = None, *, stream: str | None = None
    ) -> None:
        """Judge and fold the next envelope of case ``stream`` (the envelope's own unless
        given: a receipt names the case its envelopes must belong to)."""
        stream = stream or envelope.stream
        state = self.cases.get(stream) or CaseState.empty(stream)
        self._judge(envelope, position, lambda: check(state, self.directory, envelope))
        try:
            self.cases[stream] = state.apply(envelope)
        except _UNREADABLE:
            self.cases[stream] = replace(
                state, seq=envelope.seq, head_hash=envelope.hash, last_at=envelope.at
            )

    def case(self, stream: str) -> CaseState:
        return self.cases.get(stream) or CaseState.empty(stream)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def _judge(
        self, envelope: Envelope, position: int | None, judge: Callable[[], list[Violation]]
    ) -> None:
        # check() promises not to raise for a step it can read; stored steps are hostile
        # input, so one that trips it anyway is reported as unreadable.
        try:
            violations = judge()
        except _UNREADABLE as exc:
            violations = [Violation("body.invalid", f"the step cannot be judged: {exc!r}")]
        self.findings.extend(
            Finding(envelope.stream, envelope.seq, v.code, v.detail, position, envelope.type)
            for v in violations
        )
