"""A new office, end to end over real HTTP, on SQLite and on PostgreSQL.

`caseledger init` makes the organisation folder; a uvicorn server serves it on a loopback
port; the admin enrols three staff whose keys they made themselves with `caseledger keygen`;
then the three take cases through the signing client against the server: one approved, its
result sealed on the office's host, verified offline and by the server, and delivered; one
denied and delivered. The rules refuse what they must, with their codes, and the stored
ledger passes the audit.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from api.org import OrgHome
from cli.client import ClientError
from cli.client._target import RemoteTarget
from ledger.admission import AdmissionReceipt, verify_admission
from ledger.envelope import Envelope, seal_envelope
from ledger.keyfile import KeyFile, KeyFileError
from ledger.trust import TrustFile
from tests.e2e.e2ekit import (
    ADMIN,
    MATTER_CODE,
    PASSPHRASES,
    STAFF,
    Cli,
    Staff,
    apply,
    enrol,
    field_of,
    get_json,
    new_office,
    serve,
)
from verify import verify_pdf
from verify.cli import app as verify_app


def _runnew_office(tmp_path: Path, db: str | None) -> None:
    cli, port, keys = new_office(tmp_path, db)
    with serve(cli.home, db, port) as server:
        enrol(cli, server, keys, tmp_path)
        listed = cli("staff", "list", "--server", server, *ADMIN).stdout
        for principal, name, *_ in STAFF:
            assert principal in listed and name in listed
        wang, li, zhang = (Staff(cli, server, keys, p) for p, *_ in STAFF)

        case, number, code = apply(wang, "济南泉城食品有限公司")
        wang("accept", case)
        # The handler may not review: the server finds no role of theirs for the step.
        refused = wang("review", case, "--comments", "自审", ok=False)
        assert "role.missing" in refused.stderr
        li("review", case, "--comments", "经审查，申请人符合许可条件。", "--basis", "《办法》")
        # A second review at a level the matter does not have: the rules say why.
        refused = li("review", case, "--comments", "再审", ok=False)
        assert "error: rules.refused" in refused.stderr and "order.not_allowed" in refused.stderr
        # The handler claiming the approver's role is refused by the rules, with the code.
        refused = wang("decide", case, "--decision", "准予", "--legal-basis", "第三十八条",
                       "--as", "approver", ok=False)  # fmt: skip
        assert "role.missing" in refused.stderr
        decided = zhang("decide", case, "--decision", "准予行政许可，核发《食品经营许可证》。",
                        "--legal-basis", "《中华人民共和国行政许可法》第三十八条第一款",
                        "--valid-years", "5")  # fmt: skip
        _assert_logged(server, decided)

        # The server's seal service issues the result as soon as the approval is stored.
        public = get_json(f"{server}/v1/public/cases/{number}", code=code)
        assert public["status"] == "result_issued" and public["outcome"] == "approved"
        pdf = _fetch_verify_deliver(cli, server, (case, number, code), wang)
        _revoke_and_check(cli, server, (case, number, code), pdf, zhang)
        history = wang("history", case, "--json").stdout.splitlines()
        envelopes = [Envelope.from_bytes(line) for line in history]
        steps = ["Applied", "Accepted", "Reviewed", "Decided", "ResultIssued", "ResultIssued",
                 "Delivered", "ResultRevoked"]  # fmt: skip
        assert [e.type for e in envelopes] == steps
        assert len({e.actor.id for e in envelopes}) == 4  # three staff and the seal service
        shown = zhang("show", case).stdout
        assert "revoked (approved)" in shown and "staff:li.na (reviewer:1)" in shown

        denied, number2, code2 = apply(wang, "历下区某餐饮店")
        _race_to_accept(server, keys["staff:wang.li"], denied)
        li("review", denied, "--opinion", "disagree", "--comments", "经营场所不符合要求。")
        zhang("decide", denied, "--outcome", "denied", "--decision", "不予行政许可。",
              "--legal-basis", "《中华人民共和国行政许可法》第三十八条第二款")  # fmt: skip
        wang("deliver", denied, "--recipient", "申请人本人", "--channel", "window")
        public = get_json(f"{server}/v1/public/cases/{number2}", code=code2)
        assert public["status"] == "delivered" and public["outcome"] == "denied"
        trust = get_json(f"{server}/v1/trust.json")
        assert trust["organisation"] == {"id": "jinan-e2e", "name": "济南市行政审批服务局"}
    _audit(cli, db)


def _fetch_verify_deliver(
    cli: Cli, server: str, ids: tuple[str, str, str], handler: Staff
) -> bytes:
    """The sealed result, fetched with the query code, passes the offline verifier and the
    server's public check; issuing again appends nothing; the handler delivers it."""
    case, number, code = ids
    reply = httpx.get(f"{server}/v1/public/cases/{number}/result.pdf", params={"code": code})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    pdf = reply.content
    wrong = httpx.get(f"{server}/v1/public/cases/{number}/result.pdf", params={"code": "0" * 8})
    assert wrong.status_code == 404
    again = cli("case", "issue", case, "--out", str(cli.home / "result.pdf"))
    assert "already stored" in again.stdout
    assert field_of(again, "pdf sha256") == hashlib.sha256(pdf).hexdigest()
    _assert_logged(server, again)
    trust = TrustFile.from_json(httpx.get(f"{server}/v1/trust.json").content)
    offline = verify_pdf(pdf, trust)
    # Without asking the office, nothing says the document still holds.
    assert offline.verdict == "INDETERMINATE", offline.to_json()
    assert {c.id for c in offline.checks if c.status != "passed"} == {"result.status"}
    assert _online(cli, pdf)[0] == 0
    checked = httpx.post(f"{server}/v1/verify", files={"file": ("result.pdf", pdf)}, timeout=60)
    assert checked.status_code == 200 and checked.json()["verdict"] == "PASSED"
    # A corrected document supersedes the first before delivery; the first no longer holds.
    corrected = cli("case", "issue", case, "--supersede", "--out", str(cli.home / "new.pdf"))
    newer = (cli.home / "new.pdf").read_bytes()
    assert field_of(corrected, "pdf sha256") == hashlib.sha256(newer).hexdigest()
    code_old, out_old = _online(cli, pdf)
    assert (
        code_old == 1
        and "superseded on" in out_old
        and hashlib.sha256(newer).hexdigest()[:16] in out_old
    )
    old_status = get_json(f"{server}/v1/public/results/{hashlib.sha256(pdf).hexdigest()}")
    assert old_status["status"] == "superseded"
    assert old_status["superseded_by"]["sha256"] == hashlib.sha256(newer).hexdigest()  # type: ignore[index]
    assert _online(cli, newer)[0] == 0
    handler("deliver", case, "--recipient", "济南泉城食品有限公司", "--channel", "electronic")
    return newer


