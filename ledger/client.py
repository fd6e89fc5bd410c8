"""The signing client's side: build and sign the next envelope of a stream.

Signing happens where the key is; these helpers never need a server. They are what the CLI,
the demo, client libraries and the tests use to produce envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.envelope import Actor, Envelope, draft_envelope, format_time, seal_envelope
from ledger.signing import PrivateKey

__all__ = ["Signer", "StreamWriter", "grant_body", "matter_body"]


@dataclass(frozen=True, slots=True)
class Signer:
    """A principal with a key, acting in one role."""

    principal: str
    role: str
    key: PrivateKey

    def actor(self) -> Actor:
        return Actor(self.principal, self.role, self.key.key_id)

    def as_role(self, role: str) -> Signer:
        return Signer(self.principal, role, self.key)


@dataclass(slots=True)
class StreamWriter:
    """Signs consecutive envelopes of one stream, chaining ``seq`` and ``prev`` locally."""

    stream: str
    seq: int = 0
    prev: str | None = None

    def sign(self, step_type: str, signer: Signer, at: datetime, body: dict[str, Any]) -> Envelope:
        """The next envelope, signed by ``signer``; the writer's head moves on to it."""
        envelope = seal_envelope(
            draft_envelope(
                stream=self.stream,
                seq=self.seq + 1,
                step_type=step_type,
                at=at,
                actor=signer.actor(),
                prev=self.prev,
                body=body,
            ),
            signer.key,
        )
        self.seq, self.prev = envelope.seq, envelope.hash
        return envelope


def grant_body(
    grant: str,
    staff: str,
    role: str,
    *,
    valid_from: datetime,
    valid_until: datetime | None = None,
    matters: tuple[str, ...] = ("*",),
    unit: str = "行政审批科",
    qualification: str | None = None,
) -> dict[str, Any]:
    """A RoleGranted body."""
    return {
        "grant": grant,
        "staff": staff,
        "role": role,
        "matters": list(matters),
        "unit": unit,
        "valid_from": format_time(valid_from),
        "valid_until": format_time(valid_until) if valid_until else None,
        "qualification": qualification,
    }


REFORM_FIELDS = frozenset(
    {"tolerated_materials", "mode", "promise_materials", "promise_exclusions", "verification_days"}
)


def matter_body(
    code: str,
    name: str,
    *,
    version: int = 1,
    review_levels: tuple[str, ...] = ("reviewer",),
    legal_basis: str = "《中华人民共和国行政许可法》",
    statutory_days: int = 20,
    committed_days: int = 10,
    required_materials: tuple[str, ...] = (),
    result_template: str = "licence",
    seal_issued: bool = True,
    qualification: str | None = None,
    extension_days: int | None = None,
    stage_days: tuple[int, ...] | None = None,
    **reform: Any,
) -> dict[str, Any]:
    """A MatterDefined / MatterRevised body. ``extension_days`` (the most working days 延期
    may add, 10 when absent) and ``stage_days`` only when set; ``reform`` carries the reform
    settings (``tolerated_materials``, ``mode``, ``promise_materials``, ``promise_exclusions``,
    ``verification_days``: see :mod:`ledger.reform`), left out when not given."""
    unknown = set(reform) - REFORM_FIELDS
    if unknown:
        raise TypeError(f"unknown matter settings: {sorted(unknown)}")
    extra: dict[str, Any] = {} if extension_days is None else {"extension_days": extension_days}
    if stage_days is not None:
        extra["stage_days"] = list(stage_days)
    return {
        **extra,
        **{name: list(v) if isinstance(v, tuple) else v for name, v in reform.items()},
        "code": code,
        "version": version,
        "name": name,
        "legal_basis": legal_basis,
        "review_levels": [
            {"level": n, "role": role} for n, role in enumerate(review_levels, start=1)
        ],
        "statutory_days": statutory_days,
        "committed_days": committed_days,
        "required_materials": list(required_materials),
        "result_template": result_template,
        "seal_issued": seal_issued,
        "qualification": qualification,
    }
