"""Outbox catch-up: envelopes followed per second, against reading them alone.

    .venv/bin/python bench/outbox.py [--cases 200] [--rounds 3]

Ours: ``Outbox.catch_up`` from position 0 over a SQLite ledger of ``cases`` four-step cases
whose applicants gave a phone and an e-mail (the sample directory first): envelopes read in
batches of 500, each case step's Applied body and matter looked up, its Chinese messages
written with the position in one transaction. Baseline, same run and ledger: the same batches
read with ``envelopes_after`` and nothing else — what any follower of the log pays. The sides
alternate; each round empties the outbox first. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.client import StreamWriter
from ledger.personal import commit
from ledger.sample import SampleOffice, applied_body, decided_body
from ledger.store.application import CaseLedger
from ledger.store.compose import open_ledger
from ledger.store.outbox import OUTBOX_METADATA, Outbox, out_messages, out_tracking
from ledger.store.storage import open_store

T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


def filled(ledger: CaseLedger, office: SampleOffice, cases: int) -> None:
    for envelope in office.directory_envelopes(T0):
        ledger.append(envelope)
    contact = {"phone_commitment": commit("13912345678").commitment,
               "email_commitment": commit("a@example.cn").commitment}  # fmt: skip
    for n in range(cases):
        at = T1 + timedelta(minutes=n)
        writer = StreamWriter(f"case:{__import__('uuid').uuid4()}")
        steps = [
            (
                "Applied",
                office.handler,
                {**applied_body("济南泉城食品有限公司"), "contact": contact},
            ),
            ("Accepted", office.handler, {"opinion": "予以受理。"}),
            ("Reviewed", office.reviewer, {"level": 1, "opinion": "agree", "comments": "同意。"}),
            ("Decided", office.approver, decided_body(T1)),
        ]
        for i, (kind, signer, body) in enumerate(steps):
            ledger.append(writer.sign(kind, signer, at + timedelta(seconds=i), body))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    office = SampleOffice()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        root_keys = {office.root_key.key_id: office.root_key.public_key}
        ledger = open_ledger(store.url, org=office.org, root_keys=root_keys)
        filled(ledger, office, args.cases)
        engine = store.engine()
        OUTBOX_METADATA.create_all(engine)
        outbox = Outbox(engine)
        ours_s = base_s = 0.0
        envelopes = messages = 0
        for n in range(args.rounds):
            for side in ("ours", "base") if n % 2 == 0 else ("base", "ours"):
                with engine.begin() as conn:
                    conn.execute(out_messages.delete())
                    conn.execute(out_tracking.delete())
                start = time.perf_counter()
                if side == "ours":
                    messages = outbox.catch_up(ledger, "济南市行政审批服务局", T1)
                    ours_s += time.perf_counter() - start
                else:
                    position, envelopes = 0, 0
                    while rows := ledger.envelopes_after(position, 500):
                        position, envelopes = rows[-1][0], envelopes + len(rows)
                    base_s += time.perf_counter() - start
        ledger.close()
        engine.dispose()
    ours_rate = envelopes * args.rounds / ours_s
    base_rate = envelopes * args.rounds / base_s
    print(f"{'side':<10}{'envelopes/s':>14}")
    print(f"{'ours':<10}{ours_rate:>14.0f}   ({messages} messages per round)")
    print(f"{'baseline':<10}{base_rate:>14.0f}")
    print(json.dumps({"bench": "outbox_catch_up", "backend": "sqlite", "envelopes": envelopes,
                      "ours": round(ours_rate), "baseline": round(base_rate),
                      "ratio": round(ours_rate / base_rate, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
