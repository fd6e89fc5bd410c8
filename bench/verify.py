"""How long the verifier takes on one sealed result, against pyHanko's bare validation.

The baseline is pyHanko's ``validate_pdf_signature`` on the same file in the same run, with
the same explicit trust root, no fetching, at the same moment: reading the file, the digest,
the signature, the certificate path, the timestamp and the difference analysis. Ours adds
what its bottom line leaves out: the byte range and every later revision checked directly,
the CMS container, revocation from the embedded CRLs, the attached receipt (every envelope's
signature, the rules replayed, every inclusion proof, the checkpoint and its witness) and the
page text against the receipt. Goal: within 1.5x of the baseline.

The same check is also timed as the server and the command line run it: in a child process
under the default limits (verify.sandbox, forked by multiprocessing's fork server), to show
what the sandbox costs a normal document (``sandbox_ratio``: sandboxed / in-process).

    .venv/bin/python bench/verify.py [--n 30]

Prints a table, then one JSON line with the medians (ms) and the ratio to the baseline.
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
    from verifykit import CHECK_AT, Org, make_bundle, sealed_pdf

    from verify import verify_bundle, verify_pdf
    from verify.sandbox import Sandbox
    from verify.trust import seal_roots

    org = Org.create()
    trust = org.trust()
    pdf = sealed_pdf(org)
    bundle = make_bundle(org)
    roots = list(seal_roots(trust).asn1)
    assert verify_pdf(pdf, trust, at=CHECK_AT).verdict == "PASSED"
    sandbox = Sandbox()
    sandbox.warm()

    def bare() -> object:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=CHECK_AT)
        status = validate_pdf_signature(reader.embedded_signatures[0], context)
        assert status.bottom_line
        return status

    baseline, ours, sandboxed, bundle_ms = medians_ms(
        [
            bare,
            lambda: verify_pdf(pdf, trust, at=CHECK_AT),
            lambda: sandbox.verify_pdf(pdf, trust, at=CHECK_AT),
            lambda: verify_bundle(bundle, trust),
        ],
        args.n,
    )
    rows = [
        ("pyHanko validate_pdf_signature (baseline)", baseline),
        ("caseledger verify_pdf (all 11 checks)", ours),
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
                "sandbox_ratio": round(sandboxed / ours, 3),
                "verify_bundle_ms": round(bundle_ms, 2),
                "ratio": round(ours / baseline, 3),
                "goal_ratio": 1.5,
            }
        )
    )


if __name__ == "__main__":
    main()
