"""The log's side of the audit: the log holds exactly the ledger's envelopes, in commit
order, and every checkpoint kept is signed, matches the stored tree, and is consistent
with the latest one."""

from __future__ import annotations

from typing import Any

from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.errors import CaseLedgerError
from ledger.store.audit import Finding
from ledger.store.log_store import LogStore, NotificationSource

__all__ = ["audit_log"]


def audit_log(
    ledger: NotificationSource, log: LogStore, *, log_verifier_key: str
) -> tuple[list[Finding], dict[str, Any]]:
    """Findings about the log and a summary (size, checkpoints checked)."""
    findings: list[Finding] = []
    position, index = 0, 0
    while batch := ledger.notifications_after(position, 1000):
        leaves = log.leaf_hashes(index, max(index, min(index + len(batch), log.size())))
        for offset, (pos, envelope_hash) in enumerate(batch):
            if offset >= len(leaves):
                findings.append(
                    Finding(
                        "log",
                        index + offset,
                        "log.missing_leaf",
                        "an envelope of the ledger is not in the log",
                        pos,
                    )
                )
            elif leaves[offset] != envelope_hash:
                findings.append(
                    Finding(
                        "log",
                        index + offset,
                        "log.leaf_mismatch",
                        "the log's leaf is not the ledger's envelope here",
                        pos,
                    )
                )
        position, index = batch[-1][0], index + len(batch)
    if log.size() > index:
        findings.append(
            Finding(
                "log",
                index,
                "log.extra_leaf",
                f"the log holds {log.size() - index} leaves the ledger lacks",
            )
        )
    checkpoints = log.checkpoints()
    latest = checkpoints[-1] if checkpoints else None
    for stored in checkpoints:
        try:
            verify_checkpoint(stored.note, [log_verifier_key], origin=log.origin)
        except CaseLedgerError as exc:
            findings.append(Finding("log", stored.size, "log.checkpoint_signature", exc.message))
            continue
        if stored.size <= log.size() and log.root(stored.size) != stored.root:
            findings.append(
                Finding(
                    "log",
                    stored.size,
                    "log.checkpoint_root",
                    "the checkpoint's root is not the stored tree's root",
                )
            )
        if latest is not None and stored is not latest:
            try:
                merkle.verify_consistency(
                    stored.size,
                    latest.size,
                    stored.root,
                    latest.root,
                    log.consistency_proof(stored.size, latest.size),
                )
            except CaseLedgerError as exc:
                findings.append(Finding("log", stored.size, "log.inconsistent", exc.message))
    summary = {
        "size": log.size(),
        "checkpoints": len(checkpoints),
        "latest_checkpoint_size": latest.size if latest else None,
    }
    return findings, summary
