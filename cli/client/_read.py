"""``caseledger case show`` and ``case history``: a case as the ledger or the server holds it.

Locally, reading needs only the organisation folder; from a server, staff sign in with their
key and see the cases their roles cover.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.client._case import CaseArg, case_app, case_id_of, step_options
from cli.client._common import (
    DbOption,
    HomeOption,
    KeyOption,
    PassphraseOption,
    ServerOption,
    Session,
    boundary,
)
from cli.client._show import print_case, print_history
from cli.client._target import open_target

__all__ = ["history", "show"]


def _detail(options: Session, case: str) -> dict[str, Any]:
    case_id = case_id_of(case)
    needs_key = options.server_url() is not None or options.key is not None
    target = open_target(options, options.key_file() if needs_key else None)
    try:
        return target.case(case_id)
    finally:
        target.close()


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@case_app.command("show")
@boundary
def show(
    case: CaseArg,
    as_json: JsonOption = False,
    key: KeyOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    """Where a case stands: status, deadlines, who acted, and its timeline."""
    detail = _detail(step_options(key, passphrase_env, home, db, server), case)
    print_case(detail, as_json=as_json)


@case_app.command("history")
@boundary
def history(
    case: CaseArg,
    as_json: JsonOption = False,
    key: KeyOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    """Every signed step of a case: signer, key, hash and body.

    With --json: the stored envelopes, one per line, byte for byte.
    """
    detail = _detail(step_options(key, passphrase_env, home, db, server), case)
    print_history(detail, as_json=as_json)
