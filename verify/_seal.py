"""The seal checks of a sealed PDF: integrity, chain, revocation and later modifications.

pyHanko does the cryptography (digest, signature, certificate path, timestamp token, difference
analysis). Its bottom line is not taken as a verdict on its own: the byte range and every
revision after the signed one are checked here too (:mod:`verify._pdfstruct`), revocation is
read from the CRLs the document carries, and trust comes only from the trust file's seal CAs,
with fetching disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import core
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verify._cms import container_problems
from verify._pdfstruct import (
    byte_range_problem,
    der_prefix,
    later_revision_problems,
    trailing_bytes_problem,
)
from verify.trust import SealRoots
from verify.verdict import Check, Status, failed, indeterminate, passed

__all__ = ["SealFacts", "check_seal"]

# pyHanko's indications that a certificate was outside its validity at the validation time.
_TIME_PROBLEMS = frozenset(
    {
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    }
)
_ALLOWED_LEVELS = frozenset({ModificationLevel.NONE, ModificationLevel.LTA_UPDATES})


@dataclass(frozen=True, slots=True)
class SealFacts:
    """What the seal checks learnt that later checks need."""

    checks: tuple[Check, ...]
    signer: str | None
    signed_at: datetime | None


def check_seal(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature, roots: SealRoots, at: datetime
) -> SealFacts:
    """The four seal checks for ``seal`` (the earliest signature of ``reader``) at time ``at``.

    Never raises for a malformed seal: what pyHanko cannot read becomes a failed integrity
    check and indeterminate chain, revocation and modification checks.
    """
    try:
        structure = byte_range_problem(data, reader, seal.sig_object, seal.signed_revision)
    # The structure is read from hostile bytes by pyHanko's parser, which can raise almost
    # anything on a crafted file (decimal, ASN.1, key and index errors); unreadable is failed.
    except Exception as exc:
        structure = f"the seal's byte range cannot be read: {_short(exc)}"
    dss = _read_dss(reader)
    try:
        status = _validate(seal, roots, dss, at)
    # pyHanko raises many kinds of error on a crafted signature (CMS, ASN.1, PDF parsing);
    # each is a seal that does not verify, never a crash of the verifier.
    except Exception as exc:
        reason = structure or f"the seal cannot be validated: {_short(exc)}"
        not_checked = "not checked: the seal itself cannot be validated"
        return SealFacts(
            (
                failed("seal.integrity", reason),
                indeterminate("seal.chain", not_checked),
                indeterminate("seal.revocation", not_checked),
                indeterminate("seal.modifications", not_checked),
            ),
            None,
            None,
        )
    proven = _proven_time(status)
    signer = status.signing_cert.subject.human_friendly
    if structure is None:
        structure = _container_problem(seal, status, roots, dss)
    checks = (
        _integrity(structure, status),
        _guarded("seal.chain", Status.INDETERMINATE, _chain, seal, status, roots, dss, at, proven),
        _guarded(
            "seal.revocation", Status.INDETERMINATE, _revocation, seal, status, roots, dss, proven
        ),
        _guarded("seal.modifications", Status.FAILED, _modifications, data, reader, seal, status),
    )
    return SealFacts(checks, signer, proven or status.signer_reported_dt)


def _container_problem(
    seal: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
) -> str | None:
    """What is wrong with the unsigned parts of the seal's CMS container, or None."""
    known = (*roots.pyca, *_dss_certs(dss))
    problems = container_problems(der_prefix(bytes(seal.pkcs7_content)), known)
    token = status.timestamp_validity
    if token is not None and not (token.intact and token.valid):
        problems.append("the seal's timestamp token does not verify")
    tokens = seal.signer_info["unsigned_attrs"]
    for attribute in () if isinstance(tokens, core.Void) else tokens:
        for value in attribute["values"]:
            problems += container_problems(value.dump(), known, timestamp=True)
    return "; ".join(problems) if problems else None


def _dss_certs(dss: DocumentSecurityStore | None) -> list[x509.Certificate]:
    out = []
    for cert in dss.load_certs() if dss is not None else ():
        try:
            out.append(x509.load_der_x509_certificate(cert.dump()))
        except ValueError:
            continue
    return out


def _guarded(check_id: str, on_error: Status, check: Callable[..., Check], *args: object) -> Check:
    """``check(*args)``, or a check with status ``on_error`` if reading the file for it fails.

    The checks read further objects of a hostile file through pyHanko; whatever that raises,
    the verdict names the check that could not be completed instead of crashing.
    """
    try:
        return check(*args)
    except Exception as exc:
        return Check(
            check_id, on_error, f"the document cannot be read for this check: {_short(exc)}"
        )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"


def _read_dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    # A missing or malformed DSS means no embedded validation data, nothing worse.
    except Exception:
        return None


def _context(
    roots: SealRoots, dss: DocumentSecurityStore | None, moment: datetime
) -> ValidationContext:
    """Trust only the trust file's seal CAs; never fetch; revocation is checked separately."""
    other_certs = list(dss.load_certs()) if dss is not None else []
    return ValidationContext(
        trust_roots=list(roots.asn1),
        other_certs=other_certs,
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=moment,
    )


