"""The bodies of case steps, each read once into a typed frozen value.

Every ``read`` takes the body object of a well-formed envelope and returns its value or
raises EnvelopeError saying which field is missing or ill-typed (the rules report it as
``body.invalid``). Fields a body does not name are left alone, as they always were: a client
may carry notes the rules do not judge (a review's ``basis``, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.envelope import parse_time
from ledger.errors import EnvelopeError
from ledger.signing import public_key_from_b64

__all__ = [
    "AppliedBody",
    "DecidedBody",
    "ExtendedBody",
    "Material",
    "ReasonBody",
    "ReasonedActBody",
    "RequestBody",
    "ReturnedBody",
    "ReviewedBody",
    "RevokedBody",
    "SealedBody",
    "SupervisionBody",
    "SupplementBody",
    "describe_applied",
    "describe_items",
    "opinion_body",
]


def _refuse(message: str) -> EnvelopeError:
    return EnvelopeError(message, code="body.invalid")


def text(body: Mapping[str, Any], name: str) -> str:
    """``body[name]`` if it is a non-empty string."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _refuse(f"body.{name} must be a non-empty string")
    return value


def positive(body: Mapping[str, Any], name: str, what: str = "a positive integer") -> int:
    """``body[name]`` if it is an integer (not a boolean) of at least 1."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _refuse(f"body.{name} must be {what}")
    return value


def choice(body: Mapping[str, Any], name: str, choices: frozenset[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or value not in choices:
        raise _refuse(f"body.{name} must be one of {sorted(choices)}")
    return value


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    sha256: str
    # The required material it is given for, when its name alone does not say (``for``).
    requirement: str | None = None


def materials(value: object) -> tuple[Material, ...]:
    if not isinstance(value, list):
        raise _refuse("body.materials must be a list")
    found = []
    for item in value:
        sha256 = item.get("sha256") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not item["name"]
            or not isinstance(sha256, str)
            or len(sha256) != 64
        ):
            raise _refuse("each material needs a name and a sha256 (64 hex digits)")
        requirement = optional_text(item, "for")
        found.append(Material(item["name"], sha256, requirement))
    return tuple(found)


_APPLICANT_KINDS = frozenset({"person", "organisation"})


@dataclass(frozen=True, slots=True)
class AppliedBody:
    matter_code: str
    matter_version: int
    applicant: Mapping[str, Any]
    applicant_key: bytes | None
    materials: tuple[Material, ...]
    channel: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> AppliedBody:
        matter = body.get("matter")
        if (
            not isinstance(matter, dict)
            or not isinstance(matter.get("code"), str)
            or not isinstance(matter.get("version"), int)
        ):
            raise _refuse("body.matter needs a code and an integer version")
        applicant = body.get("applicant")
        if not isinstance(applicant, dict):
            raise _refuse("body.applicant must be an object")
        key = body.get("applicant_key")
        if key is not None and not isinstance(key, str):
            raise _refuse("body.applicant_key must be a base64 public key")
        applicant_key = None if key is None else public_key_from_b64(key)
        text(applicant, "name")
        choice(applicant, "kind", _APPLICANT_KINDS)
        if applicant["kind"] == "organisation":
            # An organisation's 统一社会信用代码 is public and stays in clear; a person is
            # named by an identity commitment (ledger.personal checks its form).
            text(applicant, "id_number")
        return cls(
            matter_code=matter["code"],
            matter_version=matter["version"],
            applicant=dict(applicant),
            applicant_key=applicant_key,
            materials=materials(body.get("materials")),
            channel=text(body, "channel"),
        )


@dataclass(frozen=True, slots=True)
class SupplementBody:
    """补正: every missing item, told once."""

    items: tuple[str, ...]
    notice: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> SupplementBody:
        items = body.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise _refuse("body.items must list every missing item (补正 is told once, completely)")
        return cls(tuple(items), text(body, "notice"))


@dataclass(frozen=True, slots=True)
class RequestBody:
    """Materials the applicant (or the window for them) adds."""

    materials: tuple[Material, ...]

    @classmethod
    def read(cls, body: dict[str, Any]) -> RequestBody:
        return cls(materials(body.get("materials")))


@dataclass(frozen=True, slots=True)
class ReasonBody:
    reason: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> ReasonBody:
        return cls(text(body, "reason"))


@dataclass(frozen=True, slots=True)
class ReasonedActBody:
    """不予受理: the reason and its legal basis."""

    reason: str
    legal_basis: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> ReasonedActBody:
        return cls(text(body, "reason"), text(body, "legal_basis"))


def opinion_body(body: dict[str, Any]) -> str:
    """受理: the handler's opinion."""
    return text(body, "opinion")


