"""The trust file (``trust.json``): everything a verifier needs, published by the organisation.

Parsed at the edge into a :class:`TrustFile` that cannot be malformed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import CaseLedgerError
from ledger.signing import b64encode, key_id, public_key_from_b64

__all__ = ["MAX_TRUST_BYTES", "TrustFile", "TrustFileError"]

MAX_TRUST_BYTES = 1024 * 1024


class TrustFileError(CaseLedgerError):
    """The trust file cannot be read."""

    code = "trust.malformed"


@dataclass(frozen=True, slots=True)
class TrustFile:
    """Organisation, root keys, log verifier key, seal CA certificates, witnesses, base URL."""

    org: str
    org_name: str
    root_keys: dict[str, bytes]
    log_origin: str
    log_verifier_key: str
    seal_ca_pems: tuple[str, ...]
    witness_keys: tuple[str, ...]
    witness_quorum: int
    public_base_url: str
    # Keys that sign result status statements (ledger.status), by key id; a trust file
    # written before statements existed names none, and every status check is then
    # indeterminate rather than trusting an unnamed key.
    status_keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes | str) -> TrustFile:
        """Parse trust.json; raise TrustFileError naming what is wrong."""
        if len(data) > MAX_TRUST_BYTES:
            raise TrustFileError("trust file is larger than 1 MiB")
        try:
            obj = json.loads(data)
            return cls._from_obj(obj)
        except TrustFileError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, CaseLedgerError) as exc:
            raise TrustFileError(f"trust file is not valid: {exc}") from None

    @classmethod
    def _from_obj(cls, obj: Any) -> TrustFile:
        if not isinstance(obj, dict) or obj.get("v") != 1:
            raise TrustFileError('trust file must be a JSON object with "v": 1')
        root_keys = _keys(obj["root_keys"], "root")
        witnesses = obj.get("witnesses") or {"quorum": 0, "keys": []}
        trust = cls(
            org=_text(obj["organisation"]["id"]),
            org_name=_text(obj["organisation"]["name"]),
            root_keys=root_keys,
            log_origin=_text(obj["log"]["origin"]),
            log_verifier_key=_text(obj["log"]["verifier_key"]),
            seal_ca_pems=tuple(_text(pem) for pem in obj["seal_ca"]),
            witness_keys=tuple(_text(k) for k in witnesses["keys"]),
            witness_quorum=int(witnesses["quorum"]),
            public_base_url=_text(obj["public_base_url"]),
            status_keys=_keys(obj.get("status", {"keys": []})["keys"], "status"),
        )
        if not trust.root_keys:
            raise TrustFileError("trust file names no root key")
        if not 0 <= trust.witness_quorum <= len(trust.witness_keys):
            raise TrustFileError("witness quorum is larger than the number of witness keys")
        return trust

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "organisation": {"id": self.org, "name": self.org_name},
            "root_keys": [
                {"key_id": kid, "public_key": b64encode(pk)} for kid, pk in self.root_keys.items()
            ],
            "log": {"origin": self.log_origin, "verifier_key": self.log_verifier_key},
            "seal_ca": list(self.seal_ca_pems),
            "witnesses": {"quorum": self.witness_quorum, "keys": list(self.witness_keys)},
            "public_base_url": self.public_base_url,
            "status": {
                "keys": [
                    {"key_id": kid, "public_key": b64encode(pk)}
                    for kid, pk in self.status_keys.items()
                ]
            },
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"


def _keys(items: Any, what: str) -> dict[str, bytes]:
    keys = {}
    for item in items:
        public_key = public_key_from_b64(item["public_key"])
        if key_id(public_key) != item["key_id"]:
            raise TrustFileError(f"a {what} key's key_id does not match its key")
        keys[item["key_id"]] = public_key
    return keys


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TrustFileError("a trust file field that must be text is empty or not text")
    return value
