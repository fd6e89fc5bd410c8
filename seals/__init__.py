"""caseledger seals: the seal PKI, result documents, receipts attached, PAdES seals."""

from seals.attach import RECEIPT_NAME, attach_receipt
from seals.authority import KeyAlgorithm, Revocation, SealAuthority, SealCredentials
from seals.errors import (
    AttachError,
    FontMissing,
    RenderError,
    SealAuthorityError,
    SealError,
    SealingError,
)
from seals.pades import (
    SEAL_FIELD,
    InProcessTimeStamper,
    SealedPdf,
    add_revocation_info,
    keeps_pdf_version,
    seal_pdf,
    timestamper_for_url,
)
from seals.render import ResultDocument, render_result
from seals.signer import FileKeySigner, SealSigner

__all__ = [
    "RECEIPT_NAME",
    "SEAL_FIELD",
    "AttachError",
    "FileKeySigner",
    "FontMissing",
    "InProcessTimeStamper",
    "KeyAlgorithm",
    "RenderError",
    "ResultDocument",
    "Revocation",
    "SealAuthority",
    "SealAuthorityError",
    "SealCredentials",
    "SealError",
    "SealSigner",
    "SealedPdf",
    "SealingError",
    "add_revocation_info",
    "attach_receipt",
    "keeps_pdf_version",
    "render_result",
    "seal_pdf",
    "timestamper_for_url",
]
