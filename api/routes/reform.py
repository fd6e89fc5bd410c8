"""The reform modes: supervision of what they leave due, 好差评 statistics, and the
applicant's rating with the query code."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from api.deps import NowDep, ReadModelsDep, ServicesDep, public_rate
from api.reform import DueOut, RatingIn, RatingOut, RatingStatsOut, rate
from api.routes.supervision import Matter, Unit, supervisor
from api.schemas import error_responses
from ledger.timelimits import local_date

router = APIRouter(tags=["reform"])

Kind = Annotated[
    Literal["tolerance", "verification", "rectification"],
    Query(description="容缺 materials, 核查 of promises, or 差评 rectifications"),
]


@router.get(
    "/v1/supervision/reform",
    response_model=DueOut,
    dependencies=[Depends(supervisor)],
    responses=error_responses(401, 403, 422),
)
def get_reform_due(
    kind: Kind,
    read_models: ReadModelsDep,
    now: NowDep,
    overdue: Annotated[bool, Query(description="only those past their deadline")] = False,
    matter: Matter = None,
    unit: Unit = None,
) -> DueOut:
    """What the reform modes leave due, soonest deadline first."""
    today = local_date(now)
    items = read_models.reform_due(kind, today, overdue_only=overdue, matter=matter, unit=unit)
    return DueOut(as_of=today.isoformat(), kind=kind, items=[d.to_json() for d in items])


@router.get(
    "/v1/supervision/ratings",
    response_model=RatingStatsOut,
    dependencies=[Depends(supervisor)],
    responses=error_responses(401, 403),
)
def get_rating_stats(read_models: ReadModelsDep, now: NowDep) -> RatingStatsOut:
    """好差评 per matter and unit: ratings by level, 差评, rectifications open and overdue."""
    today = local_date(now)
    return RatingStatsOut(as_of=today.isoformat(), rows=read_models.rating_statistics(today))


@router.post(
    "/v1/public/cases/{case_number}/rating",
    response_model=RatingOut,
    status_code=201,
    dependencies=[Depends(public_rate)],
    responses=error_responses(403, 404, 422, 429, 503),
)
def post_rating(
    case_number: Annotated[str, Path(max_length=48)],
    code: Annotated[str, Query(max_length=16, description="the query code (查询密码)")],
    rating: RatingIn,
    _: ReadModelsDep,
    services: ServicesDep,
) -> RatingOut:
    """Rate a delivered case once (好差评), for whoever holds its query code; a 差评 opens a
    rectification due in 15 working days. Refused (403 ``rules.refused``) before delivery, a
    second time, or with a level or indicator not of the standard."""
    return rate(services, case_number, code, rating)
