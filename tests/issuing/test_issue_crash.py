"""A sealed result survives a crash: the library killed (SIGKILL) at each point of issuing,
then restarted — by the client's retry or by the recovery — ends with exactly one recorded
result, its file kept and verifying, 文号 1 of the year, and an audit with nothing to say."""

from __future__ import annotations

import hashlib
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from issuekit import T1, Office, make_office, run_child

from api.issuing import document_numbers, recorded_documents
from api.recovery import document_findings, recover
from api.results import auto_issue, result_file
from ledger.clock import FixedClock, china_date
from ledger.store.followers import follow
from verify import verify_pdf

POINTS = [
    # sealed, not yet on the disk
    ("document.before_file", False),
    # written to the temporary file and flushed, not yet renamed
    ("document.before_rename", False),
    # the file kept, ResultIssued not yet appended
    ("document.before_record", False),
    # ResultIssued appended, the claim not yet marked recorded
    ("document.after_record", True),
]
NOW = T1 + timedelta(minutes=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def office(request: pytest.FixtureRequest, tmp_path: Path) -> Office:
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return make_office(tmp_path / "org", db)


def assert_one_good_result(office: Office, stream: str) -> None:
    ledger = office.home.open_ledger(office.db)
    try:
        results = [d for d in recorded_documents(ledger, stream) if d.doc_type == "approval"]
        assert len(results) == 1
        year = china_date(results[0].envelope.at).year
        assert results[0].document_number == f"济审批许准〔{year}〕1号"
        path = result_file(office.home, ledger, stream)
        assert path is not None
        assert hashlib.sha256(path.read_bytes()).hexdigest() == results[0].sha256
        assert document_numbers(ledger, office.home).pending() == []
        assert document_findings(office.home, ledger) == []
        assert ledger.audit().ok
        verdict = verify_pdf(path.read_bytes(), office.home.trust()).to_json()
        # Offline and without a status statement only result.status stays open.
        open_checks = {c["id"] for c in verdict["checks"] if c["status"] != "passed"}
        assert open_checks <= {"result.status"}, verdict
    finally:
        ledger.close()


def recorded_results(office: Office, stream: str) -> int:
    ledger = office.home.open_ledger(office.db)
    try:
        return sum(1 for e in ledger.events(stream) if e.type == "ResultIssued")
    finally:
        ledger.close()


@pytest.mark.parametrize(("point", "recorded"), POINTS)
def test_a_retry_after_a_crash_gets_its_result(office: Office, point: str, recorded: bool) -> None:
    case = office.sample.case_until_decided(T1)
    crashed = run_child(office, "append", case, NOW, crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert recorded_results(office, case[0].stream) == int(recorded)
    # The client did not get its answer, so it sends the decision again.
    retried = run_child(office, "append", case[-1:], NOW + timedelta(minutes=1))
    assert retried.returncode == 0, retried.stderr
    assert '"replayed": true' in retried.stdout
    assert_one_good_result(office, case[0].stream)


@pytest.mark.parametrize(("point", "recorded"), POINTS)
def test_the_recovery_after_a_crash_issues_the_result(
    tmp_path: Path, point: str, recorded: bool
) -> None:
    office = make_office(tmp_path / "org")
    case = office.sample.case_until_decided(T1)
    crashed = run_child(office, "append", case, NOW, crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    recovered = run_child(office, "recover", [], NOW + timedelta(minutes=5))
    assert recovered.returncode == 0, recovered.stderr
    assert ('"finished": []' in recovered.stdout) != recorded
    assert_one_good_result(office, case[0].stream)


def test_a_crash_before_the_claim_is_found_by_the_recovery(tmp_path: Path) -> None:
    office = make_office(tmp_path / "org")
    case = office.sample.case_until_decided(T1)
    ledger = office.home.open_ledger(office.db)
    try:
        for envelope in case:  # no automatic result: as if the process died after Decided
            ledger.append(envelope)
        report = recover(office.home, ledger, now=NOW)
        assert report.issued == [case[0].stream]
        assert recover(office.home, ledger, now=NOW).issued == []  # nothing twice
    finally:
        ledger.close()
    assert_one_good_result(office, case[0].stream)


def test_an_approver_clock_ahead_does_not_block_the_result(tmp_path: Path) -> None:
    office = make_office(tmp_path / "org")
    # The approver's clock is 2 minutes ahead of the seal service's (5 are allowed).
    case = office.sample.case_until_decided(T1)
    server_now = case[-1].at - timedelta(minutes=2)
    ledger = office.home.open_ledger(office.db)
    try:
        follow(ledger, auto_issue(office.home, FixedClock(server_now)))
        for envelope in case[:-1]:
            ledger.append(envelope)
        ledger.append(case[-1], now=server_now)  # within the 5 minutes allowed
        issued = [e for e in ledger.events(case[0].stream) if e.type == "ResultIssued"]
        assert len(issued) == 1
        assert issued[0].at == case[-1].at
    finally:
        ledger.close()
    assert_one_good_result(office, case[0].stream)


def test_the_audit_names_an_issued_result_whose_file_is_missing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import _mount_subcommands, app

    office = make_office(tmp_path / "org")
    case = office.sample.case_until_decided(T1)
    ledger = office.home.open_ledger(office.db)
    try:
        follow(ledger, auto_issue(office.home, FixedClock(NOW)))
        for envelope in case:
            ledger.append(envelope)
        path = result_file(office.home, ledger, case[0].stream)
        assert path is not None and document_findings(office.home, ledger) == []
        path.unlink()
        assert result_file(office.home, ledger, case[0].stream) is None
        assert [f.code for f in document_findings(office.home, ledger)] == ["result.file_missing"]
    finally:
        ledger.close()
    _mount_subcommands()
    audited = CliRunner().invoke(app, ["audit", "--home", str(office.home.path), "--json"])
    assert audited.exit_code == 1
    assert '"code": "result.file_missing"' in audited.output


def test_a_result_kept_where_earlier_releases_kept_it_is_still_served(tmp_path: Path) -> None:
    office = make_office(tmp_path / "org")
    case = office.sample.case_until_decided(T1)
    ledger = office.home.open_ledger(office.db)
    try:
        follow(ledger, auto_issue(office.home, FixedClock(NOW)))
        for envelope in case:
            ledger.append(envelope)
        path = result_file(office.home, ledger, case[0].stream)
        assert path is not None
        legacy = office.home.path / "results" / f"{case[0].stream.removeprefix('case:')}.pdf"
        legacy.parent.mkdir()
        path.rename(legacy)
        assert result_file(office.home, ledger, case[0].stream) == legacy
        assert document_findings(office.home, ledger) == []
    finally:
        ledger.close()
