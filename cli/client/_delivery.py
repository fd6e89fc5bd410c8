"""``caseledger case deliver | received | returned``: serving the result or a notice (送达) and
the post's answer (签收, 退件)."""

from __future__ import annotations

from typing import Annotated, Any

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
from ledger.personal import commit

__all__ = ["deliver", "received", "returned"]


@case_app.command(
    "deliver", help=step_help("Delivered", "Record delivery of the result", ": closes the case.")
)
@boundary
def deliver(
    case: CaseArg,
    recipient: Annotated[str, typer.Option("--recipient", help="Who received the result.")],
    channel: Annotated[
        str, typer.Option("--channel", help="window, post or electronic.")
    ] = "window",
    tracking: Annotated[
        str | None, typer.Option("--tracking", help="Postal tracking number (post).")
    ] = None,
    carrier: Annotated[
        str | None, typer.Option("--carrier", help="Postal carrier, e.g. 中国邮政EMS (post).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Postal address (post): signed as a commitment, kept in the private table.",
        ),
    ] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields: dict[str, Any] = {"channel": channel, "recipient": recipient}
    if tracking:
        fields["tracking_number"] = tracking
    if carrier:
        fields["carrier"] = carrier
    openings = [commit(address)] if address else []
    if openings:
        fields["address_commitment"] = openings[0].commitment
    take_step(options, case, "Delivered", fields, role, openings)


@case_app.command(
    "received", help=step_help("DeliveryReceived", "Record the postal receipt (签收)", ".")
)
@boundary
def received(
    case: CaseArg,
    tracking: Annotated[str, typer.Option("--tracking", help="The delivery's tracking number.")],
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "DeliveryReceived", {"tracking_number": tracking}, role)


@case_app.command(
    "returned", help=step_help("DeliveryReturned", "Record a returned postal delivery (退件)", ".")
)
@boundary
def returned(
    case: CaseArg,
    tracking: Annotated[str, typer.Option("--tracking", help="The delivery's tracking number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it came back, e.g. 查无此人.")],
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields = {"tracking_number": tracking, "reason": reason}
    take_step(options, case, "DeliveryReturned", fields, role)
