"""The family of documents: each notice type is issued on the step it answers, numbered per
type, recorded with DocumentIssued, kept, verified PASSED by caseledger-verify and accepted by
pyHanko and pdfsig; delivered like the result; downloadable with the query code."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from issuekit import (
    DOCUMENTS,
    T1,
    Office,
    make_office,
    pdfsig_report,
    pyhanko_accepts,
    run_child,
)

from api.app import create_app
from api.auth import query_code
from api.issuing import document_numbers, recorded_documents
from api.notices import auto_notices, issue_notice
from api.office_documents import OfficeDocuments
from api.recovery import document_findings
from api.results import auto_issue
from api.settings import Settings
from ledger.client import Signer, StreamWriter
from ledger.clock import FixedClock
from ledger.errors import CaseLedgerError
from ledger.sample import applied_body, decided_body
from ledger.store.application import CaseLedger
from ledger.store.followers import follow
from ledger.store.read_models import case_number
from verify import verify_pdf
from verify._text import page_text

NOW = T1 + timedelta(hours=2)


class Case:
    """One case taken step by step, each step signed on the head of the stream."""

    def __init__(self, office: Office, ledger: CaseLedger, at: datetime = T1) -> None:
        self.office, self.ledger, self.at = office, ledger, at
        self.stream = f"case:{__import__('uuid').uuid4()}"

    def do(self, step: str, signer: Signer, body: dict[str, Any]) -> Case:
        self.at += timedelta(minutes=5)
        writer = StreamWriter(self.stream, *self.ledger.head(self.stream))
        self.ledger.append(writer.sign(step, signer, self.at, body))
        return self


def steps_to(office: Office, ledger: CaseLedger, doc_type: str) -> Case:
    """A case that has taken the step a notice of ``doc_type`` answers."""
    o = office.sample
    case = Case(office, ledger).do("Applied", o.handler, applied_body("济南泉城食品有限公司"))
    if doc_type == "supplement":
        items = ["营业执照副本", "食品安全管理制度"]
        return case.do("SupplementRequested", o.handler, {"items": items, "notice": "请补正。"})
    if doc_type == "not_accepted":
        refusal = {
            "reason": "申请事项不属于本机关职权范围。",
            "legal_basis": "《行政许可法》第三十二条",
        }
        return case.do("NotAccepted", o.handler, refusal)
    case.do("Accepted", o.handler, {"opinion": "材料齐全，予以受理。"})
    if doc_type == "acceptance":
        return case
    if doc_type == "extension":
        return case.do("Extended", o.approver, EXTENSION)
    review = {"level": 1, "opinion": "agree", "comments": "同意。", "basis": "《办法》"}
    case.do("Reviewed", o.reviewer, review)
    outcome = "denied" if doc_type == "denial" else "approved"
    case.do("Decided", o.approver, {**decided_body(T1), "outcome": outcome})
    if doc_type == "revocation":
        case.do("Delivered", o.handler, {"channel": "window", "recipient": "申请人"})
        revoke = {
            "reason": "以欺骗手段取得许可。",
            "legal_basis": "《行政许可法》第六十九条",
            "result": ledger.case_state(case.stream).result_sha256,
        }
        case.do("ResultRevoked", o.approver, revoke)
    return case


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return make_office(tmp_path / "org")


@pytest.fixture
def ledger(office: Office) -> Iterator[CaseLedger]:
    opened = office.home.open_ledger(office.db)
    # The seal service's clock lags the steps: each document is dated with the step it answers.
    follow(opened, auto_issue(office.home, FixedClock(T1)))
    follow(opened, auto_notices(office.home, FixedClock(T1)))
    yield opened
    opened.close()


EXTENSION = {"days": 10, "reason": "需要现场核查。", "notice": "现场核查时间另行通知。"}

TYPES = [
    ("acceptance", "受理通知书", "济审批受〔2026〕1号"),
    ("extension", "延期通知书", "济审批延〔2026〕1号"),
    ("supplement", "补正材料通知书", "济审批补〔2026〕1号"),
    ("not_accepted", "不予受理通知书", "济审批不受〔2026〕1号"),
    ("denial", "不予行政许可决定书", "济审批许不准〔2026〕1号"),
    ("revocation", "撤销行政许可决定书", "济审批撤〔2026〕1号"),
]


@pytest.mark.parametrize(("doc_type", "title", "number"), TYPES)
def test_every_notice_is_sealed_recorded_and_verifies(
    office: Office, ledger: CaseLedger, tmp_path: Path, doc_type: str, title: str, number: str
) -> None:
    case = steps_to(office, ledger, doc_type)
    found = [d for d in recorded_documents(ledger, case.stream) if d.doc_type == doc_type]
    assert [d.document_number for d in found] == [number]
    assert found[0].envelope.type == "DocumentIssued"
    path = office.home.path / "documents" / case.stream[5:] / f"{doc_type}-{found[0].sha256}.pdf"
    pdf = path.read_bytes()
    verdict = verify_pdf(pdf, office.home.trust(), at=NOW).to_json()
    assert verdict["verdict"] == "PASSED", [c for c in verdict["checks"] if c["status"] != "passed"]
    text = page_text(pdf, 4).text
    assert title in text and number in text
    ca = office.home.path / "seal" / "seal-ca.pem"
    assert pyhanko_accepts(pdf, ca.read_bytes())
    report = pdfsig_report(path, ca, tmp_path / "nss")
    assert "Signature is Valid." in report and "Certificate is Trusted." in report
    assert document_findings(office.home, ledger) == []
    with pytest.raises(CaseLedgerError) as twice:
        issue_notice(office.home, ledger, case.stream, doc_type, now=NOW)
    assert twice.value.code == "document.not_due"


def test_numbers_count_per_type_and_china_year_and_the_date_is_the_china_day(
    office: Office,
) -> None:
    ledger = office.home.open_ledger(office.db)  # no hooks: each notice issued here
    try:
        cases = [steps_to(office, ledger, "acceptance") for _ in range(2)]
        numbers = [
            issue_notice(office.home, ledger, c.stream, "acceptance", now=T1).document_number
            for c in cases
        ]
        assert numbers == ["济审批受〔2026〕1号", "济审批受〔2026〕2号"]
        # 20:00 UTC on 31 December is already 1 January in China: a new year, a new count.
        late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
        supplement = steps_to(office, ledger, "supplement")
        issued = issue_notice(office.home, ledger, supplement.stream, "supplement", now=late)
        assert issued.document_number == "济审批补〔2027〕1号"
        text = page_text(issued.pdf, 4).text.replace(" ", "")
        assert "2027年1月1日" in text
        again = issue_notice(
            office.home,
            ledger,
            steps_to(office, ledger, "acceptance").stream,
            "acceptance",
            now=late,
        )
        assert again.document_number == "济审批受〔2027〕1号"
    finally:
        ledger.close()


def test_an_office_template_changes_the_wording_without_code(
    office: Office, ledger: CaseLedger
) -> None:
    own = office.home.path / "templates"
    own.mkdir()
    (own / "acceptance.txt").write_text(
        "${applicant}：\n\n本局已受理你的${matter}申请。联系人：窗口一号。\n"
    )
    case = steps_to(office, ledger, "acceptance")
    [document] = recorded_documents(ledger, case.stream)
    pdf = (
        office.home.path / "documents" / case.stream[5:] / f"acceptance-{document.sha256}.pdf"
    ).read_bytes()
    assert "窗口一号" in page_text(pdf, 4).text
    (own / "acceptance.txt").write_text("${applicant}：${unknown}\n")
    with pytest.raises(CaseLedgerError) as refused:
        issue_notice(
            office.home,
            ledger,
            steps_to(office, ledger, "acceptance").stream,
            "acceptance",
            now=NOW,
        )
    assert refused.value.code == "seal.render"


def test_a_crash_mid_notice_keeps_its_number(office: Office) -> None:
    OfficeDocuments.save(office.home.path, {**DOCUMENTS, "auto_notices": True})
    o = office.sample
    writer = StreamWriter(f"case:{__import__('uuid').uuid4()}")
    steps = [
        writer.sign("Applied", o.handler, T1, applied_body("济南泉城食品有限公司")),
        writer.sign("Accepted", o.handler, T1 + timedelta(minutes=5), {"opinion": "予以受理。"}),
    ]
    crashed = run_child(office, "append", steps, NOW, crash_at="document.before_record")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    recovered = run_child(office, "recover", [], NOW + timedelta(minutes=1))
    assert recovered.returncode == 0, recovered.stderr
    ledger = office.home.open_ledger(office.db)
    try:
        [notice] = recorded_documents(ledger, steps[0].stream)
        assert notice.document_number == "济审批受〔2026〕1号"
        assert document_numbers(ledger, office.home).pending() == []
        assert document_findings(office.home, ledger) == []
    finally:
        ledger.close()


def test_the_applicant_downloads_a_notice_with_the_query_code(office: Office) -> None:
    ledger = office.home.open_ledger(office.db)
    try:
        follow(ledger, auto_notices(office.home, FixedClock(T1)))
        case = steps_to(office, ledger, "acceptance")
        number = case_number(case.stream, T1 + timedelta(minutes=5))
    finally:
        ledger.close()
    settings = Settings(home=office.home.path, db=office.db, recovery_seconds=0)
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        code = query_code(office.home.server_secret(), case.stream[5:])
        url = f"/v1/public/cases/{number}/documents/acceptance.pdf"
        got = client.get(url, params={"code": code})
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        wrong = client.get(url, params={"code": "00000000"})
        assert wrong.status_code == 404 and wrong.json()["code"] == "case.not_found"
        none = client.get(url.replace("acceptance", "denial"), params={"code": code})
        assert none.status_code == 404 and none.json()["code"] == "document.not_found"


def test_the_extension_notice_tells_the_reason_and_the_new_china_dated_deadline(
    office: Office,
) -> None:
    ledger = office.home.open_ledger(office.db)  # no hooks: the notice is issued here
    try:
        # 16:55 UTC on 24 November is 00:55 on 25 November in China: every limit counts from
        # the China day of acceptance, 25 November.
        case = Case(office, ledger, at=datetime(2026, 11, 24, 16, 50, tzinfo=UTC))
        o = office.sample
        case.do("Applied", o.handler, applied_body("济南泉城食品有限公司"))
        case.do("Accepted", o.handler, {"opinion": "材料齐全，予以受理。"})
        case.do("Extended", o.approver, EXTENSION)
        issued = issue_notice(
            office.home, ledger, case.stream, "extension", now=case.at + timedelta(minutes=1)
        )
        text = page_text(issued.pdf, 4).text.replace(" ", "").replace("\n", "")
        assert "延期通知书" in text and "办理结果：延长办理期限" in text
        assert "因需要现场核查，本机关不能在原定期限内作出决定" in text  # the reason, fitted
        assert "办理期限延长10个工作日" in text and "现场核查时间另行通知。" in text
        # 10 committed + 10 extended working days from 25 November: 23 December (from the
        # UTC day, 24 November, it would be the 22nd).
        assert "本机关将于2026年12月23日前作出决定" in text
        # 20 + 10 statutory days run into 2027, which the office has not published here: the
        # notice gives the count, never a guessed date.
        assert "法定办结期限延长至受理之日起第30个工作日" in text
        verdict = verify_pdf(issued.pdf, office.home.trust(), at=NOW + timedelta(hours=20))
        assert verdict.to_json()["verdict"] == "PASSED"
    finally:
        ledger.close()


def test_a_denial_whose_decision_begins_with_the_template_s_words_reads_them_once(
    office: Office,
) -> None:
    ledger = office.home.open_ledger(office.db)
    try:
        o = office.sample
        case = Case(office, ledger).do("Applied", o.handler, applied_body("济南泉城食品有限公司"))
        case.do("Accepted", o.handler, {"opinion": "材料齐全，予以受理。"})
        review = {"level": 1, "opinion": "agree", "comments": "同意。", "basis": "《办法》"}
        case.do("Reviewed", o.reviewer, review)
        decision = "经审查，你单位的经营场所不符合《食品经营许可审查通则》的要求。"
        case.do(
            "Decided", o.approver, {**decided_body(T1), "outcome": "denied", "decision": decision}
        )
        issued = issue_notice(office.home, ledger, case.stream, "denial", now=NOW)
        text = page_text(issued.pdf, 4).text.replace(" ", "").replace("\n", "")
        assert "经审查，经审查" not in text
        assert "经审查，你单位的经营场所不符合《食品经营许可审查通则》的要求。" in text
    finally:
        ledger.close()


def test_a_turn_is_asked_only_for_a_step_that_calls_for_a_document(office: Office) -> None:
    asked: list[str] = []

    @contextmanager
    def refused(stream: str) -> Iterator[bool]:
        asked.append(stream)
        yield False  # another process holds the case: it issues, this one skips

    OfficeDocuments.save(office.home.path, {**DOCUMENTS, "auto_notices": True})
    opened = office.home.open_ledger(office.db)
    try:
        follow(opened, auto_issue(office.home, FixedClock(T1), turns=refused))
        follow(opened, auto_notices(office.home, FixedClock(T1), turns=refused))
        case = steps_to(office, opened, "approval")
        # Accepted calls for a notice and the approval for the sealed result; Applied and
        # Reviewed for nothing.
        assert asked == [case.stream, case.stream]
        assert recorded_documents(opened, case.stream) == []
    finally:
        opened.close()
