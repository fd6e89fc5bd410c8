"""What the signing client costs per step, against posting a pre-signed envelope, same run.

A real organisation folder (`caseledger init`) served by uvicorn on a loopback port (SQLite,
log and read models attached), three enrolled staff. For each of N cases the handler's
Accepted step is taken twice over, on twin cases:

- client: what `caseledger case accept --server` does once its key is open and it is signed
  in — `GET /v1/cases/{id}/next`, fill the body, sign, `POST /v1/envelopes`;
- baseline: the same step signed locally on the known head and posted (one request).

Also timed: opening a passphrase-protected key file (scrypt) and signing in (challenge and
token), the fixed costs of one command. Prints a table, then one JSON line of figures.

    .venv/bin/python bench/cli_client.py [--cases 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import httpx  # noqa: E402

from cli.client._target import RemoteTarget  # noqa: E402
from ledger.client import Signer, StreamWriter  # noqa: E402
from ledger.envelope import seal_envelope  # noqa: E402
from ledger.keyfile import KeyFile  # noqa: E402
from tests.e2e.e2ekit import (  # noqa: E402
    PASSPHRASES,
    STAFF,
    Staff,
    apply,
    enrol,
    new_office,
    serve,
)


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="caseledger-bench-client-"))
    cli, port, keys = new_office(tmp, None)
    with serve(cli.home, None, port) as server:
        enrol(cli, server, keys, tmp)
        handler = Staff(cli, server, keys, STAFF[0][0])
        pairs = [
            (apply(handler, f"申请人{i}a")[0], apply(handler, f"申请人{i}b")[0])
            for i in range(args.cases)
        ]
        path = keys[STAFF[0][0]]
        unlock = [_timed(lambda: KeyFile.load(path, PASSPHRASES["WANG_PASS"])) for _ in range(10)]
        key_file = KeyFile.load(path, PASSPHRASES["WANG_PASS"])
        signer = Signer(key_file.principal, "handler", key_file.key)
        sign_in, client, baseline = [], [], []
        with httpx.Client(base_url=server, timeout=30) as http:
            for via_client, direct in pairs:
                target = RemoteTarget(server, key_file)
                start = time.perf_counter()
                target._token = target._sign_in()
                sign_in.append(time.perf_counter() - start)

                def by_client(case: str = via_client, target: RemoteTarget = target) -> None:
                    draft = target.draft(uuid.UUID(case), "Accepted", None)
                    draft["body"] = {"opinion": "予以受理。"}
                    target.append(seal_envelope(draft, key_file.key))

                client.append(_timed(by_client))
                target.close()
                head = http.get(
                    f"/v1/cases/{direct}", headers={"Authorization": f"Bearer {target._token}"}
                ).json()

                def by_post(case: str = direct, head: dict[str, object] = head) -> None:
                    writer = StreamWriter(f"case:{case}", int(str(head["head_seq"])))
                    writer.prev = str(head["head_hash"])
                    envelope = writer.sign("Accepted", signer, _now(), {"opinion": "予以受理。"})
                    answer = http.post("/v1/envelopes", content=envelope.raw)
                    assert answer.status_code == 201, answer.text

                baseline.append(_timed(by_post))
    _report(args.cases, unlock, sign_in, client, baseline)


def _now() -> datetime:
    from cli.client._common import utc_now

    return utc_now()


def _report(
    cases: int, unlock: list[float], sign_in: list[float], client: list[float], base: list[float]
) -> None:
    rows = [
        ("open key file (scrypt)", unlock),
        ("sign in (challenge, token)", sign_in),
        ("step: draft + sign + post", client),
        ("baseline: sign + post", base),
    ]
    print(f"{'what':<30} {'median ms':>10} {'p95 ms':>10}")
    for name, samples in rows:
        median, p95 = _ms(samples)
        print(f"{name:<30} {median:>10.1f} {p95:>10.1f}")
    step, baseline = statistics.median(client), statistics.median(base)
    print(
        json.dumps(
            {
                "bench": "cli_client",
                "cases": cases,
                "key_open_ms": round(statistics.median(unlock) * 1000, 2),
                "sign_in_ms": round(statistics.median(sign_in) * 1000, 2),
                "client_step_ms": round(step * 1000, 2),
                "baseline_post_ms": round(baseline * 1000, 2),
                "ratio_client_to_baseline": round(step / baseline, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
