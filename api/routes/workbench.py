"""The workbench's reads: names to sign in by, matters in force, a case as staff read it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from api import workbench
from api.deps import IdentityDep, NowDep, ReadModelsDep, ServicesDep
from api.schemas import error_responses

router = APIRouter(prefix="/v1", tags=["staff"])


@router.get("/staff-names", responses=error_responses(503))
def get_staff_names(services: ServicesDep, now: NowDep) -> dict[str, Any]:
    """Staff who may sign in now: id, name, unit and 工号 (no personal data), so that people
    choose themselves by name or number rather than type an id."""
    return {"staff": workbench.staff_names(services.ledger.directory(), now)}


@router.get("/matters", responses=error_responses(503))
def get_matters(services: ServicesDep) -> dict[str, Any]:
    """Every matter (事项) in its current version: what new cases apply under."""
    return {"matters": workbench.current_matters(services.ledger.directory())}


@router.get("/cases/{case_id}/view", responses=error_responses(401, 403, 404, 422))
def get_case_view(
    case_id: uuid.UUID, who: IdentityDep, _: ReadModelsDep, services: ServicesDep, now: NowDep
) -> dict[str, Any]:
    """A case as a person reads it before signing: timeline (who, role, when, body), the
    applicant as the privacy rules show them, materials, time limit, and the steps the caller
    may take now."""
    return workbench.case_view(services, who, case_id, now)
