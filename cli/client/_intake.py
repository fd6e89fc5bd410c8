"""``caseledger case apply | accept | refuse | supplement | supplemented``: the application and
its answer (申请, 受理, 不予受理, 补正告知, 补正材料)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from cli.client._case import (
    AsOption,
    Basis,
    CaseArg,
    Materials,
    Reason,
    case_app,
    kept_materials,
    material,
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
    utc_now,
)
from cli.client._show import print_appended
from cli.client._target import open_target
from cli.texts import field
from ledger.envelope import Actor, draft_envelope, seal_envelope
from ledger.personal import commit

__all__ = ["accept", "apply", "refuse", "supplement", "supplemented"]


@case_app.command(
    "apply",
    help=step_help(
        "Applied", "Record a new application", " and print its case id, number and query code."
    ),
)
@boundary
def apply(
    matter: Annotated[str, typer.Option("--matter", help="The matter code, e.g. XK-370100-001.")],
    applicant_name: Annotated[str, typer.Option("--applicant-name", help="Name of applicant.")],
    applicant_id: Annotated[
        str, typer.Option("--applicant-id", help="Identity number or credit code.")
    ],
    applicant_kind: Annotated[
        str, typer.Option("--applicant-kind", help="person or organisation.")
    ] = "person",
    matter_version: Annotated[
        int | None,
        typer.Option(
            "--matter-version", help="Default: the current version (locally or on --server)."
        ),
    ] = None,
    materials: Materials = None,
    channel: Annotated[str, typer.Option("--channel", help="window, online, post…")] = "window",
    phone: Annotated[
        str | None,
        typer.Option("--phone", help="Applicant's mobile for SMS notices (kept private)."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", help="Applicant's e-mail for notices (kept private)."),
    ] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    from cli.client._target import LocalTarget, RemoteTarget

    options = step_options(key, passphrase_env, home, db, server)
    key_file = options.key_file()
    applicant = key_file.principal.startswith("applicant:")
    body: dict[str, Any] = {
        "matter": {"code": matter, "version": matter_version or 1},
        "applicant": {"kind": applicant_kind, "name": applicant_name},
        "materials": [],
        "channel": channel,
    }
    # A natural person's number stays in the office's private table; the signed body carries
    # a salted commitment. An organisation's credit code is public and stays in clear.
    openings = [commit(applicant_id)] if applicant_kind == "person" else []
    if openings:
        body["applicant"]["id_commitment"] = openings[0].commitment
    else:
        body["applicant"]["id_number"] = applicant_id
    # The applicant is told of each step there; the signed body carries only commitments.
    contact = {name: commit(value) for name, value in (("phone_commitment", phone),
               ("email_commitment", email)) if value}  # fmt: skip
    if contact:
        body["contact"] = {name: opening.commitment for name, opening in contact.items()}
        openings.extend(contact.values())
    if applicant:
        body["applicant_key"] = key_file.key.public_key_b64
    case_id = uuid.uuid4()
    target = open_target(options, key_file)
    try:
        # An applicant brings the files to the window; a handler's are kept by the office.
        body["materials"] = (
            [material(m) for m in materials or ()]
            if applicant
            else kept_materials(target, materials or ())
        )
        if matter_version is None and isinstance(target, LocalTarget):
            latest = target.ledger.directory().latest_matter(matter)
            body["matter"]["version"] = latest.version if latest else 1
        elif matter_version is None and isinstance(target, RemoteTarget):
            body["matter"]["version"] = target.latest_matter_version(matter) or 1
        actor = Actor(
            key_file.principal,
            role or ("applicant" if applicant else "handler"),
            key_file.key.key_id,
        )
        draft = draft_envelope(
            stream=f"case:{case_id}",
            seq=1,
            step_type="Applied",
            at=utc_now(),
            actor=actor,
            prev=None,
            body=body,
        )
        result = target.append(seal_envelope(draft, key_file.key), openings)
        print_appended("Applied", result)
        detail = None if applicant else target.case(case_id)
    finally:
        target.close()
    typer.echo(field("label.case_id", case_id))
    if detail is not None:
        typer.echo(field("label.case_number", detail["case"]["case_number"]))
        if detail.get("query_code"):
            typer.echo(field("label.query_code", detail["query_code"]))


@case_app.command(
    "accept", help=step_help("Accepted", "Accept the application", ": the time limit starts.")
)
@boundary
def accept(
    case: CaseArg,
    opinion: Annotated[
        str, typer.Option("--opinion", help="Acceptance opinion (受理意见).")
    ] = "材料齐全，符合法定形式，予以受理。",
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    take_step(options, case, "Accepted", {"opinion": opinion}, role)


@case_app.command(
    "refuse",
    help=step_help("NotAccepted", "Refuse to accept the application", ": closes the case."),
)
@boundary
def refuse(
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
    fields = {"reason": reason, "legal_basis": legal_basis}
    take_step(options, case, "NotAccepted", fields, role)


@case_app.command(
    "supplement",
    help=step_help("SupplementRequested", "Ask for every missing material at once", "."),
)
@boundary
def supplement(
    case: CaseArg,
    items: Annotated[
        list[str], typer.Option("--item", help="A missing item (repeat: tell every one at once).")
    ],
    notice: Annotated[
        str | None, typer.Option("--notice", help="The one-time notice text (一次性告知).")
    ] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    text = notice or "请一次性补正以下材料：" + "、".join(items) + "。"
    take_step(options, case, "SupplementRequested", {"items": items, "notice": text}, role)


@case_app.command(
    "supplemented",
    help=step_help(
        "SupplementProvided", "Record the supplied materials", ": the case is back to applied."
    ),
)
@boundary
def supplemented(
    case: CaseArg,
    materials: Materials = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields: dict[str, Any] = {"materials": []}
    take_step(options, case, "SupplementProvided", fields, role, materials=materials or ())
