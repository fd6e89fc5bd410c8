"""Check that a newer checkpoint of the log extends an older one (RFC 9162 consistency).

A monitor, auditor or witness keeps the last checkpoint it trusted; when it sees a newer one
it asks for a consistency proof and checks, offline, that nothing in the old tree was changed,
removed or reordered.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from ledger.merkle import ProofInvalid
from ledger.merkle import verify_consistency as merkle_consistency
from ledger.trust import TrustFile
from verify._log import check_checkpoint
from verify.limits import MAX_CHECKPOINT_BYTES, MAX_PROOF_BYTES, check_size
from verify.texts import detail, reason
from verify.verdict import Check, InputUnreadable, Verdict, failed, indeterminate, passed

__all__ = ["parse_consistency_proof", "verify_consistency"]

_MAX_HASHES = 128


def parse_consistency_proof(data: bytes) -> tuple[bytes, ...]:
    """Proof hashes from the log's JSON answer (``{"hashes": [base64, ...]}``) or from text
    with one base64 hash per line. Raises InputUnreadable if it is neither."""
    if len(data) > MAX_PROOF_BYTES:
        raise InputUnreadable("the consistency proof is larger than 64 KiB")
    text = data.decode("utf-8", errors="replace").strip()
    try:
        items = json.loads(text)["hashes"] if text.startswith("{") else text.split()
        if not isinstance(items, list) or len(items) > _MAX_HASHES:
            raise ValueError("not a list of at most 128 hashes")
        return tuple(base64.b64decode(str(item), validate=True) for item in items)
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as exc:
        raise InputUnreadable(f"the consistency proof cannot be read: {exc}") from None


def verify_consistency(
    old_note: str | bytes, new_note: str | bytes, proof: Sequence[bytes], trust: TrustFile
) -> Verdict:
    """The verdict on whether the log of ``new_note`` extends that of ``old_note``.

    Checks both checkpoints' signatures with the trust file's log key (checkpoint.signature),
    the newer one's witnesses (checkpoint.witnesses), and the proof (checkpoint.consistency).
    Raises InputUnreadable only if a note is not text or is too large.
    """
    old_text, new_text = _text(old_note, "old"), _text(new_note, "new")
    old_sig, _, old = check_checkpoint(old_text, trust)
    new_sig, witnesses, new = check_checkpoint(new_text, trust)
    signature = _both(old_sig, new_sig)
    if old is None or new is None:
        consistency = indeterminate("checkpoint.consistency", detail("consistency.not_checked"))
    else:
        consistency = _consistency(old.size, new.size, old.root, new.root, proof)
    return Verdict((signature, witnesses, consistency))


def _text(note: str | bytes, which: str) -> str:
    data = note.encode("utf-8") if isinstance(note, str) else bytes(note)
    check_size(data, MAX_CHECKPOINT_BYTES, f"{which} checkpoint")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputUnreadable(f"the {which} checkpoint is not UTF-8 text") from None


def _both(old: Check, new: Check) -> Check:
    worst = old if old.status != "passed" else new
    if worst.status != "passed":
        which = "consistency.older" if worst is old else "consistency.newer"
        return Check(worst.id, worst.status, detail(which, detail=worst.detail))
    return passed("checkpoint.signature", detail("consistency.both_signed", detail=new.detail))


def _consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> Check:
    if old_size > new_size:
        smaller = detail("consistency.smaller", new=new_size, old=old_size)
        return failed("checkpoint.consistency", smaller)
    if old_size == 0:
        return indeterminate("checkpoint.consistency", detail("consistency.empty"))
    try:
        merkle_consistency(old_size, new_size, old_root, new_root, list(proof))
    except ProofInvalid as exc:
        return failed("checkpoint.consistency", detail("consistency.invalid", why=reason(exc)))
    kept = detail("consistency.kept", new=new_size, old=old_size)
    return passed("checkpoint.consistency", kept)
