"""The error families of caseledger's ledger.

Every error carries a stable ``code`` (what programs match on) and a plain ``message``
(what a person reads). Business refusals of a well-formed step are not errors but
violations (see :mod:`ledger.violations`); these errors are for input that cannot be
read, and for conflicts the store reports.
"""

from __future__ import annotations

__all__ = [
    "CaseLedgerError",
    "ClockSkew",
    "DraftRefused",
    "EnvelopeError",
    "RulesRefused",
    "SignatureInvalid",
    "StaleVersion",
    "StreamNotFound",
]


class CaseLedgerError(Exception):
    """Root of every caseledger error: a stable code and a plain message."""

    code: str = "caseledger.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class EnvelopeError(CaseLedgerError):
    """The bytes given as an envelope are not a well-formed, canonical envelope."""

    code = "envelope.malformed"


class SignatureInvalid(CaseLedgerError):
    """An Ed25519 signature does not verify under the given key."""

    code = "sig.invalid"


class RulesRefused(CaseLedgerError):
    """A well-formed envelope that the rules do not admit; ``violations`` says why."""

    code = "rules.refused"

    def __init__(self, violations: tuple[object, ...]) -> None:
        codes = ", ".join(str(getattr(v, "code", v)) for v in violations)
        super().__init__(f"the step is not admitted: {codes}")
        self.violations = violations


class StaleVersion(CaseLedgerError):
    """The envelope does not follow the stream's current head (another step came first)."""

    code = "chain.stale"

    def __init__(self, stream: str, head_seq: int, head_hash: str | None) -> None:
        super().__init__(
            f"{stream} has moved on: its head is seq {head_seq}"
            + (f" ({head_hash[:16]}…)" if head_hash else "")
            + "; fetch the stream and sign against the new head"
        )
        self.stream = stream
        self.head_seq = head_seq
        self.head_hash = head_hash


class StreamNotFound(CaseLedgerError):
    """No stream of that name exists."""

    code = "stream.not_found"


class StoreBusy(CaseLedgerError):
    """The database could not take the write now (a lock wait ran out, a connection failed);
    nothing of it was stored, and the same envelope may be sent again."""

    code = "store.busy"


class ClockSkew(CaseLedgerError):
    """The envelope's ``at`` is too far from the receiving server's clock."""

    code = "time.skew"


class DraftRefused(CaseLedgerError):
    """No draft of that step can be made: unknown step, wrong place, or no role to take it."""

    code = "draft.refused"
