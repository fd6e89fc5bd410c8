"""Signed case steps per second through the HTTP API, against the library in the same run.

For SQLite and PostgreSQL: uvicorn serves ``api.app:create_app`` for a real organisation folder
(Merkle log in the ledger's transactions, read models and result sealing following in their
own threads) in subprocesses on a loopback port — on PostgreSQL also with 2 and 4 worker
processes; 32 clients, each a keep-alive connection driven by one asyncio task writing plain
HTTP/1.1 (so the load generator takes little of the machine the server runs on), post
pre-signed envelopes — Applied, Accepted, Reviewed, Decided of many cases, each case's steps
in order — and every request's latency is kept.
Baselines, measured in the same run on fresh databases of the same kind, one caller:
``CaseLedger.append`` of a bare ledger without log (the ratio's denominator), and the office's
ledger with its log and the read models following inline. Control, once per run: the same
clients posting the same envelopes to an empty FastAPI route on the same server stack
(``bench/http_floor.py``), the most HTTP alone allows on this machine.
Prints a table, then one JSON line of figures.

    .venv/bin/python bench/http_api.py [--cases 200] [--clients 32] [--no-postgres]
                                       [--workers 1,2,4] [--loop auto|asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
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

from api.org import OrgHome  # noqa: E402
from ledger.client import StreamWriter  # noqa: E402
from ledger.envelope import Envelope  # noqa: E402
from ledger.personal import Opening  # noqa: E402
from ledger.sample import SampleOffice, applied_body, decided_body  # noqa: E402
from ledger.store.application import CaseLedger  # noqa: E402
from ledger.store.compose import open_ledger  # noqa: E402
from ledger.store.personal_store import commitments_in  # noqa: E402
from ledger.store.read_models import ReadModels  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"


def make_home(path: Path) -> tuple[OrgHome, SampleOffice]:
    """A real organisation folder (keys, seal authority, trust.json) and its sample office."""
    home = OrgHome.init(
        path,
        org="jinan-approval",
        org_name="济南市行政审批服务局",
        public_base_url="https://bench.example",
        now=datetime.now(UTC) - timedelta(days=1),
        passphrase=None,
    )
    # The folder's own admin and seal-service keys, as `caseledger demo` enrols them: the
    # server then seals the result of every approval, as an office's server does.
    keys = {"staff:admin": home.key("admin"), "service:seal": home.key("seal-service")}
    office = SampleOffice(
        org=home.org, org_name=home.org_name, root_key=home.key("root"), keys=keys
    )
    return home, office


def openings_header(envelope: Envelope, openings: Iterable[Opening]) -> dict[str, str]:
    """The Caseledger-Openings header for the identity commitments ``envelope`` carries."""
    wanted = set(commitments_in(envelope))
    chosen = [o.to_json() for o in openings if o.commitment in wanted]
    if not chosen:
        return {}
    text = base64.urlsafe_b64encode(json.dumps(chosen).encode()).rstrip(b"=").decode()
    return {"Caseledger-Openings": text}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    home: Path, db: str, workers: int = 1, loop: str = "auto", *, floor: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, CASELEDGER_HOME=str(home), CASELEDGER_PUBLIC_RATE_PER_MINUTE="1000000")
    env["CASELEDGER_DB"] = db
    # The app as ``caseledger serve --workers N`` starts it in each process; or the floor.
    app = ["--app-dir", str(HERE), "http_floor:app"] if floor else []
    command = [sys.executable, "-m", "uvicorn"]
    command += app or ["api.serve:app_from_environment", "--factory"]
    command += ["--port", str(port), "--loop", loop, "--log-level", "warning", "--no-access-log"]
    command += ["--workers", str(workers)] if workers > 1 else []
    # The server logs an access line per request, as serve does; they go to a file beside
    # its organisation folder, not to this table.
    log = (home.parent / f"{home.name}-server.log").open("ab")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            httpx.get(f"{base}/v1/trust.json", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    log.close()
    tail = (home.parent / f"{home.name}-server.log").read_text(errors="replace")[-2000:]
    raise SystemExit(f"the server did not start:\n{tail}")


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
    """Post every case's steps in order over ``clients`` keep-alive connections at once;
    return steps per second and each step's latency."""
    address = httpx.URL(base)
    todo = list(reversed(work))
    latencies: list[float] = []
    failures: list[str] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection(address.host, address.port)
        try:
            while todo:
                for envelope in todo.pop():
                    began = time.perf_counter()
                    writer.write(post_request(envelope.raw))
                    status, body = await read_response(reader)
                    latencies.append(time.perf_counter() - began)
                    if status != 201:
                        failures.append(body.decode("utf-8", "replace"))
        finally:
            writer.close()

    async def all_clients() -> float:
        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - began

    elapsed = asyncio.run(all_clients())
    if failures:
        raise SystemExit(f"{len(failures)} steps refused, e.g. {failures[0]}")
    return len(latencies) / elapsed, latencies


