"""caseledger's verifier: anyone can check a sealed result, an audit bundle or the log, offline.

Trust comes only from the organisation's trust file, given as an argument. Nothing is fetched,
except a result's signed status when asked for (:func:`fetch_status`, ``--online``).
Each function returns a :class:`Verdict` (PASSED, FAILED or INDETERMINATE, with one entry per
check) and raises only :class:`InputUnreadable` for input that cannot be read at all.
"""

from verify.bundle import verify_bundle
from verify.consistency import parse_consistency_proof, verify_consistency
from verify.pdf import verify_pdf
from verify.status import StatusEvidence, check_status, fetch_status
from verify.trust import TrustFile, load_trust, read_trust_file
from verify.verdict import (
    CHECK_IDS,
    Check,
    ExitCode,
    InputUnreadable,
    Status,
    TimelineEntry,
    Verdict,
    VerifiedCase,
)

__all__ = [
    "CHECK_IDS",
    "Check",
    "ExitCode",
    "InputUnreadable",
    "Status",
    "StatusEvidence",
    "TimelineEntry",
    "TrustFile",
    "Verdict",
    "VerifiedCase",
    "check_status",
    "fetch_status",
    "load_trust",
    "parse_consistency_proof",
    "read_trust_file",
    "verify_bundle",
    "verify_consistency",
    "verify_pdf",
]
