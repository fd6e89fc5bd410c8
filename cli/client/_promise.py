"""``caseledger promise bar | clear``: an applicant barred from 告知承诺 after a false promise
(a directory fact, signed with an admin key), and the bar lifted again.

The bar names the applicant as their case names them: an organisation by its credit code, a
person by the identity commitment of that case (the office's private table recognises the
same person behind another case's commitment; see docs/rules.md, 告知承诺).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.client._case import CaseArg, case_id_of
from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    PassphraseOption,
    boundary,
    session,
)
from cli.client._directory import AdminKey, Server, sign_and_append
from cli.client._target import open_target
from cli.texts import field

__all__ = ["promise_app"]

promise_app = typer.Typer(
    help="Bar an applicant from 告知承诺 after a false promise, or lift the bar.",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the directory).")]


@promise_app.command("bar")
@boundary
def bar(
    case: CaseArg,
    reason: Reason,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="The applicant as the case names them (default: read from the case).",
        ),
    ] = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Bar the applicant of CASE (whose promise failed its 核查) from 告知承诺 (PromiseBarred)."""
    case_id = case_id_of(case)
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    if subject is None:
        target = open_target(options, options.key_file("admin") if server else None)
        try:
            applicant = target.case(case_id)["applicant"]
        finally:
            target.close()
        subject = applicant.get("id_commitment") or applicant.get("id_number")
    if not subject:
        raise ClientError("the case names no applicant id; give --subject", code="input.subject")
    stream = f"case:{case_id}"
    body = {"bar": f"bar:{case_id}", "subject": subject, "case": stream, "reason": reason}
    sign_and_append(options, [("PromiseBarred", body)])
    typer.echo(field("label.bar", f"bar:{case_id}"))


@promise_app.command("clear")
@boundary
def clear(
    bar_id: Annotated[str, typer.Argument(help="The bar, as `promise bar` printed it.")],
    reason: Reason,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Lift a bar (PromiseBarCleared), e.g. after 信用修复."""
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, [("PromiseBarCleared", {"bar": bar_id, "reason": reason})])
