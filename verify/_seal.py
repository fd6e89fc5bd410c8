"""The seal checks of a sealed PDF: integrity, chain, revocation and later modifications.

pyHanko does the cryptography (digest, signature, certificate path, timestamp token, difference
analysis). Its bottom line is not taken as a verdict on its own: the byte range and every
revision after the signed one are checked here too (:mod:`verify._pdfstruct`), revocation is
read from the CRLs the document carries, and trust comes only from the trust file's seal CAs,
with fetching disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    ModificationInfo,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    TimestampSignatureStatus,
)
from pyhanko_certvalidator import ValidationContext

from verify._cms import container_problems
from verify._pdfstruct import (
    byte_range_problem,
    der_prefix,
    later_revision_problems,
    trailing_bytes_problem,
)
from verify._revocation import check_revocation
from verify.texts import detail
from verify.trust import SealRoots
from verify.verdict import Check, Status, failed, indeterminate, passed

__all__ = ["check_seal"]

# pyHanko's indications that a certificate was outside its validity at the validation time.
_TIME_PROBLEMS = frozenset(
    {
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    }
)
_AFTER_INTEGRITY = ("seal.chain", "seal.revocation", "seal.modifications")
_ALLOWED_LEVELS = frozenset({ModificationLevel.NONE, ModificationLevel.LTA_UPDATES})


def check_seal(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature, roots: SealRoots, at: datetime
) -> tuple[Check, ...]:
    """The four seal checks for ``seal`` (the earliest signature of ``reader``) at time ``at``.

    Never raises for a malformed seal: what pyHanko cannot read becomes a failed integrity
    check and indeterminate chain, revocation and modification checks.
    """
    structure = _structure_problem(data, reader, seal)
    dss = _read_dss(reader)
    try:
        status = _validate(seal, roots, dss, at)
    # pyHanko raises many kinds of error on a crafted signature (CMS, ASN.1, PDF parsing);
    # each is a seal that does not verify, never a crash of the verifier.
    except MemoryError:
        raise  # the sandbox's memory limit stopped the check: not a fault of the file
    except Exception as exc:
        return _without_full_validation(data, reader, seal, roots, dss, structure, exc)
    proven = _proven_time(status)
    if structure is None:
        structure = _container_problem(seal, status.timestamp_validity, roots, dss)
    checks = (
        _integrity(structure, status),
        _guarded("seal.chain", Status.INDETERMINATE, _chain, seal, status, roots, dss, at, proven),
        _revocation_check(seal, status.signing_cert, roots, dss, proven),
        _guarded("seal.modifications", Status.FAILED, _modifications, data, reader, seal, status),
    )
    return checks


def _structure_problem(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature
) -> str | None:
    try:
        return byte_range_problem(data, reader, seal)
    # The structure is read from hostile bytes by pyHanko's parser, which can raise almost
    # anything on a crafted file (decimal, ASN.1, key and index errors); unreadable is failed.
    except MemoryError:
        raise
    except Exception as exc:
        return f"the seal's byte range cannot be read: {_short(exc)}"


def _revocation_check(
    seal: EmbeddedPdfSignature,
    cert: asn1_x509.Certificate,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    proven: datetime | None,
) -> Check:
    args = (seal, cert, roots, dss, proven)
    return _guarded("seal.revocation", Status.INDETERMINATE, check_revocation, *args)


def _without_full_validation(
    data: bytes,
    reader: PdfFileReader,
    seal: EmbeddedPdfSignature,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
    structure: str | None,
    error: Exception,
) -> tuple[Check, ...]:
    """The seal checks when pyHanko's full validation raised: a crafted signature, or a
    certificate path pyHanko's validator cannot handle (it asserts, for instance, on a trust
    root with the seal CA's name but a key of another type). The signature itself and the
    later revisions are still judged; the chain is not from this organisation's CA."""
    try:
        seal.compute_integrity_info()  # type: ignore[no-untyped-call]
        changes = ModificationInfo(**seal.summarise_integrity_info())
        intact, valid = validate_sig_integrity(
            seal.signer_info, seal.signer_cert, "data", seal.compute_digest()
        )
    # Same reason as above: whatever the parser raises means the seal cannot be read.
    except MemoryError:
        raise
    except Exception as exc:
        if structure:
            return _unreadable_seal(detail("seal.container", problems=structure))
        return _unreadable_seal(detail("seal.unvalidated", why=_short(exc)))
    structure = structure or _container_problem(seal, None, roots, dss)
    if structure is None and not (intact and valid):
        structure = detail("seal.not_over_bytes")
    cert = seal.signer_cert
    subject = cert.subject.human_friendly
    checks = (
        failed("seal.integrity", detail("seal.container", problems=structure))
        if structure
        else passed("seal.integrity", detail("seal.covers")),
        failed("seal.chain", detail("chain.unvalidated", subject=subject, why=_short(error))),
        _revocation_check(seal, cert, roots, dss, None),
        _guarded("seal.modifications", Status.FAILED, _modifications, data, reader, seal, changes),
    )
    return checks


