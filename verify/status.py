"""The ``result.status`` check: is the sealed result still in force, by the office's signed word?

The evidence is a status statement (:mod:`ledger.status`) given as a file (``--status FILE``)
or fetched from the trust file's base URL (``--online``: the only network access the verifier
ever makes, and only when asked, with the standard library). Without one the check is
indeterminate and says how to ask: a seal proves what was decided then, not that it still
holds. Revoked or superseded fails; a statement signed by a key the trust file does not name,
dated after the check or before the seal, or about another document is indeterminate; a
statement whose signature does not verify fails.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.checkpoint import (
    CheckpointInvalid,
    NoteMalformed,
    parse_tlog_proof,
    verify_checkpoint,
)
from ledger.clock import china_minute_text
from ledger.errors import CaseLedgerError, SignatureInvalid
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.status import MAX_STATEMENT_BYTES, StatusMalformed, StatusStatement
from ledger.trust import TrustFile
from verify._log import log_keys
from verify.texts import detail, reason
from verify.verdict import Check, failed, indeterminate, passed

__all__ = ["CLOCK_SKEW", "StatusEvidence", "check_status", "fetch_status", "status_url"]

CHECK = "result.status"
CLOCK_SKEW = timedelta(minutes=5)
FETCH_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class StatusEvidence:
    """What is known of a document's status: a statement, the office's "no such document",
    or why neither could be had."""

    statement: bytes | None = None
    unknown: bool = False
    problem: str = ""


def status_url(trust: TrustFile, sha256: str) -> str:
    return f"{trust.public_base_url.rstrip('/')}/v1/public/results/{sha256}"


def fetch_status(trust: TrustFile, sha256: str, timeout: float = FETCH_SECONDS) -> StatusEvidence:
    """Ask the office named in ``trust`` for the statement of ``sha256``; never raises."""
    url = status_url(trust, sha256)
    if not url.startswith(("https://", "http://")):
        return StatusEvidence(problem=detail("status.not_http", url=url))
    request = urllib.request.Request(url, headers={"accept": "application/json"})  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            data = answer.read(MAX_STATEMENT_BYTES + 1)
    except urllib.error.HTTPError as exc:
        return _refusal(exc, url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return StatusEvidence(problem=detail("status.unreachable", url=url, why=_reason(exc)))
    return StatusEvidence(statement=data)


def _refusal(exc: urllib.error.HTTPError, url: str) -> StatusEvidence:
    try:
        code = json.loads(exc.read(4096)).get("code")
    except (ValueError, AttributeError, OSError):
        code = None
    if exc.code == 404 and code == "result.not_found":
        return StatusEvidence(unknown=True)
    return StatusEvidence(problem=detail("status.http", url=url, status=exc.code, code=code or "-"))


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason)[:200]


def check_status(
    evidence: StatusEvidence | None,
    trust: TrustFile,
    sha256: str,
    *,
    sealed_at: datetime | None,
    moment: datetime,
) -> Check:
    """``result.status`` for the document ``sha256`` sealed at ``sealed_at``, judged at
    ``moment``. Never raises."""
    if evidence is None:
        return indeterminate(CHECK, detail("status.not_checked", url=status_url(trust, sha256)))
    if evidence.unknown:
        return failed(CHECK, detail("status.unknown", org=trust.org_name))
    if evidence.statement is None:
        return indeterminate(CHECK, detail("status.problem", why=evidence.problem))
    try:
        statement = StatusStatement.from_json(evidence.statement)
    except StatusMalformed as exc:
        return indeterminate(CHECK, detail("status.unreadable", why=reason(exc)))
    doubt = _doubt(statement, trust, sha256, sealed_at, moment)
    if doubt is not None:
        return doubt
    return _judge(statement, trust, _proof_problem(statement, trust))


def _doubt(
    statement: StatusStatement,
    trust: TrustFile,
    sha256: str,
    sealed_at: datetime | None,
    moment: datetime,
) -> Check | None:
    """Why the statement cannot settle the question (or FAILED for a forged signature)."""
    if statement.org != trust.org:
        return indeterminate(CHECK, detail("status.other_org", got=statement.org, want=trust.org))
    if statement.sha256 != sha256:
        return indeterminate(CHECK, detail("status.other_document", sha=statement.sha256[:16]))
    key = trust.status_keys.get(statement.key_id)
    if key is None:
        return indeterminate(CHECK, detail("status.other_key", key=statement.key_id))
    try:
        statement.verify_with(key)
    except SignatureInvalid:
        return failed(CHECK, detail("status.forged"))
    if statement.stated_at > moment + CLOCK_SKEW:
        future = detail("status.future", at=china_minute_text(statement.stated_at))
        return indeterminate(CHECK, future)
    if sealed_at is not None and statement.stated_at < sealed_at - CLOCK_SKEW:
        return indeterminate(CHECK, detail("status.stale"))
    return None


def _proof_problem(statement: StatusStatement, trust: TrustFile) -> str | None:
    """Why the statement's step is not proven in the office's log (None: it is)."""
    log_key, _ = log_keys(trust)
    try:
        proof = parse_tlog_proof(statement.tlog_proof)
        checkpoint = verify_checkpoint(proof.checkpoint, [log_key], origin=trust.log_origin)
        verify_inclusion(
            proof.index,
            checkpoint.size,
            leaf_hash(bytes.fromhex(statement.proof_envelope)),
            proof.hashes,
            checkpoint.root,
        )
    except (NoteMalformed, CheckpointInvalid) as exc:
        return detail("status.proof_bad", why=reason(exc))
    except (CaseLedgerError, ValueError) as exc:
        return detail("status.proof_unchecked", why=exc)
    return None


def _judge(statement: StatusStatement, trust: TrustFile, proof_problem: str | None) -> Check:
    said = f"{trust.org_name}, {china_minute_text(statement.stated_at)}"
    if statement.ending is not None:
        proven = proof_problem or detail("status.in_log")
        ended = detail("status.ended", line=statement.ending.line(), said=said, proven=proven)
        return failed(CHECK, ended)
    if proof_problem:
        return indeterminate(CHECK, detail("status.unproven", why=proof_problem))
    return passed(CHECK, detail("status.in_force", said=said, number=statement.case_number))
