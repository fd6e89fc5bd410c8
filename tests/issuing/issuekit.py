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
            ledger.append(envelope, openings=sample.openings.values())
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


def pyhanko_accepts(pdf: bytes, ca_pem: bytes) -> bool:
    """pyHanko's own judgement of the seal: intact, valid, trusted from the seal CA alone."""
    from io import BytesIO

    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    ca_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"ca-{os.getpid()}.pem"
    ca_file.write_bytes(ca_pem)
    root = load_cert_from_pemder(str(ca_file))
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    context = ValidationContext(
        trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"
    )
    status = validate_pdf_signature(reader.embedded_signatures[0], context)
    return bool(status.intact and status.valid and status.trusted)


def pdfsig_report(path: Path, ca_pem: Path, nss: Path) -> str:
    """poppler's pdfsig on ``path`` with an NSS database trusting the seal CA."""
    if not nss.exists():
        nss.mkdir(parents=True)
        spec = f"sql:{nss}"
        subprocess.run(["certutil", "-N", "--empty-password", "-d", spec], check=True)
        subprocess.run(
            ["certutil", "-A", "-n", "ca", "-t", "CT,C,C", "-i", str(ca_pem), "-d", spec],
            check=True,
        )
    done = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr
