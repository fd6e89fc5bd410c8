"""``caseledger case issue``: seal an approved case's result on the organisation's host.

The seal service signs where its keys are — the host that holds the organisation folder
(``keys/seal-service.key``, ``seal/``) and reaches the database — so this command works on the
local ledger only: it builds the case receipt with its inclusion proofs and a fresh signed
checkpoint, renders the result, attaches the receipt, seals it (PAdES) and appends
ResultIssued with the PDF's SHA-256 (see api/results.py and docs/seals.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_client._case import CaseArg, case_app, case_id_of
from api.cli_client._common import DbOption, HomeOption, boundary, note, session, utc_now
from api.cli_client._show import print_appended
from api.cli_client._target import Appended

__all__ = ["issue"]


@case_app.command("issue")
@boundary
def issue(
    case: CaseArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write the sealed PDF (default HOME/results/<number>.pdf)."
        ),
    ] = None,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """Seal the result of an approved decision and record it (出证, ResultIssued).

    Runs on the organisation's host: it needs the seal service's key and the database.
    """
    from api.results import issue_result

    options = session(home=home, db=db)
    org_home = options.org_home()
    stream = f"case:{case_id_of(case)}"
    ledger = org_home.open_ledger(options.db)
    try:
        note("sealing the result: receipt and proofs, document, seal …")
        issued = issue_result(org_home, ledger, stream, now=utc_now())
    finally:
        ledger.close()
    target = out or org_home.path / "results" / f"{issued.case_number}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(issued.pdf)
    result = issued.appended
    print_appended(
        "ResultIssued",
        Appended(result.stream, result.seq, result.hash, result.leaf_index, result.replayed),
    )
    typer.echo(f"case number    {issued.case_number}")
    typer.echo(f"sealed pdf     {target}")
    typer.echo(f"pdf sha256     {issued.sha256}")
