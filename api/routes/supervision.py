"""Supervision (电子监察): overdue (committed and statutory apart), near-due, suspended and
undated cases, figures per matter, unit or person over a date range, and CSV and .xlsx
exports. A 督办 is a signed step (``SupervisionOrdered``) drafted and posted like any other."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api import service, spreadsheet, supervising
from api.auth import Identity
from api.deps import IdentityDep, NowDep, ReadModelsDep, ServicesDep
from api.errors import ApiError
from api.schemas import CaseOut, StatsOut, WatchOut, error_responses
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
Against = Annotated[Literal["committed", "statutory"], Query(description="which limit")]
By = Annotated[Literal["matter", "unit", "person"], Query()]
From = Annotated[date | None, Query(alias="from", description="decisions from (China date)")]
To = Annotated[date | None, Query(alias="to", description="decisions until (China date)")]


@router.get("/overdue", response_model=WatchOut)
def get_overdue(
    _: ReadModelsDep,
    services: ServicesDep,
    now: NowDep,
    matter: Matter = None,
    unit: Unit = None,
    against: Against = "committed",
) -> WatchOut:
    """Undecided cases past their committed deadline (red cards), or past the statutory one."""
    kind = "overdue" if against == "committed" else "statutory"
    return service.watch(services, kind, now, matter, unit)


@router.get("/near-due", response_model=WatchOut)
def get_near_due(
    _: ReadModelsDep, services: ServicesDep, now: NowDep, matter: Matter = None, unit: Unit = None
) -> WatchOut:
    """Undecided cases with few working days left before their committed deadline."""
    return service.watch(services, "near", now, matter, unit)


class SuspendedOut(BaseModel):
    case: CaseOut
    since: str | None
    reason: str | None
    calendar_days: int
    working_days: int


class SuspendedListOut(BaseModel):
    as_of: str
    cases: list[SuspendedOut]


@router.get("/suspended", response_model=SuspendedListOut)
def get_suspended(
    read_models: ReadModelsDep,
    services: ServicesDep,
    now: NowDep,
    matter: Matter = None,
    unit: Unit = None,
) -> SuspendedListOut:
    """Suspended cases (中止, the clock stopped): since when, how long, and why."""
    near = services.settings.near_due_days
    found = []
    for summary in read_models.undated(matter=matter, unit=unit):
        lasted = supervising.suspended_for(summary, now)
        if lasted is None:
            continue
        out = service.case_out(summary, now, near)
        found.append(
            SuspendedOut(
                case=out,
                since=out.timing.suspended_since,
                reason=out.timing.suspended_reason,
                calendar_days=lasted[0],
                working_days=lasted[1],
            )
        )
    found.sort(key=lambda item: item.since or "")
    return SuspendedListOut(as_of=local_date(now).isoformat(), cases=found)


@router.get("/calendar-unknown", response_model=WatchOut)
def get_calendar_unknown(
    read_models: ReadModelsDep,
    services: ServicesDep,
    now: NowDep,
    matter: Matter = None,
    unit: Unit = None,
) -> WatchOut:
    """Open cases whose deadline runs into a year with no published working-day calendar
    (clock.calendar_unknown): publish the year's calendar to date them."""
    near = services.settings.near_due_days
    cases = [service.case_out(s, now, near) for s in read_models.undated(matter=matter, unit=unit)]
    flagged = [c for c in cases if "clock.calendar_unknown" in c.timing.warnings]
    return WatchOut(as_of=local_date(now).isoformat(), cases=flagged)


@router.get("/stats", response_model=StatsOut)
def get_stats(read_models: ReadModelsDep, now: NowDep) -> StatsOut:
    """Per matter and unit: cases, decided, decided late, on-time rate, overdue, yellow cards."""
    today = local_date(now)
    return StatsOut(as_of=today.isoformat(), rows=read_models.statistics(today))


def _figures(
    read_models: ReadModelsDep, now: NowDep, by: str, date_from: date | None, date_to: date | None
) -> list[dict[str, object]]:
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "range.invalid", "起始日期晚于截止日期 (from is after to)")
    summaries = read_models.touched_since(supervising.since_text(date_from))
    return supervising.figures(summaries, now, by=by, date_from=date_from, date_to=date_to)


@router.get("/figures", response_model=supervising.FiguresOut)
def get_figures(
    read_models: ReadModelsDep,
    now: NowDep,
    by: By = "unit",
    date_from: From = None,
    date_to: To = None,
) -> supervising.FiguresOut:
    """Per matter, unit or person: cases decided in the range (on time against each limit,
    on-time rates) and the open cases as they stand."""
    return supervising.FiguresOut(
        as_of=local_date(now).isoformat(),
        by=by,
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None,
        rows=_figures(read_models, now, by, date_from, date_to),
    )


Kind = Annotated[Literal["open", "figures"], Query(alias="list")]


def _table(
    read_models: ReadModelsDep,
    now: NowDep,
    kind: str,
    by: str,
    date_from: date | None,
    date_to: date | None,
) -> supervising.Table:
    if kind == "figures":
        return supervising.figures_table(_figures(read_models, now, by, date_from, date_to), by)
    today = local_date(now)
    due = read_models.on_the_clock(due_by=date(today.year + 50, 1, 1))
    return supervising.cases_table([*due, *read_models.undated()], now)


def _attachment(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/export.csv", response_class=Response)
def get_export(
    read_models: ReadModelsDep,
    now: NowDep,
    kind: Kind = "open",
    by: By = "unit",
    date_from: From = None,
    date_to: To = None,
) -> Response:
    """CSV (UTF-8 with BOM, for spreadsheets): the open cases on the clock, or the figures."""
    text = supervising.to_csv(_table(read_models, now, kind, by, date_from, date_to))
    name = f"supervision-{kind}-{local_date(now).isoformat()}.csv"
    return _attachment(text.encode("utf-8"), "text/csv; charset=utf-8", name)


@router.get("/export.xlsx", response_class=Response)
def get_export_xlsx(
    read_models: ReadModelsDep,
    now: NowDep,
    kind: Kind = "open",
    by: By = "unit",
    date_from: From = None,
    date_to: To = None,
) -> Response:
    """The same rows as ``export.csv``, with the same filters, as an .xlsx workbook: dates
    are China dates in date cells, numbers and yes/no typed, rates as percentages."""
    table = _table(read_models, now, kind, by, date_from, date_to)
    today = local_date(now)
    title = spreadsheet.SHEET_TITLES[kind]
    content = spreadsheet.to_xlsx(table, title=title, as_of=today, now=now)
    name = f"supervision-{kind}-{today.isoformat()}.xlsx"
    return _attachment(content, spreadsheet.MEDIA_TYPE, name)
