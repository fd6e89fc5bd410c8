"""``caseledger matter add FILE``: define or revise a matter (事项) in the directory.

A matter file (JSON or TOML) names the code and name and may set the version, review levels
(role names or ``{level, role}`` tables), legal basis, statutory and committed working days,
required materials, result template, whether a seal is issued, a qualification, the most
working days 延期 may add (``extension_days``, default 10), each stage's share of the
committed limit (``stage_days``: one per review level, then the decision), and the reform
settings: ``tolerated_materials`` (容缺), ``mode = "告知承诺"`` with ``promise_materials``,
``promise_exclusions`` and ``verification_days``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    PassphraseOption,
    boundary,
    session,
    utc_now,
)
from cli.client._directory import AdminKey, Server, sign_and_append
from cli.texts import field, say
from ledger.client import REFORM_FIELDS, matter_body
from ledger.directory import matter_from_body

__all__ = ["matter_app", "matter_definition"]

matter_app = typer.Typer(
    help="Define matters (事项): review levels, time limits, materials.", no_args_is_help=True
)


def _matter_file(path: Path) -> dict[str, Any]:
    """Read a matter definition (JSON or TOML); raise ClientError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}", code="input.file") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ClientError(f"{path} is not valid JSON or TOML: {exc}", code="input.file") from None
    if not isinstance(data, dict):
        raise ClientError(f"{path} must hold one matter (a table)", code="input.file")
    return data


def matter_definition(data: dict[str, Any]) -> dict[str, Any]:
    """A MatterDefined / MatterRevised body from a matter file's fields (defaults filled in).

    ``review_levels`` may list role names (``["reviewer", "approver"]``). Raises ClientError if
    ``code`` or ``name`` is missing and EnvelopeError (``body.invalid``) if a field is wrong.
    """
    known = {
        "version", "review_levels", "legal_basis", "statutory_days", "committed_days",
        "required_materials", "result_template", "seal_issued", "qualification",
        *REFORM_FIELDS,
        "extension_days", "stage_days",
    }  # fmt: skip
    unknown = set(data) - known - {"code", "name"}
    if unknown:
        raise ClientError(
            f"unknown fields in the matter file: {sorted(unknown)}", code="input.file"
        )
    if not isinstance(data.get("code"), str) or not isinstance(data.get("name"), str):
        raise ClientError("a matter needs a code and a name", code="input.file")
    extra = {k: v for k, v in data.items() if k in known}
    levels = extra.get("review_levels")
    if isinstance(levels, list):
        extra["review_levels"] = tuple(
            item["role"] if isinstance(item, dict) and "role" in item else item for item in levels
        )
    if isinstance(extra.get("stage_days"), list):
        extra["stage_days"] = tuple(extra["stage_days"])
    if isinstance(extra.get("required_materials"), list):
        extra["required_materials"] = tuple(extra["required_materials"])
    try:
        body = matter_body(data["code"], data["name"], **extra)
    except TypeError as exc:
        raise ClientError(f"the matter file is not valid: {exc}", code="input.file") from None
    matter_from_body(body, utc_now())
    return body


@matter_app.command("add")
@boundary
def matter_add(
    file: Annotated[Path, typer.Argument(help="A matter definition, .json or .toml.")],
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Define a matter (MatterDefined), or revise it when the file's version is above 1
    (MatterRevised)."""
    body = matter_definition(_matter_file(file))
    step_type = "MatterDefined" if body["version"] == 1 else "MatterRevised"
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, [(step_type, body)])
    defined = say("matter.defined", code=body["code"], version=body["version"], name=body["name"])
    typer.echo(field("label.matter", defined))
