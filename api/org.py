"""The organisation folder (``--home`` / ``CASELEDGER_HOME``): keys, trust.json, seal
authority and, by default, the SQLite database ``caseledger.db``.

Layout::

    org.json                 organisation id and name, public base URL, log origin, and the
                             review body and court its documents' appeal notices name
    trust.json               what the organisation publishes for verifiers
    caseledger.db            the embedded database (unless --db points elsewhere)
    keys/root.key            the org root key (signs the directory's first envelopes);
                             passphrase-encrypted, to be moved offline after ``init``
    keys/admin.key           the first admin's key, passphrase-encrypted: the admin signs in
                             their own CLI or browser, the server never reads it
    keys/log.key             the transparency log's checkpoint key
    keys/seal-service.key    the seal service's envelope key (signs ResultIssued)
    keys/status.key          signs result status statements (named in trust.json "status")
    checkpoints/             every checkpoint the log signed, kept outside the database
    seal/                    the seal CA (its key passphrase-encrypted), the seal certificate
                             and key, and the last CRL the CA signed (crl.der)
    server.secret            secret for tokens and public query codes
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.client import Signer, StreamWriter, grant_body
from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.keyfile import KeyFile
from ledger.personal import Opening, commit
from ledger.signing import PrivateKey, key_id
from ledger.store.application import CaseLedger
from ledger.trust import TrustFile

__all__ = ["DEFAULT_HOME", "OrgError", "OrgHome", "resolve_db_url", "resolve_home"]

DEFAULT_HOME = Path("caseledger-data")
ADMIN = "staff:admin"
SEAL_SERVICE = "service:seal"
# How long a CRL signed while the CA key is open stays current (re-sign before it runs out).
CRL_DAYS = 30


class OrgError(CaseLedgerError):
    code = "org.invalid"


def resolve_home(home: Path | None) -> Path:
    return Path(home or os.environ.get("CASELEDGER_HOME") or DEFAULT_HOME)


def resolve_db_url(home: Path, db: str | None) -> str:
    return db or os.environ.get("CASELEDGER_DB") or str(home / "caseledger.db")


@dataclass(frozen=True)
class OrgHome:
    """An organisation folder, read from disk."""

    path: Path
    org: str
    org_name: str
    public_base_url: str
    log_origin: str
    # Named in the appeal notice of the office's documents (行政复议机关, 人民法院).
    review_body: str = ""
    court: str = ""

    # Creating ---------------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: Path,
        *,
        org: str,
        org_name: str,
        public_base_url: str,
        admin_name: str = "系统管理员",
        now: datetime,
        passphrase: str | None = None,
        review_body: str = "",
        court: str = "",
    ) -> OrgHome:
        """Create the folder: new keys, a seal authority, trust.json. Refuse an existing one.

        The root key, the admin key and the seal CA's key are encrypted under ``passphrase``
        (None leaves them in the clear, for a throw-away folder); the keys the server runs
        with (log, seal service, seal certificate) are not, so it starts unattended.
        """
        from seals.authority import SealAuthority

        if (path / "org.json").exists():
            raise OrgError(f"{path} already holds an organisation")
        path.mkdir(parents=True, exist_ok=True)
        home = cls(
            path,
            org,
            org_name,
            public_base_url.rstrip("/"),
            f"{public_base_url.split('://')[-1].rstrip('/')}/log",
            review_body.strip(),
            court.strip(),
        )
        (path / "org.json").write_text(json.dumps(home._meta(), ensure_ascii=False, indent=2))
        for name, principal, locked in (
            ("root", ADMIN, True),
            ("admin", ADMIN, True),
            ("log", "log", False),
            ("seal-service", SEAL_SERVICE, False),
            ("status", "status", False),
        ):
            KeyFile(principal, PrivateKey.generate()).save(
                path / "keys" / f"{name}.key", passphrase if locked else None
            )
        # An RSA seal key keeps the sealed file at PDF 1.7, so its PDF/A-3b claim stays true
        # (pyHanko marks ECDSA seals as PDF 2.0, which PDF/A-3 does not allow).
        authority = SealAuthority.create(
            org_name,
            now=now,
            crl_url=f"{home.public_base_url}/v1/crl",
            seal_algorithm="rsa-3072",
        )
        authority.save(path / "seal", ca_passphrase=passphrase.encode() if passphrase else None)
        home.write_crl(authority, now)
        (path / "server.secret").write_text(secrets.token_hex(32))
        os.chmod(path / "server.secret", 0o600)
        home.write_trust()
        return home

    def bootstrap_directory(
        self,
        now: datetime,
        *,
        passphrase: str | None,
        admin_name: str = "系统管理员",
        admin_id_number: str = "ADMIN-0001",
    ) -> tuple[list[Envelope], list[Opening]]:
        """The directory's first envelopes: the admin (signed by the root key), the admin's key
        and grant, and the seal service with its key and grant (signed by the admin); and the
        openings of the two identity commitments, for the private table."""
        root = Signer(ADMIN, "admin", self.key("root", passphrase))
        admin = Signer(ADMIN, "admin", self.key("admin", passphrase))
        seal = self.key("seal-service")
        admin_id, seal_id = commit(admin_id_number), commit("SERVICE-SEAL-0001")
        writer = StreamWriter(f"directory:{self.org}")
        at = [now - timedelta(seconds=6 - i) for i in range(6)]
        envelopes = [
            writer.sign(
                "StaffEnrolled",
                root,
                at[0],
                {
                    "staff": ADMIN,
                    "name": admin_name,
                    "unit": "办公室",
                    "id_commitment": admin_id.commitment,
                },
            ),
            writer.sign(
                "KeyAdded", root, at[1], {"staff": ADMIN, "public_key": admin.key.public_key_b64}
            ),
            writer.sign(
                "RoleGranted",
                root,
                at[2],
                grant_body("g-admin", ADMIN, "admin", valid_from=at[2], unit="办公室"),
            ),
            writer.sign(
                "StaffEnrolled",
                admin,
                at[3],
                {
                    "staff": SEAL_SERVICE,
                    "name": "电子印章服务",
                    "unit": "办公室",
                    "id_commitment": seal_id.commitment,
                },
            ),
            writer.sign(
                "KeyAdded", admin, at[4], {"staff": SEAL_SERVICE, "public_key": seal.public_key_b64}
            ),
            writer.sign(
                "RoleGranted",
                admin,
                at[5],
                grant_body(
                    "g-seal-service", SEAL_SERVICE, "seal_service", valid_from=at[5], unit="办公室"
                ),
            ),
        ]
        return envelopes, [admin_id, seal_id]

    # Reading ----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> OrgHome:
        """Read an organisation folder; raise OrgError if it is not one."""
        try:
            meta = json.loads((path / "org.json").read_text(encoding="utf-8"))
            return cls(
                path,
                meta["org"],
                meta["org_name"],
                meta["public_base_url"],
                meta["log_origin"],
                str(meta.get("review_body", "")),
                str(meta.get("court", "")),
            )
        except FileNotFoundError:
            raise OrgError(
                f"{path} is not an organisation folder: run `caseledger init` "
                "or `caseledger demo --out DIR` first"
            ) from None
        except (ValueError, KeyError, TypeError):
            raise OrgError(f"{path / 'org.json'} is damaged") from None

    def _meta(self) -> dict[str, Any]:
        return {
            "v": 1,
            "org": self.org,
            "org_name": self.org_name,
            "public_base_url": self.public_base_url,
            "log_origin": self.log_origin,
            "review_body": self.review_body,
            "court": self.court,
        }

    def key(self, name: str, passphrase: str | None = None) -> PrivateKey:
        """A key of the folder; a sealed one opens with ``passphrase`` or CASELEDGER_PASSPHRASE
        (KeyFileError naming the file if neither is given)."""
        return KeyFile.load(
            self.path / "keys" / f"{name}.key",
            passphrase or os.environ.get("CASELEDGER_PASSPHRASE"),
        ).key

    def public_key(self, name: str) -> bytes:
        """A key's public half, read without its passphrase."""
        return KeyFile.public_key_of(self.path / "keys" / f"{name}.key")

    def seal_authority(self) -> Any:
        """The seal authority; its CA key opens only with CASELEDGER_PASSPHRASE set (the seal
        key, which the server seals with, is never locked)."""
        from seals.authority import SealAuthority

        ca_passphrase = os.environ.get("CASELEDGER_PASSPHRASE")
        return SealAuthority.load(
            self.path / "seal", ca_passphrase=ca_passphrase.encode() if ca_passphrase else None
        )

    def write_crl(self, authority: Any, now: datetime) -> bytes:
        """Sign a CRL with the (open) CA key and keep it as seal/crl.der, which the server
        serves while the CA key stays locked."""
        der: bytes = authority.crl(now=now, next_update=timedelta(days=CRL_DAYS))
        (self.path / "seal" / "crl.der").write_bytes(der)
        return der

    def stored_crl(self) -> bytes | None:
        try:
            return (self.path / "seal" / "crl.der").read_bytes()
        except FileNotFoundError:
            return None

    def server_secret(self) -> bytes:
        return bytes.fromhex((self.path / "server.secret").read_text().strip())

    def log_verifier_key(self) -> str:
        from ledger.note import verifier_key_string

        return str(verifier_key_string(self.log_origin, self.public_key("log")))

    def write_trust(self, witness_keys: tuple[str, ...] = (), quorum: int = 0) -> TrustFile:
        root = self.public_key("root")
        status = self.status_key()
        trust = TrustFile(
            org=self.org,
            org_name=self.org_name,
            root_keys={key_id(root): root},
            log_origin=self.log_origin,
            log_verifier_key=self.log_verifier_key(),
            seal_ca_pems=(self._seal_ca_pem(),),
            witness_keys=witness_keys,
            witness_quorum=quorum,
            public_base_url=self.public_base_url,
            status_keys={status.key_id: status.public_key} if status else {},
        )
        (self.path / "trust.json").write_text(trust.dumps(), encoding="utf-8")
        return trust

    def status_key(self) -> PrivateKey | None:
        """The key that signs result status statements; None in a folder made before them."""
        if not (self.path / "keys" / "status.key").exists():
            return None
        return self.key("status")

    def _seal_ca_pem(self) -> str:
        return (self.path / "seal" / "seal-ca.pem").read_text(encoding="ascii")

    def trust(self) -> TrustFile:
        return TrustFile.from_json((self.path / "trust.json").read_bytes())

    def checkpoint_folder(self) -> Any:
        """The checkpoints kept outside the database (ledger.store.anchor.CheckpointFolder)."""
        from ledger.store.anchor import CheckpointFolder

        trust = self.trust()
        return CheckpointFolder(
            self.path / "checkpoints",
            origin=self.log_origin,
            log_key=trust.log_verifier_key,
            witness_keys=trust.witness_keys,
            quorum=trust.witness_quorum,
        )

    def db_url(self, db: str | None = None) -> str:
        return resolve_db_url(self.path, db)

    def open_ledger(self, db: str | None = None) -> CaseLedger:
        """The organisation's ledger on its database, with its transparency log."""
        from ledger.store.compose import open_ledger

        return open_ledger(
            self.db_url(db),
            org=self.org,
            root_keys=self.trust().root_keys,
            log_origin=self.log_origin,
            keeper=self.checkpoint_folder(),
        )
