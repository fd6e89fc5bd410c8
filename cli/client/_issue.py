"""``caseledger case issue``: seal an approved case's result on the organisation's host.

The seal service signs where its keys are — the host that holds the organisation folder
(``keys/seal-service.key``, ``seal/``) and reaches the database — so this command works on the
local ledger only: it builds the case receipt with its inclusion proofs and a fresh signed
checkpoint, renders the result, attaches the receipt, seals it (PAdES) and appends
ResultIssued with the PDF's SHA-256 (see api/results.py and docs/seals.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._case import CaseArg, case_app, case_id_of
from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    boundary,
    note,
    session,
    utc_now,
)
from cli.client._show import print_appended
from cli.client._target import Appended
from cli.texts import field, say

__all__ = ["issue"]

# The step, the PDF, the case number, where the PDF is kept and its 文号.
_Kept = tuple[Appended, bytes, str, Path, str]


@case_app.command("issue")
@boundary
def issue(
    case: CaseArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write the sealed PDF here (it is kept in HOME/documents/)."
        ),
    ] = None,
    supersede: Annotated[
        bool,
        typer.Option(
            "--supersede",
            help="Issue a corrected document replacing the one in force (before delivery); "
            "the old one's status becomes superseded.",
        ),
    ] = False,
    tsa_url: Annotated[
        str | None,
        typer.Option(
            "--tsa-url",
            envvar="CASELEDGER_TSA_URL",
            help="RFC 3161 time-stamping authority: the seal gets its timestamp (PAdES-B-LT).",
        ),
    ] = None,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """Seal the result of an approved decision and record it (出证, ResultIssued).

    Runs on the organisation's host: it needs the seal service's key and the database. For
    a result issued before, it gives the kept PDF again and changes nothing (unless
    --supersede).
    """
    from api.results import issue_result
    from seals import timestamper_for_url

    timestamper = timestamper_for_url(tsa_url) if tsa_url else None

    options = session(home=home, db=db)
    org_home = options.org_home()
    stream = f"case:{case_id_of(case)}"
    ledger = org_home.open_ledger(options.db)
    try:
        kept = None if supersede else _already_issued(org_home, ledger, stream)
        if kept is None:
            note(say("sealing.result"))
            issued = issue_result(
                org_home,
                ledger,
                stream,
                now=utc_now(),
                supersede=supersede,
                timestamper=timestamper,
            )
            result = issued.appended
            kept = (
                Appended(result.stream, result.seq, result.hash, result.leaf_index, False),
                issued.pdf,
                issued.case_number,
                issued.path,
                issued.document_number,
            )
    finally:
        ledger.close()
    appended, pdf, number, target, document_number = kept
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        target = out
    print_appended("ResultIssued", appended)
    typer.echo(field("label.case_number", number))
    typer.echo(field("label.document_number", document_number))
    typer.echo(field("label.sealed_pdf", target))
    typer.echo(field("label.pdf_sha256", hashlib.sha256(pdf).hexdigest()))


def _already_issued(home: Any, ledger: Any, stream: str) -> _Kept | None:
    """The ResultIssued step and its kept PDF when the result was issued before (by this
    command or by the server as the decision came in); None if it has not been.

    Raises ClientError ``result.file_missing`` if it was issued but no file holding the
    recorded PDF is kept in the organisation folder.
    """
    from api.results import result_file
    from ledger.store.read_models import case_number

    issued = [e for e in ledger.events(stream) if e.type == "ResultIssued"]
    if not issued:
        return None
    step = issued[-1]  # the document in force
    path = result_file(home, ledger, stream)
    if path is None:
        raise ClientError(
            f"the result was issued (seq {step.seq}) but its PDF "
            f"(sha-256 {step.body.get('pdf_sha256')}) is not kept in {home.path}",
            code="result.file_missing",
        )
    note(say("issued.before", seq=step.seq))
    leaf = ledger.log.leaf_index(bytes.fromhex(step.hash)) if ledger.log is not None else None
    state = ledger.case_state(stream)
    number = case_number(stream, state.applied_at or step.at)
    appended = Appended(stream, step.seq, step.hash, leaf, True)
    return appended, path.read_bytes(), number, path, str(step.body.get("document_number", ""))
