"""The main jobs of the command line: the demo, export, and the audit with the log."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from api.office_documents import OfficeDocuments
from api.org import OrgError, OrgHome, resolve_home
from cli.calendar import seed_envelopes
from cli.passphrase import PassphraseFileOption, org_passphrase
from cli.texts import say
from ledger.client import StreamWriter
from ledger.clock import system_clock
from ledger.errors import CaseLedgerError
from ledger.keyfile import KeyFile
from ledger.language import pad
from ledger.sample import SampleOffice, sample_material_files
from ledger.store.application import CaseLedger
from ledger.store.audit import AuditReport, Finding
from ledger.store.bundles import build_bundle
from ledger.store.log_audit import audit_log
from ledger.store.materials import FolderMaterials
from ledger.store.read_models import set_aside_in

__all__ = ["audit_with_log", "register"]

DEMO_MARKER = ".caseledger-demo"
# The demo's keys are throw-away; a passphrase everyone knows keeps its commands non-interactive.
DEMO_PASS = "caseledger-demo"  # noqa: S105 (published on purpose)
DEMO_DOCUMENTS = {"prefix": "济审批", "contact": "0531-12345"}


def audit_with_log(
    ledger: CaseLedger,
    log_verifier_key: str,
    *,
    progress: bool = False,
    held: Sequence[Path] = (),
    workers: int = 1,
) -> AuditReport:
    """Replay every stream through the rules, check commit order against signing times,
    then check the log against the ledger, its checkpoints against ``log_verifier_key`` (the
    trust file's), and the tree against the checkpoint kept outside the database and each
    checkpoint file in ``held`` (the auditor's own). ``workers`` processes read the stored
    records and check their signatures (:meth:`CaseLedger.audit`)."""
    from dataclasses import replace

    def show(count: int) -> None:
        typer.echo(say("audit.replayed", count=count), err=True)

    report = ledger.audit(progress=show if progress else None, workers=workers)
    engine = ledger.store.engine()
    try:
        aside = tuple(e.to_json() for e in set_aside_in(engine))
    finally:
        engine.dispose()
    report = replace(report, set_aside=aside)
    findings = list(report.backdated)
    summary = report.log
    if ledger.log is not None:
        anchors = [(f"the checkpoint file {path}", _read_checkpoint(path)) for path in held]
        keeper: Any = ledger.log.keeper  # the organisation's CheckpointFolder
        kept = None if keeper is None else keeper.text("latest.note")
        if kept is not None:
            anchors.insert(0, ("the checkpoint kept outside the database", kept))
        log_findings, summary = audit_log(
            ledger, ledger.kept_log(), log_verifier_key=log_verifier_key, anchors=anchors
        )
        findings += log_findings
    return replace(report, findings=report.findings + tuple(findings), log=summary)


def _read_checkpoint(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseLedgerError(
            f"cannot read the checkpoint {path}: {exc} (无法读取检查点文件)",
            code="input.checkpoint",
        ) from None


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("export")(export)


def demo(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for the demo organisation (replaced if it holds an earlier demo)."
        ),
    ] = Path("caseledger-demo"),
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Run a sample case from application to delivery on the embedded SQLite default:
    a new organisation, three staff, a sealed result.pdf, an audit bundle, the audit and
    the verification, with the verdicts printed. The root, admin and seal-CA keys are
    encrypted under --passphrase-file or CASELEDGER_PASSPHRASE, else under the printed
    demo passphrase."""
    _fresh_demo_folder(out)
    given = passphrase_file is not None or bool(os.environ.get("CASELEDGER_PASSPHRASE"))
    passphrase = (
        org_passphrase(passphrase_file, new=True, what="the demo keys") if given else DEMO_PASS
    )
    clock = _Clock(system_clock() - timedelta(minutes=40))
    home = OrgHome.init(
        out,
        org="jinan-approval",
        org_name="济南市行政审批服务局",
        public_base_url="http://127.0.0.1:8000",
        now=clock(),
        passphrase=passphrase,
        review_body="济南市人民政府",
        court="济南市市中区人民法院",
    )
    (out / DEMO_MARKER).write_text("made by caseledger demo\n")
    OfficeDocuments.save(out, DEMO_DOCUMENTS)
    keys = say("demo.keys_yours") if given else say("demo.keys_demo", passphrase=DEMO_PASS)
    typer.echo(say("demo.created", out=out, keys=keys))
    ledger = home.open_ledger()
    office = _demo_office(home, passphrase)
    try:
        for envelope in office.directory_envelopes(clock()):
            ledger.append(envelope, openings=office.openings.values())
        for envelope in seed_envelopes(ledger.directory(), office.admin, clock()):
            ledger.append(envelope)
        typer.echo(say("demo.directory"))
        case = office.case_until_decided(clock.now + timedelta(minutes=1))
        for envelope in case:
            ledger.append(envelope)
        stream = case[0].stream
        kept = FolderMaterials(out / "materials")
        for sha256, data in sample_material_files().items():
            kept.put(sha256, data)
        typer.echo(say("demo.case", stream=stream))
        clock.now = case[-1].at
        from api.results import issue_result

        issued = issue_result(home, ledger, stream, now=clock())
        (out / "result.pdf").write_bytes(issued.pdf)
        sealed = say(
            "demo.sealed",
            number=issued.case_number,
            document=issued.document_number,
            path=out / "result.pdf",
            sha=issued.sha256[:16],
            seq=issued.appended.seq,
        )
        typer.echo(sealed)
        documents = [*_demo_notice(home, ledger, stream, clock()), issued.path]
        writer = StreamWriter(stream, *ledger.head(stream))
        ledger.append(
            writer.sign(
                "Delivered",
                office.handler,
                clock(),
                {
                    "channel": "electronic",
                    "recipient": "济南泉城食品有限公司",
                    "document": {
                        "type": "approval",
                        "document_number": issued.document_number,
                        "sha256": issued.sha256,
                    },
                },
            )
        )
        typer.echo(say("demo.delivered"))
        log = ledger.kept_log()
        bundle = build_bundle(ledger, log, stream, log_key=home.key("log"), now=clock())
        (out / "case-bundle.json").write_bytes(bundle.dumps())
        size, proofs, path = log.size(), len(bundle.proofs), out / "case-bundle.json"
        typer.echo(say("demo.checkpoint", size=size, proofs=proofs, path=path))
        _demo_status(home, ledger, stream, issued.sha256, out, clock())
        report = audit_with_log(ledger, home.trust().log_verifier_key)
    finally:
        ledger.close()
    verdict = say("verdict.PASSED" if report.ok else "verdict.FAILED")
    findings = len(report.findings)
    typer.echo(say("demo.audit", verdict=verdict, envelopes=report.envelopes, findings=findings))
    verdicts = _demo_verify(home, out, documents)
    typer.echo(say("demo.try", out=out))
    if not report.ok or any(v != "PASSED" for v in verdicts):
        raise typer.Exit(1)


def _demo_status(
    home: OrgHome, ledger: CaseLedger, stream: str, sha256: str, out: Path, now: datetime
) -> None:
    """The result's signed status statement, saved as a verifier would fetch it with --online."""
    from api.status import statement_of_case

    key = home.status_key()
    if key is None:
        return
    statement = statement_of_case(
        ledger, stream, sha256, status_key=key, log_key=home.key("log"), now=now
    )
    if statement is not None:
        (out / "status.json").write_bytes(statement.dumps())
        typer.echo(say("demo.status", status=statement.status, path=out / "status.json"))


def _fresh_demo_folder(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARKER).exists():
            raise OrgError(f"{out} exists and is not an earlier demo; choose another --out")
        shutil.rmtree(out)


def _demo_office(home: OrgHome, passphrase: str) -> SampleOffice:
    """The sample office on this folder's root, admin and seal-service keys; the three staff
    get new keys, kept in keys/staff/ like any staff member's key file."""
    office = SampleOffice(
        org=home.org,
        org_name=home.org_name,
        root_key=home.key("root", passphrase),
        keys={
            "staff:admin": home.key("admin", passphrase),
            "service:seal": home.key("seal-service"),
        },
    )
    for signer in (office.handler, office.reviewer, office.approver):
        name = signer.principal.split(":")[1]
        KeyFile(signer.principal, signer.key).save(home.path / "keys" / "staff" / f"{name}.key")
    return office


def _demo_notice(home: OrgHome, ledger: CaseLedger, stream: str, now: datetime) -> list[Path]:
    """The 受理通知书 of the demo case, issued once the case is decided (its receipt holds the
    steps up to the acceptance it answers)."""
    from api.notices import issue_notice

    notice = issue_notice(home, ledger, stream, "acceptance", now=now)
    path = notice.path.relative_to(home.path)
    typer.echo(say("demo.notice", number=notice.document_number, path=path))
    return [notice.path]


def _demo_verify(home: OrgHome, out: Path, documents: list[Path]) -> list[str]:
    from verify import StatusEvidence, verify_bundle, verify_pdf

    trust = home.trust()
    saved = out / "status.json"
    evidence = StatusEvidence(statement=saved.read_bytes()) if saved.is_file() else None
    verdicts = []
    checked = [
        ("result.pdf", verify_pdf((out / "result.pdf").read_bytes(), trust, status=evidence)),
        *(
            (str(p.relative_to(out)), verify_pdf(p.read_bytes(), trust, status=evidence))
            for p in documents
        ),
        ("case-bundle.json", verify_bundle((out / "case-bundle.json").read_bytes(), trust)),
    ]
    for label, verdict in checked:
        data = verdict.to_json()
        verdicts.append(data["verdict"])
        typer.echo(say("demo.verify", label=label, verdict=say(f"verdict.{data['verdict']}")))
        for check in data["checks"]:
            status = pad(say(f"status.{check['status']}"), 13)
            typer.echo(f"     {status} {check['id']}")
    return verdicts


def export(
    case: Annotated[str, typer.Argument(help="Case id (uuid or case:<uuid>).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the audit bundle (JSON).")],
    home: Annotated[Path | None, typer.Option("--home", help="Organisation folder.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path.")] = None,
) -> None:
    """Write an audit bundle of one case: its envelopes, the directory, inclusion proofs and a
    signed checkpoint — everything `caseledger-verify bundle` needs."""
    org_home = OrgHome.load(resolve_home(home))
    stream = case if case.startswith("case:") else f"case:{case}"
    try:
        uuid.UUID(stream.removeprefix("case:"))
    except ValueError:
        raise CaseLedgerError(f"{case!r} is not a case id", code="case.invalid_id") from None
    ledger = org_home.open_ledger(db)
    try:
        typer.echo(say("export.signing"), err=True)
        bundle = build_bundle(
            ledger,
            ledger.kept_log(),
            stream,
            log_key=org_home.key("log"),
            now=system_clock(),
        )
    finally:
        ledger.close()
    out.write_bytes(bundle.dumps())
    typer.echo(
        json.dumps(
            {
                "case": stream,
                "envelopes": len(bundle.envelopes),
                "directory": len(bundle.directory),
                "out": str(out),
            }
        )
    )


class _Clock:
    """Demo time: starts a few minutes back and moves on a few seconds per step."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=5)
        return self.now


def with_material_findings(
    report: AuditReport, ledger: CaseLedger, org_home: OrgHome, where: str
) -> AuditReport:
    """``report`` with a ``material.missing`` finding for every signed material hash whose
    file the material store does not keep."""
    from dataclasses import replace

    from ledger.store.materials import missing_materials, open_materials

    store = open_materials(where, home=org_home.path, engine=ledger.store.engine())
    found = [
        Finding(env.stream, env.seq, "material.missing", f"no file is kept for {sha}", position)
        for position, env, sha in missing_materials(
            ((p, e) for p, _, e in ledger.all_notifications()), store
        )
    ]
    return replace(report, findings=report.findings + tuple(found))
