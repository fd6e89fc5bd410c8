"""Helpers for the issuing tests: an organisation folder with the sample office's directory,
and a child process (the library, or ``caseledger serve``) that can be killed at a named point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.durable import CRASH_ENV
from api.office_documents import OfficeDocuments
from api.org import OrgHome
from ledger.envelope import Envelope
from ledger.sample import SampleOffice

T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
CHILD = Path(__file__).with_name("issue_child.py")
DOCUMENTS = {"prefix": "济审批", "review_body": "济南市人民政府", "court": "济南市历下区人民法院"}


@dataclass
class Office:
    home: OrgHome
    sample: SampleOffice
    db: str


def make_office(path: Path, db: str | None = None, *, start: datetime = T0) -> Office:
    """A real organisation folder, its directory (admin, seal service, three staff) stored."""
    home = OrgHome.init(
        path,
        org="jinan-approval",
        org_name="济南市行政审批服务局",
        public_base_url="https://approval.example",
        now=start - timedelta(days=1),
    )
    OfficeDocuments.save(path, DOCUMENTS)
    sample = SampleOffice(
        org=home.org,
        org_name=home.org_name,
        root_key=home.key("root"),
        keys={"staff:admin": home.key("admin"), "service:seal": home.key("seal-service")},
    )
    url = db or str(path / "caseledger.db")
    ledger = home.open_ledger(url)
    try:
        for envelope in sample.directory_envelopes(start):
            ledger.append(envelope)
    finally:
        ledger.close()
    return Office(home, sample, url)


def run_child(
    office: Office,
    mode: str,
    envelopes: list[Envelope],
    now: datetime,
    *,
    crash_at: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the library in a child process: ``append`` the envelopes (with the automatic
    result) or ``recover``; killed at ``crash_at`` if given."""
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    job = {
        "home": str(office.home.path),
        "db": office.db,
        "mode": mode,
        "now": now.isoformat(),
        "envelopes": [e.text for e in envelopes],
    }
    return subprocess.run(
        [sys.executable, str(CHILD)],
        input=json.dumps(job),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
