"""A sealed result's signed status, as the office answers it for anyone holding the document.

``GET /v1/public/results/{sha256}`` (and the status page, and ``POST /v1/verify``) ask
:func:`result_status`: the result index names the case, the case's envelopes say what became
of the document (:func:`ledger.status.derive_status`), the log proves the envelope that says
so, and the status key signs the statement. Knowing the hash is the proof of holding the
document; an unknown hash answers the same 404 whatever the reason, so nothing about other
cases can be learnt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.deps import Services
from api.errors import ApiError
from ledger.envelope import Envelope
from ledger.signing import PrivateKey
from ledger.status import StatusFacts, StatusStatement, derive_status, is_sha256
from ledger.store.application import CaseLedger

__all__ = [
    "StatusAnswer",
    "result_status",
    "statement_of_case",
    "status_answer",
    "status_evidence",
]


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """The signed statement and, for the status page, the case's envelopes it was read from."""

    statement: StatusStatement
    envelopes: tuple[Envelope, ...]


def result_status(services: Services, sha256: str) -> StatusStatement:
    """The signed status statement of the document ``sha256``.

    Raises ApiError 422 ``status.bad_hash`` for a malformed hash, 404 ``result.not_found``
    for a document this office did not issue, 503 ``status.unavailable`` without a status key.
    """
    return status_answer(services, sha256).statement


def status_answer(services: Services, sha256: str) -> StatusAnswer:
    """:func:`result_status` with the case's envelopes (for the status page)."""
    if not is_sha256(sha256):
        raise ApiError(
            422,
            "status.bad_hash",
            "文件以其 SHA-256 标识 (a document is named by its SHA-256: 64 lower-case hex digits)",
        )
    key = services.home.status_key() if services.home is not None else None
    if key is None or services.log is None:
        raise ApiError(
            503,
            "status.unavailable",
            "本服务器不签发状态声明 (this server signs no status statements)",
        )
    services.read_models.catch_up(services.ledger)
    stream = services.read_models.result_stream(sha256)
    envelopes = tuple(services.ledger.events(stream)) if stream else ()
    facts = derive_status(envelopes, sha256, services.ledger.directory())
    if facts is None:
        raise ApiError(
            404,
            "result.not_found",
            "本机关未出具该文件 (this office issued no document with that hash)",
        )
    proof = _proof(services, facts)
    statement = StatusStatement.of(
        services.trust.org, facts, stated_at=services.clock(), tlog_proof=proof
    )
    return StatusAnswer(statement.signed(key), envelopes)


def _proof(services: Services, facts: StatusFacts) -> str:
    """The tlog-proof of the envelope that decides the status, in a checkpoint covering it."""
    log = services.kept_log()
    leaf = bytes.fromhex(facts.deciding.hash)
    index = log.leaf_index(leaf)
    checkpoint = services.checkpoint()
    if index is None or checkpoint is None or checkpoint.size <= index:
        key = services.home.key("log") if services.home is not None else None
        if key is None or index is None:
            raise ApiError(
                503,
                "status.unavailable",
                "日志尚未收录该步骤 (the log does not hold that step yet)",
            )
        checkpoint = log.sign_checkpoint(key, services.clock())
    return str(log.tlog_proof(leaf, checkpoint))


def statement_of_case(
    ledger: CaseLedger,
    stream: str,
    sha256: str,
    *,
    status_key: PrivateKey,
    log_key: PrivateKey,
    now: datetime,
) -> StatusStatement | None:
    """The signed statement of ``sha256`` issued in ``stream``, straight from a ledger with
    its log attached (for the command line and the demo, where no server runs)."""
    facts = derive_status(ledger.events(stream), sha256, ledger.directory())
    if facts is None:
        return None
    log = ledger.log
    if log is None:
        return None
    checkpoint = log.sign_checkpoint(log_key, now)
    proof = log.tlog_proof(bytes.fromhex(facts.deciding.hash), checkpoint)
    statement = StatusStatement.of(ledger.org, facts, stated_at=now, tlog_proof=proof)
    return statement.signed(status_key)


def status_evidence(services: Services, pdf: bytes) -> Any:
    """What this server itself says of ``pdf``'s status, as the verifier's StatusEvidence
    (``POST /v1/verify`` and the verify page check the document with it)."""
    from verify import StatusEvidence

    try:
        statement = result_status(services, hashlib.sha256(pdf).hexdigest())
        return StatusEvidence(statement=statement.dumps())
    except ApiError as exc:
        if exc.code != "result.not_found":
            return StatusEvidence(problem=f"this server cannot state it: {exc.message}")
        return StatusEvidence(unknown=True)
