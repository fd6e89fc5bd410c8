"""The seal PKI: what the certificates say, storage, PKCS#12 import, revocation and CRLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sealkit import CRL_URL, ORG, PKI_START, Pki

from seals import FileKeySigner, SealAuthority, SealAuthorityError
from seals._pki import PEM

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
LATER = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


def test_ca_is_a_ca_that_signs_certificates_and_crls(ecdsa_pki: Pki) -> None:
    ca = ecdsa_pki.authority.ca_certificate
    assert ca.subject == ca.issuer
    assert _ext(ca, x509.BasicConstraints).value.ca is True
    usage = _ext(ca, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    ca.verify_directly_issued_by(ca)


def test_seal_certificate_carries_what_validators_need(ecdsa_pki: Pki) -> None:
    authority = ecdsa_pki.authority
    cert = authority.seal.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORG
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{ORG} 电子印章"
    usage = _ext(cert, x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    eku = _ext(cert, x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku and DOCUMENT_SIGNING in eku
    points = _ext(cert, x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == CRL_URL
    assert _ext(cert, x509.BasicConstraints).value.ca is False
    cert.verify_directly_issued_by(authority.ca_certificate)
    assert isinstance(authority.seal.private_key, ec.EllipticCurvePrivateKey)
    assert cert.not_valid_before_utc <= PKI_START < cert.not_valid_after_utc


def test_rsa_option_uses_3072_bit_keys(pkis: dict[str, Pki]) -> None:
    key = pkis["rsa-3072"].authority.seal.private_key
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072


def test_tsa_certificate_is_for_time_stamping_only(ecdsa_pki: Pki) -> None:
    eku = _ext(ecdsa_pki.tsa.certificate, x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ecdsa_pki.tsa.certificate.verify_directly_issued_by(ecdsa_pki.authority.ca_certificate)


def test_aia_is_optional(ecdsa_pki: Pki) -> None:
    with pytest.raises(x509.ExtensionNotFound):
        _ext(ecdsa_pki.authority.seal.certificate, x509.AuthorityInformationAccess)
    renewed = ecdsa_pki.authority.issue_seal(now=LATER, aia_url="http://seal.example/ca.cer")
    aia = _ext(renewed.seal.certificate, x509.AuthorityInformationAccess).value
    assert aia[0].access_location.value == "http://seal.example/ca.cer"
    assert renewed.seal.serial != ecdsa_pki.authority.seal.serial


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(SealAuthorityError) as caught:
        SealAuthority.create(ORG, now=datetime(2026, 1, 1), crl_url=CRL_URL)
    assert caught.value.code == "seal.naive_time"


def test_empty_organisation_is_refused() -> None:
    with pytest.raises(SealAuthorityError):
        SealAuthority.create("  ", now=PKI_START, crl_url=CRL_URL)


def test_revoked_serial_is_on_the_signed_crl_with_reason_and_time(ecdsa_pki: Pki) -> None:
    authority = ecdsa_pki.authority
    serial = authority.seal.serial
    assert (
        x509.load_der_x509_crl(authority.crl(now=LATER)).get_revoked_certificate_by_serial_number(
            serial
        )
        is None
    )
    revoked_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    revoked = authority.revoke(serial, at=revoked_at, reason=x509.ReasonFlags.key_compromise)
    assert revoked.is_revoked(serial) and not authority.is_revoked(serial)
    crl = x509.load_der_x509_crl(revoked.crl(now=LATER, next_update=timedelta(days=2)))
    assert crl.is_signature_valid(authority.ca_certificate.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None and entry.revocation_date_utc == revoked_at
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert crl.next_update_utc == LATER + timedelta(days=2)
    assert crl.issuer == authority.ca_certificate.subject
    pem = x509.load_pem_x509_crl(revoked.crl_pem(now=LATER))
    assert pem.get_revoked_certificate_by_serial_number(serial) is not None


def test_later_crls_carry_larger_numbers(ecdsa_pki: Pki) -> None:
    def number(at: datetime) -> int:
        crl = x509.load_der_x509_crl(ecdsa_pki.authority.crl(now=at))
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    assert number(LATER + timedelta(hours=1)) > number(LATER)


def test_save_and_load_round_trip_with_passphrase(ecdsa_pki: Pki, tmp_path: Path) -> None:
    authority = ecdsa_pki.authority.revoke(12345, at=LATER)
    authority.save(tmp_path, passphrase=b"correct horse")
    assert b"ENCRYPTED" in (tmp_path / "seal.key.pem").read_bytes()
    assert (tmp_path / "seal-ca.key.pem").stat().st_mode & 0o077 == 0
    loaded = SealAuthority.load(tmp_path, passphrase=b"correct horse")
    assert loaded.seal.certificate == authority.seal.certificate
    assert loaded.ca_certificate == authority.ca_certificate
    assert loaded.organisation == ORG and loaded.crl_url == CRL_URL
    assert loaded.revocations == authority.revocations
    assert loaded.seal.private_key.public_key() == authority.seal.private_key.public_key()
    with pytest.raises(SealAuthorityError):
        SealAuthority.load(tmp_path, passphrase=b"wrong")
    with pytest.raises(SealAuthorityError) as caught:
        SealAuthority.load(tmp_path)
    assert caught.value.code == "seal.passphrase"


def test_save_unencrypted_and_load(ecdsa_pki: Pki, tmp_path: Path) -> None:
    ecdsa_pki.authority.save(tmp_path)
    assert b"ENCRYPTED" not in (tmp_path / "seal.key.pem").read_bytes()
    assert SealAuthority.load(tmp_path).seal.serial == ecdsa_pki.authority.seal.serial


def test_load_refuses_a_key_of_another_certificate(pkis: dict[str, Pki], tmp_path: Path) -> None:
    pkis["ecdsa-p256"].authority.save(tmp_path)
    other = tmp_path / "other"
    pkis["rsa-3072"].authority.save(other)
    (tmp_path / "seal.key.pem").write_bytes((other / "seal.key.pem").read_bytes())
    with pytest.raises(SealAuthorityError) as caught:
        SealAuthority.load(tmp_path)
    assert caught.value.code == "seal.key_mismatch"


def test_load_of_a_missing_folder_is_a_seal_error(tmp_path: Path) -> None:
    with pytest.raises(SealAuthorityError):
        SealAuthority.load(tmp_path / "nowhere")


def _p12(pki: Pki, *, with_chain: bool) -> bytes:
    seal = pki.authority.seal
    return pkcs12.serialize_key_and_certificates(
        b"seal",
        seal.private_key,
        seal.certificate,
        [pki.authority.ca_certificate] if with_chain else None,
        BestAvailableEncryption(b"p12-pass"),
    )


def test_pkcs12_from_an_outside_ca_can_seal_but_not_revoke(pkis: dict[str, Pki]) -> None:
    outside = pkis["rsa-3072"]
    imported = SealAuthority.from_pkcs12(_p12(outside, with_chain=True), password=b"p12-pass")
    assert imported.organisation == ORG and imported.crl_url == CRL_URL
    assert imported.ca_key is None
    assert imported.ca_certificate == outside.authority.ca_certificate
    assert FileKeySigner.from_authority(imported).certificate == outside.authority.seal.certificate
    for action in (
        lambda: imported.revoke(1, at=LATER),
        lambda: imported.crl(now=LATER),
        lambda: imported.issue_seal(now=LATER),
    ):
        with pytest.raises(SealAuthorityError) as caught:
            action()
        assert caught.value.code == "seal.no_ca_key"


def test_pkcs12_without_the_chain_or_with_a_wrong_password_is_refused(
    pkis: dict[str, Pki],
) -> None:
    outside = pkis["rsa-3072"]
    with pytest.raises(SealAuthorityError):
        SealAuthority.from_pkcs12(_p12(outside, with_chain=False), password=b"p12-pass")
    with pytest.raises(SealAuthorityError):
        SealAuthority.from_pkcs12(_p12(outside, with_chain=True), password=b"nope")
    with pytest.raises(SealAuthorityError):
        SealAuthority.from_pkcs12(b"not a pkcs12 file", password=None)


def test_file_key_signer_from_files(ecdsa_pki: Pki, tmp_path: Path) -> None:
    ecdsa_pki.authority.save(tmp_path)
    signer = FileKeySigner.from_files(tmp_path / "seal.pem", tmp_path / "seal.key.pem")
    assert signer.certificate == ecdsa_pki.authority.seal.certificate
    assert signer.chain == (ecdsa_pki.authority.ca_certificate,)
    assert signer.pyhanko_signer() is signer.pyhanko_signer()
    (tmp_path / "ca-only.pem").write_bytes(ecdsa_pki.authority.ca_certificate.public_bytes(PEM))
    with pytest.raises(SealAuthorityError):
        FileKeySigner.from_files(tmp_path / "ca-only.pem", tmp_path / "seal.key.pem")


def test_imported_authority_saves_and_loads_without_a_ca_key(
    pkis: dict[str, Pki], tmp_path: Path
) -> None:
    imported = SealAuthority.from_pkcs12(
        _p12(pkis["rsa-3072"], with_chain=True), password=b"p12-pass"
    )
    imported.save(tmp_path)
    assert not (tmp_path / "seal-ca.key.pem").exists()
    loaded = SealAuthority.load(tmp_path)
    assert loaded.ca_key is None and loaded.seal.chain == imported.seal.chain
