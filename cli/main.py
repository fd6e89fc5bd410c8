"""``caseledger``: the command line for every job.

One boundary (:func:`main`) turns every caseledger error into a plain line and an exit code;
a traceback is shown only with ``CASELEDGER_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from api.org import OrgHome, resolve_home
from cli.jobs import audit_with_log, with_material_findings
from cli.passphrase import NoPassphraseOption, PassphraseFileOption, org_passphrase
from cli.texts import localise, say
from ledger.clock import system_clock
from ledger.errors import CaseLedgerError
from ledger.store.audit import AuditReport

app = typer.Typer(
    name="caseledger",
    help="caseledger: a signed case ledger for graded administrative approval, "
    "with a transparency log and sealed result PDFs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Organisation folder (env CASELEDGER_HOME; default ./caseledger-data)."
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite path or postgresql://… URL (env CASELEDGER_DB; "
        "default HOME/caseledger.db).",
    ),
]


def load_home(home: Path | None) -> OrgHome:
    return OrgHome.load(resolve_home(home))


def utc_now() -> datetime:
    return system_clock()


LOCAL_URL = "http://127.0.0.1:8000"


def _public_url(url: str | None) -> str:
    """The public base URL; a local one is allowed, but never silently: it goes into every
    QR code and trust.json, and nobody else can reach it."""
    chosen = url or LOCAL_URL
    host = chosen.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if host in ("127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"):  # noqa: S104 - compared, not bound
        given = say("init.url_given" if url else "init.url_default")
        typer.echo(say("init.local_url", given=given, url=chosen), err=True)
    return chosen


@app.command()
def init(
    home: HomeOption = None,
    db: DbOption = None,
    org: Annotated[
        str, typer.Option(help="Organisation id (lower case, used in stream names).")
    ] = "my-office",
    name: Annotated[
        str, typer.Option(help="Organisation name as printed on results.")
    ] = "行政审批服务局",
    url: Annotated[
        str | None,
        typer.Option(
            help="Public base URL of this office's caseledger server: printed in every result's "
            "QR code and in trust.json, where verifiers ask for a result's status."
        ),
    ] = None,
    passphrase_file: PassphraseFileOption = None,
    no_passphrase: NoPassphraseOption = False,
    review_body: Annotated[
        str,
        typer.Option(
            "--review-body", help="The 行政复议机关 named in appeal notices, e.g. 济南市人民政府."
        ),
    ] = "",
    court: Annotated[
        str, typer.Option("--court", help="The court named in appeal notices (人民法院).")
    ] = "",
) -> None:
    """Create a new organisation: root, admin, log, seal-service and status keys, the seal CA
    and certificate, the database and trust.json. The root, admin and seal-CA keys are
    encrypted under a passphrase: the server never needs them."""
    path = resolve_home(home)
    url = _public_url(url)
    passphrase = (
        None
        if no_passphrase
        else org_passphrase(passphrase_file, new=True, what="the root, admin and seal-CA keys")
    )
    org_home = OrgHome.init(
        path,
        org=org,
        org_name=name,
        public_base_url=url,
        now=utc_now(),
        passphrase=passphrase,
        review_body=review_body,
        court=court,
    )
    ledger = org_home.open_ledger(db)
    try:
        envelopes, openings = org_home.bootstrap_directory(utc_now(), passphrase=passphrase)
        for envelope in envelopes:
            ledger.append(envelope, openings=openings)
        _seed_calendars(org_home, ledger, passphrase)
    finally:
        ledger.close()
    typer.echo(say("init.created", org=org, name=name, path=path))
    typer.echo(say("init.trust", path=path / "trust.json"))
    typer.echo(say("init.admin", path=path / "keys" / "admin.key"))
    typer.echo(say("init.root", path=path / "keys" / "root.key"))


def _seed_calendars(org_home: OrgHome, ledger: Any, passphrase: str | None) -> None:
    """Publish the working-day calendars the package knows (signed by the admin)."""
    from api.org import ADMIN
    from cli.calendar import seed_envelopes
    from ledger.client import Signer

    admin = Signer(ADMIN, "admin", org_home.key("admin", passphrase))
    seeds = seed_envelopes(ledger.directory(), admin, utc_now())
    for envelope in seeds:
        ledger.append(envelope)
    if seeds:
        years = ", ".join(str(e.body["year"]) for e in seeds)
        typer.echo(say("init.calendars", years=years))


@app.command()
def audit(
    home: HomeOption = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint you hold (signed note file); the log must still hold its tree. "
            "Repeatable.",
        ),
    ] = None,
    materials: Annotated[
        bool,
        typer.Option("--materials", help="Also check that every signed material has its file."),
    ] = False,
    materials_store: Annotated[
        str,
        typer.Option(
            "--materials-store",
            envvar="CASELEDGER_MATERIALS",
            help="Where the files are kept: folder, folder:PATH, database or s3://….",
        ),
    ] = "folder",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes that read the stored records and check their signatures "
            "(读取记录并验签的进程数); the rules run in order in one. Same findings for any N.",
        ),
    ] = 1,
) -> None:
    """Replay every stream and the log, check every recorded document is kept; exit 0 only if
    nothing is wrong."""
    from dataclasses import replace

    from api.recovery import document_findings

    org_home = load_home(home)
    ledger = org_home.open_ledger(db)
    try:
        report = audit_with_log(
            ledger,
            org_home.trust().log_verifier_key,
            progress=not as_json,
            held=checkpoint or (),
            workers=workers,
        )
        if materials:
            report = with_material_findings(report, ledger, org_home, materials_store)
        documents = tuple(document_findings(org_home, ledger))
        report = replace(report, findings=report.findings + documents)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_audit(report)
    raise typer.Exit(0 if report.ok else 1)


def print_audit(report: AuditReport) -> None:
    data = report.to_json()
    verdict = "audit.passed" if data["ok"] else "audit.failed"
    typer.echo(say(verdict, envelopes=data["envelopes"], streams=data["streams"]))
    for key, value in data.get("log", {}).items():
        typer.echo(say("audit.log", key=key, value=value))
    for finding in data["findings"]:
        typer.echo(_finding(finding, 22))
    if data.get("time_limits"):
        typer.echo(say("audit.time_limits", count=len(data["time_limits"])))
    for finding in data.get("time_limits", ()):
        typer.echo(_finding(finding, 28))
    if data["set_aside"]:
        typer.echo(say("audit.set_aside", count=len(data["set_aside"])))
    for entry in data["set_aside"]:
        code, stream, seq = f"{entry['code']:<22}", entry["stream"], entry["seq"]
        position = entry["position"]
        typer.echo(
            say("audit.set_aside_entry", code=code, stream=stream, seq=seq, position=position)
        )


def _finding(finding: dict[str, Any], width: int) -> str:
    """One audit finding: its code, where, and what it says (the code's Chinese text first)."""
    from cli.client._common import said

    code = finding["code"]
    return say(
        "audit.finding",
        code=f"{code:<{width}}",
        stream=finding["stream"],
        seq=finding["seq"],
        detail=said(code, finding["detail"]),
    )


@app.command()
def serve(
    home: HomeOption = None,
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tsa_url: Annotated[
        str | None,
        typer.Option(
            "--tsa-url",
            help="RFC 3161 time-stamping authority for sealed results "
            "(default: CASELEDGER_TSA_URL, else none).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes on one PostgreSQL database (SQLite: 1)."),
    ] = 1,
) -> None:
    """Run the HTTP API and web pages (uvicorn)."""
    from api.serve import run

    run(home=resolve_home(home), db=db, host=host, port=port, tsa_url=tsa_url, workers=workers)


def _mount_subcommands() -> None:
    from cli import client, commitment, db, follow, jobs, log

    jobs.register(app)
    commitment.register(app)
    client.register(app)
    log.register(app)
    db.register(app)
    follow.register(app)


def main() -> None:
    """Entry point: run the app behind the one error boundary."""
    _mount_subcommands()
    debug = bool(os.environ.get("CASELEDGER_DEBUG"))
    try:
        localise(typer.main.get_command(app))(prog_name="caseledger")
    except CaseLedgerError as exc:
        if debug:
            raise
        from cli.client._common import said

        typer.echo(f"error: {exc.code}: {said(exc.code, exc.message)}", err=True)
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        reason = exc.strerror or type(exc).__name__
        typer.echo(
            f"error: file.unavailable: {say('error.file', where=where, reason=reason)}", err=True
        )
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo(say("error.interrupted"), err=True)
        sys.exit(130)
    except Exception as exc:
        # A bug, not bad input: say so plainly, keep the traceback for CASELEDGER_DEBUG=1.
        if debug:
            raise
        typer.echo(f"error: internal: {say('error.internal', name=type(exc).__name__)}", err=True)
        sys.exit(70)
