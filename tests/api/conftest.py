"""Fixtures for the HTTP API tests (helpers live in apikit.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import Api, office_of, open_api, org_home, write_home

from api.org import OrgHome
from ledger.sample import SampleOffice


@pytest.fixture(scope="session")
def org_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real organisation folder made per session (making keys and a seal CA is slow)."""
    return org_home(tmp_path_factory.mktemp("template") / "org").path


@pytest.fixture
def org(tmp_path: Path, org_template: Path) -> OrgHome:
    """A fresh copy of a real organisation folder: keys, seal authority, trust.json,
    server.secret, and no database yet."""
    shutil.copytree(org_template, tmp_path / "org")
    return OrgHome.load(tmp_path / "org")


@pytest.fixture
def office(org: OrgHome) -> SampleOffice:
    """The sample office, with the organisation folder's root key (overrides the root one)."""
    return office_of(org)


@pytest.fixture
def api_home(org: OrgHome) -> Path:
    return org.path


@pytest.fixture
def bare_home(tmp_path: Path, office: SampleOffice) -> Path:
    """A folder with only trust.json and server.secret: no log, no seal authority."""
    return write_home(tmp_path / "bare", office)


@pytest.fixture
def api(api_home: Path, office: SampleOffice) -> Iterator[Api]:
    """The API on the home's SQLite file, directory posted, clock at T1."""
    yield from open_api(api_home, None, office)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_api(request: pytest.FixtureRequest, api_home: Path, office: SampleOffice) -> Iterator[Api]:
    """The API once on SQLite and once on a fresh PostgreSQL schema."""
    db = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from open_api(api_home, db, office)
