"""What every signing-client command shares: options, key files, the error boundary.

The boundary (:func:`boundary`) is the one place where a caseledger error becomes a plain line
on stderr and exit status 1 — with every violation code when the rules refused a step. It wraps
each command, so the commands behave the same under the root ``caseledger`` entry point, under
Typer's test runner and when another program mounts them.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from api.org import OrgHome, resolve_home
from cli.texts import say
from ledger.clock import system_clock
from ledger.errors import CaseLedgerError, RulesRefused, StaleVersion
from ledger.keyfile import KeyFile, KeyFileError
from ledger.language import english
from ledger.messages import message

__all__ = [
    "ClientError",
    "DbOption",
    "HomeOption",
    "KeyOption",
    "PassphraseOption",
    "ServerOption",
    "Session",
    "boundary",
    "note",
    "read_key",
    "utc_now",
]

P = ParamSpec("P")
R = TypeVar("R")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Organisation folder (env CASELEDGER_HOME; default ./caseledger-data).",
        show_default=False,
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite path or postgresql://… URL (env CASELEDGER_DB; "
        "default HOME/caseledger.db). Ignored with --server.",
        show_default=False,
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="Base URL of a caseledger server (env CASELEDGER_SERVER). Without it, the step is "
        "appended to the local database directly.",
        envvar="CASELEDGER_SERVER",
        show_default=False,
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Your key file (from `caseledger keygen`).",
        show_default=False,
    ),
]
PassphraseOption = Annotated[
    str | None,
    typer.Option(
        "--passphrase-env",
        metavar="NAME",
        help="Read the key file's passphrase from the environment variable NAME "
        "(default CASELEDGER_PASSPHRASE; asked for if neither is set).",
        show_default=False,
    ),
]


class ClientError(CaseLedgerError):
    """A refusal or failure the signing client reports: the server's (or the ledger's) code
    and message, and the violation codes when the rules refused a step."""

    code = "client.error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        violations: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message, code=code)
        self.violations = violations


def utc_now() -> datetime:
    """The local clock in UTC, to the second (envelopes carry second precision)."""
    return system_clock()


def note(message: str) -> None:
    """A progress line on stderr, so stdout stays the command's result."""
    typer.echo(message, err=True)


def _violations_of(exc: CaseLedgerError) -> tuple[tuple[str, str], ...]:
    if isinstance(exc, ClientError):
        return exc.violations
    if isinstance(exc, RulesRefused):
        return tuple(
            (str(getattr(v, "code", v)), str(getattr(v, "detail", ""))) for v in exc.violations
        )
    return ()


def said(code: str, detail: str) -> str:
    """What an error says to the reader: the code's Chinese text with the detail beside it
    (only the detail where LANG asks for English)."""
    text = None if english() else message(code)
    if text is None:
        return detail
    return f"{text}（{detail}）" if detail else text


def report(exc: CaseLedgerError) -> None:
    """Print ``exc`` as the boundary does: one ``error:`` line, then one line per violation."""
    typer.echo(f"error: {exc.code}: {said(exc.code, exc.message)}", err=True)
    for code, detail in _violations_of(exc):
        typer.echo(f"  {code}: {said(code, detail)}", err=True)
    if isinstance(exc, StaleVersion) or exc.code == "chain.stale":
        typer.echo(say("stale.hint"), err=True)


def boundary(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command``; turn any caseledger error (or a file error) into a plain report and
    exit status 1.

    A traceback is shown only when CASELEDGER_DEBUG is set.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CaseLedgerError as exc:
            if os.environ.get("CASELEDGER_DEBUG"):
                raise
            report(exc)
            raise typer.Exit(1) from None
        except OSError as exc:
            # A file that cannot be read or written (permissions, a full disk) is reported
            # like any other error, not as a traceback.
            if os.environ.get("CASELEDGER_DEBUG"):
                raise
            where = f": {exc.filename}" if exc.filename else ""
            report(ClientError(f"{exc.strerror or exc}{where}", code="io.error"))
            raise typer.Exit(1) from None

    return run


def passphrase_for(path: Path, env_name: str | None, *, confirm: bool = False) -> str:
    """The passphrase for ``path``: from ``env_name``, else CASELEDGER_PASSPHRASE, else asked
    for without echo. Never taken from a command-line value, which other users could read."""
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise ClientError(
                f"the environment variable {env_name} is not set", code="keyfile.passphrase"
            )
        return value
    value = os.environ.get("CASELEDGER_PASSPHRASE")
    if value:
        return value
    if not sys.stdin or sys.stdin.closed:
        raise ClientError(f"a passphrase is needed for {path}", code="keyfile.passphrase")
    asked: str = typer.prompt(
        say("passphrase.for", what=path), hide_input=True, confirmation_prompt=confirm
    )
    return asked


def read_key(path: Path, passphrase_env: str | None) -> KeyFile:
    """Load a key file, asking for its passphrase only if it has one.

    Raises KeyFileError (``keyfile.invalid``) if it is unreadable or the passphrase is wrong.
    """
    if not path.is_file():
        raise KeyFileError(f"no key file at {path}", code="keyfile.missing")
    passphrase = passphrase_for(path, passphrase_env) if KeyFile.is_sealed(path) else None
    return KeyFile.load(path, passphrase)


@dataclass(frozen=True)
class Session:
    """The common options of one command, resolved: organisation folder, database, server,
    key file and where its passphrase comes from."""

    home: Path | None
    db: str | None
    server: str | None
    key: Path | None
    passphrase_env: str | None

    def home_path(self) -> Path:
        return resolve_home(self.home)

    def org_home(self) -> OrgHome:
        return OrgHome.load(self.home_path())

    def key_file(self, default_name: str | None = None) -> KeyFile:
        """The signer's key file: ``--key``, else the organisation's ``keys/<default_name>.key``."""
        if self.key is not None:
            return read_key(self.key, self.passphrase_env)
        if default_name is None:
            raise ClientError("give your key file with --key FILE", code="keyfile.missing")
        # The organisation folder is named first: "not an organisation folder" says more
        # than "no key file" when --home is wrong.
        home = self.org_home().path
        return read_key(home / "keys" / f"{default_name}.key", self.passphrase_env)

    def server_url(self) -> str | None:
        return self.server.rstrip("/") if self.server else None


def session(**options: Any) -> Session:
    """A Session from a command's keyword options (unknown names are ignored)."""
    return Session(
        home=options.get("home"),
        db=options.get("db"),
        server=options.get("server"),
        key=options.get("key"),
        passphrase_env=options.get("passphrase_env"),
    )
