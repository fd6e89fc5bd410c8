"""The audit of the case streams in worker processes, one whole stream to a process.

A case step is judged against its own stream's state and the whole directory (which answers
every question as of the step's ``at``), and no case leans on another; so once the directory
has been replayed, the case streams can be replayed apart. Each worker gets whole streams
(every record the store files under one stream key, in commit order) and does all their work
— decoding, parsing, the signature checks, the rules, the fold and the time limits — and
hands back only what the audit's process needs: per record where the envelope says it belongs
and when it was signed, the findings with the record each belongs to, and each stream's time
limits. Nothing as large as an envelope crosses between the processes.

Two things the partition takes on trust are checked afterwards by the caller
(:mod:`ledger.store.audit`), which replays the case streams in its own process if either
fails, so the findings are those of the audit in one process whatever the ledger holds:

- every envelope is filed under its own stream's key (a record moved to another stream is
  replayed with the stream it names, which may be in another worker's share);
- the office's ``same_person`` (a query of its private table, which a worker may not use: the
  connections are the parent's) answers no wherever a worker assumed so. Workers record each
  pair of commitments they were asked about; the caller asks them.
"""

from __future__ import annotations

import multiprocessing
import platform
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from ledger.deadline import DeadlineTracker
from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time
from ledger.errors import CaseLedgerError
from ledger.replay import Finding, StreamReplay
from ledger.store.audit_read import Payload, decode_state

__all__ = ["CHUNK", "CaseWorkers", "Share", "ShareResult", "StepRead", "replay_share"]

# Records per task, at least (a stream is never split): large enough that handing a task to a
# worker costs little beside its work, small enough that the workers share the work evenly.
CHUNK = 256

# One record of a share: its index in the audit's records, its store position, its payload.
ShareRecord = tuple[int, int, Payload]
Share = list[ShareRecord]


@dataclass(frozen=True, slots=True)
class StepRead:
    """What the audit's process needs of one envelope a worker read: where it says it belongs,
    its hash and the stored one beside it, and when it was signed."""

    stream: str
    seq: int
    hash: str
    stored_hash: str | None
    at: datetime

    @property
    def at_text(self) -> str:
        return format_time(self.at)


@dataclass(frozen=True, slots=True)
class ShareResult:
    """A worker's account of a share of records."""

    # Per record, in order: (index, the envelope as read, or why its text is none, and
    # then the stored hash).
    reads: list[tuple[int, StepRead | str, str | None]]
    findings: list[tuple[int, Finding]]  # the rules' findings, each with its record's index
    # Per stream replayed: the index of its first step replayed, and its time-limit findings.
    time_limits: list[tuple[int, list[tuple[str, int, str, str]]]]
    asked: set[tuple[str, str]]  # the pairs of commitments same_person was asked about


@dataclass(frozen=True, slots=True)
class _Shared:
    org: str
    root_keys: dict[str, bytes]
    directory: DirectoryState
    ask_same_person: bool


_shared: _Shared | None = None


def _install(shared: _Shared) -> None:
    global _shared
    _shared = shared


def replay_share(
    share: Share,
    org: str,
    root_keys: dict[str, bytes],
    directory: DirectoryState,
    *,
    ask_same_person: bool,
) -> ShareResult:
    """Replay whole case streams against the replayed ``directory`` (see the module's
    docstring); with ``ask_same_person``, two different commitments count as two people and
    every pair asked about is recorded."""
    asked: set[tuple[str, str]] = set()

    def same_person(a: str, b: str) -> bool:
        if a == b:
            return True
        asked.add((a, b))
        return False

    replay = StreamReplay(org, root_keys, same_person if ask_same_person else None)
    replay.directory = directory  # only read by the rules of case steps
    deadlines = DeadlineTracker()
    reads: list[tuple[int, StepRead | str, str | None]] = []
    found: list[tuple[int, Finding]] = []
    first: dict[str, int] = {}
    for index, position, item in share:
        text, stored_hash = decode_state(item) if isinstance(item, bytes) else item
        try:
            envelope = Envelope.from_bytes(text)
        except CaseLedgerError as exc:
            reads.append((index, exc.message, stored_hash))
            continue
        step = StepRead(envelope.stream, envelope.seq, envelope.hash, stored_hash, envelope.at)
        reads.append((index, step, stored_hash))
        first.setdefault(envelope.stream, index)
        before = len(replay.findings)
        replay.case_step(envelope, position)
        found += ((index, f) for f in replay.findings[before:])
        deadlines.step(envelope)
    limits: dict[str, list[tuple[str, int, str, str]]] = {stream: [] for stream in first}
    for finding in deadlines.findings(replay.cases, directory):
        limits[finding[0]].append(finding)
    return ShareResult(
        reads, found, [(first[stream], items) for stream, items in limits.items()], asked
    )


def _replay_in_worker(share: Share) -> ShareResult:
    shared = _shared
    assert shared is not None  # noqa: S101 - installed when the worker started
    return replay_share(
        share,
        shared.org,
        shared.root_keys,
        shared.directory,
        ask_same_person=shared.ask_same_person,
    )


def shares(streams: Sequence[Share], workers: int) -> list[Share]:
    """Whole streams packed into shares of about CHUNK records, fewer if the records are few,
    so that every worker gets some."""
    total = sum(len(stream) for stream in streams)
    size = max(1, min(CHUNK, -(-total // (workers * 2))))
    out: list[Share] = []
    current: Share = []
    for stream in streams:
        current += stream
        if len(current) >= size:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


class CaseWorkers:
    """``workers`` processes replaying case streams against one replayed directory.

    Use as a context manager once the directory is replayed: on Linux the workers are forked
    and find it in their memory; elsewhere it is sent to each once.
    """

    def __init__(
        self,
        workers: int,
        org: str,
        root_keys: dict[str, bytes],
        directory: DirectoryState,
        *,
        ask_same_person: bool,
    ) -> None:
        self.workers = workers
        self._shared = _Shared(org, dict(root_keys), directory, ask_same_person)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> CaseWorkers:
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=_context(), initializer=_install, initargs=(self._shared,)
        )
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

    def replay(self, work: Sequence[Share]) -> Iterator[ShareResult]:
        """Each share's result, in order."""
        assert self._pool is not None  # noqa: S101 - used inside the with block
        try:
            yield from self._pool.map(_replay_in_worker, work)
        except BrokenProcessPool:
            # A worker killed from outside (out of memory, most likely): the audit cannot
            # say anything of the records it held, so it stops rather than report them.
            raise CaseLedgerError(
                f"an audit worker process stopped before it finished (of {self.workers})",
                code="audit.worker_lost",
            ) from None


def _context() -> multiprocessing.context.BaseContext:
    # Fork where Linux offers it: a forked worker starts in milliseconds and finds the
    # directory in its memory, where a spawned one, or one from a fork server (which re-runs
    # the program's main module in every worker, Python 3.11), took most of a second and, on
    # a small ledger, longer than the audit. It is safe here although the caller holds
    # database connections, and perhaps their threads: a worker only reads what it is handed
    # (it never asks the office's private table, see the module's docstring), takes no lock
    # of theirs, and multiprocessing ends it with os._exit, so no inherited connection is
    # used or closed.
    return multiprocessing.get_context("fork" if platform.system() == "Linux" else "spawn")
