"""Admin: the directory (who may do what) — read it, and post signed directory changes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import service
from api.auth import Identity
from api.deps import AddressDep, IdentityDep, NowDep, ServicesDep
from api.errors import ApiError
from api.personal import parse_openings, staff_number
from api.routes.staff import APPEND_RESPONSES, ENVELOPE_BODY, OpeningsHeader, RawBody
from api.schemas import (
    AppendOut,
    DirectoryOut,
    SetAsideItem,
    SetAsideOut,
    StaffIdentityOut,
    error_responses,
)

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/directory", response_model=DirectoryOut, responses=error_responses(401, 403))
def get_directory(who: IdentityDep, services: ServicesDep) -> DirectoryOut:
    """Staff, keys, grants and matters (admins only)."""
    _admin(who, "see the directory")
    return service.directory_out(services.ledger.directory())


@router.post(
    "/directory",
    status_code=201,
    response_model=AppendOut,
    openapi_extra=ENVELOPE_BODY,
    responses=APPEND_RESPONSES,
)
async def post_directory(
    raw: RawBody,
    services: ServicesDep,
    now: NowDep,
    address: AddressDep,
    response: Response,
    openings: OpeningsHeader = None,
) -> AppendOut:
    """Append a signed directory envelope (signed by an admin, or the root key for seq 1).
    A StaffEnrolled's identity number travels in the Caseledger-Openings header."""
    result = await service.append_envelope(
        services,
        raw,
        now,
        address=address,
        only_directory=True,
        openings=parse_openings(openings),
    )
    if result.replayed:
        response.status_code = 200
    return result


@router.get(
    "/staff/{principal}/identity",
    response_model=StaffIdentityOut,
    responses=error_responses(401, 403, 404, 422),
)
def get_staff_identity(
    principal: str, who: IdentityDep, services: ServicesDep, now: NowDep
) -> StaffIdentityOut:
    """A staff member's identity number from the private table (admins only; each read is
    recorded)."""
    return StaffIdentityOut(**staff_number(services.ledger, who, principal, now))


def _admin(who: Identity, what: str) -> None:
    if not who.may("admin"):
        raise ApiError(403, "role.missing", f"only admins {what}")


@router.get(
    "/read-models/set-aside", response_model=SetAsideOut, responses=error_responses(401, 403)
)
def get_set_aside(who: IdentityDep, services: ServicesDep) -> SetAsideOut:
    """Cases the read models set aside (their summaries failed; their steps are stored)."""
    _admin(who, "see the cases set aside")
    items = [SetAsideItem(**e.to_json()) for e in services.read_models.set_aside()]
    return SetAsideOut(cases=items)


@router.post(
    "/read-models/set-aside/retry", response_model=SetAsideOut, responses=error_responses(401, 403)
)
def retry_set_aside(who: IdentityDep, services: ServicesDep) -> SetAsideOut:
    """Fold every set-aside case again; those that now fold are taken back."""
    _admin(who, "retry the cases set aside")
    taken = services.read_models.retry_set_aside(services.ledger)
    items = [SetAsideItem(**e.to_json()) for e in services.read_models.set_aside()]
    return SetAsideOut(cases=items, taken_back=taken)
