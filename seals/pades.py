"""PAdES seals on finished result PDFs (pyHanko), always as incremental updates.

Levels: B-B always; B-T when a time-stamper is given (the signature carries an RFC 3161
timestamp token); and when a CRL is given, the seal certificate is checked against it before
signing and the chain, the TSA's chain and the CRL are written to the document security store
(DSS) in one more incremental update, so an offline verifier can check revocation (B-LT when
timestamped).

The bytes returned must not be re-saved by any PDF library: that would rewrite the signed
revision and break the seal. Append further revisions only (as :func:`add_revocation_info`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from urllib.parse import urlsplit

from asn1crypto import cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError, as_signing_certificate
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, ValidationError
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from ledger.clock import system_clock
from seals import _pki
from seals.authority import SealCredentials
from seals.errors import SealingError
from seals.signer import SealSigner, certificate_store, to_asn1

__all__ = [
    "SEAL_FIELD",
    "InProcessTimeStamper",
    "SealedPdf",
    "add_revocation_info",
    "keeps_pdf_version",
    "parse_crl",
    "seal_pdf",
    "timestamper_for_url",
]

SEAL_FIELD = "caseledger-seal"
DEFAULT_REASON = "行政审批结果电子用印"


class _OfflineByDesign(logging.Filter):
    """Drops pyHanko's warning that fetching is off: sealing checks the given CRL only, on
    purpose, so the warning would be noise in every log line of the seal service."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_OfflineByDesign())


@dataclass(frozen=True, slots=True)
class SealedPdf:
    """A sealed PDF, its SHA-256, and what kind of seal it carries."""

    pdf: bytes
    sha256: str
    level: str
    certificate_serial: int
    revocation_embedded: bool

    def __repr__(self) -> str:
        return f"SealedPdf(level={self.level!r}, sha256={self.sha256[:16]}…, {len(self.pdf)} bytes)"


class InProcessTimeStamper(DummyTimeStamper):
    """An RFC 3161 time-stamping authority inside this process, for tests and the demo.

    It stamps with the clock of this machine (or ``fixed_time``), so its timestamps prove
    no more than that clock; production configures a real TSA with :func:`timestamper_for_url`.
    The parsed RSA key is kept, as in :class:`seals.signer.FileKeySigner`.
    """

    def __init__(self, tsa: SealCredentials, *, fixed_time: datetime | None = None) -> None:
        """Raise SealingError unless the TSA key is RSA (the token format used here is RSA)."""
        if not isinstance(tsa.private_key, rsa.RSAPrivateKey):
            raise SealingError("the in-process time-stamper needs an RSA key")
        key_info = asn1_keys.PrivateKeyInfo.load(_pki.private_key_der(tsa.private_key))
        super().__init__(
            tsa_cert=to_asn1(tsa.certificate),
            tsa_key=key_info,
            certs_to_embed=certificate_store(tsa.chain),
            fixed_dt=fixed_time,
        )
        self._rsa_key = tsa.private_key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # The parent re-reads the DER key for every token; sign with the kept key instead.
        hash_algo = get_pyca_cryptography_hash(md_algorithm)
        digest = hashes.Hash(hash_algo)
        digest.update(tst_info_data)
        attributes = cms.CMSAttributes(
            [
                _attribute("content_type", "tst_info"),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                _attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                _attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._rsa_key.sign(attributes.dump(), padding.PKCS1v15(), hash_algo)
        return signature, attributes


def _attribute(kind: str, value: object) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": (value,)})


def timestamper_for_url(url: str, *, timeout: int = 10) -> TimeStamper:
    """A time-stamper that asks the RFC 3161 TSA at ``url`` over HTTP(S).

    Raises SealingError (``seal.tsa_url``) unless ``url`` is an http or https address. A TSA
    that cannot be reached or answers badly fails the sealing (``seal.sealing``).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SealingError(f"{url!r} is not an http(s) address of a TSA", code="seal.tsa_url")
    return RequestsHTTPTimeStamper(url, timeout=timeout)  # type: ignore[no-untyped-call]


def keeps_pdf_version(signer: SealSigner) -> bool:
    """Whether sealing with ``signer`` leaves the file's PDF version as it is.

    pyHanko marks a file sealed with ECDSA (or EdDSA) as PDF 2.0, as ISO 32002 asks; only an
    RSA seal keeps a PDF 1.7 file at 1.7, and with it a PDF/A-3 declaration true.
    """
    return isinstance(signer.certificate.public_key(), rsa.RSAPublicKey)


def parse_crl(data: bytes) -> asn1_crl.CertificateList:
    """A CRL from DER or PEM bytes, as pyHanko's type; raise SealingError otherwise."""
    try:
        parsed = (
            x509.load_pem_x509_crl(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(data)
        )
    except ValueError as exc:
        raise SealingError(f"the CRL cannot be read: {exc}", code="seal.crl_unreadable") from None
    return asn1_crl.CertificateList.load(parsed.public_bytes(_pki.DER))


def seal_pdf(
    pdf: bytes,
    signer: SealSigner,
    *,
    crl: bytes | None = None,
    timestamper: TimeStamper | None = None,
    at: datetime | None = None,
    reason: str = DEFAULT_REASON,
    location: str | None = None,
    field_name: str = SEAL_FIELD,
) -> SealedPdf:
    """Seal ``pdf`` with ``signer`` as an incremental update and return the sealed file.

    With ``timestamper`` the seal is B-T; with ``crl`` (DER or PEM, from the seal CA) the
    certificate is validated at ``at`` (default: the clock, as this is the moment of
    sealing) against it and the validation data is embedded. The seal is a certification
    signature that permits no later change except validation data and document timestamps.

    Raises SealingError if the PDF cannot be read or signed, the CRL is not from the seal
    certificate's CA, has expired or lists it as revoked, the certificate does not chain to
    a root in ``signer.chain``, or the time-stamper fails.
    """
    cert_serial = signer.certificate.serial_number
    context: ValidationContext | None = None
    crls: list[asn1_crl.CertificateList] = []
    if crl is not None:
        roots = _trust_roots(signer)
        crls.append(_check_crl(crl, signer, at or system_clock()))
        context = _validation_context(signer, roots, crls, at)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        embed_validation_info=bool(crls),
        validation_context=context,
    )
    pdf_signer = _PdfSignerAt(meta, signer.pyhanko_signer(), timestamper=timestamper, at=at)
    try:
        out = _sign(pdf_signer, pdf, _reserve(signer, timestamper))
    except (ValidationError, PathBuildingError) as exc:
        raise SealingError(
            f"the seal certificate does not validate: {exc}", code="seal.cert_invalid"
        ) from None
    except (PdfError, SigningError, OSError, ValueError) as exc:
        raise SealingError(f"the PDF cannot be sealed: {exc}") from None
    sealed = out.getvalue()
    level = "PAdES-B-T" if timestamper is not None else "PAdES-B-B"
    if crls and timestamper is not None:
        level = "PAdES-B-LT"
    return SealedPdf(sealed, hashlib.sha256(sealed).hexdigest(), level, cert_serial, bool(crls))


class _PdfSignerAt(signers.PdfSigner):
    """pyHanko's signer with the signing time taken from the caller rather than the wall
    clock, so the seal's signing-time attribute is the moment the service says it sealed."""

    def __init__(self, *args: object, at: datetime | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._at = at

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        if self._at is not None:
            session.system_time = self._at
        return session


def _reserve(signer: SealSigner, timestamper: TimeStamper | None) -> int:
    """Room for the CMS signature, in hex digits: the certificates, the signature and its
    attributes, and a timestamp token with its TSA chain. Reserving it up front spares
    pyHanko a dry-run signature for sizing (about a quarter of the sealing time).
    """
    certs = sum(len(c.public_bytes(_pki.DER)) for c in (signer.certificate, *signer.chain))
    return 2 * (3072 + certs + (8192 if timestamper is not None else 0))


def _sign(pdf_signer: signers.PdfSigner, pdf: bytes, reserve: int) -> BytesIO:
    try:
        result: BytesIO = pdf_signer.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf), strict=False), bytes_reserved=reserve
        )
    except SigningError as exc:
        if "larger than expected" not in str(exc):
            raise
        # An unusually large chain or token: let pyHanko size the room itself.
        result = pdf_signer.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf), strict=False))
    return result


