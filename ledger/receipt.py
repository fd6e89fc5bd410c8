"""The case receipt (inside a sealed PDF) and the audit bundle (``caseledger export``).

Both hold a case's envelopes, directory envelopes that authorise their signers, one C2SP
tlog-proof per envelope, and the signed checkpoint those proofs lead to. A receipt stops at
Decided and is minimal: only the directory entries bearing on its signers and matter, with
the signed ``selection`` statement that says none was left out (:mod:`ledger.selection`). A
bundle has the whole case and the directory stream from seq 1 (its chain shows completeness).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError

__all__ = [
    "BUNDLE_KIND",
    "MAX_RECEIPT_BYTES",
    "NOTICE_KIND",
    "RECEIPT_KIND",
    "Receipt",
    "ReceiptError",
]

RECEIPT_KIND = "caseledger/case-receipt"
BUNDLE_KIND = "caseledger/audit-bundle"
# The receipt inside a sealed notice: the case's steps up to the one the notice answers.
NOTICE_KIND = "caseledger/notice-receipt"
MAX_RECEIPT_BYTES = 16 * 1024 * 1024
MAX_ENVELOPES = 20_000


class ReceiptError(CaseLedgerError):
    """The receipt or bundle cannot be read."""

    code = "receipt.malformed"


@dataclass(frozen=True, slots=True)
class Receipt:
    """A parsed receipt or bundle. Envelopes are parsed (shape only; signatures and rules are
    the verifier's job); proofs and the checkpoint are kept as their exact text."""

    kind: str
    org: str
    case: str
    envelopes: tuple[Envelope, ...]
    directory: tuple[Envelope, ...]
    proofs: dict[str, str]
    checkpoint: str
    # The signed directory selection of a minimal receipt; None when the directory is whole.
    selection: dict[str, Any] | None = None
    # The newest checkpoint witnesses had cosigned when the receipt was made, and the
    # consistency proof (base64 hashes) from it to ``checkpoint``: a receipt sealed before
    # its own checkpoint could be cosigned still shows the tree extends a witnessed one.
    witnessed: str | None = None
    witnessed_consistency: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: bytes | str) -> Receipt:
        """Parse receipt JSON; raise ReceiptError naming what is wrong."""
        if len(data) > MAX_RECEIPT_BYTES:
            raise ReceiptError("receipt is larger than 16 MiB")
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            raise ReceiptError("receipt is not JSON") from None
        try:
            return cls._from_obj(obj)
        except ReceiptError:
            raise
        except CaseLedgerError as exc:
            raise ReceiptError(f"receipt holds a malformed envelope: {exc.message}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ReceiptError(f"receipt is missing or mistyping a field: {exc}") from None

    @classmethod
    def _from_obj(cls, obj: Any) -> Receipt:
        if not isinstance(obj, dict) or obj.get("v") != 1:
            raise ReceiptError('a receipt is a JSON object with "v": 1')
        if obj["kind"] not in (RECEIPT_KIND, BUNDLE_KIND, NOTICE_KIND):
            raise ReceiptError(f"unknown receipt kind {obj['kind']!r}")
        texts, directory_texts = obj["envelopes"], obj["directory"]
        if not isinstance(texts, list) or not isinstance(directory_texts, list):
            raise ReceiptError("envelopes and directory must be lists of envelope texts")
        if len(texts) + len(directory_texts) > MAX_ENVELOPES:
            raise ReceiptError("receipt holds too many envelopes")
        proofs = obj["proofs"]
        if not isinstance(proofs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in proofs.items()
        ):
            raise ReceiptError("proofs must map envelope hashes to proof texts")
        if not all(isinstance(t, str) for t in [*texts, *directory_texts]):
            raise ReceiptError("each envelope must be its canonical JSON text")
        for name in ("org", "case", "checkpoint"):
            if not isinstance(obj[name], str):
                raise ReceiptError(f"{name} must be text")
        selection = obj.get("selection")
        if selection is not None and not isinstance(selection, dict):
            raise ReceiptError("selection must be an object")
        witnessed = obj.get("witnessed")
        if witnessed is not None and not (
            isinstance(witnessed, dict)
            and isinstance(witnessed.get("checkpoint"), str)
            and isinstance(witnessed.get("consistency"), list)
            and all(isinstance(h, str) for h in witnessed["consistency"])
        ):
            raise ReceiptError("witnessed is {checkpoint: text, consistency: [base64 hashes]}")
        return cls(
            kind=obj["kind"],
            org=obj["org"],
            case=obj["case"],
            envelopes=tuple(Envelope.from_bytes(t) for t in texts),
            directory=tuple(Envelope.from_bytes(t) for t in directory_texts),
            proofs=dict(proofs),
            checkpoint=obj["checkpoint"],
            selection=selection,
            witnessed=None if witnessed is None else witnessed["checkpoint"],
            witnessed_consistency=() if witnessed is None else tuple(witnessed["consistency"]),
        )

    def to_json(self) -> dict[str, Any]:
        witnessed = (
            {}
            if self.witnessed is None
            else {
                "witnessed": {
                    "checkpoint": self.witnessed,
                    "consistency": list(self.witnessed_consistency),
                }
            }
        )
        out: dict[str, Any] = {
            "v": 1,
            "kind": self.kind,
            "org": self.org,
            "case": self.case,
            "envelopes": [e.text for e in self.envelopes],
            "directory": [e.text for e in self.directory],
            "proofs": self.proofs,
            "checkpoint": self.checkpoint,
            **witnessed,
        }
        if self.selection is not None:
            out["selection"] = self.selection
        return out

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
