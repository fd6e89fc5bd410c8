"""Several server processes follow every commit; a case's documents are issued by one.

Advisory locks belong to database sessions, so two ledgers on two connection pools stand
for two server processes here."""

from __future__ import annotations

from typing import Any

import pytest

from api.issuer_lock import alone, issuer_turns
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger

pytestmark = pytest.mark.postgres


def ledger_on(url: str, office: SampleOffice) -> CaseLedger:
    root = {office.root_key.key_id: office.root_key.public_key}
    return open_ledger(url, org=office.org, root_keys=root, log_origin="test.example/log")


def test_while_one_process_holds_a_case_s_turn_the_others_skip_it(
    pg_url: str, office: SampleOffice
) -> None:
    first, second = ledger_on(pg_url, office), ledger_on(pg_url, office)
    case = "case:6f2b8a52-5a51-4f0e-9d43-1d5b8c0f7a31"
    other_case = "case:0d7f3c1e-2b4a-4c6d-8e9f-a1b2c3d4e5f6"
    first_turn, second_turn = issuer_turns(first), issuer_turns(second)
    try:
        with first_turn(case) as ours:
            assert ours
            with second_turn(case) as theirs:
                assert not theirs  # skipped: the first holds the case
            with second_turn(other_case) as theirs:
                assert theirs  # another case: its own lock
        with second_turn(case) as theirs:
            assert theirs  # released: the next document of the case is issued there
        with first_turn(case) as ours:
            assert ours  # and released again by the second
    finally:
        first.close()
        second.close()


def test_one_process_alone_needs_no_lock(tmp_path: Any, office: SampleOffice) -> None:
    ledger = ledger_on(str(tmp_path / "caseledger.db"), office)
    try:
        assert issuer_turns(ledger) is alone
    finally:
        ledger.close()
