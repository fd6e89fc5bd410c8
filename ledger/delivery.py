"""Serving documents (送达): what a delivery carries and what may follow it.

A Delivered step names the channel, the recipient and the document served (its type, 文号
and SHA-256, one the case recorded). By post it also carries the carrier, the tracking number
and the address as a salted commitment (``address_commitment``; the address itself lives in
the office's private table, like an identity number). A postal delivery is later closed by a
signed receipt (DeliveryReceived, 签收) or a return (DeliveryReturned, 退件); after a return
the document may be served again. A refusal (不予受理) is served too: its notice, delivered on
the closed case, which keeps its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.directory import Matter
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError
from ledger.personal import COMMITMENT_PREFIX, is_commitment
from ledger.step_bodies import choice, optional_text, text

if TYPE_CHECKING:
    from ledger.state import CaseState

__all__ = [
    "CHANNELS",
    "CHANNEL_ZH",
    "DeliveredBody",
    "DeliveryOutcomeBody",
    "ServedDocument",
    "deliver_order",
    "delivered_effect",
    "drafted",
    "offered",
    "outcome_effect",
    "outcome_order",
]

CHANNELS = frozenset({"window", "post", "electronic"})
CHANNEL_ZH = {"window": "窗口领取", "post": "邮寄送达", "electronic": "电子送达"}
# The states a document is served from: the case keeps a refusal's status.
_SERVED_FROM = frozenset({"decided", "result_issued"})


def _refuse(message: str) -> EnvelopeError:
    return EnvelopeError(message, code="body.invalid")


@dataclass(frozen=True, slots=True)
class ServedDocument:
    """The document a delivery serves, as the case recorded it."""

    doc_type: str
    document_number: str | None
    sha256: str

    @classmethod
    def read(cls, value: object) -> ServedDocument:
        if not isinstance(value, dict):
            raise _refuse("body.document must be an object with type and sha256")
        sha256 = text(value, "sha256")
        if len(sha256) != 64:
            raise _refuse("body.document.sha256 must be 64 hex digits")
        return cls(text(value, "type"), optional_text(value, "document_number"), sha256)


@dataclass(frozen=True, slots=True)
class DeliveredBody:
    channel: str
    recipient: str
    document: ServedDocument | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    address_commitment: str | None = None

    @classmethod
    def read(cls, body: dict[str, Any]) -> DeliveredBody:
        channel = choice(body, "channel", CHANNELS)
        document = body.get("document")
        served = None if document is None else ServedDocument.read(document)
        found = cls(channel, text(body, "recipient"), served)
        if channel != "post":
            return found
        address = body.get("address_commitment")
        if not is_commitment(address):
            raise _refuse(
                f"a postal delivery carries body.address_commitment ({COMMITMENT_PREFIX}…): "
                "the address stays in the office's private table"
            )
        return cls(
            channel,
            found.recipient,
            served,
            carrier=text(body, "carrier"),
            tracking_number=text(body, "tracking_number"),
            address_commitment=str(address),
        )


@dataclass(frozen=True, slots=True)
class DeliveryOutcomeBody:
    """签收 or 退件 of a postal delivery: its tracking number, and a return's reason."""

    tracking_number: str
    reason: str | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> DeliveryOutcomeBody:
        return cls(text(body, "tracking_number"), optional_text(body, "reason"))

    @classmethod
    def read_return(cls, body: dict[str, Any]) -> DeliveryOutcomeBody:
        return cls(text(body, "tracking_number"), text(body, "reason"))


def _document_problem(state: CaseState, served: ServedDocument | None) -> str | None:
    if served is None:
        return "a refusal is served with its notice: body.document" if _refusal(state) else None
    recorded = dict(state.document_types)
    if served.sha256 not in recorded:
        return "body.document names a document this case did not record"
    if recorded[served.sha256] != served.doc_type:
        return f"body.document is a {recorded[served.sha256]}, not a {served.doc_type}"
    if _refusal(state) and served.doc_type != "not_accepted":
        return "a refusal is served with its 不予受理通知书"
    return None


def _refusal(state: CaseState) -> bool:
    return state.status == "not_accepted"


def deliver_order(
    state: CaseState, matter: Matter | None, body: DeliveredBody | None, needs_seal: bool
) -> str | None:
    """What stops a delivery here: an unsealed approved result, a document served and not
    returned, or a document the case did not record."""
    if state.status == "decided" and needs_seal:
        return "an approved result is delivered after it is issued"
    served_before = state.delivery_channel is not None
    if served_before and state.delivery_outcome != "returned":
        return "the document was served already (a new delivery follows a return, 退件)"
    return None if body is None else _document_problem(state, body.document)


def delivered_effect(state: CaseState, env: Envelope, body: DeliveredBody | None) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "delivery_channel": body.channel if body else "unknown",
        "delivery_tracking": body.tracking_number if body else None,
        "delivery_outcome": None,
    }
    if state.status not in _SERVED_FROM:
        changes["status"] = state.status  # a refusal, or a delivery again after a return
    return changes


def outcome_order(state: CaseState, matter: Matter | None, body: Any) -> str | None:
    if state.delivery_channel != "post" or state.delivery_outcome is not None:
        return "a receipt or a return follows a postal delivery not yet closed"
    if body is not None and body.tracking_number != state.delivery_tracking:
        return f"body.tracking_number must be the delivery's ({state.delivery_tracking})"
    return None


def outcome_effect(outcome: str) -> Any:
    def effect(state: CaseState, env: Envelope, body: Any) -> dict[str, Any]:
        return {"status": state.status, "delivery_outcome": outcome}

    return effect


_SERVED_TYPES = {"result_issued": "approval", "decided": "denial", "not_accepted": "not_accepted"}


def drafted(state: CaseState) -> dict[str, Any]:
    """A draft's ``document``: the case's latest document of the kind its state serves (the
    result in force, a denial's or a refusal's notice), if it recorded one."""
    wanted = _SERVED_TYPES.get(str(state.status))
    if state.status == "delivered":
        wanted = next((t for _, t in reversed(state.document_types) if t != "acceptance"), None)
    found = [sha for sha, kind in state.document_types if kind == wanted]
    if state.status == "result_issued" and state.result_sha256:
        found = [state.result_sha256]
    return {"document": {"type": wanted, "sha256": found[-1]}} if found else {}


def offered(state: CaseState) -> bool:
    """Whether a queue offers the delivery: a decided case not served yet."""
    return state.status in _SERVED_FROM and state.delivery_channel is None
