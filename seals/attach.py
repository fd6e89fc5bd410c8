"""Attach the case receipt to a rendered result as a PDF/A-3 associated file (pikepdf).

The receipt travels inside the PDF it vouches for, so one file is enough to check both the
seal and the case history behind it. Layout, for readers of the file:

- an embedded file named ``case-receipt.json`` in the catalog's ``/Names /EmbeddedFiles``
  name tree, MIME type ``application/json`` (``/Subtype /application#2Fjson``), with
  ``/AFRelationship /Data``;
- the same file specification listed in the catalog's ``/AF`` array (PDF/A-3 associated file);
- XMP metadata declaring PDF/A-3b (``pdfaid:part 3``, ``pdfaid:conformance B``) and an sRGB
  output intent.

The PDF/A-3b preparation and save settings come from ``pikepdf.pdfa``; on request its
validator checks the written bytes and refuses a file that does not pass. Attach before
sealing: any pikepdf save after sealing would break the seal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pikepdf
from pikepdf import Array, Name

from seals.errors import AttachError

__all__ = ["RECEIPT_DESCRIPTION", "RECEIPT_MIME", "RECEIPT_NAME", "attach_receipt"]

RECEIPT_NAME = "case-receipt.json"
RECEIPT_MIME = "application/json"
RECEIPT_DESCRIPTION = "案件回执：办理过程的签名记录、授权记录及其在日志中的证明"
_MAX_RECEIPT_BYTES = 16 * 1024 * 1024


def attach_receipt(
    pdf: bytes, receipt: bytes, *, at: datetime, validate: bool = False, archival: bool = True
) -> bytes:
    """``pdf`` with ``receipt`` attached as ``case-receipt.json``, saved as PDF/A-3b.

    ``at`` is the receipt's creation and modification date in the file. The PDF/A repairs
    and declaration (XMP, sRGB output intent) are applied when ``archival`` (the default);
    pass ``archival=False`` when the file will be sealed with a key that makes pyHanko mark
    it PDF 2.0 (ECDSA, see :func:`seals.keeps_pdf_version`): PDF/A-3 is PDF 1.7, so the
    file then claims no PDF/A part rather than a false one. With ``validate`` the written
    bytes are also checked by pikepdf's PDF/A-3b validator (about 35 ms for a result
    document, which is why it is not the default: the layout is fixed, and the tests
    validate it). Raises AttachError if the PDF cannot be read, already has a receipt, the
    receipt is empty or too large, or (with ``validate``) the result does not pass.
    """
    if not receipt or len(receipt) > _MAX_RECEIPT_BYTES:
        raise AttachError(f"the receipt must be 1 byte to {_MAX_RECEIPT_BYTES} bytes")
    if at.tzinfo is None:
        raise AttachError("the receipt's date must be timezone-aware")
    try:
        import pikepdf.pdfa as pdfa
    except ImportError as exc:  # the validator's extra dependencies are missing
        raise AttachError(f"PDF/A support is not installed: {exc}") from None
    try:
        with pikepdf.open(BytesIO(pdf)) as doc:
            _add_receipt(doc, receipt, at)
            _drop_empty_transitions(doc)
            out = BytesIO()
            if not archival:
                doc.save(out, min_version="1.7")
            elif validate:
                pdfa.save(doc, out, "3b", min_version="1.7")
            else:
                pdfa.prepare(doc, "3b")
                doc.save(out, **pdfa.resolve_save_kwargs("3b", min_version="1.7"))
    except pdfa.PdfaError as exc:
        problems = "; ".join(f"{f.rule}: {f.message}" for f in exc.report.findings[:5])
        raise AttachError(f"the result is not valid PDF/A-3b: {problems}") from None
    except (pikepdf.PdfError, ValueError) as exc:
        raise AttachError(f"the result PDF cannot be read: {exc}") from None
    return out.getvalue()


def _add_receipt(doc: pikepdf.Pdf, receipt: bytes, at: datetime) -> None:
    if RECEIPT_NAME in doc.attachments:
        raise AttachError(f"the PDF already carries a {RECEIPT_NAME}")
    stamp = at.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    # pikepdf's stubs omit ``relationship``, which the constructor accepts.
    spec = pikepdf.AttachedFileSpec(  # type: ignore[call-arg]
        doc,
        receipt,
        description=RECEIPT_DESCRIPTION,
        filename=RECEIPT_NAME,
        mime_type=RECEIPT_MIME,
        creation_date=stamp,
        mod_date=stamp,
        relationship=Name.Data,
    )
    doc.attachments[RECEIPT_NAME] = spec
    # The name tree holds its own indirect file specification; /AF must list that one, once
    # (recent pikepdf releases add it themselves).
    stored = doc.attachments[RECEIPT_NAME].obj
    associated = list(doc.Root.get(Name.AF) or [])
    if all(item.objgen != stored.objgen for item in associated):
        doc.Root.AF = Array([*associated, stored])


def _drop_empty_transitions(doc: pikepdf.Pdf) -> None:
    # reportlab writes an empty /Trans on every page; it means nothing, and PDF/A validators
    # that check by allowlist do not accept it.
    for page in doc.pages:
        trans = page.obj.get(Name.Trans)
        if isinstance(trans, pikepdf.Dictionary) and len(trans.keys()) == 0:
            del page.obj.Trans
