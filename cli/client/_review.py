"""``caseledger case review | decide``: the review levels and the decision (审查, 决定), with
the validity an approved result carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from cli.client._case import AsOption, Basis, CaseArg, case_app, step_help, step_options, take_step
from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    KeyOption,
    PassphraseOption,
    ServerOption,
    boundary,
    utc_now,
)
from cli.client._target import parse_when
from ledger.clock import china_date
from ledger.envelope import format_time
from ledger.validity import validity_body, validity_days, validity_text

__all__ = ["decide", "review"]


@case_app.command("review", help=step_help("Reviewed", "Record your review at the next level", "."))
@boundary
def review(
    case: CaseArg,
    comments: Annotated[str, typer.Option("--comments", help="Review comments (审查意见).")],
    opinion: Annotated[str, typer.Option("--opinion", help="agree or disagree.")] = "agree",
    basis: Annotated[str, typer.Option("--basis", help="Basis for the opinion.")] = "",
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields = {"opinion": opinion, "comments": comments, "basis": basis}
    take_step(options, case, "Reviewed", fields, role)


@case_app.command(
    "decide", help=step_help("Decided", "Decide the case", "; an approved result has a validity.")
)
@boundary
def decide(
    case: CaseArg,
    decision: Annotated[str, typer.Option("--decision", help="The decision text.")],
    legal_basis: Basis,
    outcome: Annotated[str, typer.Option("--outcome", help="approved or denied.")] = "approved",
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="Validity start (default now).")
    ] = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until", help="Validity end.")] = None,
    valid_years: Annotated[
        int | None,
        typer.Option(
            "--valid-years",
            help="Validity in calendar years, instead of --valid-until: it ends the day "
            "before the anniversary of --valid-from.",
        ),
    ] = None,
    licence_number: Annotated[
        str | None, typer.Option("--licence-number", help="The licence number (许可证编号).")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A licensed item (许可事项/经营项目). Repeat for each."),
    ] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields: dict[str, Any] = {"outcome": outcome, "decision": decision, "legal_basis": legal_basis}
    if licence_number:
        fields["licence_number"] = licence_number
    if scope:
        fields["scope"] = scope
    validity = ""
    if outcome == "approved" and (valid_until or valid_years):
        start = parse_when(valid_from) if valid_from else utc_now()
        period = _validity(start, valid_until, valid_years)
        fields["validity"] = {name: format_time(at) for name, at in period.items()}
        validity = validity_text(*validity_days(fields["validity"]))
    take_step(options, case, "Decided", fields, role)
    if validity:
        typer.echo(validity)


def _validity(start: datetime, valid_until: str | None, years: int | None) -> dict[str, datetime]:
    """The signed validity: to the China date of --valid-until, or --valid-years calendar
    years; ClientError ``input.validity`` if it is empty or ends before it begins."""
    try:
        if valid_until:
            return validity_body(start, last_day=china_date(parse_when(valid_until)))
        return validity_body(start, years=years)
    except ValueError as exc:
        raise ClientError(f"the validity is not usable: {exc}", code="input.validity") from None
