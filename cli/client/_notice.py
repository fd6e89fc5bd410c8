"""``caseledger case notice``: seal a case's notice on the organisation's host, or give the
kept one again.

The notices (受理通知书, 补正材料通知书, 不予受理通知书, 延期通知书, 不予行政许可决定书,
撤销行政许可决定书) are issued by the seal service like the result (api/notices.py): claimed
文号, rendered from the step it answers, receipt attached, sealed, kept in ``HOME/documents/``
and recorded with a signed DocumentIssued. Asked again for a notice already recorded, the
command changes nothing and gives the kept file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from cli.client._case import CaseArg, case_app, case_id_of
from cli.client._common import ClientError, DbOption, HomeOption, boundary, note, session, utc_now
from cli.texts import field, say

__all__ = ["notice"]

_TYPES = ("acceptance", "supplement", "not_accepted", "extension", "denial", "revocation")


@case_app.command("notice")
@boundary
def notice(
    case: CaseArg,
    doc_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="acceptance (受理通知书), supplement (补正材料通知书), not_accepted "
            "(不予受理通知书), extension (延期通知书), denial (不予行政许可决定书) or revocation "
            "(撤销行政许可决定书).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write the sealed PDF here (it is kept in HOME/documents/)."
        ),
    ] = None,
    home: HomeOption = None,
    db: DbOption = None,
) -> None:
    """Seal and record a notice of the case (DocumentIssued), or give the kept one again.

    Runs on the organisation's host: it needs the seal service's key and the database.
    """
    from api.issuing import recorded_documents
    from api.notices import issue_notice, notice_due
    from api.results import kept_file

    if doc_type not in _TYPES:
        raise ClientError(f"--type must be one of {', '.join(_TYPES)}", code="input.document_type")
    options = session(home=home, db=db)
    org_home = options.org_home()
    stream = f"case:{case_id_of(case)}"
    ledger = org_home.open_ledger(options.db)
    try:
        if notice_due(ledger, stream, doc_type) is not None:
            note(say("sealing.notice", doc_type=doc_type))
            issued = issue_notice(org_home, ledger, stream, doc_type, now=utc_now())
            number, path, pdf = issued.document_number, issued.path, issued.pdf
        else:
            found = [d for d in recorded_documents(ledger, stream) if d.doc_type == doc_type]
            if not found:
                raise ClientError(
                    f"the case has taken no step a {doc_type} notice answers",
                    code="document.not_due",
                )
            kept = kept_file(org_home, stream, found[-1])
            if kept is None:
                raise ClientError(
                    f"the {doc_type} notice was recorded but its PDF is not kept in "
                    f"{org_home.path}",
                    code="document.file_missing",
                )
            note(say("notice.before", doc_type=doc_type))
            number, path, pdf = found[-1].document_number, kept, kept.read_bytes()
    finally:
        ledger.close()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        path = out
    typer.echo(field("label.document_number", number))
    typer.echo(field("label.sealed_pdf", path))
    typer.echo(field("label.pdf_sha256", hashlib.sha256(pdf).hexdigest()))
