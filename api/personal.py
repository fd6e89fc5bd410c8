"""The office's private table as the service uses it: openings sent with an envelope, and the
few reads of an identity number that a job needs, each one recorded.

Openings travel beside the signed envelope, never in it: the header ``Caseledger-Openings``
holds base64url of a JSON list ``[{"commitment", "value", "salt"}]``. Who may read a number:
the handler and the reviewers of the case (acted on it, or hold the role its next step needs)
for its applicant; an admin for a staff member; the seal service for the result it prints
(masked there).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from api.auth import Identity
from api.errors import ApiError
from ledger.personal import Opening, is_commitment
from ledger.state import CaseState
from ledger.store.application import CaseLedger

__all__ = [
    "OPENINGS_HEADER",
    "applicant_number",
    "handles_case",
    "parse_openings",
    "staff_number",
]

OPENINGS_HEADER = "Caseledger-Openings"
_MAX_OPENINGS = 8
_HANDLING = frozenset({"handler", "reviewer"})


def parse_openings(header: str | None) -> list[Opening]:
    """The openings a request carries; ApiError 422 ``body.commitment`` if unreadable."""
    if not header:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        if not isinstance(items, list) or len(items) > _MAX_OPENINGS:
            raise ValueError
        return [Opening(str(i["commitment"]), str(i["value"]), str(i["salt"])) for i in items]
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise ApiError(
            422, "body.commitment", f"{OPENINGS_HEADER} is not base64url JSON openings"
        ) from None


def handles_case(
    who: Identity, state: CaseState, matter: str | None, next_role: str | None
) -> bool:
    """Whether ``who`` handles the case: its handler or a reviewer, by having acted on it or
    by holding the role its next step needs."""
    acted = {c.split(":")[0] for c in state.capacities_of(who.principal)}
    if acted & _HANDLING:
        return True
    return next_role in _HANDLING and who.may(str(next_role), matter)


def applicant_number(
    ledger: CaseLedger, state: CaseState, *, reader: str, purpose: str, now: datetime
) -> str | None:
    """A natural applicant's identity number from the private table (the read recorded), or
    None for an organisation or a number the table lacks."""
    return _read(ledger, state.applicant.get("id_commitment"), reader, purpose, now)


def staff_number(
    ledger: CaseLedger, who: Identity, principal: str, now: datetime
) -> dict[str, Any]:
    """A staff member's identity number for an admin (ApiError 403/404 otherwise)."""
    if not who.may("admin"):
        raise ApiError(403, "role.missing", "only an admin reads a staff member's number")
    staff = ledger.directory().staff.get(principal)
    if staff is None:
        raise ApiError(404, "staff.unknown", f"no staff member {principal}")
    number = _read(ledger, staff.id_commitment, who.principal, f"staff {principal}", now)
    if number is None:
        raise ApiError(404, "personal.missing", "the private table holds no number for them")
    return {"staff": principal, "id_commitment": staff.id_commitment, "id_number": number}


def _read(
    ledger: CaseLedger, commitment: object, reader: str, purpose: str, now: datetime
) -> str | None:
    if ledger.personal is None or not is_commitment(commitment):
        return None
    opening = ledger.personal.read(str(commitment), reader=reader, purpose=purpose, now=now)
    return opening.value if opening else None
