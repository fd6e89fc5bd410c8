"""caseledger seals: the seal PKI, result documents, receipts attached, PAdES seals."""

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
    seal_pdf,
    timestamper_for_url,
)
from seals.signer import FileKeySigner, SealSigner

__all__ = [
    "SEAL_FIELD",
    "AttachError",
    "FileKeySigner",
    "FontMissing",
    "InProcessTimeStamper",
    "KeyAlgorithm",
    "RenderError",
    "Revocation",
    "SealAuthority",
    "SealAuthorityError",
    "SealCredentials",
    "SealError",
    "SealSigner",
    "SealedPdf",
    "SealingError",
    "add_revocation_info",
    "seal_pdf",
    "timestamper_for_url",
]
