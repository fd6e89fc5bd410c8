"""Envelopes audited per second (CaseLedger.audit) against bare Ed25519 verifications per second.

    .venv/bin/python bench/audit.py [--cases 800] [--workers N] [--backends sqlite,postgres]
                                    [--profile]

The ledger holds the sample directory and ``cases`` four-step cases (a few thousand envelopes).
Ours: a full audit — every stored row read back, parsed, hash and chain checked, signature
verified and the rules re-run — in one process, and with ``--workers`` processes reading the
records and checking the signatures (``CaseLedger.audit(workers=N)``, the workers started
and stopped within each timed audit, as ``caseledger audit --workers N`` does). Baseline:
nacl's VerifyKey.verify over each envelope's signing bytes (same messages, same keys, keys
parsed once), single process. Also measured: parsing alone (Envelope.from_bytes); the bare
signature checks spread over ``--workers`` processes; and (with --profile, or when the
single-process ratio is under 0.7) where the single-process audit's time goes. Prints a
table, then one JSON line per backend; each line carries the load average the run began
under, since other work on the machine moves these figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from nacl.signing import VerifyKey

from ledger.envelope import Envelope
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.storage import Store, open_store

PG = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
GOAL = 0.7

Check = tuple[bytes, bytes, bytes]  # public key, message, signature


def fill(store: Store, office: SampleOffice, cases: int) -> tuple[CaseLedger, list[Envelope]]:
    root_keys = {office.root_key.key_id: office.root_key.public_key}
    ledger = CaseLedger(store, org=office.org, root_keys=root_keys)
    envelopes = office.directory_envelopes(T0)
    for i in range(cases):
        envelopes += office.case_until_decided(T1 + timedelta(minutes=i))
    for env in envelopes:
        ledger.append(env)
    return ledger, envelopes


def checks_of(office: SampleOffice, envelopes: list[Envelope]) -> list[Check]:
    keys = {k.key_id: k.public_key for k in [office.root_key, *office.keys.values()]}
    return [(keys[e.actor.key], e.signing_bytes(), e.sig) for e in envelopes]


def verify_all(checks: list[Check]) -> int:
    parsed: dict[bytes, VerifyKey] = {}
    for public_key, message, signature in checks:
        key = parsed.get(public_key) or parsed.setdefault(public_key, VerifyKey(public_key))
        key.verify(message, signature)
    return len(checks)


def best_rates(rounds: int, runs: dict[str, tuple[int, Callable[[], Any]]]) -> dict[str, float]:
    """Items per second of each run, best of ``rounds``; the runs take turns within a round, so
    load from elsewhere on the machine falls on all of them alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, (_, run) in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: runs[name][0] / best[name] for name in runs}


def pooled(pool: ProcessPoolExecutor, checks: list[Check], workers: int) -> Callable[[], int]:
    size = -(-len(checks) // workers)
    chunks = [checks[i : i + size] for i in range(0, len(checks), size)]
    return lambda: sum(pool.map(verify_all, chunks))


def where_time_goes(ledger: CaseLedger, top: int) -> tuple[float, str]:
    """(share of audit time spent verifying signatures, the profile's top entries)."""
    profile = cProfile.Profile()
    profile.enable()
    ledger.audit()
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    in_verify = sum(
        row[3]
        for (path, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if name == "verify_signature" and path.endswith("signing.py")
    )
    lines: list[str] = []
    stream = _Lines(lines)
    pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(top)  # type: ignore[arg-type]
    return in_verify / total, "".join(lines)


class _Lines:
    def __init__(self, out: list[str]) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.append(text)


class Fresh:
    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.schema = ""
        self.tmp = tempfile.TemporaryDirectory()

    def store(self) -> Store:
        if self.backend == "sqlite":
            return open_store(Path(self.tmp.name) / "caseledger.db")
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        return open_store(f"{PG}?schema={self.schema}")

    def close(self) -> None:
        if self.schema:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.tmp.cleanup()


def measure(
    backend: str, cases: int, rounds: int, workers: int, profile: bool
) -> tuple[dict[str, Any], str]:
    office = SampleOffice()
    fresh = Fresh(backend)
    try:
        ledger, envelopes = fill(fresh.store(), office, cases)
        try:
            report = ledger.audit()
            assert report.ok and report.envelopes == len(envelopes)
            assert ledger.audit(workers=workers).findings == report.findings
            checks = checks_of(office, envelopes)
            texts = [e.raw for e in envelopes]
            n = len(envelopes)
            load = os.getloadavg()[0]
            with ProcessPoolExecutor(workers) as pool:
                pooled(pool, checks, workers)()  # start the workers before timing
                rates = best_rates(
                    rounds,
                    {
                        "audit": (n, ledger.audit),
                        "audit_workers": (n, lambda: ledger.audit(workers=workers)),
                        "verify": (n, lambda: verify_all(checks)),
                        "parse": (n, lambda: [Envelope.from_bytes(t) for t in texts]),
                        "pool": (n, pooled(pool, checks, workers)),
                    },
                )
            share, top = where_time_goes(ledger, 15)
        finally:
            ledger.close()
    finally:
        fresh.close()
    row = {
        "bench": "audit",
        "backend": backend,
        "envelopes": len(envelopes),
        "ours_per_s": round(rates["audit"], 1),
        "baseline_per_s": round(rates["verify"], 1),
        "ratio": round(rates["audit"] / rates["verify"], 3),
        "workers": workers,
        "ours_workers_per_s": round(rates["audit_workers"], 1),
        "ratio_workers": round(rates["audit_workers"] / rates["verify"], 3),
        "workers_speedup": round(rates["audit_workers"] / rates["audit"], 2),
        "parse_per_s": round(rates["parse"], 1),
        "pool_verify_per_s": round(rates["pool"], 1),
        "pool_speedup": round(rates["pool"] / rates["verify"], 2),
        "signature_share": round(share, 3),
        "cores": os.cpu_count(),
        "load_1m": round(load, 2),
    }
    return row, top if profile or row["ratio"] < GOAL else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    results = [
        measure(b, args.cases, args.rounds, args.workers, args.profile)
        for b in args.backends.split(",")
    ]
    for row, top in results:
        if top:
            print(f"--- where {row['backend']} audit time goes (cProfile, by own time) ---")
            print(top)
    print(
        f"{'backend':<9} {'envelopes':>9} {'verify/s':>9} {'audit/s':>9} {'ratio':>6} "
        f"{'workers':>7} {'audit N/s':>9} {'ratio':>6} {'speedup':>7} {'parse/s':>9} "
        f"{'pool/s':>9} {'pool x':>6} {'sig share':>9} {'load':>5}"
    )
    for row, _ in results:
        print(
            f"{row['backend']:<9} {row['envelopes']:>9} {row['baseline_per_s']:>9.1f} "
            f"{row['ours_per_s']:>9.1f} {row['ratio']:>6.3f} {row['workers']:>7} "
            f"{row['ours_workers_per_s']:>9.1f} {row['ratio_workers']:>6.3f} "
            f"{row['workers_speedup']:>7.2f} {row['parse_per_s']:>9.1f} "
            f"{row['pool_verify_per_s']:>9.1f} {row['pool_speedup']:>6.2f} "
            f"{row['signature_share']:>9.3f} {row['load_1m']:>5.2f}"
        )
    for row, _ in results:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
