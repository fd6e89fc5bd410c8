"""文号 are unique and gap-free per office, type and China year: under threads, under two
processes on one database, and for any order of repeated requests (a retry gets its number)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from api.office_documents import DocumentSettingsError, OfficeDocuments
from ledger.store.doc_numbers import DOC_METADATA, DocumentNumbers
from ledger.store.migrate import upgrade
from ledger.store.storage import open_store

AT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
CHILD = Path(__file__).with_name("claim_child.py")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = str(tmp_path / "caseledger.db") if request.param == "sqlite" else None
    url = url or request.getfixturevalue("pg_url")
    upgrade(open_store(url))
    return url


def numbers_on(db: str) -> DocumentNumbers:
    return DocumentNumbers(open_store(db).engine(), "jinan-approval")


def test_threads_get_every_number_once(db: str) -> None:
    numbers = numbers_on(db)
    with ThreadPoolExecutor(8) as pool:
        got = list(
            pool.map(
                lambda i: numbers.claim("approval", 2026, f"case:{i}", "h", AT).number, range(40)
            )
        )
    assert sorted(got) == list(range(1, 41))


def test_two_processes_get_every_number_once(db: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), db, tag, "25"], stdout=subprocess.PIPE, text=True
        )
        for tag in ("a", "b")
    ]
    got = [n for child in children for n in json.loads(child.communicate(timeout=300)[0])]
    assert all(child.returncode == 0 for child in children)
    assert sorted(got) == list(range(1, 51))


def test_numbers_count_per_type_and_year_and_a_retry_keeps_its_number(db: str) -> None:
    numbers = numbers_on(db)
    first = numbers.claim("approval", 2026, "case:a", "h1", AT)
    assert numbers.claim("approval", 2026, "case:a", "h1", AT) == first
    assert numbers.claim("approval", 2026, "case:b", "h2", AT).number == 2
    assert numbers.claim("acceptance", 2026, "case:a", "h0", AT).number == 1
    assert numbers.claim("approval", 2027, "case:c", "h3", AT).number == 1
    assert sorted(c.number for c in numbers.pending()) == [1, 1, 1, 2]
    numbers.mark_recorded(first, "ab" * 32)
    assert len(numbers.pending()) == 3 and numbers.pending("case:b")[0].number == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), max_size=40))
def test_any_order_of_requests_numbers_each_document_once_from_one(requests: list[int]) -> None:
    engine = sa.create_engine("sqlite://")
    DOC_METADATA.create_all(engine)
    numbers = DocumentNumbers(engine, "o")
    given_numbers = {
        r: numbers.claim("approval", 2026, f"case:{r}", "h", AT).number for r in requests
    }
    for r in requests:  # asking again changes nothing
        assert numbers.claim("approval", 2026, f"case:{r}", "h", AT).number == given_numbers[r]
    assert sorted(given_numbers.values()) == list(range(1, len(set(requests)) + 1))
    order = list(dict.fromkeys(requests))
    assert [given_numbers[r] for r in order] == list(range(1, len(order) + 1))


def test_the_office_pattern_makes_the_printed_number(tmp_path: Path) -> None:
    (tmp_path / "org.json").write_text(json.dumps({"org": "o"}))
    OfficeDocuments.save(
        tmp_path,
        {"prefix": "济审批", "numbers": {"acceptance": "{prefix}受理〔{year}〕第{number}号"}},
    )
    office = OfficeDocuments.load(tmp_path, "济南市行政审批服务局")
    assert office.number_text("approval", 2026, 123) == "济审批许准〔2026〕123号"
    assert office.number_text("acceptance", 2026, 7) == "济审批受理〔2026〕第7号"
    OfficeDocuments.save(tmp_path, {"numbers": {"approval": "{serial}号"}})
    with pytest.raises(DocumentSettingsError) as refused:
        OfficeDocuments.load(tmp_path, "济南市行政审批服务局")
    assert refused.value.code == "org.documents_invalid"