def _validate(
    seal: EmbeddedPdfSignature,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    moment: datetime,
) -> PdfSignatureStatus:
    context = _context(roots, dss, moment)
    return validate_pdf_signature(seal, context, ts_validation_context=context)


def _proven_time(status: PdfSignatureStatus) -> datetime | None:
    """The signing time a trusted timestamp proves, or None (a self-reported time proves
    nothing: whoever holds the key can write any time)."""
    token = status.timestamp_validity
    if token is not None and token.intact and token.valid and token.trusted:
        return token.timestamp
    return None


def _integrity(structure: str | None, status: PdfSignatureStatus) -> Check:
    if structure is not None:
        return failed("seal.integrity", structure)
    if not status.intact:
        return failed("seal.integrity", "the sealed bytes do not match the digest in the seal")
    if not status.valid:
        return failed("seal.integrity", "the seal's signature does not verify under its key")
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return failed("seal.integrity", "the seal does not cover the whole revision it is in")
    return passed(
        "seal.integrity",
        f"the seal's signature ({status.md_algorithm}) covers every byte of the sealed revision",
    )


def _chain(
    seal: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    at: datetime,
    proven: datetime | None,
) -> Check:
    subject = status.signing_cert.subject.human_friendly
    if not roots.asn1:
        return failed("seal.chain", "the trust file names no seal CA")
    if not (status.intact and status.valid):
        # pyHanko does not judge the certificate of a signature that does not verify.
        return indeterminate("seal.chain", "not checked: the seal's signature does not verify")
    if status.trusted:
        return passed("seal.chain", f"{subject}, issued by the trust file's seal CA")
    if status.trust_problem_indic not in _TIME_PROBLEMS:
        return failed(
            "seal.chain", f"{subject} does not chain to the trust file's seal CA ({_why(status)})"
        )
    if proven is not None:
        # The certificate is outside its validity now; a trusted timestamp shows when the seal
        # existed, so judge the certificate at that time.
        at_stamp = _validate(seal, roots, dss, proven)
        if at_stamp.trusted:
            return passed(
                "seal.chain",
                f"{subject}, issued by the trust file's seal CA, valid at the seal's "
                f"timestamp {proven:%Y-%m-%d %H:%M:%S}Z",
            )
        return failed("seal.chain", f"{subject} was not valid when the seal was timestamped")
    claimed = status.signer_reported_dt
    cert = status.signing_cert
    if claimed is not None and cert.not_valid_before <= claimed <= cert.not_valid_after:
        return indeterminate(
            "seal.chain",
            f"{subject} is not valid at {at:%Y-%m-%d} and no timestamp proves the seal older",
        )
    return failed("seal.chain", f"{subject} was not valid when the seal says it was made")


def _why(status: PdfSignatureStatus) -> str:
    indication = status.trust_problem_indic
    if indication is None:
        return "no path to a trust root"
    return str(getattr(indication, "name", indication)).lower().replace("_", " ")


def _revocation(
    seal: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    proven: datetime | None,
) -> Check:
    cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    issuer = next((ca for ca in roots.pyca if _issued_by(cert, ca)), None)
    if issuer is None:
        return indeterminate("seal.revocation", "the seal's issuer is not in the trust file")
    lists = [c for c in _crls(seal, dss) if _crl_from(c, issuer)]
    if not lists:
        return indeterminate(
            "seal.revocation", "the document carries no revocation list signed by the seal CA"
        )
    for crl in lists:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            continue
        revoked_at = entry.revocation_date_utc
        if proven is not None and proven < revoked_at:
            return passed(
                "seal.revocation",
                f"certificate revoked on {revoked_at:%Y-%m-%d}, after the seal's timestamp",
            )
        return failed(
            "seal.revocation",
            f"the seal CA revoked certificate {cert.serial_number:x} on {revoked_at:%Y-%m-%d}",
        )
    newest = max(c.last_update_utc for c in lists)
    return passed(
        "seal.revocation", f"not revoked on the seal CA's list of {newest:%Y-%m-%d %H:%M}Z"
    )


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


def _modifications(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature, status: PdfSignatureStatus
) -> Check:
    problems = later_revision_problems(reader, seal.signed_revision)
    trailing = trailing_bytes_problem(data, reader)
    if trailing:
        problems.append(trailing)
    level = status.modification_level
    if level is None or level not in _ALLOWED_LEVELS:
        name = level.name.lower().replace("_", " ") if level else "unanalysed changes"
        problems.insert(0, f"changes after sealing of kind: {name}")
    if status.docmdp_ok is False:
        problems.append("the changes break the seal's no-changes certification")
    if problems:
        return failed("seal.modifications", "; ".join(dict.fromkeys(problems)))
    later = reader.xrefs.total_revisions - seal.signed_revision - 1
    if later == 0:
        return passed("seal.modifications", "nothing was added after sealing")
    return passed(
        "seal.modifications", f"{later} later revision(s), validation data only (DSS/timestamps)"
    )
