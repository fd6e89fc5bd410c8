"""One batch of notifications applied to the summaries (see the package docstring).

Each envelope of the batch is folded onto its case's fold just before it (kept from earlier
batches, or read again from the ledger). The summaries, the results issued, the cases set
aside and the new position are then written in one transaction: the rows together, and if
one of them cannot be stored, each row again in a savepoint of its own, so that the case that
cannot be stored is set aside instead of failing the batch.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.store.read_models import reform, set_aside
from ledger.store.read_models.set_aside import FOLD_ERRORS, STORE_ERRORS, SetAside
from ledger.store.read_models.summary import CaseFold, CaseSummary, fold_case, summary_of
from ledger.store.read_models.tables import (
    TRACKING_NAME,
    index_result,
    refresh_deadlines,
    rm_tracking,
    upsert,
    upsert_many,
)
from ledger.store.storage import writing_turn
from ledger.store.tracking import advance

__all__ = ["Batch", "EnvelopeSource", "FoldCache", "Moved", "apply_batch", "kind"]

log = logging.getLogger("caseledger.read_models")

# How many cases' folds are kept between batches (the least recently touched go first).
FOLDS_KEPT = 10_000


class EnvelopeSource(Protocol):
    """What the read models need from the ledger (``ledger.store.application.CaseLedger``)."""

    def envelopes_after(self, last_position: int, limit: int) -> list[tuple[int, Envelope]]: ...

    def events(
        self, stream: str, *, gt: int | None = None, lte: int | None = None
    ) -> Iterable[Envelope]: ...

    def directory(self) -> DirectoryState: ...


class Moved(Exception):
    """Another follower moved the tracked position first."""


def kind(exc: Exception) -> str:
    """The kind of ``exc`` for a log line: its class and stable code, never its text (which
    may quote an applicant's data)."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if isinstance(code, str) else type(exc).__name__


class Batch:
    """The cases one batch of notifications touches: their folds and the ones that failed."""

    def __init__(self) -> None:
        self.touched: dict[str, CaseFold] = {}
        self.failed: dict[str, SetAside] = {}
        self._last: dict[str, tuple[int, int, Any]] = {}

    def fold(self, envelope: Envelope, position: int, before: Any) -> None:
        self._last[envelope.stream] = (envelope.seq, position, envelope.at)
        try:
            self.touched[envelope.stream] = before().apply(envelope)
        except FOLD_ERRORS as exc:
            self.fail(envelope.stream, exc)

    def fail(self, stream: str, exc: Exception) -> None:
        seq, position, at = self._last[stream]
        self.failed[stream] = SetAside.of(stream, seq, position, at, exc)
        self.touched.pop(stream, None)

    def fail_at(self, envelope: Envelope, position: int, exc: Exception) -> None:
        """Set the case aside at ``envelope`` (which may belong to a case already skipped)."""
        self._last[envelope.stream] = (envelope.seq, position, envelope.at)
        self.fail(envelope.stream, exc)

    def summaries(self, directory: DirectoryState) -> list[CaseSummary]:
        out = []
        for stream, fold in list(self.touched.items()):
            try:
                out.append(summary_of(fold, directory))
            except FOLD_ERRORS as exc:
                self.fail(stream, exc)
        return out


class FoldCache:
    """What catch-up keeps between batches: the folds of recent cases, and the directory
    last read (None once a batch changed it, until it is read again)."""

    def __init__(self) -> None:
        # Folds are a function of the immutable stored envelopes, so a cached fold is never
        # wrong; it only saves re-reading a case's earlier envelopes on the live path.
        self.folds: OrderedDict[str, CaseFold] = OrderedDict()
        self.directory: DirectoryState | None = None

    def before(
        self, source: EnvelopeSource, batch: Batch, envelope: Envelope
    ) -> Callable[[], CaseFold]:
        """A callable giving the case's fold just before ``envelope`` (read if not cached)."""

        def fold_before() -> CaseFold:
            fold = batch.touched.get(envelope.stream) or self.folds.get(envelope.stream)
            if envelope.seq == 1:
                fold = fold_case((), envelope.stream)  # a new case: nothing to read
            elif fold is None or fold.state.seq != envelope.seq - 1:
                earlier = source.events(envelope.stream, lte=envelope.seq - 1)
                fold = fold_case(earlier, envelope.stream)
            return fold

        return fold_before

    def remember(self, batch: Batch) -> None:
        for stream in batch.failed:
            self.folds.pop(stream, None)
        for stream, fold in batch.touched.items():
            if stream not in batch.failed:
                self.folds[stream] = fold
                self.folds.move_to_end(stream)
        while len(self.folds) > FOLDS_KEPT:
            self.folds.popitem(last=False)


def apply_batch(
    engine: Engine,
    source: EnvelopeSource,
    cache: FoldCache,
    start: int,
    rows: Sequence[tuple[int, Envelope]],
) -> None:
    """Apply ``rows`` (position, envelope), read after position ``start``; raise
    :class:`Moved` (having written nothing) if another follower moved the position from
    ``start`` first."""
    with engine.connect() as conn:
        skipped = set_aside.set_aside_streams(conn)
    batch = Batch()
    issued: list[tuple[Envelope, int]] = []
    calendars: set[int] = set()
    for position, envelope in rows:
        if envelope.type == "ResultIssued":
            issued.append((envelope, position))
        if envelope.type == "CalendarPublished" and isinstance(envelope.body.get("year"), int):
            calendars.add(envelope.body["year"])
        if envelope.stream.startswith("directory:"):
            cache.directory = None
        elif envelope.stream not in skipped and envelope.stream not in batch.failed:
            batch.fold(envelope, position, cache.before(source, batch, envelope))
    if cache.directory is None:
        cache.directory = source.directory()
    directory = cache.directory
    summaries = batch.summaries(directory)
    with writing_turn(engine), engine.begin() as conn:
        _move(conn, start, rows[-1][0])
        if not _store_together(conn, batch, summaries, issued, directory):
            _store_one_by_one(conn, batch, summaries, issued, directory)
        set_aside.record(conn, batch.failed.values())
        for year in sorted(calendars):
            refresh_deadlines(conn, directory.work_calendar(), year)
    cache.remember(batch)
    for entry in batch.failed.values():
        log.warning(
            "read models set aside %s at seq %d (position %d): %s",
            entry.stream,
            entry.seq,
            entry.position,
            entry.code,
        )


def _store_together(
    conn: Connection,
    batch: Batch,
    summaries: Sequence[CaseSummary],
    issued: Sequence[tuple[Envelope, int]],
    directory: DirectoryState,
) -> bool:
    """Store the batch's rows in one savepoint; False (having stored none) if one of them
    cannot be stored."""
    try:
        with conn.begin_nested():
            upsert_many(conn, summaries)
            for summary in summaries:
                state = batch.touched[summary.stream].state
                reform.upsert_reform(conn, state, summary, directory)
            for envelope, _ in issued:
                index_result(conn, envelope)
    except STORE_ERRORS:
        return False
    return True


def _store_one_by_one(
    conn: Connection,
    batch: Batch,
    summaries: Sequence[CaseSummary],
    issued: Sequence[tuple[Envelope, int]],
    directory: DirectoryState,
) -> None:
    """Store each row in a savepoint of its own, setting aside the cases that cannot be."""
    for summary in summaries:
        state = batch.touched[summary.stream].state
        try:
            with conn.begin_nested():
                upsert(conn, summary)
                reform.upsert_reform(conn, state, summary, directory)
        except STORE_ERRORS as exc:
            batch.fail(summary.stream, exc)
    for envelope, position in issued:
        try:
            with conn.begin_nested():
                index_result(conn, envelope)
        except STORE_ERRORS as exc:
            batch.fail_at(envelope, position, exc)


def _move(conn: Connection, start: int, position: int) -> None:
    if not advance(conn, rm_tracking, TRACKING_NAME, start, position):
        raise Moved
