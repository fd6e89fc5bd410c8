"""The archival claim: a sealed result declares PDF/A-3b only when it still is PDF 1.7.

pyHanko marks a file sealed with ECDSA as PDF 2.0 (ISO 32002), which PDF/A-3 (based on PDF 1.7)
does not allow; an RSA seal keeps the version. Judged by pikepdf's PDF/A validator, an outside
implementation of the veraPDF rules for parts 1–3, which reports what it cannot check (the
signature's form field, the DSS, the embedded receipt) as not checked rather than passed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pikepdf.pdfa
from sealkit import RECEIPT, Pki, qpdf_check

from seals import FileKeySigner, SealedPdf, attach_receipt, keeps_pdf_version, seal_pdf

AT = datetime(2026, 11, 23, 6, 40, tzinfo=UTC)


def _violations(pdf: bytes) -> list[str]:
    report = pikepdf.pdfa.validate_written(BytesIO(pdf), "3b")
    return [f"{f.rule}: {f.message}" for f in report.findings if f.kind == "violation"]


def _declared_part(pdf: bytes) -> str | None:
    with pikepdf.open(BytesIO(pdf)) as doc:
        part = doc.open_metadata().get("pdfaid:part")
        return None if part is None else str(part)


def _catalog_version(pdf: bytes) -> str | None:
    with pikepdf.open(BytesIO(pdf)) as doc:
        version = doc.Root.get("/Version")
        return None if version is None else str(version)


def test_only_an_rsa_seal_keeps_the_pdf_version(pkis: dict[str, Pki]) -> None:
    assert keeps_pdf_version(FileKeySigner.from_authority(pkis["rsa-3072"].authority))
    assert not keeps_pdf_version(FileKeySigner.from_authority(pkis["ecdsa-p256"].authority))


def test_an_rsa_sealed_result_stays_pdf_a_3b(sealed: dict[str, SealedPdf], tmp_path: Path) -> None:
    pdf = sealed["rsa-3072"].pdf
    assert pdf.startswith(b"%PDF-1.7") and _catalog_version(pdf) is None
    assert _declared_part(pdf) == "3"
    assert _violations(pdf) == []
    assert qpdf_check(pdf, tmp_path).returncode == 0


def test_an_ecdsa_seal_over_a_pdf_a_file_would_break_its_claim(
    sealed: dict[str, SealedPdf],
) -> None:
    # What the validator says of the combination the issuing path no longer makes.
    pdf = sealed["ecdsa-p256"].pdf
    assert _catalog_version(pdf) == "/2.0"
    assert any("6.1.2-1" in v for v in _violations(pdf))


def test_a_file_for_an_ecdsa_seal_claims_no_pdf_a_part(
    rendered: bytes, pkis: dict[str, Pki]
) -> None:
    plain = attach_receipt(rendered, RECEIPT, at=AT, archival=False)
    assert _declared_part(plain) is None
    pki = pkis["ecdsa-p256"]
    pdf = seal_pdf(plain, FileKeySigner.from_authority(pki.authority), crl=pki.crl).pdf
    assert _catalog_version(pdf) == "/2.0" and _declared_part(pdf) is None
    with pikepdf.open(BytesIO(pdf)) as doc:
        assert "case-receipt.json" in doc.attachments
