"""A genuine document of another office is named as such, not as a generic failure.

A bank clerk given the wrong trust file (or a document of a neighbouring office) should read
"issued by 济南…, not by this office; check it there", not a list of broken checks. The issuer is
read from the seal certificate's organisation name, compared with the trust file's.
"""

from __future__ import annotations

from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from ledger.trust import TrustFile
from verify.texts import detail
from verify.verdict import Check, failed

__all__ = ["foreign_issuer"]


def foreign_issuer(seal: EmbeddedPdfSignature, trust: TrustFile) -> Check | None:
    """``document.issuer`` failed when the seal names another organisation; else None."""
    name = _seal_organisation(seal)
    if not name or name == trust.org_name:
        return None
    return failed("document.issuer", detail("issuer.foreign", name=name, org=trust.org_name))


def _seal_organisation(seal: EmbeddedPdfSignature) -> str:
    try:
        subject = seal.signer_cert.subject.native
    except MemoryError:
        raise  # the sandbox's memory limit stopped the check: not a fault of the file
    except Exception:  # an unreadable certificate is judged by the seal checks
        return ""
    value = subject.get("organization_name") if isinstance(subject, dict) else None
    return value if isinstance(value, str) else ""
