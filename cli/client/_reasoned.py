"""``caseledger case return | suspend | resume | withdraw | revoke``: the steps whose body is
a reason (退回, 中止, 恢复计时, 撤回; 撤销 with its legal basis)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.client._case import (
    AsOption,
    Basis,
    CaseArg,
    Reason,
    case_app,
    step_help,
    step_options,
    take_step,
)
from cli.client._common import (
    DbOption,
    HomeOption,
    KeyOption,
    PassphraseOption,
    ServerOption,
    boundary,
)

__all__ = ["return_review", "revoke"]


@case_app.command(
    "return",
    help=step_help("Returned", "Return your 不同意 review to the level before", "."),
)
@boundary
def return_review(
    case: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it goes back (退回理由).")],
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "Returned", {"reason": reason}, role)


def _reason_step(step_type: str, help_text: str) -> None:
    """Register a command whose body is a reason alone (suspend, resume, withdraw)."""

    @boundary
    def command(
        case: CaseArg,
        reason: Reason,
        key: KeyOption = None,
        role: AsOption = None,
        passphrase_env: PassphraseOption = None,
        home: HomeOption = None,
        db: DbOption = None,
        server: ServerOption = None,
    ) -> None:
        options = step_options(key, passphrase_env, home, db, server)
        take_step(options, case, step_type, {"reason": reason}, role)

    command.__doc__ = help_text
    name = {"Suspended": "suspend", "Resumed": "resume", "Withdrawn": "withdraw"}[step_type]
    case_app.command(name)(command)


_reason_step("Suspended", step_help("Suspended", "Stop the clock (hearing, expert review…)", "."))
_reason_step("Resumed", step_help("Resumed", "Restart the clock after a suspension", "."))
_reason_step("Withdrawn", step_help("Withdrawn", "Record that the application is withdrawn", "."))


@case_app.command("revoke", help=step_help("ResultRevoked", "Revoke a delivered result", "."))
@boundary
def revoke(
    case: CaseArg,
    reason: Reason,
    legal_basis: Basis,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "ResultRevoked", {"reason": reason, "legal_basis": legal_basis}, role)
