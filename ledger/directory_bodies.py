"""The directory's staff, key and grant bodies, each read once into a typed frozen value
(an unreadable body is ``body.invalid``); :func:`ledger.directory.read_change` reads them, with
the matter, 告知承诺 bar and calendar bodies, and :class:`ledger.directory.DirectoryState` folds
them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.envelope import parse_time
from ledger.errors import EnvelopeError
from ledger.signing import public_key_from_b64

__all__ = [
    "STAFF_ROLES",
    "KeyAddedBody",
    "KeyRevokedBody",
    "RoleGrantedBody",
    "RoleRevokedBody",
    "StaffEnrolledBody",
    "integer",
    "text",
]

# "department": another department's system, which follows the feed of its matters' cases.
STAFF_ROLES = frozenset(
    {"handler", "reviewer", "approver", "admin", "seal_service", "supervisor", "department"}
)


def text(body: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    """The non-empty string member ``name`` (None if ``optional`` and absent)."""
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"body.{name} must be a non-empty string", code="body.invalid")
    return value


def integer(body: dict[str, Any], name: str) -> int:
    """The non-negative integer member ``name``."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EnvelopeError(f"body.{name} must be a non-negative integer", code="body.invalid")
    return value


@dataclass(frozen=True, slots=True)
class StaffEnrolledBody:
    staff: str
    name: str
    unit: str
    # A salted commitment to the identity number (ledger.personal); the number is private.
    id_commitment: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> StaffEnrolledBody:
        return cls(*(text(body, n) for n in ("staff", "name", "unit", "id_commitment")))


@dataclass(frozen=True, slots=True)
class KeyAddedBody:
    staff: str
    public_key: bytes

    @classmethod
    def read(cls, body: dict[str, Any]) -> KeyAddedBody:
        return cls(text(body, "staff"), public_key_from_b64(text(body, "public_key")))


@dataclass(frozen=True, slots=True)
class KeyRevokedBody:
    key_id: str
    reason: str
    void_from: datetime | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> KeyRevokedBody:
        key, reason = text(body, "key_id"), text(body, "reason")
        void_from = parse_time(body["void_from"]) if "void_from" in body else None
        return cls(key, reason, void_from)


@dataclass(frozen=True, slots=True)
class RoleGrantedBody:
    grant: str
    staff: str
    role: str
    unit: str
    matters: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None
    qualification: str | None

    @classmethod
    def read(cls, body: dict[str, Any]) -> RoleGrantedBody:
        grant, staff, role, unit = (text(body, n) for n in ("grant", "staff", "role", "unit"))
        if role not in STAFF_ROLES:
            raise EnvelopeError(
                f"role {role!r} is not one of {sorted(STAFF_ROLES)}", code="body.invalid"
            )
        valid_from = parse_time(body.get("valid_from"))
        until = body.get("valid_until")
        valid_until = parse_time(until) if until is not None else None
        matters = body.get("matters")
        if (
            not isinstance(matters, list)
            or not matters
            or not all(isinstance(m, str) for m in matters)
        ):
            raise EnvelopeError(
                "body.matters must be a list of matter codes or ['*']", code="body.invalid"
            )
        qualification = text(body, "qualification", optional=True)
        return cls(grant, staff, role, unit, tuple(matters), valid_from, valid_until, qualification)


@dataclass(frozen=True, slots=True)
class RoleRevokedBody:
    grant: str
    reason: str

    @classmethod
    def read(cls, body: dict[str, Any]) -> RoleRevokedBody:
        return cls(text(body, "grant"), text(body, "reason"))
