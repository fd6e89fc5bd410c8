"""Check a sealed result PDF: the seal, the case receipt inside it, and what the page says.

One call, :func:`verify_pdf`, gives one :class:`~verify.verdict.Verdict` with the checks of
the design: seal.integrity, seal.chain, seal.revocation, seal.modifications, receipt.present,
receipt.signatures, receipt.rules, receipt.inclusion, checkpoint.signature,
checkpoint.witnesses, document.matches and result.status. Everything is read from the revision
the seal covers; trust comes only from the trust file; nothing is fetched here (the status
evidence is handed in: see :mod:`verify.status`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from ledger.clock import system_clock
from ledger.receipt import NOTICE_KIND, RECEIPT_KIND, Receipt, ReceiptError
from ledger.trust import TrustFile
from verify._attachments import RECEIPT_NAME, AttachmentProblem, find_receipt
from verify._issuer import foreign_issuer
from verify._pdfstruct import signed_revision_end
from verify._prescan import check_streams
from verify._seal import check_seal
from verify._text import match_problems, page_text
from verify.bundle import ReceiptReport, check_receipt
from verify.limits import MAX_PAGES, VerifyLimits, check_pdf_bytes
from verify.status import StatusEvidence, check_status
from verify.texts import detail, reason
from verify.trust import SealRoots, seal_roots
from verify.verdict import (
    Check,
    InputUnreadable,
    Verdict,
    failed,
    indeterminate,
    passed,
)

__all__ = ["verify_pdf"]

# The outcome a sealed notice prints, by the step its receipt ends with (a notice on a
# decision — 不予行政许可决定书 — prints the decided outcome itself).
NOTICE_OUTCOMES = {
    "Accepted": "accepted",
    "SupplementRequested": "supplement",
    "NotAccepted": "not_accepted",
    "Extended": "extended",
    "ResultRevoked": "revoked",
}

DEFAULT_LIMITS = VerifyLimits()

_RECEIPT_CHECKS = (
    "receipt.signatures",
    "receipt.rules",
    "receipt.inclusion",
    "checkpoint.signature",
    "checkpoint.witnesses",
)


def verify_pdf(
    data: bytes,
    trust: TrustFile,
    *,
    at: datetime | None = None,
    status: StatusEvidence | None = None,
    limits: VerifyLimits = DEFAULT_LIMITS,
) -> Verdict:
    """The verdict on a sealed result PDF against ``trust``, judged at ``at`` (default now),
    with ``status`` the evidence of whether it is still in force (None: not asked, so the
    verdict is at best INDETERMINATE).

    Raises InputUnreadable only for bytes that are not a readable PDF at all (too large, no
    PDF header, streams that inflate past ``limits``, CMaps with too many entries, no readable
    cross-reference table); anything else — a missing, broken or foreign seal included — is a
    failed or indeterminate check. This runs in the calling process with no bound on time or
    memory: on input from anyone, use :class:`verify.sandbox.Sandbox`.
    """
    check_pdf_bytes(data)
    check_streams(data, limits)
    moment = at or system_clock()
    roots = seal_roots(trust)
    try:
        return _verify(data, trust, roots, moment, status)
    except InputUnreadable:
        raise
    # Each check already turns what it cannot read into its own failed or indeterminate
    # status; this is the last line, so that no input ever escapes as anything but
    # InputUnreadable (bad input to the API, exit code 3 on the command line).
    except MemoryError:
        raise  # the sandbox's memory limit stopped the check: not a fault of the file
    except Exception as exc:
        raise InputUnreadable(f"the PDF could not be processed: {_short(exc)}") from None


def _verify(
    data: bytes,
    trust: TrustFile,
    roots: SealRoots,
    moment: datetime,
    status: StatusEvidence | None,
) -> Verdict:
    reader = _open(data)
    seal, problem = _find_seal(reader)
    if seal is None:
        return _unsealed(problem)
    seal_checks = check_seal(data, reader, seal, roots, moment)
    signed_end = _signed_end(seal, len(data))
    receipt_checks, report, answered = _receipt(reader, seal, trust)
    document = _document(data[:signed_end], report, answered)
    if answered is not None or (report is not None and report.case.outcome == "denied"):
        # A notice answers a step and grants nothing: no later step revokes or supersedes
        # it, so its receipt is all there is to its standing.
        standing = passed("result.status", detail("status.notice"))
    else:
        standing = check_status(
            status,
            trust,
            hashlib.sha256(data).hexdigest(),
            sealed_at=_sealed_at(seal),
            moment=moment,
        )
    checks = (*seal_checks, *receipt_checks, document, standing)
    issuer = foreign_issuer(seal, trust)
    if issuer is not None:
        checks = (issuer, *checks)
    if report is None:
        return Verdict(checks)
    return Verdict(checks, report.case, report.timeline)


def _sealed_at(seal: EmbeddedPdfSignature) -> datetime | None:
    try:
        when = seal.self_reported_timestamp
    except MemoryError:
        raise
    except Exception:  # a crafted signing time is simply not evidence of when
        return None
    return when if isinstance(when, datetime) and when.tzinfo is not None else None


def _open(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        reader.xrefs  # noqa: B018 - force the cross-reference tables to be read now
        reader.root  # noqa: B018
    # pyHanko's reader raises a wide range of errors on a damaged file; all of them mean
    # the same thing to the reader of the verdict: this is not a readable PDF.
    except MemoryError:
        raise
    except Exception as exc:
        raise InputUnreadable(f"the file is not a readable PDF: {_short(exc)}") from None
    return reader


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"


def _find_seal(reader: PdfFileReader) -> tuple[EmbeddedPdfSignature | None, str]:
    """The earliest signature of the document (the seal), or None and why there is none."""
    try:
        signatures = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    except MemoryError:
        raise
    except Exception as exc:
        return None, detail("seal.unreadable", why=_short(exc))
    if not signatures:
        return None, detail("seal.none")
    return min(signatures, key=lambda s: s.signed_revision), ""


def _unsealed(problem: str) -> Verdict:
    not_checked = detail("seal.not_checked_none")
    checks = [failed("seal.integrity", problem)]
    checks += [
        indeterminate(check_id, not_checked)
        for check_id in ("seal.chain", "seal.revocation", "seal.modifications")
    ]
    return Verdict(tuple(checks))


def _signed_end(seal: EmbeddedPdfSignature, size: int) -> int:
    try:
        values = [int(v) for v in seal.sig_object["/ByteRange"]]
        return min(size, signed_revision_end(values))
    except (KeyError, TypeError, ValueError, IndexError):
        return size


def _receipt(
    reader: PdfFileReader, seal: EmbeddedPdfSignature, trust: TrustFile
) -> tuple[tuple[Check, ...], ReceiptReport | None, str | None]:
    """receipt.present and the receipt checks, from the revision the seal covers, and the
    outcome the page must print (None: the decided one)."""

    def absent(why: str) -> tuple[tuple[Check, ...], None, None]:
        rest = tuple(indeterminate(c, detail("receipt.not_checked")) for c in _RECEIPT_CHECKS)
        return (failed("receipt.present", why), *rest), None, None

    try:
        raw = find_receipt(reader.get_historical_resolver(seal.signed_revision))
    except AttachmentProblem as exc:
        return absent(detail("receipt.attachment_problem", why=exc))
    # As in the seal checks: pyHanko's parser can raise anything on a crafted file.
    except MemoryError:
        raise
    except Exception as exc:
        return absent(detail("receipt.attachments", why=_short(exc)))
    if raw is None:
        return absent(detail("receipt.absent", name=RECEIPT_NAME))
    try:
        receipt = Receipt.from_json(raw)
    except ReceiptError as exc:
        return absent(detail("receipt.unreadable", name=RECEIPT_NAME, why=reason(exc)))
    except RecursionError:
        return absent(detail("receipt.nested", name=RECEIPT_NAME))
    if receipt.kind not in (RECEIPT_KIND, NOTICE_KIND):
        return absent(detail("receipt.kind", name=RECEIPT_NAME, kind=receipt.kind))
    report = check_receipt(receipt, trust, require_decision=receipt.kind == RECEIPT_KIND)
    answered = None
    if receipt.kind == NOTICE_KIND and receipt.envelopes:
        answered = NOTICE_OUTCOMES.get(receipt.envelopes[-1].type)
    steps, entries = len(receipt.envelopes), len(receipt.directory)
    attached = detail("receipt.attached", name=RECEIPT_NAME, steps=steps, entries=entries)
    present = passed("receipt.present", attached)
    return (present, *report.checks), report, answered


def _document(signed_bytes: bytes, report: ReceiptReport | None, answered: str | None) -> Check:
    outcome = answered or (report.case.outcome if report else None)
    if report is None or outcome is None or report.case.number is None:
        return indeterminate("document.matches", detail("matches.nothing"))
    try:
        text = page_text(signed_bytes, MAX_PAGES)
    except ValueError as exc:
        return indeterminate("document.matches", detail("matches.unreadable", why=exc))
    # pikepdf's parser, like pyHanko's, may raise other errors on a crafted file.
    except MemoryError:
        raise
    except Exception as exc:
        return indeterminate("document.matches", detail("matches.pages", why=_short(exc)))
    problems = match_problems(text.text, report.case.number, report.case.id, outcome)
    if problems:
        return failed("document.matches", detail("matches.found", problems="; ".join(problems)))
    kept = detail("matches.kept", number=report.case.number, outcome=outcome)
    return passed("document.matches", kept)