def _unreadable_seal(reason: str) -> tuple[Check, ...]:
    not_checked = detail("seal.not_checked")
    return (
        failed("seal.integrity", reason),
        *(indeterminate(c, not_checked) for c in _AFTER_INTEGRITY),
    )


def _container_problem(
    seal: EmbeddedPdfSignature,
    token: TimestampSignatureStatus | None,
    roots: SealRoots,
    dss: DocumentSecurityStore | None,
) -> str | None:
    """What is wrong with the unsigned parts of the seal's CMS container, or None."""
    known = (*roots.pyca, *_dss_certs(dss))
    problems = container_problems(der_prefix(bytes(seal.pkcs7_content)), known)
    if token is not None and not (token.intact and token.valid):
        problems.append(detail("seal.timestamp_token"))
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
    except MemoryError:
        raise
    except Exception as exc:
        return Check(check_id, on_error, detail("seal.unreadable_for_check", why=_short(exc)))


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"


def _read_dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    # A missing or malformed DSS means no embedded validation data, nothing worse.
    except MemoryError:
        raise
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
        return failed("seal.integrity", detail("seal.container", problems=structure))
    if not status.intact:
        return failed("seal.integrity", detail("seal.digest"))
    if not status.valid:
        return failed("seal.integrity", detail("seal.signature"))
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return failed("seal.integrity", detail("seal.partial"))
    return passed("seal.integrity", detail("seal.covers_with", algorithm=status.md_algorithm))


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
        return failed("seal.chain", detail("chain.no_ca"))
    if not (status.intact and status.valid):
        # pyHanko does not judge the certificate of a signature that does not verify.
        return indeterminate("seal.chain", detail("chain.not_checked"))
    if status.trusted:
        return passed("seal.chain", detail("chain.trusted", subject=subject))
    if status.trust_problem_indic not in _TIME_PROBLEMS:
        return failed("seal.chain", detail("chain.untrusted", subject=subject, why=_why(status)))
    if proven is not None:
        # The certificate is outside its validity now; a trusted timestamp shows when the seal
        # existed, so judge the certificate at that time.
        at_stamp = _validate(seal, roots, dss, proven)
        if at_stamp.trusted:
            at_text = f"{proven:%Y-%m-%d %H:%M:%S}Z"
            return passed("seal.chain", detail("chain.at_timestamp", subject=subject, at=at_text))
        return failed("seal.chain", detail("chain.invalid_at_timestamp", subject=subject))
    claimed = status.signer_reported_dt
    cert = status.signing_cert
    if claimed is not None and cert.not_valid_before <= claimed <= cert.not_valid_after:
        day = f"{at:%Y-%m-%d}"
        return indeterminate(
            "seal.chain", detail("chain.expired_unproven", subject=subject, day=day)
        )
    return failed("seal.chain", detail("chain.invalid_when_made", subject=subject))


def _why(status: PdfSignatureStatus) -> str:
    indication = status.trust_problem_indic
    if indication is None:
        return detail("chain.no_path")
    return str(getattr(indication, "name", indication)).lower().replace("_", " ")


def _modifications(
    data: bytes, reader: PdfFileReader, seal: EmbeddedPdfSignature, status: ModificationInfo
) -> Check:
    problems = later_revision_problems(reader, seal.signed_revision)
    trailing = trailing_bytes_problem(data, reader)
    if trailing:
        problems.append(trailing)
    level = status.modification_level
    if level is None or level not in _ALLOWED_LEVELS:
        name = level.name.lower().replace("_", " ") if level else "unanalysed changes"
        problems.insert(0, detail("modifications.kind", kind=name))
    if status.docmdp_ok is False:
        problems.append(detail("modifications.docmdp"))
    if problems:
        found = "; ".join(dict.fromkeys(problems))
        return failed("seal.modifications", detail("modifications.found", problems=found))
    later = reader.xrefs.total_revisions - seal.signed_revision - 1
    if later == 0:
        return passed("seal.modifications", detail("modifications.none"))
    return passed("seal.modifications", detail("modifications.dss_only", count=later))
