"""The audit's first half: read each stored event back into an envelope and check its signature.

Decoding the store's JSON, parsing and checking the envelope's canonical text and the
Ed25519 check are the bulk of an audit and need no order, so :class:`Reader` may spread them
over worker processes in chunks of records and hands back their results in order; the fold
and the rules, which do need order, stay with the caller (:mod:`ledger.store.audit`).

A signature is checked here under the key its actor names, where the keys given know it
(the root keys, every key of the directory, an applicant key an ``Applied`` in the same chunk
carries). That only spares the rules a second check: :meth:`ledger.envelope.Envelope.verify_with`
remembers the key a signature verified under, and the rules still ask for the key they
require, so an envelope whose signature was checked under any other key, or not at all, is
checked again there.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import platform
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType

from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.signing import key_id, public_key_from_b64

__all__ = ["CHUNK", "Read", "Reader", "StoredRecord", "StoredState", "read_chunk"]

# Records per task: large enough that handing a chunk to a worker costs little beside
# reading it, small enough that the rules start on the first chunk soon.
CHUNK = 256


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


# Worker processes ------------------------------------------------------------------------------


def _read_in_worker(task: tuple[list[Payload], dict[str, bytes]]) -> list[Read]:
    payloads, keys = task
    return read_chunk(payloads, keys)


def _ready() -> None:
    """A task that does nothing: it makes a worker start before there is work for it."""


class Reader:
    """Reads payloads in this process (``workers`` 1) or in ``workers`` processes, in order.

    Use as a context manager: the processes start on entering it, while the caller still
    reads the store, and stop on leaving it.
    """

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Reader:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context())
            for _ in range(self.workers):
                self._pool.submit(_ready)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def read(self, payloads: Sequence[Payload], keys: dict[str, bytes]) -> Iterator[Read]:
        """What each payload reads as, in order; ``keys`` as for :func:`read_chunk`."""
        if self._pool is None or not payloads:
            yield from read_chunk(payloads, keys)
            return
        # Every worker gets a share of a short read too; a long one goes in CHUNK records.
        size = min(CHUNK, -(-len(payloads) // self.workers))
        # The keys go with every chunk: some fifty bytes a key beside some 300 KB of records,
        # and so the workers could start before the directory was read.
        tasks = [(list(payloads[i : i + size]), keys) for i in range(0, len(payloads), size)]
        try:
            for chunk in self._pool.map(_read_in_worker, tasks):
                yield from chunk
        except BrokenProcessPool:
            # A worker killed from outside (out of memory, most likely): the audit cannot
            # say anything of the records it held, so it stops rather than report them.
            raise CaseLedgerError(
                f"an audit worker process stopped before it finished (of {self.workers})",
                code="audit.worker_lost",
            ) from None


def _context() -> multiprocessing.context.BaseContext:
    # Fork where Linux offers it: a forked worker starts in milliseconds, where a spawned one,
    # or one from a fork server (which re-runs the program's main module in every worker,
    # Python 3.11), took most of a second and, on a small ledger, longer than the audit. It
    # is safe here although the caller holds database connections, and perhaps their
    # threads: a worker only reads what it is handed, takes no lock of theirs, and
    # multiprocessing ends it with os._exit, so no inherited connection is used or closed.
    return multiprocessing.get_context("fork" if platform.system() == "Linux" else "spawn")
