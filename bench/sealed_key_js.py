"""Opening a passphrase-protected key file in the browser's code, against libsodium.

    .venv/bin/python bench/sealed_key_js.py [--rounds 5]

Ours: api/static/sealed.js (scrypt N=2^14, r=8, p=1 and XSalsa20-Poly1305, written in
JavaScript; PBKDF2 from WebCrypto) opening a key file `caseledger keygen` writes, run under
Node (V8, the engine of Chromium). Baseline: ledger.keyfile.KeyFile.load of the same file
(PyNaCl, i.e. libsodium in C). Median of ``rounds`` each. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ledger.keyfile import KeyFile
from ledger.signing import PrivateKey

SCRIPT = Path(__file__).resolve().parents[1] / "api" / "static" / "sealed.js"
RUN = """
const sealed = require(process.argv[1]);
const doc = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
(async () => {
  const times = [];
  for (let i = 0; i < Number(process.argv[3]); i++) {
    const start = performance.now();
    const seed = await sealed.openSealed(doc.sealed, "bench-pass");
    if (seed === null) throw new Error("did not open");
    times.push(performance.now() - start);
  }
  console.log(JSON.stringify(times));
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.key"
        KeyFile("staff:bench", PrivateKey.generate()).save(path, "bench-pass")
        done = subprocess.run(
            [node, "-e", RUN, str(SCRIPT), str(path), str(args.rounds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        ours = statistics.median(json.loads(done.stdout))
        baseline_times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            KeyFile.load(path, "bench-pass")
            baseline_times.append((time.perf_counter() - start) * 1000)
        baseline = statistics.median(baseline_times)
    print(f"{'open a sealed key file':<28}{'ours (JS) ms':>14}{'libsodium ms':>14}{'ratio':>8}")
    print(f"{'':<28}{ours:>14.1f}{baseline:>14.1f}{ours / baseline:>8.2f}")
    print(
        json.dumps(
            {
                "bench": "sealed_key_js",
                "ours_js_open_ms": round(ours, 1),
                "baseline_libsodium_open_ms": round(baseline, 1),
                "ratio": round(ours / baseline, 2),
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
