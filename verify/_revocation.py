"""Revocation of the seal certificate, read from the CRLs the document itself carries.

Only CRLs signed by the seal certificate's issuer in the trust file count; nothing is fetched.
A revocation dated after a trusted timestamp of the seal leaves the seal good (the timestamp
proves the seal existed before); without such a timestamp any revocation fails the seal, since
whoever holds a compromised key can write any signing time.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from verify.texts import detail
from verify.trust import SealRoots
from verify.verdict import Check, failed, indeterminate, passed

__all__ = ["check_revocation"]


def check_revocation(
    seal: EmbeddedPdfSignature,
    signing_cert: asn1_x509.Certificate,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    proven: datetime | None,
) -> Check:
    """seal.revocation for the seal made with ``signing_cert``; ``proven`` is the signing time
    a trusted timestamp proves, if any."""
    cert = x509.load_der_x509_certificate(signing_cert.dump())
    issuer = next((ca for ca in roots.pyca if _issued_by(cert, ca)), None)
    if issuer is None:
        return indeterminate("seal.revocation", detail("revocation.issuer_unknown"))
    lists = [c for c in _crls(seal, dss) if _crl_from(c, issuer)]
    if not lists:
        return indeterminate("seal.revocation", detail("revocation.no_list"))
    for crl in lists:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            continue
        revoked_at = entry.revocation_date_utc
        if proven is not None and proven < revoked_at:
            day = f"{revoked_at:%Y-%m-%d}"
            return passed("seal.revocation", detail("revocation.after_stamp", day=day))
        serial, day = f"{cert.serial_number:x}", f"{revoked_at:%Y-%m-%d}"
        return failed("seal.revocation", detail("revocation.revoked", serial=serial, day=day))
    newest = max(c.last_update_utc for c in lists)
    at = f"{newest:%Y-%m-%d %H:%M}Z"
    return passed("seal.revocation", detail("revocation.not_revoked", at=at))


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _crl_from(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    public_key = ca.public_key()
    try:
        return crl.issuer == ca.subject and crl.is_signature_valid(public_key)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def _crls(
    seal: EmbeddedPdfSignature, dss: DocumentSecurityStore | None
) -> list[x509.CertificateRevocationList]:
    """Every CRL the document carries: in its DSS, and inside the seal's CMS structure."""
    found: list[asn1_crl.CertificateList] = []
    if dss is not None:
        for ref in dss.crls:
            try:
                found.append(asn1_crl.CertificateList.load(ref.get_object().data))
            except MemoryError:
                raise  # the sandbox's memory limit stopped the check: not a fault of the file
            except Exception:  # noqa: S112 - an unreadable CRL is simply not evidence
                continue
    for choice in seal.signed_data["crls"] or ():
        if choice.name == "crl":
            found.append(choice.chosen)
    out = []
    for item in found:
        try:
            out.append(x509.load_der_x509_crl(item.dump()))
        except ValueError:
            continue
    return out
