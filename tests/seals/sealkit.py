"""Helpers for the seal tests: a sample document, and the outside tools that judge a seal."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from seals import ResultDocument, SealAuthority
from seals._pki import PEM
from seals.authority import KeyAlgorithm, SealCredentials
from seals.signer import to_asn1

# Fixed validity windows: the PKI is born on PKI_START and lives long enough that validation
# at today's clock falls inside every window (certificates, CRLs, timestamps).
PKI_START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
CA_DAYS = 7300
SEAL_DAYS = 3650
CRL_AT = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
CRL_LIFETIME = timedelta(days=3600)
ORG = "杭州市西湖区行政审批局"
CRL_URL = "http://seal.example.gov.cn/crl/seal-ca.crl"


def sample_document(**changes: object) -> ResultDocument:
    """A realistic licensing decision; keyword arguments replace fields."""
    values: dict[str, object] = {
        "case_number": "XH-2026-000123",
        "applicant_name": "杭州清河餐饮管理有限公司",
        "applicant_id_number": "330106199003071236",
        "matter_name": "食品经营许可（新办）",
        "matter_code": "330106-XK-0012",
        "decision_text": "你单位提出的申请符合法定条件、标准，决定准予行政许可，"
        "核发《食品经营许可证》。经营场所：杭州市西湖区文三路 88 号。",
        "legal_basis": "《中华人民共和国行政许可法》第三十八条第一款",
        "organisation": ORG,
        "issued_on": date(2026, 11, 23),
        "verification_url": "https://zwfw.example.gov.cn/v/3f6c2a1e-7b1d-4c55-9a0e-1234567890ab",
        "valid_from": date(2026, 11, 23),
        "valid_until": date(2031, 11, 22),
    }
    values.update(changes)
    return ResultDocument(**values)  # type: ignore[arg-type]


def pyhanko_status(pdf: bytes, trust_root: x509.Certificate) -> PdfSignatureStatus:
    """pyHanko's judgement of the first signature: explicit root, offline, the DSS's CRLs
    (revocation must be checkable when the file has a DSS, and is skipped when it has none).
    """
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    signature = reader.embedded_signatures[0]
    settings: dict[str, object] = {"trust_roots": [to_asn1(trust_root)], "allow_fetching": False}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:  # B-B / B-T: nothing to check revocation with
        return validate_pdf_signature(
            signature, ValidationContext(**settings, revocation_mode="soft-fail")
        )
    context = dss.as_validation_context({**settings, "revocation_mode": "hard-fail"})
    return validate_pdf_signature(signature, context)


def make_nss_db(folder: Path, *cas: x509.Certificate) -> str:
    """An NSS database in ``folder`` trusting ``cas``; returns the ``sql:`` spec for pdfsig."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", spec], check=True)
    for index, ca in enumerate(cas):
        pem = folder / f"ca{index}.pem"
        pem.write_bytes(ca.public_bytes(PEM))
        subprocess.run(
            ["certutil", "-A", "-n", f"ca{index}", "-t", "CT,C,C", "-i", str(pem), "-d", spec],
            check=True,
        )
    return spec


def pdfsig(path: Path, nss: str) -> str:
    """poppler's report on the signatures of ``path`` (pdfsig always exits 0: read the text)."""
    done = subprocess.run(
        ["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def pdftotext(pdf: bytes, folder: Path) -> str:
    path = folder / "text-source.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def qpdf_check(pdf: bytes, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "check.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)


RECEIPT = b'{"v":1,"kind":"case-receipt","case":"3f6c2a1e-7b1d-4c55-9a0e-1234567890ab"}'
ALGORITHMS: tuple[KeyAlgorithm, ...] = ("ecdsa-p256", "rsa-3072")


@dataclass(frozen=True)
class Pki:
    authority: SealAuthority
    tsa: SealCredentials
    crl: bytes


def make_pki(algorithm: KeyAlgorithm) -> Pki:
    authority = SealAuthority.create(
        ORG,
        now=PKI_START,
        crl_url=CRL_URL,
        algorithm=algorithm,
        ca_days=CA_DAYS,
        seal_days=SEAL_DAYS,
    )
    tsa = authority.issue_tsa(now=PKI_START, days=SEAL_DAYS)
    return Pki(authority, tsa, authority.crl(now=CRL_AT, next_update=CRL_LIFETIME))
