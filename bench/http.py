"""Signed case steps per second through the HTTP API, against the library in the same run.

For SQLite and PostgreSQL: uvicorn serves ``api.app:create_app`` in a subprocess on a loopback
port; 32 client threads (httpx) post pre-signed envelopes — Applied, Accepted, Reviewed,
Decided of many cases, each case's steps in order — and every request's latency is kept.
The baseline is ``CaseLedger.append`` of the same kind of steps in this process, on a fresh
database of the same kind. Prints a table, then one JSON line of figures.

    .venv/bin/python bench/http.py [--cases 200] [--clients 32] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# This file is named like the standard library's ``http`` package: keep its folder off the
# import path, or ``import http.client`` (inside httpx) would find this script instead.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import httpx  # noqa: E402
import psycopg  # noqa: E402

from ledger.application import CaseLedger  # noqa: E402
from ledger.client import StreamWriter  # noqa: E402
from ledger.envelope import Envelope  # noqa: E402
from ledger.sample import SampleOffice, applied_body, decided_body  # noqa: E402
from ledger.storage import open_store  # noqa: E402
from ledger.trust import TrustFile  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"


def write_home(path: Path, office: SampleOffice) -> None:
    path.mkdir(parents=True)
    trust = TrustFile(
        org=office.org,
        org_name=office.org_name,
        root_keys={office.root_key.key_id: office.root_key.public_key},
        log_origin="bench.example/log",
        log_verifier_key="bench.example/log+00000000+AQ==",
        seal_ca_pems=("-",),
        witness_keys=(),
        witness_quorum=0,
        public_base_url="https://bench.example",
    )
    (path / "trust.json").write_text(trust.dumps(), encoding="utf-8")
    (path / "server.secret").write_text(secrets.token_hex(32))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, db: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, CASELEDGER_HOME=str(home), CASELEDGER_PUBLIC_RATE_PER_MINUTE="1000000")
    if db:
        env["CASELEDGER_DB"] = db
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/v1/trust.json", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start")


def cases(office: SampleOffice, count: int, at: datetime) -> list[list[Envelope]]:
    """``count`` cases of four steps, all dated ``at`` (within the server's 5-minute window)."""
    out = []
    review = {"level": 1, "opinion": "agree", "comments": "符合条件。", "basis": "办法"}
    for _ in range(count):
        writer = StreamWriter(f"case:{uuid.uuid4()}")
        out.append(
            [
                writer.sign("Applied", office.handler, at, applied_body("济南泉城食品有限公司")),
                writer.sign("Accepted", office.handler, at, {"opinion": "予以受理。"}),
                writer.sign("Reviewed", office.reviewer, at, review),
                writer.sign("Decided", office.approver, at, decided_body(at)),
            ]
        )
    return out


def run_http(base: str, work: list[list[Envelope]], clients: int) -> tuple[float, list[float]]:
    todo: queue.Queue[list[Envelope]] = queue.Queue()
    for case in work:
        todo.put(case)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                try:
                    case = todo.get_nowait()
                except queue.Empty:
                    return
                for envelope in case:
                    began = time.perf_counter()
                    reply = http.post("/v1/envelopes", content=envelope.raw)
                    took = time.perf_counter() - began
                    with lock:
                        latencies.append(took)
                        if reply.status_code != 201:
                            failures.append(reply.text)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} steps refused, e.g. {failures[0]}")
    return len(latencies) / elapsed, latencies


def run_library(db: str, office: SampleOffice, count: int, start: datetime) -> float:
    ledger = CaseLedger(
        open_store(db),
        org=office.org,
        root_keys={office.root_key.key_id: office.root_key.public_key},
    )
    for envelope in office.directory_envelopes(start - timedelta(minutes=2)):
        ledger.append(envelope)
    work = cases(office, count, start)
    began = time.perf_counter()
    for case in work:
        for envelope in case:
            ledger.append(envelope)
    elapsed = time.perf_counter() - began
    ledger.close()
    return count * 4 / elapsed


def pg_schema() -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def measure(backend: str, count: int, clients: int, folder: Path) -> dict[str, Any]:
    office = SampleOffice()
    home = folder / f"home-{backend}"
    write_home(home, office)
    schemas = [pg_schema(), pg_schema()] if backend == "postgres" else []
    db = f"{PG}?schema={schemas[0]}" if schemas else None
    try:
        server, base = start_server(home, db)
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            for envelope in office.directory_envelopes(now - timedelta(minutes=2)):
                assert httpx.post(f"{base}/v1/envelopes", content=envelope.raw).status_code == 201
            rate, latencies = run_http(base, cases(office, count, now), clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
        library_db = f"{PG}?schema={schemas[1]}" if schemas else str(folder / "library.db")
        library = run_library(library_db, SampleOffice(), count, datetime.now(UTC))
    finally:
        for schema in schemas:
            drop_schema(schema)
    ordered = sorted(latencies)
    return {
        "http_steps_per_s": round(rate, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "library_steps_per_s": round(library, 1),
        "ratio_http_to_library": round(rate / library, 3),
        "steps": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            results[backend] = measure(backend, args.cases, args.clients, Path(tmp))
    header = ("backend", "HTTP steps/s", "p50 ms", "p99 ms", "library/s", "ratio")
    print("{:<10}{:>14}{:>9}{:>9}{:>11}{:>8}".format(*header))
    for backend, r in results.items():
        print(
            f"{backend:<10}{r['http_steps_per_s']:>14}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{r['library_steps_per_s']:>11}{r['ratio_http_to_library']:>8}"
        )
    print(json.dumps({"bench": "http", "clients": args.clients, "cases": args.cases, **results}))


if __name__ == "__main__":
    main()
