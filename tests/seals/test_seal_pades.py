"""Sealed results judged by real validators: pyHanko, poppler's pdfsig, qpdf, pdftotext."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sealkit import (
    CRL_AT,
    CRL_LIFETIME,
    CRL_URL,
    ORG,
    PKI_START,
    RECEIPT,
    Pki,
    pdfsig,
    pdftotext,
    pyhanko_status,
    qpdf_check,
)

from seals import (
    RECEIPT_NAME,
    SEAL_FIELD,
    FileKeySigner,
    InProcessTimeStamper,
    SealAuthority,
    SealedPdf,
    SealingError,
    add_revocation_info,
    seal_pdf,
)
from seals.authority import SealCredentials

ALGORITHMS = ["ecdsa-p256", "rsa-3072"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pyhanko_judges_the_seal_intact_trusted_and_timestamped(
    algorithm: str, sealed: dict[str, SealedPdf], pkis: dict[str, Pki]
) -> None:
    result = sealed[algorithm]
    assert result.level == "PAdES-B-LT" and result.revocation_embedded
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()
    assert result.certificate_serial == pkis[algorithm].authority.seal.serial
    status = pyhanko_status(result.pdf, pkis[algorithm].authority.ca_certificate)
    assert status.intact and status.valid and status.trusted and not status.revoked
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.docmdp_ok
    assert status.signer_reported_dt is not None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pdfsig_says_valid_and_trusted(
    algorithm: str, sealed: dict[str, SealedPdf], nss_db: str, tmp_path: Path
) -> None:
    path = tmp_path / "result.pdf"
    path.write_bytes(sealed[algorithm].pdf)
    report = pdfsig(path, nss_db)
    assert f"Signature Field Name: {SEAL_FIELD}" in report
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." in report
    assert f"{ORG} 电子印章" in report


def test_pdfsig_without_the_ca_does_not_trust(sealed: dict[str, SealedPdf], tmp_path: Path) -> None:
    from sealkit import make_nss_db

    empty = make_nss_db(tmp_path / "empty-nss")
    path = tmp_path / "result.pdf"
    path.write_bytes(sealed["ecdsa-p256"].pdf)
    report = pdfsig(path, empty)
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." not in report


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_qpdf_finds_no_error_and_text_and_receipt_survive(
    algorithm: str, sealed: dict[str, SealedPdf], tmp_path: Path
) -> None:
    pdf = sealed[algorithm].pdf
    check = qpdf_check(pdf, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout
    text = pdftotext(pdf, tmp_path)
    for needle in ("杭州清河餐饮管理有限公司", "食品经营许可（新办）", ORG):
        assert needle in text
    with pikepdf.open(BytesIO(pdf)) as doc:
        assert doc.attachments[RECEIPT_NAME].get_file().read_bytes() == RECEIPT


def test_seal_is_an_incremental_update_of_the_attached_file(
    attached: bytes, sealed: dict[str, SealedPdf]
) -> None:
    for result in sealed.values():
        assert result.pdf.startswith(attached)
        reader = PdfFileReader(BytesIO(result.pdf), strict=False)
        # attached file, signature revision, DSS revision
        assert reader.xrefs.total_revisions == 3
        assert reader.embedded_signatures[0].field_name == SEAL_FIELD


def test_rsa_keeps_pdfa_and_ecdsa_declares_pdf_2(sealed: dict[str, SealedPdf]) -> None:
    def violations(pdf: bytes) -> list[str]:
        report = pikepdf.pdfa.validate_written(BytesIO(pdf), "3b")
        return [f.rule for f in report.findings if f.kind == "violation"]

    assert violations(sealed["rsa-3072"].pdf) == []
    assert violations(sealed["ecdsa-p256"].pdf) == ["ISO_19005_3:6.1.2-1"]
    with pikepdf.open(BytesIO(sealed["ecdsa-p256"].pdf)) as doc:
        assert doc.Root.Version == pikepdf.Name("/2.0")


def test_tampering_after_sealing_breaks_integrity(
    sealed: dict[str, SealedPdf], ecdsa_pki: Pki, nss_db: str, tmp_path: Path
) -> None:
    pdf = sealed["ecdsa-p256"].pdf
    # One bit flipped in the signed first revision (the "%PDF-1.x" header's comment line).
    tampered = bytearray(pdf)
    tampered[pdf.index(b"\n%") + 3] ^= 0x01
    status = pyhanko_status(bytes(tampered), ecdsa_pki.authority.ca_certificate)
    assert not status.intact and not status.bottom_line
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(tampered))
    report = pdfsig(path, nss_db)
    assert "Digest Mismatch." in report and "Signature is Valid." not in report


def test_other_trust_root_is_not_trusted(sealed: dict[str, SealedPdf]) -> None:
    other = SealAuthority.create("另一市行政审批局", now=PKI_START, crl_url=CRL_URL)
    status = pyhanko_status(sealed["ecdsa-p256"].pdf, other.ca_certificate)
    assert status.intact and not status.trusted and not status.bottom_line


def test_b_b_without_tsa_or_crl(attached: bytes, ecdsa_pki: Pki) -> None:
    result = seal_pdf(attached, FileKeySigner.from_authority(ecdsa_pki.authority))
    assert result.level == "PAdES-B-B" and not result.revocation_embedded
    reader = PdfFileReader(BytesIO(result.pdf), strict=False)
    assert "/DSS" not in reader.root
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.signed_data["signer_infos"][0]["unsigned_attrs"].native is None
    status = pyhanko_status(result.pdf, ecdsa_pki.authority.ca_certificate)
    assert status.intact and status.trusted and status.timestamp_validity is None


def test_b_t_without_crl(attached: bytes, ecdsa_pki: Pki) -> None:
    signer = FileKeySigner.from_authority(ecdsa_pki.authority)
    result = seal_pdf(attached, signer, timestamper=InProcessTimeStamper(ecdsa_pki.tsa))
    assert result.level == "PAdES-B-T" and not result.revocation_embedded
    status = pyhanko_status(result.pdf, ecdsa_pki.authority.ca_certificate)
    assert status.timestamp_validity is not None and status.timestamp_validity.intact


def test_sealing_with_a_revoked_certificate_is_refused(attached: bytes, ecdsa_pki: Pki) -> None:
    authority = ecdsa_pki.authority.revoke(ecdsa_pki.authority.seal.serial, at=CRL_AT)
    crl = authority.crl(now=CRL_AT, next_update=CRL_LIFETIME)
    with pytest.raises(SealingError) as caught:
        seal_pdf(attached, FileKeySigner.from_authority(authority), crl=crl)
    assert caught.value.code == "seal.revoked"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_revocation_after_sealing_shows_through_the_embedded_crl(
    algorithm: str, sealed: dict[str, SealedPdf], pkis: dict[str, Pki]
) -> None:
    authority = pkis[algorithm].authority
    revoked = authority.revoke(
        authority.seal.serial, at=CRL_AT, reason=x509.ReasonFlags.key_compromise
    )
    crl = revoked.crl_pem(now=CRL_AT, next_update=CRL_LIFETIME)
    updated = add_revocation_info(sealed[algorithm].pdf, crl)
    assert updated.startswith(sealed[algorithm].pdf)
    status = pyhanko_status(updated, authority.ca_certificate)
    assert status.intact and status.revoked and not status.bottom_line


def test_chain_without_a_root_cannot_embed_revocation(attached: bytes, ecdsa_pki: Pki) -> None:
    seal = ecdsa_pki.authority.seal
    rootless = FileKeySigner(SealCredentials(seal.certificate, seal.private_key, ()))
    with pytest.raises(SealingError) as caught:
        seal_pdf(attached, rootless, crl=ecdsa_pki.crl)
    assert caught.value.code == "seal.cert_invalid"


def test_crl_from_another_ca_does_not_validate(attached: bytes, pkis: dict[str, Pki]) -> None:
    signer = FileKeySigner.from_authority(pkis["ecdsa-p256"].authority)
    with pytest.raises(SealingError) as caught:
        seal_pdf(attached, signer, crl=pkis["rsa-3072"].crl)
    assert caught.value.code == "seal.crl_foreign"


def test_unreadable_inputs_are_sealing_errors(ecdsa_pki: Pki) -> None:
    signer = FileKeySigner.from_authority(ecdsa_pki.authority)
    with pytest.raises(SealingError):
        seal_pdf(b"not a pdf at all", signer)
    with pytest.raises(SealingError) as caught:
        seal_pdf(b"%PDF-1.7", signer, crl=b"not a crl")
    assert caught.value.code == "seal.crl_unreadable"


def test_in_process_tsa_needs_an_rsa_key(ecdsa_pki: Pki) -> None:
    seal = ecdsa_pki.authority.seal  # an ECDSA key
    with pytest.raises(SealingError):
        InProcessTimeStamper(SealCredentials(seal.certificate, seal.private_key, ()))


def test_too_small_a_reservation_falls_back_to_pyhanko_sizing(
    attached: bytes, ecdsa_pki: Pki
) -> None:
    from pyhanko.sign import signers

    from seals.pades import _sign

    signer = FileKeySigner.from_authority(ecdsa_pki.authority)
    meta = signers.PdfSignatureMetadata(field_name=SEAL_FIELD)
    pdf = _sign(signers.PdfSigner(meta, signer.pyhanko_signer()), attached, 64).getvalue()
    status = pyhanko_status(pdf, ecdsa_pki.authority.ca_certificate)
    assert status.intact and status.trusted


def test_an_expired_crl_is_refused(attached: bytes, ecdsa_pki: Pki) -> None:
    authority = ecdsa_pki.authority
    stale = authority.crl(now=PKI_START, next_update=timedelta(days=1))
    with pytest.raises(SealingError) as caught:
        seal_pdf(attached, FileKeySigner.from_authority(authority), crl=stale)
    assert caught.value.code == "seal.crl_stale"
