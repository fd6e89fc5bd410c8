"""``caseledger-verify``: check a sealed result, an audit bundle or the log, offline.

    caseledger-verify pdf FILE --trust trust.json [--status STATEMENT | --online] [--json]
    caseledger-verify bundle FILE --trust trust.json [--json]
    caseledger-verify consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF --trust trust.json [--json]

Exit codes: 0 passed, 1 failed, 2 indeterminate (a check stopped at its time or memory limit
included), 3 input unreadable (or a usage error). PDFs and bundles are checked in a child
process bounded by ``--time-limit`` and ``--memory-limit``. One boundary, :func:`main`, turns
every error into a plain message and exit code 3; a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ledger.status import MAX_STATEMENT_BYTES
from verify.consistency import parse_consistency_proof, verify_consistency
from verify.help import VERIFY_HELP_ZH, localise
from verify.limits import (
    MAX_BUNDLE_BYTES,
    MAX_CHECKPOINT_BYTES,
    MAX_PDF_BYTES,
    MAX_PROOF_BYTES,
    MIB,
    VerifyLimits,
)
from verify.sandbox import Sandbox
from verify.status import StatusEvidence, fetch_status
from verify.trust import read_trust_file
from verify.verdict import ExitCode, InputUnreadable, Verdict

__all__ = ["app", "main"]

app = typer.Typer(
    name="caseledger-verify",
    help="Check a sealed caseledger result, an audit bundle or the log, offline, "
    "against the organisation's trust.json. Exit 0 passed, 1 failed, 2 indeterminate, "
    "3 unreadable input.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

TrustOption = Annotated[
    Path,
    typer.Option(
        "--trust",
        envvar="CASELEDGER_TRUST",
        help="The organisation's trust.json (published on its web site).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")]
TimeLimitOption = Annotated[
    float,
    typer.Option(
        "--time-limit",
        envvar="CASELEDGER_VERIFY_SECONDS",
        min=0.1,
        help="Stop the check after this many seconds (wall clock and CPU): exit 2.",
    ),
]
MemoryLimitOption = Annotated[
    int,
    typer.Option(
        "--memory-limit",
        envvar="CASELEDGER_VERIFY_MEMORY_MB",
        min=64,
        help="Stop the check when it needs more than this many MiB of memory: exit 2.",
    ),
]
InflatedOption = Annotated[
    int,
    typer.Option(
        "--max-inflated",
        envvar="CASELEDGER_VERIFY_MAX_INFLATED_MB",
        min=1,
        help="Refuse a PDF whose streams inflate to more than this many MiB: exit 3.",
    ),
]
CMapOption = Annotated[
    int,
    typer.Option(
        "--max-cmap-entries",
        envvar="CASELEDGER_VERIFY_MAX_CMAP_ENTRIES",
        min=1,
        help="Refuse a PDF whose CMaps hold more entries than this: exit 3.",
    ),
]
_state = {"verbose": False}


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show a traceback when the input is unreadable.")
    ] = False,
) -> None:
    _state["verbose"] = verbose


@app.command("pdf")
def pdf_command(
    file: Annotated[Path, typer.Argument(help="The sealed result PDF.")],
    trust: TrustOption = Path("trust.json"),
    as_json: JsonOption = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Judge as of this UTC time (YYYY-MM-DDTHH:MM:SSZ); default now."),
    ] = None,
    status: Annotated[
        Path | None,
        typer.Option(
            "--status",
            help="A saved status statement of the document (GET /v1/public/results/SHA256).",
        ),
    ] = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Ask the office (the trust file's base URL) whether the document still holds. "
            "The only network access the verifier makes.",
        ),
    ] = False,
    time_limit: TimeLimitOption = 30.0,
    memory_limit: MemoryLimitOption = 1024,
    max_inflated: InflatedOption = 64,
    max_cmap_entries: CMapOption = 50_000,
) -> None:
    """Check a sealed result PDF: seal, certificate, changes, case receipt, page text, and
    (with --status or --online) whether the office has since revoked or replaced it."""
    if status is not None and online:
        raise InputUnreadable("give either --status FILE or --online, not both")
    trust_file = read_trust_file(trust)
    data = _read(file, MAX_PDF_BYTES, "PDF")
    evidence = None
    if status is not None:
        evidence = StatusEvidence(statement=_read(status, MAX_STATEMENT_BYTES, "status statement"))
    elif online:
        evidence = fetch_status(trust_file, hashlib.sha256(data).hexdigest())
    sandbox = _sandbox(time_limit, memory_limit, max_inflated * MIB, max_cmap_entries)
    _emit(sandbox.verify_pdf(data, trust_file, at=_moment(at), status=evidence), as_json)


@app.command("bundle")
def bundle_command(
    file: Annotated[Path, typer.Argument(help="The audit bundle (or case receipt) JSON.")],
    trust: TrustOption = Path("trust.json"),
    as_json: JsonOption = False,
    time_limit: TimeLimitOption = 30.0,
    memory_limit: MemoryLimitOption = 1024,
) -> None:
    """Check an audit bundle: every signature, the rules, log inclusion, the checkpoint."""
    trust_file = read_trust_file(trust)
    data = _read(file, MAX_BUNDLE_BYTES, "bundle")
    _emit(_sandbox(time_limit, memory_limit).verify_bundle(data, trust_file), as_json)


@app.command("consistency")
def consistency_command(
    old: Annotated[Path, typer.Argument(help="The older checkpoint you trusted (signed note).")],
    new: Annotated[Path, typer.Argument(help="The newer checkpoint (signed note).")],
    proof: Annotated[
        Path,
        typer.Argument(help="The consistency proof: the log's JSON answer, or base64 lines."),
    ],
    trust: TrustOption = Path("trust.json"),
    as_json: JsonOption = False,
) -> None:
    """Check that the newer checkpoint's log extends the older one unchanged."""
    trust_file = read_trust_file(trust)
    old_note = _read(old, MAX_CHECKPOINT_BYTES, "old checkpoint")
    new_note = _read(new, MAX_CHECKPOINT_BYTES, "new checkpoint")
    hashes = parse_consistency_proof(_read(proof, MAX_PROOF_BYTES, "proof", allow_empty=True))
    _emit(verify_consistency(old_note, new_note, hashes, trust_file), as_json)