_OPINIONS = frozenset({"agree", "disagree"})
_OUTCOMES = frozenset({"approved", "denied"})


@dataclass(frozen=True, slots=True)
class ReviewedBody:
    level: int
    opinion: str
    comments: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> ReviewedBody:
        return cls(
            positive(body, "level"), choice(body, "opinion", _OPINIONS), text(body, "comments")
        )


@dataclass(frozen=True, slots=True)
class DecidedBody:
    outcome: str
    decision: str
    legal_basis: str
    validity: tuple[datetime, datetime] | None
    # The licence an approval grants, printed on the decision as signed: its number and its
    # scope (许可事项 / 经营项目). Both optional.
    licence_number: str | None = None
    scope: tuple[str, ...] = ()

    @classmethod
    def read(cls, body: dict[str, Any]) -> DecidedBody:
        outcome = choice(body, "outcome", _OUTCOMES)
        decision, legal_basis = text(body, "decision"), text(body, "legal_basis")
        licence_number, scope = optional_text(body, "licence_number"), _scope(body)
        validity = body.get("validity")
        if validity is None:
            return cls(outcome, decision, legal_basis, None, licence_number, scope)
        if not isinstance(validity, dict):
            raise _refuse("body.validity must be an object with from and until")
        span = parse_time(validity.get("from")), parse_time(validity.get("until"))
        return cls(outcome, decision, legal_basis, span, licence_number, scope)


def _scope(body: Mapping[str, Any]) -> tuple[str, ...]:
    scope = body.get("scope")
    if scope is None:
        return ()
    if (
        not isinstance(scope, list)
        or not scope
        or not all(isinstance(item, str) and item.strip() for item in scope)
    ):
        raise _refuse("body.scope must list the licensed items (non-empty texts)")
    return tuple(scope)


def optional_text(body: Mapping[str, Any], name: str) -> str | None:
    """``body[name]`` if it is a non-empty string, None if absent or null."""
    return None if body.get(name) is None else text(body, name)


@dataclass(frozen=True, slots=True)
class SealedBody:
    """A sealed result; a re-issue names the document it ``supersedes``."""

    pdf_sha256: str
    seal_serial: str
    supersedes: str | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> SealedBody:
        return cls(
            text(body, "pdf_sha256"), text(body, "seal_serial"), optional_text(body, "supersedes")
        )


@dataclass(frozen=True, slots=True)
class RevokedBody:
    """撤销: the reason, its legal basis, and the document revoked (``result``, when the case
    issued one)."""

    reason: str
    legal_basis: str
    result: str | None
    promise: str | None = None  # after a failed 核查: the Promised envelope's hash

    @classmethod
    def read(cls, body: dict[str, Any]) -> RevokedBody:
        return cls(
            text(body, "reason"),
            text(body, "legal_basis"),
            optional_text(body, "result"),
            optional_text(body, "promise"),
        )


@dataclass(frozen=True, slots=True)
class ExtendedBody:
    """延期 (§42): the working days added, the reason, and the notice telling the applicant."""

    days: int
    reason: str
    notice: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> ExtendedBody:
        days = positive(body, "days", "a positive number of working days")
        return cls(days, text(body, "reason"), text(body, "notice"))


@dataclass(frozen=True, slots=True)
class SupervisionBody:
    """督办: what the supervisor orders, and by when the office must answer (optional)."""

    order: str
    due: str | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> SupervisionBody:
        due = optional_text(body, "due")
        if due is not None:
            try:
                date.fromisoformat(due)
            except ValueError:
                raise _refuse("body.due must be a date (YYYY-MM-DD)") from None
        return cls(text(body, "order"), due)


# Readings for people (the verifier's timeline): raw bodies, never trusted -------------------


def _inner(body: dict[str, Any], outer: str, inner: str) -> str:
    value = body.get(outer)
    return str(value.get(inner)) if isinstance(value, dict) else "?"


def describe_applied(body: dict[str, Any]) -> str:
    return f"applies for {_inner(body, 'matter', 'code')}: {_inner(body, 'applicant', 'name')}"


def describe_items(body: dict[str, Any]) -> str:
    return f"asks for: {', '.join(map(str, body.get('items') or []))}"


@dataclass(frozen=True, slots=True)
class ReturnedBody:
    """退回: the review level whose 不同意 sends the case back a level, and why."""

    level: int
    reason: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> ReturnedBody:
        return cls(positive(body, "level"), text(body, "reason"))
