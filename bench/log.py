"""The transparency log: leaves appended per second, and inclusion-proof time as the log grows.

    .venv/bin/python bench/log.py [--backends sqlite,postgres] [--sizes 1000,1000000,10000000]
                                  [--pg-max 1000000] [--proofs 300]

Appends: LogStore.append on a fresh log, in calls of 1 leaf and of 100 leaves. Baseline: the
same rows INSERTed into a bare table of the same shape (one transaction per call, no tree,
no lock), on the same backend in the same run; ratio = ours / baseline.

Proofs: LogStore.inclusion_proof(random index, size) on logs of each size. Logs bigger than a
few thousand leaves are not built through append (too slow for a bench): their leaf and
stored-subtree rows are computed here level by level, exactly as append would store them, and
bulk-loaded (executemany on SQLite, COPY on PostgreSQL). PostgreSQL stops at --pg-max leaves
(default 1M; 10M there takes several minutes to load). Baseline: the proof at the smallest
size; ratio = largest / smallest.

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger import merkle
from ledger.store.log_store import LEAVES, LOG_METADATA, NODES, LogStore
from ledger.store.storage import open_store

PG = "postgresql://postgres@127.0.0.1:5432/test"
ORIGIN = "bench.example/log"
CHUNK = 100_000


def envelope_hash(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "big")).digest()


# --- backends -----------------------------------------------------------------------------


class Backend:
    """A fresh database per log: a SQLite file, or a PostgreSQL schema (dropped on close)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp = kind, tmp
        self.schemas: list[str] = []

    def engine(self) -> Engine:
        if self.kind == "sqlite":
            return open_store(self.tmp / f"log-{uuid.uuid4().hex[:8]}.db").engine()
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self.schemas.append(schema)
        return open_store(f"{PG}?schema={schema}").engine()

    def close(self) -> None:
        with psycopg.connect(PG, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# --- appends ------------------------------------------------------------------------------


def append_rate(engine: Engine, batch: int, leaves: int) -> float:
    log = LogStore(engine, origin=ORIGIN)
    calls = [
        [(i + 1, envelope_hash(i)) for i in range(start, start + batch)]
        for start in range(0, leaves, batch)
    ]
    began = time.perf_counter()
    for call in calls:
        log.append(call)
    return leaves / (time.perf_counter() - began)


def plain_insert_rate(engine: Engine, batch: int, leaves: int) -> float:
    meta = sa.MetaData()
    plain = sa.Table(
        "plain_leaves",
        meta,
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("envelope_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
    )
    meta.create_all(engine)
    calls = [
        [
            {"idx": i, "envelope_hash": envelope_hash(i), "position": i + 1}
            for i in range(s, s + batch)
        ]
        for s in range(0, leaves, batch)
    ]
    began = time.perf_counter()
    for call in calls:
        with engine.begin() as conn:
            conn.execute(sa.insert(plain), call)
    return leaves / (time.perf_counter() - began)


# --- bulk-built logs ----------------------------------------------------------------------


def tree_rows(
    size: int,
) -> Iterator[tuple[list[tuple[int, bytes, int]], list[tuple[int, int, bytes]]]]:
    """Leaf rows and stored-subtree rows of a log of ``size`` leaves, in chunks: the same
    rows LogStore.append would have written (every perfect subtree of level >= 1)."""
    stack: list[bytes] = []
    leaves: list[tuple[int, bytes, int]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for i in range(size):
        data = envelope_hash(i)
        leaves.append((i, data, i + 1))
        h, level, j = merkle.leaf_hash(data), 0, i
        while j & 1:
            h, level, j = merkle.node_hash(stack.pop(), h), level + 1, j >> 1
            nodes.append((level, j, h))
        stack.append(h)
        if len(leaves) >= CHUNK:
            yield leaves, nodes
            leaves, nodes = [], []
    if leaves:
        yield leaves, nodes


def bulk_load(engine: Engine, size: int) -> None:
    LOG_METADATA.create_all(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            for leaves, nodes in tree_rows(size):
                conn.execute(
                    sa.insert(LEAVES),
                    [{"idx": i, "envelope_hash": h, "position": p} for i, h, p in leaves],
                )
                if nodes:
                    conn.execute(
                        sa.insert(NODES), [{"level": lv, "idx": i, "hash": h} for lv, i, h in nodes]
                    )
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for leaves, nodes in tree_rows(size):
            with cur.copy("COPY log_leaves (idx, envelope_hash, position) FROM STDIN") as copy:
                for row in leaves:
                    copy.write_row(row)
            with cur.copy("COPY log_nodes (level, idx, hash) FROM STDIN") as copy:
                for row in nodes:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    # A long-lived log is vacuumed and its hint bits are set; right after a bulk COPY neither
    # is true, and the first reads of each page (and autovacuum) would be timed instead.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) log_leaves")
        conn.exec_driver_sql("VACUUM (ANALYZE) log_nodes")


def proof_ms(engine: Engine, size: int, proofs: int) -> float:
    """Median wall time of one inclusion proof at ``size`` (checked against the root)."""
    log = LogStore(engine, origin=ORIGIN)
    assert log.size() == size
    root = log.root(size)
    rng = random.Random(size)
    times = []
    for _ in range(proofs):
        index = rng.randrange(size)
        began = time.perf_counter()
        proof = log.inclusion_proof(index, size)
        times.append(time.perf_counter() - began)
        merkle.verify_inclusion(index, size, merkle.leaf_hash(envelope_hash(index)), proof, root)
    return statistics.median(times) * 1000


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="1000,1000000,10000000")
    parser.add_argument("--pg-max", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--append-leaves", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    figures: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.backends.split(","):
            backend = Backend(kind, Path(tmp))
            try:
                figures[kind] = run_backend(backend, sizes, args)
            finally:
                backend.close()
    report(figures)


def run_backend(backend: Backend, sizes: list[int], args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for batch in (1, 100):
        n = args.append_leaves if batch > 1 else args.append_leaves // 4
        ours = append_rate(backend.engine(), batch, n)
        base = plain_insert_rate(backend.engine(), batch, n)
        out[f"append_batch{batch}"] = {
            "ours_per_s": round(ours),
            "baseline_per_s": round(base),
            "ratio": round(ours / base, 2),
        }
    proofs: dict[str, float] = {}
    for size in sizes:
        if backend.kind == "postgres" and size > args.pg_max:
            continue
        engine = backend.engine()
        began = time.perf_counter()
        bulk_load(engine, size)
        load_s = time.perf_counter() - began
        proofs[str(size)] = round(proof_ms(engine, size, args.proofs), 3)
        out[f"load_s_{size}"] = round(load_s, 1)
        engine.dispose()
        print(
            f"  [{backend.kind}] {size:>10,} leaves loaded in {load_s:6.1f} s;"
            f" proof {proofs[str(size)]:.3f} ms",
            flush=True,
        )
    out["proof_ms"] = proofs
    if proofs:
        small, large = proofs[min(proofs, key=int)], proofs[max(proofs, key=int)]
        out["proof_ratio_largest_smallest"] = round(large / small, 2)
    return out


def report(figures: dict[str, dict[str, object]]) -> None:
    print()
    print(f"{'backend':<10} {'figure':<28} {'ours':>12} {'baseline':>12} {'ratio':>7}")
    for kind, fig in figures.items():
        for batch in (1, 100):
            a = fig[f"append_batch{batch}"]
            assert isinstance(a, dict)
            print(
                f"{kind:<10} {f'append, batch {batch} (leaves/s)':<28} "
                f"{a['ours_per_s']:>12,} {a['baseline_per_s']:>12,} {a['ratio']:>7}"
            )
        proofs = fig["proof_ms"]
        assert isinstance(proofs, dict)
        smallest = proofs[min(proofs, key=int)] if proofs else 0
        for size, ms in proofs.items():
            print(
                f"{kind:<10} {f'proof at {int(size):,} (ms)':<28} "
                f"{ms:>12} {smallest:>12} {round(ms / smallest, 2):>7}"
            )
    print(json.dumps({"bench": "log", **figures}, separators=(",", ":")))


if __name__ == "__main__":
    main()
