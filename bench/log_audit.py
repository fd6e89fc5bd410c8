"""The audit's recomputation of the whole stored tree, against reading the leaves alone.

    .venv/bin/python bench/log_audit.py [--leaves 200000]

Ours: ledger.store.log_audit.recompute_tree on a SQLite log of --leaves leaves (built through
LogStore.append, 1000 leaves per call): every leaf read, every node hash recomputed and
compared with its stored row. Baseline: what the audit did before, for the tree — read every
leaf (LogStore.leaf_hashes, same batches) and hash it, no node compared. ratio = ours /
baseline (seconds). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from ledger import merkle
from ledger.store.log_audit import recompute_tree
from ledger.store.log_store import LogStore
from ledger.store.storage import open_store

ORIGIN = "bench.example/log"
BATCH = 4096


def build(path: Path, leaves: int) -> LogStore:
    log = LogStore(open_store(path).engine(), origin=ORIGIN)
    for start in range(0, leaves, 1000):
        end = min(start + 1000, leaves)
        log.append(
            [(i + 1, hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(start, end)]
        )
    return log


def read_leaves(log: LogStore) -> int:
    size, hashed = log.size(), 0
    for start in range(0, size, BATCH):
        for data in log.leaf_hashes(start, min(start + BATCH, size)):
            merkle.leaf_hash(data)
            hashed += 1
    return hashed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = build(Path(tmp) / "bench.db", args.leaves)
        started = time.perf_counter()
        read_leaves(log)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        tree = recompute_tree(log, [args.leaves])
        ours = time.perf_counter() - started
        assert not tree.findings and tree.roots[args.leaves] == log.root()
        print(
            json.dumps(
                {
                    "bench": f"audit_recompute_tree_{args.leaves}_leaves_sqlite",
                    "ours_seconds": round(ours, 3),
                    "baseline_seconds": round(baseline, 3),
                    "ratio": round(ours / baseline, 2),
                    "nodes_compared": tree.nodes,
                }
            )
        )


if __name__ == "__main__":
    main()
