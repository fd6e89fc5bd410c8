"""The error family of caseledger's seal package.

Every error carries a stable ``code`` (what programs match on) and a plain ``message``
(what a person reads), as in :mod:`ledger.errors`.
"""

from __future__ import annotations

from ledger.errors import CaseLedgerError

__all__ = [
    "AttachError",
    "FontMissing",
    "RenderError",
    "SealAuthorityError",
    "SealError",
    "SealingError",
]


class SealError(CaseLedgerError):
    """Root of the seal errors: the result document could not be made or sealed."""

    code = "seal.error"


class SealAuthorityError(SealError):
    """Seal keys, certificates or CRLs are missing, unreadable or cannot do what was asked."""

    code = "seal.authority"


class FontMissing(SealError):
    """The TrueType font for Chinese text cannot be found or read."""

    code = "seal.font_missing"


class RenderError(SealError):
    """The result document cannot be drawn from the values given."""

    code = "seal.render"


class AttachError(SealError):
    """The receipt cannot be attached: the input is not a readable PDF."""

    code = "seal.attach"


class SealingError(SealError):
    """The PDF cannot be sealed (unreadable input, revoked or unusable certificate, TSA failure)."""

    code = "seal.sealing"