def post_request(body: bytes) -> bytes:
    head = (
        "POST /v1/envelopes HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response (the API always sends Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")
    )
    return int(lines[0].split()[1]), await reader.readexactly(length)


def run_library(ledger: CaseLedger, office: SampleOffice, count: int) -> float:
    """Steps per second of ``ledger.append`` on the same kind of cases, one caller."""
    start = datetime.now(UTC).replace(microsecond=0)
    for envelope in office.directory_envelopes(start - timedelta(minutes=2)):
        ledger.append(envelope, openings=office.openings.values())
    work = cases(office, count, start)
    began = time.perf_counter()
    for case in work:
        for envelope in case:
            ledger.append(envelope, now=start)
    elapsed = time.perf_counter() - began
    ledger.close()
    return count * 4 / elapsed


def bare_ledger(home: OrgHome, office: SampleOffice, db: str) -> CaseLedger:
    """The ledger alone: no log, no read models."""
    root = {office.root_key.key_id: office.root_key.public_key}
    return open_ledger(db, org=office.org, root_keys=root)


def full_ledger(home: OrgHome, db: str) -> CaseLedger:
    """The office's ledger with its Merkle log, and the read models following each append."""
    ledger = home.open_ledger(db)
    ReadModels(ledger.store.engine()).attach(ledger)
    return ledger


def pg_schema() -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def measure(
    backend: str, count: int, clients: int, folder: Path, workers: int, loop: str
) -> dict[str, Any]:
    home, office = make_home(folder / f"home-{backend}-{workers}")
    schemas = [pg_schema() for _ in range(3)] if backend == "postgres" else []
    dbs = [f"{PG}?schema={s}" for s in schemas] or [
        str(folder / f"{backend}-{workers}-{n}.db") for n in ("http", "bare", "full")
    ]
    try:
        server, base = start_server(home.path, dbs[0], workers, loop)
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            for envelope in office.directory_envelopes(now - timedelta(minutes=2)):
                reply = httpx.post(
                    f"{base}/v1/envelopes",
                    content=envelope.raw,
                    headers=openings_header(envelope, office.openings.values()),
                )
                assert reply.status_code == 201, reply.text
            rate, latencies = run_http(base, cases(office, count, now), clients)
        finally:
            server.terminate()
            server.wait(timeout=60)
        bare = run_library(bare_ledger(home, office, dbs[1]), office, count)
        full = run_library(full_ledger(home, dbs[2]), office, count)
    finally:
        for schema in schemas:
            drop_schema(schema)
    ordered = sorted(latencies)
    return {
        "workers": workers,
        "loop": loop,
        "http_steps_per_s": round(rate, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "library_steps_per_s": round(bare, 1),
        "library_with_log_and_read_models_steps_per_s": round(full, 1),
        "ratio_http_to_library": round(rate / bare, 3),
        "ratio_http_to_library_with_log_and_read_models": round(rate / full, 3),
        "steps": len(latencies),
    }


def measure_floor(count: int, clients: int, folder: Path, loop: str) -> float:
    """Requests per second of the empty route (``bench/http_floor.py``), same clients."""
    home, office = make_home(folder / "home-floor")
    server, base = start_server(home.path, "", loop=loop, floor=True)
    try:
        rate, _ = run_http(base, cases(office, count, datetime.now(UTC)), clients)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL server processes")
    parser.add_argument(
        "--loop",
        default="auto",
        choices=["auto", "asyncio", "uvloop"],
        help="the server's event loop (auto, as serve: uvloop when installed)",
    )
    args = parser.parse_args()
    runs = [("sqlite", 1)]
    if not args.no_postgres:
        runs += [("postgres", int(n)) for n in args.workers.split(",")]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        floor = measure_floor(args.cases, args.clients, Path(tmp), args.loop)
        for backend, workers in runs:
            row = measure(backend, args.cases, args.clients, Path(tmp), workers, args.loop)
            results.append({"backend": backend, **row})
    header = ("backend", "procs", "HTTP/s", "p50 ms", "p99 ms", "lib/s", "lib+log+rm/s", "ratio")
    print("{:<10}{:>6}{:>9}{:>9}{:>9}{:>9}{:>14}{:>8}".format(*header))
    for r in results:
        print(
            f"{r['backend']:<10}{r['workers']:>6}{r['http_steps_per_s']:>9}{r['p50_ms']:>9}"
            f"{r['p99_ms']:>9}{r['library_steps_per_s']:>9}"
            f"{r['library_with_log_and_read_models_steps_per_s']:>14}"
            f"{r['ratio_http_to_library']:>8}"
        )
    print(f"floor: an empty FastAPI route, same clients: {floor:.1f} requests/s")
    figures = {"bench": "http", "clients": args.clients, "cases": args.cases}
    print(json.dumps({**figures, "floor_http_per_s": round(floor, 1), "runs": results}))


if __name__ == "__main__":
    main()
