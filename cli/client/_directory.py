"""``caseledger keygen`` and ``staff …``: keys, people and their roles in the directory.

Directory changes are envelopes of ``directory:<org>`` signed by an admin's key (default the
organisation's ``keys/admin.key``), appended to the local database or posted to ``--server``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    PassphraseOption,
    Session,
    boundary,
    passphrase_for,
    session,
    utc_now,
)
from cli.client._target import Appended, DirectoryView, Target, open_target, parse_when
from cli.texts import field, say
from ledger.client import Signer, StreamWriter, grant_body
from ledger.directory import STAFF_ROLES
from ledger.keyfile import KeyFile
from ledger.personal import Opening, commit
from ledger.signing import PrivateKey, public_key_from_b64

__all__ = ["AdminKey", "Server", "keygen", "sign_and_append", "staff_app"]

staff_app = typer.Typer(
    help="Enrol staff and their keys, grant and revoke roles (signed with an admin key).",
    no_args_is_help=True,
)

PRINCIPAL = re.compile(r"^[a-z]+:[A-Za-z0-9._@-]{1,64}$")

AdminKey = Annotated[
    Path | None,
    typer.Option(
        "--key", help="The admin's key file (default HOME/keys/admin.key).", show_default=False
    ),
]
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="CASELEDGER_SERVER",
        help="Base URL of a caseledger server (env CASELEDGER_SERVER); default: the local "
        "database.",
        show_default=False,
    ),
]
PublicKey = Annotated[
    str | None,
    typer.Option("--public-key", help="The staff member's public key (base64, from keygen)."),
]
FromKey = Annotated[
    Path | None,
    typer.Option(
        "--from-key",
        help="Read the public key from the staff member's key file (no passphrase needed).",
    ),
]


def _principal(value: str) -> str:
    if not PRINCIPAL.match(value):
        raise ClientError(
            f"{value!r} is not a principal such as staff:wang.li", code="input.principal"
        )
    return value


@boundary
def keygen(
    principal: Annotated[str, typer.Option("--principal", help="Whose key: e.g. staff:wang.li.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the key file.")],
    passphrase_env: PassphraseOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Make a new Ed25519 key in a passphrase-protected key file, and print the key id and
    public key for the admin to enrol (`caseledger staff add … --public-key …`)."""
    _principal(principal)
    if out.exists() and not force:
        raise ClientError(f"{out} exists; choose another path or --force", code="keyfile.exists")
    passphrase = passphrase_for(out, passphrase_env, confirm=True)
    key = PrivateKey.generate()
    KeyFile(principal, key).save(out, passphrase)
    typer.echo(field("label.key_file", out))
    typer.echo(field("label.principal", principal))
    typer.echo(field("label.key_id", key.key_id))
    typer.echo(field("label.public_key", key.public_key_b64))