def _online(cli: Cli, pdf: bytes) -> tuple[int, str]:
    """``caseledger-verify pdf FILE --trust T --online`` against the running server."""
    path = cli.home / "checked.pdf"
    path.write_bytes(pdf)
    runner = CliRunner()
    done = runner.invoke(
        verify_app, ["pdf", str(path), "--trust", str(cli.home / "trust.json"), "--online"]
    )
    return done.exit_code, done.stdout


def _revoke_and_check(
    cli: Cli, server: str, ids: tuple[str, str, str], pdf: bytes, zhang: Staff
) -> None:
    """Revoking the delivered result: online, offline with the saved statement, and the
    server's check all fail with when, why and who; the PDF is no longer handed out."""
    case, number, code = ids
    sha = hashlib.sha256(pdf).hexdigest()
    zhang("revoke", case, "--reason", "以欺骗手段取得行政许可",
          "--legal-basis", "《中华人民共和国行政许可法》第六十九条第二款")  # fmt: skip
    exit_code, out = _online(cli, pdf)
    assert exit_code == 1 and out.startswith("FAILED")
    assert "revoked on" in out and "张伟 (approver)" in out and "以欺骗手段取得行政许可" in out
    statement = httpx.get(f"{server}/v1/public/results/{sha}")
    assert statement.status_code == 200 and statement.json()["status"] == "revoked"
    saved = cli.home / "status.json"
    saved.write_bytes(statement.content)
    offline = CliRunner().invoke(
        verify_app,
        ["pdf", str(cli.home / "checked.pdf"), "--trust", str(cli.home / "trust.json"),
         "--status", str(saved), "--json"],
    )  # fmt: skip
    assert offline.exit_code == 1
    standing = next(c for c in json.loads(offline.stdout)["checks"] if c["id"] == "result.status")
    assert standing["status"] == "failed" and "张伟" in standing["detail"]
    checked = httpx.post(f"{server}/v1/verify", files={"file": ("r.pdf", pdf)}, timeout=60)
    assert checked.status_code == 200 and checked.json()["verdict"] == "FAILED"
    assert "以欺骗手段取得行政许可" in json.dumps(checked.json(), ensure_ascii=False)
    gone = httpx.get(f"{server}/v1/public/cases/{number}/result.pdf", params={"code": code})
    assert gone.status_code == 409 and gone.json()["code"] == "result.revoked"
    unknown = httpx.get(f"{server}/v1/public/results/{'0' * 64}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "result.not_found"
    malformed = httpx.get(f"{server}/v1/public/results/not-a-hash")
    assert malformed.status_code == 422 and malformed.json()["code"] == "status.bad_hash"


def _race_to_accept(server: str, key_path: Path, case: str) -> None:
    """Two drafts of the same step: the first is admitted, sending it again stores nothing,
    and the second, signed on the old head, is stale (409) with the head named."""
    key_file = KeyFile.load(key_path, PASSPHRASES["WANG_PASS"])
    target = RemoteTarget(server, key_file)
    try:
        drafts = [target.draft(uuid.UUID(case), "Accepted", None) for _ in range(2)]
        signed = [
            seal_envelope({**d, "body": {"opinion": f"受理意见 {i}"}}, key_file.key)
            for i, d in enumerate(drafts)
        ]
        first = target.append(signed[0])
        assert (first.seq, first.replayed) == (2, False)
        again = target.append(signed[0])
        assert again.replayed and (again.seq, again.hash) == (first.seq, first.hash)
        with pytest.raises(ClientError) as stale:
            target.append(signed[1])
        assert stale.value.code == "chain.stale" and "head seq 2" in stale.value.message
    finally:
        target.close()


def _assert_logged(server: str, appended: Result) -> None:
    """The leaf index the client printed holds the envelope hash it printed."""
    leaf, digest = int(field_of(appended, "leaf index")), field_of(appended, "hash")
    leaves = get_json(f"{server}/v1/log/leaves", start=str(leaf), end=str(leaf + 1))["leaves"]
    assert isinstance(leaves, list)
    assert base64.b64decode(leaves[0]).hex() == digest


def _audit(cli: Cli, db: str | None) -> None:
    ledger = OrgHome.load(cli.home).open_ledger(db)
    try:
        report = ledger.audit()
        assert report.ok, report.to_json()
        assert report.streams == 3  # the directory and two cases
    finally:
        ledger.close()
    if importlib.util.find_spec("api.audit_run") is not None:
        audited = cli("audit", "--json")
        assert json.loads(audited.stdout)["ok"] is True


def test_new_office_end_to_end_on_sqlite(tmp_path: Path) -> None:
    _runnew_office(tmp_path, None)
    # The client kept the server's signed receipt of admission for every step it posted.
    trust = json.loads((tmp_path / "office" / "trust.json").read_text())
    kept = sorted((tmp_path / "receipts").glob("case_*/*.json"))
    assert len(kept) >= 10
    for path in kept:
        verify_admission(AdmissionReceipt.from_json(json.loads(path.read_text())),
                         trust["log"]["verifier_key"])  # fmt: skip


@pytest.mark.postgres
def test_new_office_end_to_end_on_postgres(tmp_path: Path, pg_url: str) -> None:
    _runnew_office(tmp_path, pg_url)


def test_wrong_passphrase_is_a_plain_error(tmp_path: Path) -> None:
    cli, _, keys = new_office(tmp_path, None)
    failed = cli("case", "accept", "00000000-0000-4000-8000-000000000000",
                 "--key", str(keys["staff:wang.li"]), "--passphrase-env", "LI_PASS",
                 ok=False)  # fmt: skip
    assert "error: keyfile.invalid: " in failed.stderr
    with pytest.raises(KeyFileError):
        KeyFile.load(keys["staff:wang.li"], "not-it")


def test_a_handlers_material_file_is_kept_by_the_server_and_opens_for_the_case(
    tmp_path: Path,
) -> None:
    cli, port, keys = new_office(tmp_path, None)
    scan = tmp_path / "营业执照.pdf"
    scan.write_bytes(b"%PDF-1.7\n% a scanned licence\n%%EOF\n")
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    with serve(cli.home, None, port) as server:
        enrol(cli, server, keys, tmp_path)
        wang = Staff(cli, server, keys, STAFF[0][0])
        applied = wang("apply", "--matter", MATTER_CODE, "--applicant-name", "济南泉城食品有限公司",
                       "--applicant-kind", "organisation", "--applicant-id", "91370100MA3C000001",
                       "--material", str(scan))  # fmt: skip
        case = field_of(applied, "case id")
        signed = wang("show", case, "--json").stdout
        assert digest in signed and "营业执照.pdf" in signed
        principal, *_, variable = STAFF[1]  # the reviewer, who handles the case next
        reviewer = RemoteTarget(server, KeyFile.load(keys[principal], PASSPHRASES[variable]))
        try:
            token = reviewer._sign_in()
        finally:
            reviewer.close()
        kept = httpx.get(f"{server}/v1/cases/{case}/materials/{digest}",
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert kept.status_code == 200 and kept.content == scan.read_bytes()
    assert (cli.home / "materials" / digest[:2] / digest).read_bytes() == scan.read_bytes()