def _sandbox(seconds: float, memory_mib: int, *caps: int) -> Sandbox:
    """Checks run in a child process that is killed at the limits (pikepdf's and pyHanko's
    parsers cannot be interrupted from inside); ``caps`` are the inflated bytes and CMap
    entries a PDF may hold."""
    limits = VerifyLimits(
        wall_seconds=seconds, cpu_seconds=max(1, math.ceil(seconds)), memory_bytes=memory_mib * MIB
    )
    if caps:
        limits = replace(limits, max_inflated_bytes=caps[0], max_cmap_entries=caps[1])
    return Sandbox(limits, start_method="auto")


def _read(path: Path, limit: int, what: str, *, allow_empty: bool = False) -> bytes:
    """At most ``limit`` bytes of ``path``; InputUnreadable if missing, larger, or empty."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputUnreadable(f"the {what} {path} cannot be read: {exc.strerror}") from None
    if len(data) > limit:
        raise InputUnreadable(f"the {what} {path} is larger than {limit} bytes")
    if not data and not allow_empty:
        raise InputUnreadable(f"the {what} {path} is empty")
    return data


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InputUnreadable(f"--at {text!r} is not YYYY-MM-DDTHH:MM:SSZ") from None


def _emit(verdict: Verdict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(verdict.render_text(), nl=False)
    raise typer.Exit(verdict.exit_code)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and, as a script, exit with) its exit code."""
    code = run(argv)
    if argv is None:
        sys.exit(code)
    return code


def run(argv: list[str] | None = None) -> int:
    """The one error boundary: a verdict's exit code, or 3 with a plain message."""
    _quiet_libraries()
    try:
        command = localise(typer.main.get_command(app), "caseledger-verify", VERIFY_HELP_ZH)
        result = command.main(args=argv, prog_name="caseledger-verify", standalone_mode=False)
    except InputUnreadable as exc:
        return _unreadable(exc.message, exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        return _unreadable("interrupted", None)
    except typer.TyperException as exc:
        # A usage error (Typer's own Click): Click has already printed the help for a bare
        # call; otherwise say what is wrong with the command line.
        show = getattr(exc, "show", None)
        if callable(show) and type(exc).__name__ != "NoArgsIsHelpError":
            show()
        return int(ExitCode.UNREADABLE)
    # The verifier's contract is "a verdict or exit 3, never a traceback", whatever the input.
    except Exception as exc:
        return _unreadable(f"the input could not be processed: {exc}", exc)
    return int(result) if isinstance(result, int) else 0


def _quiet_libraries() -> None:
    # pyHanko logs every validation problem with a traceback; on the command line the verdict
    # already says what is wrong, in words, so only its critical messages are let through.
    for name in ("pyhanko", "pyhanko_certvalidator", "pikepdf"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _unreadable(message: str, exc: BaseException | None) -> int:
    typer.echo(f"caseledger-verify: {message}", err=True)
    if exc is not None and _state["verbose"]:
        traceback.print_exception(exc)
    return int(ExitCode.UNREADABLE)
