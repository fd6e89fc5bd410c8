"""The browser's opening of a passphrase-protected key file (api/static/sealed.js), run under
Node against Python's own hashlib.scrypt and against key files `KeyFile.save` writes."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import nacl.pwhash
import pytest

from ledger.keyfile import KeyFile
from ledger.signing import PrivateKey

SCRIPT = Path(__file__).resolve().parents[2] / "api" / "static" / "sealed.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

RUN = """
const sealed = require(process.argv[1]);
const job = JSON.parse(require("fs").readFileSync(0, "utf8"));
const hex = (b) => Buffer.from(b).toString("hex");
(async () => {
  const out = { scrypt: [], open: [] };
  for (const [pw, salt, n, r, p, len] of job.scrypt) {
    out.scrypt.push(hex(await sealed.scrypt(Buffer.from(pw), Buffer.from(salt), n, r, p, len)));
  }
  for (const [doc, pw] of job.open) {
    const seed = await sealed.openSealed(doc.sealed, pw);
    out.open.push(seed === null ? null : hex(seed));
  }
  out.params = sealed.pickParams(job.ops, job.mem);
  console.log(JSON.stringify(out));
})();
"""


def run(job: dict[str, object]) -> dict[str, object]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", RUN, str(SCRIPT)], input=json.dumps(job), capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_scrypt_and_the_sealed_key_file_open_as_python_makes_them(tmp_path: Path) -> None:
    vectors = [("password", "NaCl", 1024, 8, 16, 64), ("王立-pw", "盐" * 11, 16384, 8, 1, 32),
               ("", "", 16, 1, 1, 64)]  # fmt: skip
    key = PrivateKey.generate()
    path = tmp_path / "wang.key"
    KeyFile("staff:wang.li", key).save(path, "wang-pw-1")
    doc = json.loads(path.read_text(encoding="utf-8"))
    found = run({
        "scrypt": vectors,
        "open": [[doc, "wang-pw-1"], [doc, "wrong"]],
        "ops": nacl.pwhash.scrypt.OPSLIMIT_INTERACTIVE,
        "mem": nacl.pwhash.scrypt.MEMLIMIT_INTERACTIVE,
    })  # fmt: skip
    expected = [
        hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, dklen=length,
                       maxmem=64 * 1024 * 1024).hex()
        for pw, salt, n, r, p, length in vectors
    ]  # fmt: skip
    assert found["scrypt"] == expected
    assert found["params"] == {"n": 16384, "r": 8, "p": 1}
    assert found["open"] == [key.seed.hex(), None]
    assert base64.b64decode(doc["public_key"]) == key.public_key
