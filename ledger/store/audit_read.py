"""Reading each stored event back into an envelope, and checking its signature.

A signature is checked here under the key its actor names, where the keys given know it
(the root keys, every key of the directory, an applicant key an ``Applied`` read before it
carries). That only spares the rules a second check: :meth:`ledger.envelope.Envelope.verify_with`
remembers the key a signature verified under, and the rules still ask for the key they
require, so an envelope whose signature was checked under any other key, or not at all, is
checked again there.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.signing import key_id, public_key_from_b64

__all__ = ["Payload", "Read", "StoredRecord", "StoredState", "decode_state", "read_chunk"]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One stored event as the store holds it: where it is filed, and the text it holds."""

    position: int
    stream_key: str
    version: int
    text: str
    stored_hash: str | None


@dataclass(frozen=True, slots=True)
class StoredState:
    """One stored event still as eventsourcing's JSON state (``{"envelope": …, "hash": …}``),
    so that decoding it is left to whoever reads it."""

    position: int
    stream_key: str
    version: int
    state: bytes


# What reading one record gives: the envelope, or why the stored text is none (the error's
# message); and the hash the store keeps beside it.
Read = tuple[Envelope | str, str | None]
Payload = tuple[str, str | None] | bytes


def payload(record: StoredRecord | StoredState) -> Payload:
    """What a reader needs of a record: the text and stored hash, or the state to decode."""
    if isinstance(record, StoredState):
        return record.state
    return record.text, record.stored_hash


def decode_state(state: bytes) -> tuple[str, str | None]:
    """The envelope text and stored hash in an eventsourcing state; a state that is not one
    gives an empty text, which no envelope parses from."""
    try:
        obj = json.loads(state)
        text = obj["envelope"]
        stored_hash = obj.get("hash")
    except (ValueError, KeyError, TypeError, AttributeError):
        text, stored_hash = "", None
    return str(text), stored_hash if isinstance(stored_hash, str) else None


def read_chunk(payloads: Sequence[Payload], keys: dict[str, bytes]) -> list[Read]:
    """Read each payload (see :data:`Read`); ``keys`` maps key ids to public keys."""
    applicants: dict[str, bytes] = {}
    out: list[Read] = []
    for item in payloads:
        text, stored_hash = decode_state(item) if isinstance(item, bytes) else item
        try:
            envelope = Envelope.from_bytes(text)
        except CaseLedgerError as exc:
            out.append((exc.message, stored_hash))
            continue
        _check_signature(envelope, keys, applicants)
        out.append((envelope, stored_hash))
    return out


def _check_signature(
    envelope: Envelope, keys: dict[str, bytes], applicants: dict[str, bytes]
) -> None:
    kid = envelope.actor.key
    public_key = keys.get(kid) or applicants.get(kid)
    if public_key is None and envelope.type == "Applied":
        public_key = _applicant_key(envelope)
        if public_key is None or key_id(public_key) != kid:
            return
        applicants[kid] = public_key
    if public_key is None:
        return
    # A signature that fails here is checked again by the rules, which say so.
    with contextlib.suppress(CaseLedgerError):
        envelope.verify_with(public_key)


def _applicant_key(envelope: Envelope) -> bytes | None:
    text = envelope.body.get("applicant_key")
    if not isinstance(text, str):
        return None
    try:
        return public_key_from_b64(text)
    except CaseLedgerError:
        return None
