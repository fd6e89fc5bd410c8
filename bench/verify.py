"""How long the verifier takes on one sealed result, against pyHanko's bare validation.

The baseline is pyHanko's ``validate_pdf_signature`` on the same file in the same run, with
the same explicit trust root, no fetching, at the same moment: reading the file, the digest,
the signature, the certificate path, the timestamp and the difference analysis. Ours adds
what its bottom line leaves out: the byte range and every later revision checked directly,
the CMS container, revocation from the embedded CRLs, the attached receipt (every envelope's
signature, the rules replayed, every inclusion proof, the checkpoint and its witness) and the
page text against the receipt. Goal: within 1.5x of the baseline.

The status check (``--status FILE``: a signed statement, its log proof and checkpoint) is
timed as the same verification with and without a statement, and the server's answer to
``GET /v1/public/results/{sha256}`` (index lookup, the case's envelopes, a log proof, the
signature) against ``GET /v1/log/checkpoint`` on the same in-process server (a demo office).

The full check is also timed as the server and the command line run it: in a child process
under the default limits (verify.sandbox, forked by multiprocessing's fork server), to show
what the sandbox costs a normal document (``sandbox_ratio``: sandboxed / in-process).

    .venv/bin/python bench/verify.py [--n 30]

Prints a table, then JSON lines with the medians (ms) and the ratios to the baselines.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

# bench/ may hold scripts named like standard modules: keep this folder off the
# import path, and put the verifier tests' kit (which builds genuine sealed results) on it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests" / "verify"))


def medians_ms(fns: list[Callable[[], object]], n: int) -> list[float]:
    """Median ms of each function, the functions taking turns so that other load on the
    machine falls on all of them alike."""
    for fn in fns:
        fn()  # warm caches and imports before timing
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(n):
        for fn, out in zip(fns, samples, strict=True):
            started = time.perf_counter()
            fn()
            out.append((time.perf_counter() - started) * 1000)
    return [statistics.median(s) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30, help="timed runs per row")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # pyHanko logs warnings on every validation

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from verifykit import CHECK_AT, Org, make_bundle, sealed_pdf, status_statement

    from verify import StatusEvidence, verify_bundle, verify_pdf
    from verify.sandbox import Sandbox
    from verify.trust import seal_roots

    org = Org.create()
    trust = org.trust()
    pdf = sealed_pdf(org)
    bundle = make_bundle(org)
    roots = list(seal_roots(trust).asn1)
    assert verify_pdf(pdf, trust, at=CHECK_AT).verdict == "INDETERMINATE"  # no status given
    sandbox = Sandbox()
    sandbox.warm()

    def bare() -> object:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=CHECK_AT)
        status = validate_pdf_signature(reader.embedded_signatures[0], context)
        assert status.bottom_line
        return status

    evidence = StatusEvidence(statement=status_statement(org, pdf).dumps())
    assert verify_pdf(pdf, trust, at=CHECK_AT, status=evidence).verdict == "PASSED"
    baseline, ours, with_status, sandboxed, bundle_ms = medians_ms(
        [
            bare,
            lambda: verify_pdf(pdf, trust, at=CHECK_AT),
            lambda: verify_pdf(pdf, trust, at=CHECK_AT, status=evidence),
            lambda: sandbox.verify_pdf(pdf, trust, at=CHECK_AT, status=evidence),
            lambda: verify_bundle(bundle, trust),
        ],
        args.n,
    )
    rows = [
        ("pyHanko validate_pdf_signature (baseline)", baseline),
        ("caseledger verify_pdf, no status", ours),
        ("caseledger verify_pdf --status (all checks)", with_status),
        ("the same in the sandbox (child process)", sandboxed),
        ("caseledger verify_bundle (20 envelopes)", bundle_ms),
    ]
    print(f"sealed result: {len(pdf)} bytes, median of {args.n} runs")
    print(f"{'what':<44} {'ms':>8} {'x baseline':>11}")
    for name, ms in rows:
        print(f"{name:<44} {ms:8.1f} {ms / baseline:11.2f}")
    print(
        json.dumps(
            {
                "bench": "verify",
                "n": args.n,
                "pdf_bytes": len(pdf),
                "baseline_pyhanko_ms": round(baseline, 2),
                "verify_pdf_ms": round(ours, 2),
                "verify_pdf_sandboxed_ms": round(sandboxed, 2),
                "sandbox_ratio": round(sandboxed / with_status, 3),
                "verify_bundle_ms": round(bundle_ms, 2),
                "verify_pdf_with_status_ms": round(with_status, 2),
                "status_check_ratio": round(with_status / ours, 3),
                "ratio": round(with_status / baseline, 3),
                "goal_ratio": 1.5,
            }
        )
    )
    status_answer(args.n)


def status_answer(n: int) -> None:
    """The server's status answer against its checkpoint answer, on a demo office."""
    import contextlib
    import io
    import tempfile

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from cli.jobs import demo

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "office"
        # The demo prints its steps and ends with an exit code; only its folder is wanted.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            demo(out)
        sha = json.loads((out / "status.json").read_text())["document"]["sha256"]
        settings = Settings(home=out, public_rate_per_minute=10**7)
        with TestClient(create_app(settings)) as client:

            def ask(path: str) -> Callable[[], object]:
                def call() -> object:
                    reply = client.get(path)
                    assert reply.status_code == 200, reply.text
                    return reply

                return call

            checkpoint_ms, status_ms = medians_ms(
                [ask("/v1/log/checkpoint"), ask(f"/v1/public/results/{sha}")], n
            )
    print(f"{'GET /v1/log/checkpoint (baseline)':<44} {checkpoint_ms:8.1f}")
    print(f"{'GET /v1/public/results/{sha256}':<44} {status_ms:8.1f}")
    print(
        json.dumps(
            {
                "bench": "status",
                "n": n,
                "ours_status_answer_ms": round(status_ms, 2),
                "baseline_checkpoint_answer_ms": round(checkpoint_ms, 2),
                "ratio": round(status_ms / checkpoint_ms, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
