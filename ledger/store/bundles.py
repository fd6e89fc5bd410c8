"""Build case receipts and audit bundles from the ledger and its log.

A receipt (sealed into the result PDF) holds the case up to Decided and only the directory
entries bearing on its signers and matter, with a selection statement signed by the log key
(:mod:`ledger.selection`); a bundle (``caseledger export``) holds all of the case and the
directory stream from seq 1. Both stop the directory at the last entry recorded by the case's
last step, and carry one C2SP tlog-proof per envelope and the checkpoint the proofs lead to.
"""

from __future__ import annotations

from datetime import datetime

from ledger.checkpoint import parse_checkpoint
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError, StreamNotFound
from ledger.receipt import BUNDLE_KIND, NOTICE_KIND, RECEIPT_KIND, Receipt
from ledger.selection import select_directory, sign_selection
from ledger.signing import PrivateKey, b64encode
from ledger.store.application import CaseLedger
from ledger.store.log_store import LogStore, StoredCheckpoint, catch_up

__all__ = ["build_bundle", "build_notice_receipt", "build_receipt"]


def build_receipt(
    ledger: CaseLedger, log: LogStore, stream: str, *, log_key: PrivateKey, now: datetime
) -> Receipt:
    """The case receipt: the case's envelopes up to Decided, proven in a fresh checkpoint."""
    envelopes = list(ledger.events(stream))
    cut = next((i for i, e in enumerate(envelopes) if e.type == "Decided"), None)
    if cut is None:
        raise CaseLedgerError(f"{stream} has no decision yet", code="case.not_decided")
    return _build(ledger, log, stream, envelopes[: cut + 1], RECEIPT_KIND, log_key, now)


def build_notice_receipt(
    ledger: CaseLedger,
    log: LogStore,
    stream: str,
    answers: str,
    *,
    log_key: PrivateKey,
    now: datetime,
) -> Receipt:
    """The receipt of a notice: the case's envelopes up to the one the notice answers."""
    envelopes = list(ledger.events(stream))
    cut = next((i for i, e in enumerate(envelopes) if e.hash == answers), None)
    if cut is None:
        raise CaseLedgerError(f"{stream} has no step {answers[:16]}…", code="case.no_such_step")
    return _build(ledger, log, stream, envelopes[: cut + 1], NOTICE_KIND, log_key, now)


def build_bundle(
    ledger: CaseLedger, log: LogStore, stream: str, *, log_key: PrivateKey, now: datetime
) -> Receipt:
    """The audit bundle: every envelope of the case, proven in a fresh checkpoint."""
    envelopes = list(ledger.events(stream))
    return _build(ledger, log, stream, envelopes, BUNDLE_KIND, log_key, now)


def _build(
    ledger: CaseLedger,
    log: LogStore,
    stream: str,
    envelopes: list[Envelope],
    kind: str,
    log_key: PrivateKey,
    now: datetime,
) -> Receipt:
    if not envelopes:
        raise StreamNotFound(f"no case {stream}")
    last_at = envelopes[-1].at
    directory = [e for e in ledger.events(ledger.directory_stream) if e.at <= last_at]
    selection = None
    if kind in (RECEIPT_KIND, NOTICE_KIND):
        # A document's receipt is minimal (docs/log.md); an audit bundle keeps the whole
        # directory.
        chosen, subjects = select_directory(directory, envelopes)
        selection = sign_selection(
            org=ledger.org,
            case=stream,
            directory=directory,
            chosen=chosen,
            subjects=subjects,
            key=log_key,
        )
        directory = chosen
    catch_up(ledger, log)
    checkpoint: StoredCheckpoint = log.sign_checkpoint(log_key, now)
    proofs = {
        e.hash: log.tlog_proof(bytes.fromhex(e.hash), checkpoint) for e in [*directory, *envelopes]
    }
    witnessed, consistency = _witnessed(log, checkpoint)
    return Receipt(
        kind=kind,
        org=ledger.org,
        case=stream,
        envelopes=tuple(envelopes),
        directory=tuple(directory),
        proofs=proofs,
        checkpoint=checkpoint.note,
        selection=selection,
        witnessed=witnessed,
        witnessed_consistency=consistency,
    )


def _witnessed(log: LogStore, checkpoint: StoredCheckpoint) -> tuple[str | None, tuple[str, ...]]:
    """The newest checkpoint witnesses cosigned (kept outside the database) and the
    consistency proof from it to ``checkpoint``; (None, ()) if none is cosigned yet."""
    cosigned = None if log.keeper is None else getattr(log.keeper, "cosigned", lambda: None)()
    if cosigned is None:
        return None, ()
    size = parse_checkpoint(cosigned).checkpoint.size
    if size > checkpoint.size:
        return None, ()  # cannot happen while we sign under the lock; never claim it
    hashes = log.consistency_proof(size, checkpoint.size) if size > 0 else []
    return cosigned, tuple(b64encode(h) for h in hashes)
