"""Read-model catch-up: envelopes projected per second, against the same fold stored plainly.

    .venv/bin/python bench/read_models.py [--cases 300] [--rounds 3] [--backends sqlite,postgres]

Ours: ``ReadModels.catch_up`` from position 0 over a ledger of ``cases`` four-step cases (the
sample directory first): notifications read in batches of 500, each case folded, the batch's
summaries stored together in one savepoint (and each in a savepoint of its own only when one is
refused, so that case is set aside instead of failing the batch), the cases set aside looked
up per batch, position moved in the same transaction.
Baseline, same run, same ledger and tables: the same batches folded the same way and stored in
one transaction with plain upserts (no savepoints, no set-aside lookup) — what catch-up did
before cases could be set aside. Each round empties the tables first; the sides alternate.
Prints a table, then one JSON line per backend.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from ledger.envelope import Envelope
from ledger.sample import SampleOffice
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger
from ledger.store.read_models import ReadModels, fold_case, rm_cases, rm_tracking, summary_of
from ledger.store.read_models.tables import upsert
from ledger.store.storage import Store, open_store

PG = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


def filled(store: Store, office: SampleOffice, cases: int) -> CaseLedger:
    root_keys = {office.root_key.key_id: office.root_key.public_key}
    ledger = open_ledger(store.url, org=office.org, root_keys=root_keys)
    for envelope in office.directory_envelopes(T0):
        ledger.append(envelope)
    for n in range(cases):
        for envelope in office.case_until_decided(T1 + timedelta(minutes=n)):
            ledger.append(envelope)
    return ledger


def empty(models: ReadModels) -> None:
    with models.engine.begin() as conn:
        conn.execute(rm_cases.delete())
        conn.execute(rm_tracking.delete())


def ours(models: ReadModels, ledger: CaseLedger) -> tuple[float, int]:
    empty(models)
    models._cache.folds.clear()  # a cold follower, as after a restart:
    ledger._writer.recent.forget()  # nothing of the store is parsed in memory yet
    start = time.perf_counter()
    done = models.catch_up(ledger)
    return time.perf_counter() - start, done


def baseline(models: ReadModels, ledger: CaseLedger, batch: int = 500) -> tuple[float, int]:
    empty(models)
    start, position, done = time.perf_counter(), 0, 0
    directory = ledger.directory()
    while rows := ledger.recorder.select_notifications(
        start=position, limit=batch, inclusive_of_start=False
    ):
        streams: dict[str, Any] = {}
        for row in rows:
            envelope = Envelope.from_bytes(json.loads(row.state)["envelope"])
            if not envelope.stream.startswith("directory:"):
                streams[envelope.stream] = envelope.seq
        summaries = [
            summary_of(fold_case(ledger.events(s, lte=seq), s), directory)
            for s, seq in streams.items()
        ]
        with models.engine.begin() as conn:
            for summary in summaries:
                upsert(conn, summary)
        position, done = rows[-1].id, done + len(rows)
    return time.perf_counter() - start, done


def measure(backend: str, office: SampleOffice, cases: int, rounds: int) -> dict[str, Any]:
    tmp, schema = tempfile.TemporaryDirectory(), f"bench_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        store = open_store(Path(tmp.name) / "bench.db")
    else:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        store = open_store(f"{PG}?schema={schema}")
    ledger = filled(store, office, cases)
    models = ReadModels(store.engine())
    ours_s = base_s = 0.0
    envelopes = 0
    try:
        for n in range(rounds):
            sides = [("ours", ours), ("base", baseline)]
            for name, side in sides if n % 2 == 0 else sides[::-1]:
                seconds, envelopes = side(models, ledger)
                if name == "ours":
                    ours_s += seconds
                else:
                    base_s += seconds
        with models.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(rm_cases)).scalar() == cases
    finally:
        models.engine.dispose()
        ledger.close()
        if backend != "sqlite":
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        tmp.cleanup()
    return {
        "bench": "read_models_catch_up",
        "backend": backend,
        "envelopes": envelopes,
        "ours_per_s": round(envelopes * rounds / ours_s, 1),
        "baseline_per_s": round(envelopes * rounds / base_s, 1),
        "ratio": round(base_s / ours_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    office = SampleOffice()
    rows = [measure(b, office, args.cases, args.rounds) for b in args.backends.split(",")]
    print(f"{'backend':<10} {'envelopes':>9} {'ours/s':>10} {'plain/s':>10} {'ratio':>7}")
    for r in rows:
        print(
            f"{r['backend']:<10} {r['envelopes']:>9} {r['ours_per_s']:>10.1f} "
            f"{r['baseline_per_s']:>10.1f} {r['ratio']:>7.3f}"
        )
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
