"""Receipt size: a minimal receipt's directory part against the whole directory.

    .venv/bin/python bench/receipt_size.py [--staff 200]

- **Ours:** the directory entries a case receipt carries (``ledger.selection``: those bearing
  on its signers and matter, the admin chain to the root) plus the signed selection statement,
  in bytes of JSON, and the time to select them.
- **Baseline:** the whole directory up to the case, as receipts carried it before (every staff
  member's enrolment, key and grant), in bytes of JSON.
- Workload: the sample office plus ``--staff`` more staff (each enrolled, with a key and a
  grant), and one four-step case signed by three of them.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from ledger.client import StreamWriter, grant_body
from ledger.personal import commit
from ledger.sample import SampleOffice
from ledger.selection import select_directory, sign_selection
from ledger.signing import PrivateKey

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=200)
    args = parser.parse_args()
    office = SampleOffice()
    directory = office.directory_envelopes(T0)
    writer = StreamWriter(directory[-1].stream, directory[-1].seq, directory[-1].hash)
    at = T0 + timedelta(minutes=5)
    for n in range(args.staff):
        principal = f"staff:extra.{n}"
        key = PrivateKey.generate()
        body = {"staff": principal, "name": f"职员{n}", "unit": "行政审批科"}
        body["id_commitment"] = commit(f"EXTRA-{n}").commitment
        directory.append(writer.sign("StaffEnrolled", office.admin, at, body))
        directory.append(
            writer.sign(
                "KeyAdded", office.admin, at, {"staff": principal, "public_key": key.public_key_b64}
            )
        )
        grant = grant_body(f"g-extra-{n}", principal, "handler", valid_from=T0)
        directory.append(writer.sign("RoleGranted", office.admin, at, grant))
    case = office.case_until_decided(T0 + timedelta(days=1))
    began = time.perf_counter()
    chosen, subjects = select_directory(directory, case)
    statement = sign_selection(
        org=office.org, case=case[0].stream, directory=directory, chosen=chosen,
        subjects=subjects, key=PrivateKey.generate(),
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    ours = sum(len(e.text.encode()) for e in chosen) + len(json.dumps(statement).encode())
    baseline = sum(len(e.text.encode()) for e in directory)
    print(f"{'directory entries':<28}{len(chosen):>10}{len(directory):>10}")
    print(f"{'bytes (entries + statement)':<28}{ours:>10}{baseline:>10}")
    print(f"{'selection time (ms)':<28}{elapsed * 1000:>10.1f}")
    print(
        json.dumps(
            {
                "bench": "receipt_directory_bytes",
                "staff": args.staff + 5,
                "ours_bytes": ours,
                "baseline_bytes": baseline,
                "ratio": round(ours / baseline, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