def add_revocation_info(
    sealed: bytes, crl: bytes, *, certificates: tuple[x509.Certificate, ...] = ()
) -> bytes:
    """``sealed`` with ``crl`` (and ``certificates``) added to its DSS as a new revision.

    This is how a later CRL — one listing a revocation, or simply a fresher one — travels
    with a sealed file; the seal itself is untouched. Raises SealingError if the PDF cannot
    be read or updated.
    """
    parsed = parse_crl(crl)
    stream = BytesIO(sealed)
    try:
        DocumentSecurityStore.add_dss(
            stream,
            None,
            certs=[to_asn1(c) for c in certificates],
            crls=[parsed],
            force_write=True,
            strict=False,
        )
    except (PdfError, OSError, ValueError) as exc:
        raise SealingError(f"cannot add validation data to the PDF: {exc}") from None
    return stream.getvalue()


def _check_crl(data: bytes, signer: SealSigner, at: datetime) -> asn1_crl.CertificateList:
    """The CRL, parsed, once it is known to come from the seal certificate's issuer, to be
    current at ``at``, and not to list the seal certificate. Raises SealingError
    (seal.crl_foreign, seal.crl_stale, seal.revoked).
    """
    parsed = parse_crl(data)
    crl = x509.load_der_x509_crl(parsed.dump())
    cert = signer.certificate
    issuer = next((c for c in signer.chain if c.subject == cert.issuer), None)
    # A CRL from another CA (even one with the same name) would make the validator fail in
    # obscure ways; check its signature against the seal certificate's issuer first.
    if issuer is None or crl.issuer != cert.issuer or not _signed_by(crl, issuer):
        raise SealingError(
            "the CRL was not issued by the seal certificate's CA", code="seal.crl_foreign"
        )
    next_update = crl.next_update_utc
    if next_update is not None and next_update < at:
        raise SealingError(
            f"the CRL expired at {next_update:%Y-%m-%d %H:%M}Z; publish a fresh one",
            code="seal.crl_stale",
        )
    if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
        raise SealingError(
            f"the seal certificate {cert.serial_number:x} is revoked; issue a new one",
            code="seal.revoked",
        )
    return parsed


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        return False
    return crl.is_signature_valid(key)


def _trust_roots(signer: SealSigner) -> list[x509.Certificate]:
    """The self-signed roots in the signer's chain; raise SealingError if there is none."""
    roots = [c for c in signer.chain if c.issuer == c.subject]
    if not roots:
        raise SealingError(
            "the seal signer's chain has no self-signed root to validate against",
            code="seal.cert_invalid",
        )
    return roots


def _validation_context(
    signer: SealSigner,
    roots: list[x509.Certificate],
    crls: list[asn1_crl.CertificateList],
    at: datetime | None,
) -> ValidationContext:
    """Offline validation against the signer's own root, with the given CRLs only."""
    intermediates = [to_asn1(c) for c in signer.chain if c.issuer != c.subject]
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in roots],
        other_certs=intermediates,
        crls=crls,
        allow_fetching=False,
        revocation_mode="hard-fail",
        moment=at,
    )
