"""``caseledger commitment check``: an auditor given a number and its salt checks that they
open an identity commitment from a signed record. Needs no organisation folder."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.texts import say
from ledger.personal import is_commitment, opens

__all__ = ["register"]

commitment_app = typer.Typer(
    help="Identity commitments (pc1:…) in signed records.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(commitment_app, name="commitment")


@commitment_app.command("check")
def check(
    commitment: Annotated[str, typer.Argument(help="The pc1:… commitment from the record.")],
    salt: Annotated[str, typer.Option("--salt", help="The salt (64 hex digits).")],
    number: Annotated[
        str | None,
        typer.Option("--number", help="The identity number (asked for, unechoed, if not given)."),
    ] = None,
) -> None:
    """Whether NUMBER and SALT open COMMITMENT; exit 0 if they do, 1 if not."""
    if not is_commitment(commitment):
        typer.echo(json.dumps({"opens": False, "code": "body.commitment"}))
        raise typer.Exit(1)
    value = number if number is not None else typer.prompt(say("number.prompt"), hide_input=True)
    ok = opens(commitment, value, salt.strip().lower())
    typer.echo(json.dumps({"opens": ok}))
    raise typer.Exit(0 if ok else 1)
