"""The log's side of the audit.

- the log holds exactly the ledger's envelopes, in commit order;
- the whole stored tree is recomputed from the leaves: every stored node hash is compared
  with the hash its leaves give, so a corrupted interior node is named here rather than
  failing some later proof;
- every checkpoint stored is signed by the log key and commits to the recomputed root at its
  size, and is consistent with the latest one;
- every anchor — the checkpoint kept outside the database, or one an auditor holds — is
  signed by the log key, and the log still holds its tree (same root at its size): a log
  rebuilt from rewritten events, an older copy of the database restored, or the newest
  envelopes deleted with their leaves all fail here;
- commit order against signing time: an envelope dated long before something committed
  earlier was not signed when it claims (see :func:`audit_commit_times`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.errors import CaseLedgerError
from ledger.store.audit import Finding
from ledger.store.log_store import LogStore, NotificationSource

__all__ = [
    "BACKDATING_ALLOWANCE",
    "Dated",
    "audit_commit_times",
    "audit_log",
    "recompute_tree",
]

_BATCH = 4096
# The server admits an ``at`` up to 5 minutes either side of its clock, so two honest
# envelopes committed one after the other can be dated up to twice that apart, backwards.
BACKDATING_ALLOWANCE = timedelta(minutes=10)


def audit_log(
    ledger: NotificationSource,
    log: LogStore,
    *,
    log_verifier_key: str,
    anchors: Sequence[tuple[str, str]] = (),
) -> tuple[list[Finding], dict[str, Any]]:
    """Findings about the log and a summary. ``anchors`` are (label, checkpoint note text)
    pairs held outside the database (the kept checkpoint, an auditor's own)."""
    findings = _leaves_match(ledger, log)
    checkpoints = log.checkpoints()
    anchor_sizes = {_anchor_size(text) for _, text in anchors} - {None}
    wanted = {c.size for c in checkpoints} | {s for s in anchor_sizes if s is not None}
    tree = recompute_tree(log, wanted)
    findings += tree.findings
    findings += _checkpoint_findings(log, checkpoints, tree.roots, log_verifier_key)
    for label, text in anchors:
        findings += _anchor_findings(label, text, log, tree.roots, log_verifier_key)
    latest = checkpoints[-1] if checkpoints else None
    summary = {
        "size": tree.size,
        "nodes_recomputed": tree.nodes,
        "checkpoints": len(checkpoints),
        "latest_checkpoint_size": latest.size if latest else None,
        "anchors": [label for label, _ in anchors],
    }
    return findings, summary


def _leaves_match(ledger: NotificationSource, log: LogStore) -> list[Finding]:
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
    return findings


# --- the whole tree, from the leaves --------------------------------------------------------


@dataclass
class RecomputedTree:
    """What recomputing the tree found: its size, the node rows compared, the roots at the
    sizes asked for, and a finding per stored node that is missing, wrong or extra."""

    size: int = 0
    nodes: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def recompute_tree(log: LogStore, sizes: Iterable[int] = ()) -> RecomputedTree:
    """Rebuild the tree from the stored leaves alone, batch by batch, comparing every stored
    node hash; record the root at each of ``sizes`` (those within the log)."""
    out = RecomputedTree(size=log.size())
    wanted = {s for s in sizes if 0 <= s <= out.size}
    if 0 in wanted:
        out.roots[0] = merkle.EMPTY_ROOT
    stack: list[tuple[int, int, bytes]] = []  # the right edge: (level, index, hash)
    for start in range(0, out.size, _BATCH):
        leaves = log.leaf_hashes(start, min(start + _BATCH, out.size))
        computed: dict[int, dict[int, bytes]] = {}
        for offset, data in enumerate(leaves):
            index = start + offset
            level, i, h = 0, index, merkle.leaf_hash(data)
            while i & 1:
                _, _, left = stack.pop()
                level, i, h = level + 1, i >> 1, merkle.node_hash(left, h)
                computed.setdefault(level, {})[i] = h
            stack.append((level, i, h))
            if index + 1 in wanted:
                out.roots[index + 1] = _fold(stack)
        out.findings += _compare_nodes(log, computed)
        out.nodes += sum(len(level) for level in computed.values())
    stored = log.node_count()
    if stored > out.nodes:
        out.findings.append(
            Finding(
                "log",
                out.size,
                "log.extra_node",
                f"the log stores {stored - out.nodes} node hashes its leaves do not make",
            )
        )
    return out


def _fold(stack: list[tuple[int, int, bytes]]) -> bytes:
    root = stack[-1][2]
    for _, _, left in reversed(stack[:-1]):
        root = merkle.node_hash(left, root)
    return root


def _compare_nodes(log: LogStore, computed: dict[int, dict[int, bytes]]) -> list[Finding]:
    findings = []
    for level, nodes in sorted(computed.items()):
        stored = log.stored_nodes(level, min(nodes), max(nodes) + 1)
        for i, h in sorted(nodes.items()):
            got = stored.get(i)
            if got != h:
                code = "log.node_missing" if got is None else "log.node_mismatch"
                detail = f"stored node (level {level}, index {i}) is not the hash of its leaves"
                findings.append(Finding("log", i << level, code, detail))
    return findings


# --- checkpoints and anchors ----------------------------------------------------------------


def _checkpoint_findings(
    log: LogStore, checkpoints: Sequence[Any], roots: dict[int, bytes], log_verifier_key: str
) -> list[Finding]:
    findings: list[Finding] = []
    latest = checkpoints[-1] if checkpoints else None
    for stored in checkpoints:
        try:
            verify_checkpoint(stored.note, [log_verifier_key], origin=log.origin)
        except CaseLedgerError as exc:
            findings.append(Finding("log", stored.size, "log.checkpoint_signature", exc.message))
            continue
        if stored.size not in roots:
            findings.append(
                Finding(
                    "log",
                    stored.size,
                    "log.rollback",
                    f"a stored checkpoint commits to {stored.size} leaves; the log holds fewer",
                )
            )
        elif roots[stored.size] != stored.root:
            findings.append(
                Finding(
                    "log",
                    stored.size,
                    "log.checkpoint_root",
                    "the checkpoint's root is not the root the stored leaves give",
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
    return findings


def _anchor_size(text: str) -> int | None:
    from ledger.checkpoint import parse_checkpoint

    try:
        return parse_checkpoint(text).checkpoint.size
    except CaseLedgerError:
        return None


def _anchor_findings(
    label: str, text: str, log: LogStore, roots: dict[int, bytes], log_verifier_key: str
) -> list[Finding]:
    try:
        anchor = verify_checkpoint(text, [log_verifier_key], origin=log.origin)
    except CaseLedgerError as exc:
        return [Finding("log", 0, "log.anchor_invalid", f"{label}: {exc.message}")]
    if anchor.size not in roots:
        return [
            Finding(
                "log",
                anchor.size,
                "log.rollback",
                f"{label} commits to {anchor.size} leaves; the log holds {log.size()}",
            )
        ]
    if roots[anchor.size] != anchor.root:
        return [
            Finding(
                "log",
                anchor.size,
                "log.fork",
                f"the log's first {anchor.size} leaves are not the tree {label} commits to",
            )
        ]
    return []


# --- signing time against commit order ------------------------------------------------------


class Dated(Protocol):
    """What the check of commit times reads of an envelope (an Envelope has it)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def at_text(self) -> str: ...


def audit_commit_times(
    notifications: Iterable[tuple[int, str, Dated]],
    allowance: timedelta = BACKDATING_ALLOWANCE,
) -> list[Finding]:
    """A finding (``time.backdated``) for each envelope dated more than ``allowance`` before
    an envelope committed earlier: the server refuses an ``at`` outside its skew allowance,
    so such an envelope was not admitted when it claims (inserted later, or replayed)."""
    findings = []
    newest: tuple[datetime, str, int] | None = None
    for position, stream, envelope in notifications:
        if newest is not None and envelope.at < newest[0] - allowance:
            findings.append(
                Finding(
                    stream,
                    envelope.seq,
                    "time.backdated",
                    f"dated {envelope.at_text}, more than {allowance} before {newest[1]} "
                    f"seq {newest[2]}, committed earlier",
                    position,
                )
            )
        if newest is None or envelope.at > newest[0]:
            newest = (envelope.at, stream, envelope.seq)
    return findings
