"""Several server processes follow every commit; a case's documents are issued by one.

Advisory locks belong to database sessions, so two ledgers on two connection pools stand
for two server processes here."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from api.deps import one_issuer_at_a_time
from ledger.sample import SampleOffice
from ledger.store.application import AppendResult, CaseLedger
from ledger.store.compose import open_ledger

pytestmark = pytest.mark.postgres


def ledger_on(url: str, office: SampleOffice) -> CaseLedger:
    root = {office.root_key.key_id: office.root_key.public_key}
    return open_ledger(url, org=office.org, root_keys=root, log_origin="test.example/log")


def test_while_one_process_issues_for_a_case_the_others_skip_it(
    pg_url: str, office: SampleOffice
) -> None:
    first, second = ledger_on(pg_url, office), ledger_on(pg_url, office)
    issuing, may_finish = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow_issue(ledger: CaseLedger, result: AppendResult) -> AppendResult:
        ran.append("first")
        issuing.set()
        may_finish.wait(10)
        return result

    def quick_issue(ledger: CaseLedger, result: AppendResult) -> AppendResult:
        ran.append("second")
        return result

    case = AppendResult("case:6f2b8a52-5a51-4f0e-9d43-1d5b8c0f7a31", 4, "ab" * 32, 9)
    other_case = AppendResult("case:0d7f3c1e-2b4a-4c6d-8e9f-a1b2c3d4e5f6", 4, "cd" * 32, 10)
    try:
        guarded_first = one_issuer_at_a_time(first, slow_issue)
        guarded_second = one_issuer_at_a_time(second, quick_issue)
        worker = threading.Thread(target=guarded_first, args=(first, case))
        worker.start()
        assert issuing.wait(10)
        assert guarded_second(second, case) is case  # skipped: the first holds the case
        assert guarded_second(second, other_case) is other_case  # another case: its own lock
        may_finish.set()
        worker.join(10)
        guarded_second(second, case)  # released: the next envelope of the case runs here
        assert ran == ["first", "second", "second"]
    finally:
        may_finish.set()
        first.close()
        second.close()


def test_one_process_alone_needs_no_lock(tmp_path: Any, office: SampleOffice) -> None:
    ledger = ledger_on(str(tmp_path / "caseledger.db"), office)
    try:

        def handler(ledger: CaseLedger, result: AppendResult) -> AppendResult:
            return result

        assert one_issuer_at_a_time(ledger, handler) is handler
    finally:
        ledger.close()
