"""``caseledger case …``: take a case's steps with your own key, and read a case.

This module holds the ``case`` group and what its commands share; the commands themselves are
in one module per family: the application and its answer (:mod:`cli.client._intake`), review
and decision (``_review``), serving (``_delivery``), the steps a reason carries
(``_reasoned``), the clock (``_clock``), sealing (``_issue``, ``_notice``) and reading
(``_read``).

Every step command builds the case's next envelope (its ``seq`` and ``prev`` from the server's
``GET /v1/cases/{id}/next`` with ``--server``, else from the local ledger's head), signs it
with the staff member's key file, and posts or appends it. The rules decide on the other side;
a refusal is printed with its violation codes and exits 1.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import ClientError, Session, session
from cli.client._show import print_appended
from cli.client._target import Appended, Target, open_target
from ledger.envelope import seal_envelope
from ledger.personal import Opening
from ledger.state import case_id_of_number
from ledger.steps import STEPS

__all__ = [
    "AsOption",
    "Basis",
    "CaseArg",
    "Materials",
    "Reason",
    "case_app",
    "case_id_of",
    "kept_materials",
    "material",
    "step_help",
    "step_options",
    "take_step",
]

case_app = typer.Typer(
    help="Take a case's steps with your own key (apply, accept, review, decide, deliver …) "
    "and read its timeline.",
    no_args_is_help=True,
)

CaseArg = Annotated[str, typer.Argument(help="The case id (a UUID, as `case apply` printed).")]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as", help="The role to act in (default: the one the step needs).", show_default=False
    ),
]
Reason = Annotated[str, typer.Option("--reason", help="The reason, as told to the applicant.")]
Basis = Annotated[str, typer.Option("--legal-basis", help="The legal basis (法律依据).")]
Materials = Annotated[
    list[str] | None,
    typer.Option(
        "--material",
        help="A material: a file (hashed here) or NAME=SHA256. Repeat for each.",
        show_default=False,
    ),
]
_SHA = re.compile(r"^[0-9a-f]{64}$")


def step_help(step_type: str, what: str, after: str) -> str:
    """A step command's help: what it does, then the step's names as the step table gives."""
    step = STEPS[step_type]
    return f"{what} ({step.zh}, {step.name}){after}"


def case_id_of(text: str) -> uuid.UUID:
    """The UUID of ``<uuid>``, ``case:<uuid>`` or a case number (which carries the whole id);
    ClientError ``input.case`` otherwise."""
    from_number = case_id_of_number(text.strip().upper())
    if from_number is not None:
        return uuid.UUID(from_number)
    try:
        return uuid.UUID(text.removeprefix("case:"))
    except ValueError:
        raise ClientError(f"{text!r} is not a case id (a UUID)", code="input.case") from None


def material(spec: str) -> dict[str, str]:
    """A material entry from a file path or ``NAME=SHA256``."""
    path = Path(spec)
    if path.is_file():
        return {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    name, _, digest = spec.rpartition("=")
    if name and _SHA.match(digest.lower()):
        return {"name": name, "sha256": digest.lower()}
    raise ClientError(
        f"{spec!r} is neither a file nor NAME=SHA256 (64 hex digits)", code="input.material"
    )


def kept_materials(target: Target, specs: Sequence[str]) -> list[dict[str, str]]:
    """The materials a step names. A file is first kept by the office (uploaded to the
    server, or put in the organisation's own store), so the staff handling the case can open
    what the step signs; ``NAME=SHA256`` names a file kept already."""
    entries = []
    for spec in specs:
        entry = material(spec)
        path = Path(spec)
        if path.is_file() and target.keep_material(path.read_bytes()) != entry["sha256"]:
            raise ClientError(
                f"{path.name} changed while it was being kept; try again", code="input.material"
            )
        entries.append(entry)
    return entries


def take_step(
    options: Session,
    case: str,
    step_type: str,
    fields: dict[str, Any],
    role: str | None,
    openings: Sequence[Opening] = (),
    *,
    materials: Sequence[str] = (),
) -> Appended:
    """Draft the case's next ``step_type`` for the key holder, fill in ``fields`` (and the
    ``materials``, kept by the office first), sign, append.

    Raises ClientError (or the ledger's own errors, locally) with the refusal's codes.
    """
    case_id = case_id_of(case)
    key_file = options.key_file()
    target = open_target(options, key_file)
    try:
        draft = target.draft(case_id, step_type, role)
        body = dict(fields)
        if materials:
            # An applicant brings the files to the window; staff files are kept here.
            applicant = key_file.principal.startswith("applicant:")
            body["materials"] = (
                [material(m) for m in materials] if applicant else kept_materials(target, materials)
            )
        if step_type in ("Reviewed", "Returned"):
            body["level"] = draft["body"].get("level", 1)
        if step_type == "ResultRevoked" and "result" in draft["body"]:
            body["result"] = draft["body"]["result"]  # the document it ends, as drafted
        if step_type == "Delivered" and "document" in draft["body"]:
            body.setdefault("document", draft["body"]["document"])  # the document served
        draft["body"] = body
        result = target.append(seal_envelope(draft, key_file.key), openings)
    finally:
        target.close()
    print_appended(step_type, result)
    return result


def step_options(
    key: Path | None,
    passphrase_env: str | None,
    home: Path | None,
    db: str | None,
    server: str | None,
) -> Session:
    """The session a step command's options name."""
    return session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
