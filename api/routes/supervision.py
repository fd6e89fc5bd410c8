"""Supervision (电子监察): overdue and near-due cases, on-time statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import service
from api.auth import Identity
from api.deps import IdentityDep, NowDep, ReadModelsDep, ServicesDep
from api.errors import ApiError
from api.schemas import StatsOut, WatchOut, error_responses
from ledger.timelimits import local_date


def supervisor(who: IdentityDep) -> Identity:
    """The caller, if they hold the supervisor role; ApiError 403 otherwise."""
    if not who.may("supervisor"):
        raise ApiError(403, "role.missing", "supervision needs the supervisor role")
    return who


router = APIRouter(
    prefix="/v1/supervision",
    tags=["supervision"],
    dependencies=[Depends(supervisor)],
    responses=error_responses(401, 403, 422),
)
Matter = Annotated[str | None, Query(max_length=64, examples=["XK-370100-001"])]
Unit = Annotated[str | None, Query(max_length=200)]


@router.get("/overdue", response_model=WatchOut)
def get_overdue(
    _: ReadModelsDep, services: ServicesDep, now: NowDep, matter: Matter = None, unit: Unit = None
) -> WatchOut:
    """Undecided cases past their committed deadline (red cards)."""
    return service.watch(services, "overdue", now, matter, unit)


@router.get("/near-due", response_model=WatchOut)
def get_near_due(
    _: ReadModelsDep, services: ServicesDep, now: NowDep, matter: Matter = None, unit: Unit = None
) -> WatchOut:
    """Undecided cases with few working days left before their committed deadline."""
    return service.watch(services, "near", now, matter, unit)


@router.get("/stats", response_model=StatsOut)
def get_stats(read_models: ReadModelsDep, now: NowDep) -> StatsOut:
    """Per matter and unit: cases, decided, decided late, on-time rate, overdue, yellow cards."""
    today = local_date(now)
    return StatsOut(as_of=today.isoformat(), rows=read_models.statistics(today))
