"""Where the organisation's passphrase comes from: a file, CASELEDGER_PASSPHRASE, or the
terminal (asked twice when it is new). Never a command-line value, which other users of the
machine could read."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.texts import say
from ledger.errors import CaseLedgerError

__all__ = ["NoPassphraseOption", "PassphraseFileOption", "org_passphrase"]

PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the passphrase of the root, admin and seal-CA keys from this file "
        "(first line; else CASELEDGER_PASSPHRASE, else asked for).",
        show_default=False,
    ),
]
NoPassphraseOption = Annotated[
    bool,
    typer.Option(
        "--no-passphrase",
        help="Leave the root, admin and seal-CA keys unencrypted (a throw-away folder only).",
    ),
]


class PassphraseMissing(CaseLedgerError):
    code = "keyfile.passphrase"


def org_passphrase(file: Path | None, *, new: bool, what: str) -> str:
    """The passphrase for ``what``: from ``file``, else CASELEDGER_PASSPHRASE, else asked for
    without echo (twice if ``new``). Raises PassphraseMissing when none can be had."""
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise PassphraseMissing(f"cannot read {file}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise PassphraseMissing(f"{file} holds no passphrase on its first line")
        return lines[0]
    value = os.environ.get("CASELEDGER_PASSPHRASE")
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise PassphraseMissing(
            f"a passphrase is needed for {what}: give --passphrase-file or CASELEDGER_PASSPHRASE"
        )
    prompt = say("passphrase.for", what=what)
    asked: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=new)
    return asked
