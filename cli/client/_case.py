"""``caseledger case …``: take a case's steps with your own key, and read a case.

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
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    KeyOption,
    PassphraseOption,
    ServerOption,
    Session,
    boundary,
    session,
    utc_now,
)
from cli.client._show import print_appended
from cli.client._target import Appended, open_target, parse_when
from cli.texts import field
from ledger.clock import china_date
from ledger.envelope import Actor, draft_envelope, format_time, seal_envelope
from ledger.personal import Opening, commit
from ledger.state import case_id_of_number
from ledger.steps import STEPS
from ledger.validity import validity_body, validity_days, validity_text

__all__ = ["case_app"]

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


def take_step(
    options: Session,
    case: str,
    step_type: str,
    fields: dict[str, Any],
    role: str | None,
    openings: Sequence[Opening] = (),
) -> Appended:
    """Draft the case's next ``step_type`` for the key holder, fill in ``fields``, sign, append.

    Raises ClientError (or the ledger's own errors, locally) with the refusal's codes.
    """
    case_id = case_id_of(case)
    key_file = options.key_file()
    target = open_target(options, key_file)
    try:
        draft = target.draft(case_id, step_type, role)
        body = dict(fields)
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


def _opts(**options: Any) -> Session:
    return session(**options)


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

    options = _opts(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    key_file = options.key_file()
    applicant = key_file.principal.startswith("applicant:")
    body: dict[str, Any] = {
        "matter": {"code": matter, "version": matter_version or 1},
        "applicant": {"kind": applicant_kind, "name": applicant_name},
        "materials": [material(m) for m in materials or ()],
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


def step_options(
    key: Path | None,
    passphrase_env: str | None,
    home: Path | None,
    db: str | None,
    server: str | None,
) -> Session:
    return _opts(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)


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
    fields = {"materials": [material(m) for m in materials or ()]}
    take_step(options, case, "SupplementProvided", fields, role)


@case_app.command("review", help=step_help("Reviewed", "Record your review at the next level", "."))
@boundary
def review(
    case: CaseArg,
    comments: Annotated[str, typer.Option("--comments", help="Review comments (审查意见).")],
    opinion: Annotated[str, typer.Option("--opinion", help="agree or disagree.")] = "agree",
    basis: Annotated[str, typer.Option("--basis", help="Basis for the opinion.")] = "",
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields = {"opinion": opinion, "comments": comments, "basis": basis}
    take_step(options, case, "Reviewed", fields, role)


@case_app.command(
    "decide", help=step_help("Decided", "Decide the case", "; an approved result has a validity.")
)
@boundary
def decide(
    case: CaseArg,
    decision: Annotated[str, typer.Option("--decision", help="The decision text.")],
    legal_basis: Basis,
    outcome: Annotated[str, typer.Option("--outcome", help="approved or denied.")] = "approved",
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="Validity start (default now).")
    ] = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until", help="Validity end.")] = None,
    valid_years: Annotated[
        int | None,
        typer.Option(
            "--valid-years",
            help="Validity in calendar years, instead of --valid-until: it ends the day "
            "before the anniversary of --valid-from.",
        ),
    ] = None,
    licence_number: Annotated[
        str | None, typer.Option("--licence-number", help="The licence number (许可证编号).")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A licensed item (许可事项/经营项目). Repeat for each."),
    ] = None,
    key: KeyOption = None,
    role: AsOption = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: ServerOption = None,
) -> None:
    options = step_options(key, passphrase_env, home, db, server)
    fields: dict[str, Any] = {"outcome": outcome, "decision": decision, "legal_basis": legal_basis}
    if licence_number:
        fields["licence_number"] = licence_number
    if scope:
        fields["scope"] = scope
    validity = ""
    if outcome == "approved" and (valid_until or valid_years):
        start = parse_when(valid_from) if valid_from else utc_now()
        period = _validity(start, valid_until, valid_years)
        fields["validity"] = {name: format_time(at) for name, at in period.items()}
        validity = validity_text(*validity_days(fields["validity"]))
    take_step(options, case, "Decided", fields, role)
    if validity:
        typer.echo(validity)


def _validity(start: datetime, valid_until: str | None, years: int | None) -> dict[str, datetime]:
    """The signed validity: to the China date of --valid-until, or --valid-years calendar
    years; ClientError ``input.validity`` if it is empty or ends before it begins."""
    try:
        if valid_until:
            return validity_body(start, last_day=china_date(parse_when(valid_until)))
        return validity_body(start, years=years)
    except ValueError as exc:
        raise ClientError(f"the validity is not usable: {exc}", code="input.validity") from None


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
