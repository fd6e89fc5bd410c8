"""Key files: an Ed25519 key where its holder keeps it, optionally under a passphrase.

Format (JSON): ``{"v": 1, "kind": "caseledger/key", "principal", "key_id", "public_key",
"seed"}`` in the clear, or with ``"sealed": {kdf scrypt parameters, salt, nonce+ciphertext}``
in place of ``seed`` when a passphrase protects it (scrypt → XSalsa20-Poly1305, PyNaCl).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ledger.errors import CaseLedgerError
from ledger.signing import PrivateKey, b64decode_strict, b64encode

__all__ = ["KeyFile", "KeyFileError"]

_OPS = nacl.pwhash.scrypt.OPSLIMIT_INTERACTIVE
_MEM = nacl.pwhash.scrypt.MEMLIMIT_INTERACTIVE


class KeyFileError(CaseLedgerError):
    code = "keyfile.invalid"


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A principal's key as held in a file."""

    principal: str
    key: PrivateKey

    def save(self, path: Path, passphrase: str | None = None) -> None:
        """Write the key file (mode 0600); sealed under ``passphrase`` if one is given."""
        doc: dict[str, object] = {
            "v": 1,
            "kind": "caseledger/key",
            "principal": self.principal,
            "key_id": self.key.key_id,
            "public_key": self.key.public_key_b64,
        }
        if passphrase:
            salt = nacl.utils.random(nacl.pwhash.scrypt.SALTBYTES)
            box = nacl.secret.SecretBox(_derive(passphrase, salt, _OPS, _MEM))
            doc["sealed"] = {
                "kdf": "scrypt",
                "opslimit": _OPS,
                "memlimit": _MEM,
                "salt": b64encode(salt),
                "box": b64encode(bytes(box.encrypt(self.key.seed))),
            }
        else:
            doc["seed"] = b64encode(self.key.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=2)
            handle.write("\n")

    @classmethod
    def load(cls, path: Path, passphrase: str | None = None) -> KeyFile:
        """Read a key file; raise KeyFileError if it is unreadable or the passphrase is wrong."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            principal = str(doc["principal"])
            if "sealed" in doc:
                seed = _open_sealed(doc["sealed"], passphrase, path)
            else:
                seed = b64decode_strict(doc["seed"], what="seed")
        except KeyFileError:
            raise
        except OSError as exc:
            raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError, CaseLedgerError):
            raise KeyFileError(f"{path} is not a caseledger key file") from None
        key = PrivateKey(seed)
        if key.key_id != doc.get("key_id"):
            raise KeyFileError(f"{path}: the key does not match its key id")
        return cls(principal, key)

    @staticmethod
    def public_key_of(path: Path) -> bytes:
        """The public key a key file names, read without its passphrase."""
        from ledger.signing import public_key_from_b64

        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return public_key_from_b64(str(doc["public_key"]))
        except OSError as exc:
            raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError, CaseLedgerError):
            raise KeyFileError(f"{path} is not a caseledger key file") from None

    @staticmethod
    def is_sealed(path: Path) -> bool:
        try:
            return "sealed" in json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    return bytes(
        nacl.pwhash.scrypt.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=ops,
            memlimit=mem,
        )
    )


def _open_sealed(sealed: dict[str, object], passphrase: str | None, path: Path) -> bytes:
    if not passphrase:
        raise KeyFileError(f"{path} is protected by a passphrase; give it (CASELEDGER_PASSPHRASE)")
    salt = b64decode_strict(str(sealed["salt"]), what="salt")
    key = _derive(passphrase, salt, int(str(sealed["opslimit"])), int(str(sealed["memlimit"])))
    try:
        return bytes(
            nacl.secret.SecretBox(key).decrypt(b64decode_strict(str(sealed["box"]), what="box"))
        )
    except nacl.exceptions.CryptoError:
        raise KeyFileError(f"wrong passphrase for {path}") from None