def _public_key(public_key: str | None, from_key: Path | None, principal: str) -> str:
    """The base64 public key to enrol, from --public-key or a key file's public part."""
    if from_key is not None:
        try:
            doc = json.loads(from_key.read_text(encoding="utf-8"))
            public_key, owner = str(doc["public_key"]), str(doc["principal"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ClientError(
                f"{from_key} is not a caseledger key file", code="keyfile.invalid"
            ) from None
        if owner != principal:
            raise ClientError(f"{from_key} is {owner}'s key, not {principal}'s", code="key.owner")
    if public_key is None:
        raise ClientError("give --public-key or --from-key", code="input.public_key")
    public_key_from_b64(public_key)
    return public_key


def sign_and_append(
    options: Session,
    bodies: list[tuple[str, dict[str, Any]]],
    openings: Sequence[Opening] = (),
) -> list[Appended]:
    """Sign ``bodies`` as consecutive directory envelopes with the admin key and append them;
    ``openings`` open the identity commitments they carry (for the office's private table)."""
    key_file = options.key_file("admin")
    target = open_target(options, key_file)
    try:
        return _append_directory(target, key_file, bodies, openings)
    finally:
        target.close()


def _append_directory(
    target: Target,
    key_file: KeyFile,
    bodies: list[tuple[str, dict[str, Any]]],
    openings: Sequence[Opening] = (),
) -> list[Appended]:
    view = target.directory()
    writer = StreamWriter(view.stream, view.seq, view.head_hash)
    admin = Signer(key_file.principal, "admin", key_file.key)
    done = []
    for step_type, body in bodies:
        envelope = writer.sign(step_type, admin, utc_now(), body)
        done.append(target.append(envelope, openings))
        last = done[-1]
        where = _where(last)
        step = f"{step_type:<14}"
        line = say("directory.appended", step=step, stream=last.stream, seq=last.seq, where=where)
        typer.echo(line)
    return done


def _where(result: Appended) -> str:
    leaf = "" if result.leaf_index is None else say("directory.leaf", leaf=result.leaf_index)
    again = say("directory.again") if result.replayed else ""
    return say("directory.where", hash=result.hash[:16], leaf=leaf, again=again)


@staff_app.command("add")
@boundary
def staff_add(
    principal: Annotated[str, typer.Argument(help="e.g. staff:wang.li")],
    name: Annotated[str, typer.Option("--name", help="Full name, e.g. 王立.")],
    id_number: Annotated[
        str,
        typer.Option(
            "--id-number",
            help="Identity number: kept in the office's private table; the signed record "
            "carries a salted commitment to it.",
        ),
    ],
    unit: Annotated[str, typer.Option("--unit", help="Unit (科室).")] = "行政审批科",
    public_key: PublicKey = None,
    from_key: FromKey = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Enrol a staff member, and their key if one is given (StaffEnrolled, KeyAdded)."""
    _principal(principal)
    opening = commit(id_number)
    enrol = {"staff": principal, "name": name, "unit": unit, "id_commitment": opening.commitment}
    bodies: list[tuple[str, dict[str, Any]]] = [("StaffEnrolled", enrol)]
    if public_key is not None or from_key is not None:
        body = {"staff": principal, "public_key": _public_key(public_key, from_key, principal)}
        bodies.append(("KeyAdded", body))
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, bodies, [opening])


@staff_app.command("add-key")
@boundary
def staff_add_key(
    principal: Annotated[str, typer.Argument(help="e.g. staff:wang.li")],
    public_key: PublicKey = None,
    from_key: FromKey = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Add another key for an enrolled staff member (KeyAdded), e.g. a browser key."""
    _principal(principal)
    body = {"staff": principal, "public_key": _public_key(public_key, from_key, principal)}
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, [("KeyAdded", body)])


@staff_app.command("grant")
@boundary
def staff_grant(
    principal: Annotated[str, typer.Argument(help="e.g. staff:wang.li")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(sorted(STAFF_ROLES))}.")],
    matter: Annotated[
        list[str] | None,
        typer.Option("--matter", help="A matter code the grant covers (repeat; default all)."),
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit (default: where they are enrolled).")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="Start, YYYY-MM-DD or a UTC time (default now).")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--until", help="End (exclusive), YYYY-MM-DD or a UTC time.")
    ] = None,
    qualification: Annotated[
        str | None, typer.Option("--qualification", help="e.g. an enforcement certificate no.")
    ] = None,
    grant_id: Annotated[
        str | None, typer.Option("--grant-id", help="Grant id (default: made up and printed).")
    ] = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Grant a role, for some or all matters, for a time (RoleGranted)."""
    _principal(principal)
    if role not in STAFF_ROLES:
        raise ClientError(f"role must be one of {sorted(STAFF_ROLES)}", code="input.role")
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    key_file = options.key_file("admin")
    target = open_target(options, key_file)
    try:
        view = target.directory()
        grant = grant_id or f"g-{principal.split(':', 1)[1]}-{role}-{secrets.token_hex(3)}"
        body = grant_body(
            grant,
            principal,
            role,
            valid_from=parse_when(valid_from) if valid_from else utc_now(),
            valid_until=parse_when(valid_until) if valid_until else None,
            matters=tuple(matter or ("*",)),
            unit=unit or view.staff.get(principal, {}).get("unit") or "行政审批科",
            qualification=qualification,
        )
        _append_directory(target, key_file, [("RoleGranted", body)])
    finally:
        target.close()
    typer.echo(field("label.grant_id", grant))


def _live_grants(view: DirectoryView, principal: str, role: str | None) -> list[str]:
    return [
        grant_id
        for grant_id, staff, grant_role, _, live in view.grants
        if live and staff == principal and role in (None, grant_role)
    ]


@staff_app.command("revoke")
@boundary
def staff_revoke(
    grant: Annotated[
        str, typer.Argument(help="A grant id, or a principal to revoke their live grants.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the directory).")],
    role: Annotated[
        str | None, typer.Option("--role", help="With a principal: only grants of this role.")
    ] = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Revoke a grant (RoleRevoked), or every live grant of a person (of one role)."""
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    key_file = options.key_file("admin")
    target = open_target(options, key_file)
    try:
        grants = [grant]
        if PRINCIPAL.match(grant):
            grants = _live_grants(target.directory(), grant, role)
            if not grants:
                raise ClientError(f"{grant} holds no live grant to revoke", code="grant.none")
        bodies = [("RoleRevoked", {"grant": g, "reason": reason}) for g in grants]
        _append_directory(target, key_file, bodies)
    finally:
        target.close()


@staff_app.command("revoke-key")
@boundary
def staff_revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (16 hex digits).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, e.g. lost or compromised.")],
    void_from: Annotated[
        str | None,
        typer.Option(
            "--void-from",
            help="Signatures from this time on are void (default now; earlier for a "
            "compromised key).",
        ),
    ] = None,
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Revoke a key (KeyRevoked): its signatures from --void-from on are void."""
    from ledger.envelope import format_time

    body: dict[str, Any] = {"key_id": key_id, "reason": reason}
    if void_from:
        body["void_from"] = format_time(parse_when(void_from))
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, [("KeyRevoked", body)])


@staff_app.command("list")
@boundary
def staff_list(
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Show staff, keys and grants as the directory holds them now."""
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    target = open_target(options, options.key_file("admin"))
    try:
        view = target.directory()
    finally:
        target.close()
    typer.echo(say("staff.header", stream=view.stream, count=view.seq))
    for staff_id, person in view.staff.items():
        typer.echo(f"  {staff_id:<22} {person['name']}  {person['unit']}")
        for key_id, owner, state in view.keys:
            if owner == staff_id:
                typer.echo(say("staff.key", key=key_id, state=state))
        for grant_id, owner, role, matters, live in view.grants:
            if owner == staff_id:
                state = say("state.live" if live else "state.revoked")
                line = say("staff.grant", grant=grant_id, role=role, matters=matters, state=state)
                typer.echo(line)
