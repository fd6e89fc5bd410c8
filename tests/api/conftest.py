"""Fixtures for the HTTP API tests (helpers live in apikit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import Api, open_api, write_home

from ledger.sample import SampleOffice


@pytest.fixture
def api_home(tmp_path: Path, office: SampleOffice) -> Path:
    return write_home(tmp_path / "org", office)


@pytest.fixture
def api(api_home: Path, office: SampleOffice) -> Iterator[Api]:
    """The API on the home's SQLite file, directory posted, clock at T1."""
    yield from open_api(api_home, None, office)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_api(request: pytest.FixtureRequest, api_home: Path, office: SampleOffice) -> Iterator[Api]:
    """The API once on SQLite and once on a fresh PostgreSQL schema."""
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(api_home, db, office)
