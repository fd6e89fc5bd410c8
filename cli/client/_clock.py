"""``caseledger case extend`` (延期, §42) and ``case supervise`` (督办): the clock's steps."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.client._case import AsOption, CaseArg, case_app, step_help, step_options, take_step
from cli.client._common import (
    DbOption,
    HomeOption,
    KeyOption,
    PassphraseOption,
    ServerOption,
    boundary,
)

__all__ = ["extend", "supervise"]


@case_app.command("extend")
@boundary
def extend(
    case: CaseArg,
    days: Annotated[
        int,
        typer.Option("--days", help="Working days added (at most the matter's maximum, §42: 10)."),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (the head's approval).")],
    notice: Annotated[str, typer.Option("--notice", help="What the applicant is told.")],
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "Extended", {"days": days, "reason": reason, "notice": notice}, role)


extend.__doc__ = step_help(
    "Extended", "Extend the time limits by working days, with the head's approval", "."
)


@case_app.command("supervise")
@boundary
def supervise(
    case: CaseArg,
    order: Annotated[str, typer.Option("--order", help="What the office is ordered to do.")],
    due: Annotated[str | None, typer.Option("--due", help="Answer by (YYYY-MM-DD).")] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "SupervisionOrdered", {"order": order, "due": due}, role)


supervise.__doc__ = step_help("SupervisionOrdered", "Record a supervision order on the case", ".")
