"""Signed appends per second through CaseLedger.append, against plain eventsourcing saves.

    .venv/bin/python bench/append.py [--cases 150] [--long 300] [--backends sqlite,postgres]
                                     [--threads 1,8]

Ours: one pre-signed envelope per CaseLedger.append call (parse is done before timing; the
call verifies the signature, folds and checks the rules, and stores the envelope with its
Merkle-log leaf in one transaction, batched with whatever other threads append meanwhile;
``--no-log``: a bare ledger, no log).
The workload is many short cases (four steps each) and one long case stream (suspend /
resume pairs); with T threads, each takes every T-th stream and appends its envelopes in
order. Baseline: eventsourcing's Application.save of one DomainEvent per call carrying a
string of the same size, same streams, versions and threads, on a fresh store of the same
backend, in the same run. Prints a table, then one JSON line per backend and thread count.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent

from ledger.client import StreamWriter
from ledger.envelope import Envelope
from ledger.sample import SampleOffice
from ledger.store.application import stream_uuid
from ledger.store.compose import open_ledger
from ledger.store.storage import Store, open_store

PG = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class PlainText(DomainEvent):
    """The baseline's event: a string of an envelope's size and nothing else."""

    text: str


class Plain(Application[uuid.UUID]):
    name = "baseline"
    is_snapshotting_enabled = False


def workload(office: SampleOffice, cases: int, long_steps: int) -> list[Envelope]:
    """Pre-signed envelopes: ``cases`` four-step cases, then one long stream, interleaved."""
    short = [office.case_until_decided(T1 + timedelta(minutes=i)) for i in range(cases)]
    envelopes = [env for step in zip(*short, strict=True) for env in step]
    first = office.case_until_decided(T1)[:2]
    writer = StreamWriter(first[0].stream, first[1].seq, first[1].hash)
    at = first[1].at
    long = list(first)
    for i in range(long_steps // 2):
        at += timedelta(minutes=1)
        long.append(writer.sign("Suspended", office.handler, at, {"reason": f"专家评审 {i}"}))
        long.append(writer.sign("Resumed", office.handler, at, {"reason": f"评审结束 {i}"}))
    return envelopes + long


def in_threads(
    envelopes: list[Envelope], threads: int, append: Callable[[Envelope], object]
) -> float:
    """Seconds to append ``envelopes`` from ``threads`` threads, each taking every
    ``threads``-th stream in order of first appearance."""
    lanes: list[list[Envelope]] = [[] for _ in range(threads)]
    lane_of: dict[str, int] = {}
    for env in envelopes:
        lane = lane_of.setdefault(env.stream, len(lane_of) % threads)
        lanes[lane].append(env)
    failed: list[BaseException] = []

    def work(lane: list[Envelope]) -> None:
        try:
            for env in lane:
                append(env)
        except BaseException as exc:  # reported below: a refused step spoils the figure
            failed.append(exc)

    workers = [threading.Thread(target=work, args=(lane,)) for lane in lanes if lane]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if failed:
        raise SystemExit(f"{len(failed)} threads failed, e.g. {failed[0]!r}")
    return elapsed


class Ours:
    """An office's ledger (with its Merkle log) and the sample directory in place."""

    def __init__(self, store: Store, office: SampleOffice, with_log: bool = True) -> None:
        root_keys = {office.root_key.key_id: office.root_key.public_key}
        origin = "bench.example/log" if with_log else None
        self.ledger = open_ledger(store.url, org=office.org, root_keys=root_keys, log_origin=origin)
        for env in office.directory_envelopes(T0):
            self.ledger.append(env, openings=office.openings.values())

    def run(self, envelopes: list[Envelope], threads: int = 1) -> float:
        return in_threads(envelopes, threads, self.ledger.append)

    def close(self) -> None:
        self.ledger.close()


class Baseline:
    """eventsourcing alone: one DomainEvent with a same-size string per Application.save."""

    def __init__(self, store: Store) -> None:
        self.app = Plain(env=store.eventsourcing_env())

    def run(self, envelopes: list[Envelope], threads: int = 1) -> float:
        events = {
            env.hash: PlainText(
                originator_id=stream_uuid(env.stream),
                originator_version=env.seq,
                timestamp=env.at,
                text=env.text,
            )
            for env in envelopes
        }
        return in_threads(envelopes, threads, lambda env: self.app.save(events[env.hash]))

    def close(self) -> None:
        self.app.close()


class Fresh:
    """Fresh, empty stores of one backend, removed afterwards."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.schemas: list[str] = []
        self.tmp = tempfile.TemporaryDirectory()

    def store(self) -> Store:
        if self.backend == "sqlite":
            return open_store(Path(self.tmp.name) / f"{uuid.uuid4().hex}.db")
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self.schemas.append(schema)
        return open_store(f"{PG}?schema={schema}")

    def close(self) -> None:
        with psycopg.connect(PG, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.tmp.cleanup()


def measure(
    backend: str,
    envelopes: list[Envelope],
    office: SampleOffice,
    chunk: int,
    threads: int,
    with_log: bool = True,
) -> dict:
    """Both sides on fresh stores, timed in alternating chunks so that load from elsewhere on
    the machine falls on both alike."""
    fresh = Fresh(backend)
    ours, base = Ours(fresh.store(), office, with_log), Baseline(fresh.store())
    ours_s = base_s = 0.0
    try:
        for n, i in enumerate(range(0, len(envelopes), chunk)):
            part = envelopes[i : i + chunk]
            if n % 2:
                ours_s += ours.run(part, threads)
                base_s += base.run(part, threads)
            else:
                base_s += base.run(part, threads)
                ours_s += ours.run(part, threads)
        assert ours.ledger.head(envelopes[-1].stream)[0] == envelopes[-1].seq
    finally:
        ours.close()
        base.close()
        fresh.close()
    return {
        "bench": "append",
        "backend": backend,
        "threads": threads,
        "log": with_log,
        "envelopes": len(envelopes),
        "mean_bytes": round(sum(len(e.raw) for e in envelopes) / len(envelopes)),
        "ours_per_s": round(len(envelopes) / ours_s, 1),
        "baseline_per_s": round(len(envelopes) / base_s, 1),
        "ratio": round(base_s / ours_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--long", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--threads", default="1,8", help="thread counts, comma-separated")
    parser.add_argument(
        "--no-log", action="store_true", help="a bare ledger (no Merkle log, no private table)"
    )
    args = parser.parse_args()
    office = SampleOffice()
    envelopes = workload(office, args.cases, args.long)
    rows = [
        measure(b, envelopes, office, args.chunk, int(t), not args.no_log)
        for b in args.backends.split(",")
        for t in args.threads.split(",")
    ]
    header = ("backend", "threads", "envelopes", "ours/s", "plain/s", "ratio")
    print(f"{header[0]:<10} " + " ".join(f"{h:>9}" for h in header[1:]))
    for r in rows:
        print(
            f"{r['backend']:<10} {r['threads']:>9} {r['envelopes']:>9} {r['ours_per_s']:>9.1f} "
            f"{r['baseline_per_s']:>9.1f} {r['ratio']:>9.3f}"
        )
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
