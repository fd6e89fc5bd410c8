"""Where the summaries are kept, and how they follow the ledger (see the package docstring)."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from eventsourcing.persistence import Tracking, TrackingRecorder
from sqlalchemy.engine import Connection, Engine

from ledger.calendar import WorkCalendar
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.store.read_models import reform, set_aside
from ledger.store.read_models.set_aside import FOLD_ERRORS, STORE_ERRORS, SetAside
from ledger.store.read_models.summary import CaseFold, CaseSummary, fold_case, summary_of
from ledger.store.read_models.tables import (
    READ_MODEL_METADATA,
    from_row,
    index_result,
    position_of,
    refresh_deadlines,
    rm_cases,
    rm_results,
    rm_tracking,
    upsert,
)

__all__ = ["TRACKING_NAME", "ReadModels"]

log = logging.getLogger("caseledger.read_models")

TRACKING_NAME = "caseledger"

# Statuses in which the decision clock runs (or is stopped by a suspension).
CLOCK_STATUSES = ("accepted", "in_review", "suspended")


class EnvelopeSource(Protocol):
    """What the read models need from the ledger (``ledger.store.application.CaseLedger``)."""

    @property
    def recorder(self) -> Any: ...

    def events(
        self, stream: str, *, gt: int | None = None, lte: int | None = None
    ) -> Iterable[Envelope]: ...

    def directory(self) -> DirectoryState: ...


class _Follower(threading.Thread):
    """Catches the read models up whenever woken (and once a second regardless)."""

    def __init__(self, models: ReadModels, source: EnvelopeSource) -> None:
        super().__init__(name="caseledger-read-models", daemon=True)
        self.models, self.source = models, source
        self.wake, self.stop = threading.Event(), threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            if not self.stop.is_set():
                self.models._quietly(self.source)


class _Batch:
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


def _kind(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if isinstance(code, str) else type(exc).__name__


class _Moved(Exception):
    """Another follower moved the tracked position first."""


class ReadModels(TrackingRecorder):
    """The case summaries of one ledger, kept in ``engine``'s database."""

    def __init__(self, engine: Engine, *, batch: int = 500) -> None:
        self.engine = engine
        self.batch = batch
        self._lock = threading.Lock()
        # Folds are a function of the immutable stored envelopes, so a cached fold is never
        # wrong; it only saves re-reading a case's earlier envelopes on the live path.
        self._folds: OrderedDict[str, CaseFold] = OrderedDict()
        self._directory: DirectoryState | None = None
        self._follower: _Follower | None = None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _derived_data_pragmas)
        READ_MODEL_METADATA.create_all(engine)

    # Following the ledger -------------------------------------------------------------------

    def attach(self, ledger: Any, *, background: bool = False) -> None:
        """Catch up now, and follow every new append of ``ledger`` (a CaseLedger).

        By default the summaries are updated in the appending thread before ``append``
        returns. With ``background`` a follower thread does it: appends return sooner and
        the follower applies whatever has accumulated in one transaction; readers that need
        the latest state call :meth:`catch_up` first. :meth:`close` stops the thread.

        Cases set aside earlier are tried again first (a fix in the code or the directory
        may have cured them).
        """
        self.retry_set_aside(ledger)
        self.catch_up(ledger)
        flag = None
        if background:
            follower = _Follower(self, ledger)
            self._follower = follower
            follower.start()
            flag = follower.wake
        ledger.listen(_Listener(self, ledger, flag))

    def _quietly(self, source: EnvelopeSource) -> None:
        try:
            self.catch_up(source)
        except Exception as exc:
            # The envelope is stored; a failed summary update must not turn that into an
            # error for the signer. The next catch-up (on the next append or read) retries.
            # The error's kind only: its text may quote an applicant's data.
            log.warning("read models could not follow the ledger (%s); will retry", _kind(exc))

    def close(self) -> None:
        """Stop the follower thread, if any (the engine stays the caller's)."""
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.stop.set()
            follower.wake.set()
            follower.join(timeout=30)

    def catch_up(self, source: EnvelopeSource) -> int:
        """Apply every envelope after the tracked position, in order; return how many."""
        done = 0
        with self._lock:
            while True:
                start = self.max_tracking_id(TRACKING_NAME) or 0
                rows = source.recorder.select_notifications(
                    start=start, limit=self.batch, inclusive_of_start=False
                )
                if not rows:
                    return done
                try:
                    self._apply_batch(source, start, rows)
                except _Moved:
                    continue
                done += len(rows)
                if len(rows) < self.batch:
                    return done

    def _apply_batch(self, source: EnvelopeSource, start: int, rows: Sequence[Any]) -> None:
        with self.engine.connect() as conn:
            skipped = set_aside.set_aside_streams(conn)
        batch = _Batch()
        issued: list[tuple[Envelope, int]] = []
        calendars: set[int] = set()
        for row in rows:
            envelope = Envelope.from_bytes(json.loads(row.state)["envelope"])
            if envelope.type == "ResultIssued":
                issued.append((envelope, row.id))
            if envelope.type == "CalendarPublished" and isinstance(envelope.body.get("year"), int):
                calendars.add(envelope.body["year"])
            if envelope.stream.startswith("directory:"):
                self._directory = None
            elif envelope.stream not in skipped and envelope.stream not in batch.failed:
                batch.fold(envelope, row.id, self._cached_fold(source, batch, envelope))
        if self._directory is None:
            self._directory = source.directory()
        summaries = batch.summaries(self._directory)
        with self.engine.begin() as conn:
            self._move(conn, start, rows[-1].id)
            for summary in summaries:
                state = batch.touched[summary.stream].state
                try:
                    with conn.begin_nested():
                        upsert(conn, summary)
                        reform.upsert_reform(conn, state, summary, self._directory)
                except STORE_ERRORS as exc:
                    batch.fail(summary.stream, exc)
            for envelope, position in issued:
                try:
                    with conn.begin_nested():
                        index_result(conn, envelope)
                except STORE_ERRORS as exc:
                    batch.fail_at(envelope, position, exc)
            set_aside.record(conn, batch.failed.values())
            for year in sorted(calendars):
                refresh_deadlines(conn, self._directory.work_calendar(), year)
        self._remember(batch)

    def _cached_fold(self, source: EnvelopeSource, batch: _Batch, envelope: Envelope) -> Any:
        """A callable giving the case's fold just before ``envelope`` (read if not cached)."""

        def before() -> CaseFold:
            fold = batch.touched.get(envelope.stream) or self._folds.get(envelope.stream)
            if fold is None or fold.state.seq != envelope.seq - 1:
                earlier = source.events(envelope.stream, lte=envelope.seq - 1)
                fold = fold_case(earlier, envelope.stream)
            return fold

        return before

    def _remember(self, batch: _Batch) -> None:
        for stream in batch.failed:
            self._folds.pop(stream, None)
        for stream, fold in batch.touched.items():
            if stream not in batch.failed:
                self._folds[stream] = fold
                self._folds.move_to_end(stream)
        while len(self._folds) > 10_000:
            self._folds.popitem(last=False)
        for entry in batch.failed.values():
            log.warning(
                "read models set aside %s at seq %d (position %d): %s",
                entry.stream,
                entry.seq,
                entry.position,
                entry.code,
            )

    # Cases set aside ------------------------------------------------------------------------

    def set_aside(self) -> list[SetAside]:
        """The cases left out of the summaries, in the order they were set aside."""
        with self.engine.connect() as conn:
            return set_aside.listing(conn)

    def set_aside_case(self, stream: str) -> SetAside | None:
        return next((e for e in self.set_aside() if e.stream == stream), None)

    def retry_set_aside(self, source: EnvelopeSource) -> list[str]:
        """Fold each set-aside case again from the ledger; those that now fold and store are
        taken back into the summaries. Returns the streams taken back."""
        taken = []
        with self._lock:
            self._directory = source.directory()
            for entry in self.set_aside():
                try:
                    events = list(source.events(entry.stream))
                    fold = fold_case(events, entry.stream)
                    summary = summary_of(fold, self._directory)
                    with self.engine.begin() as conn:
                        upsert(conn, summary)
                        reform.upsert_reform(conn, fold.state, summary, self._directory)
                        set_aside.forget(conn, entry.stream)
                except (*FOLD_ERRORS, *STORE_ERRORS) as exc:
                    log.warning("case %s stays set aside: %s", entry.stream, _kind(exc))
                    continue
                taken.append(entry.stream)
        return taken

    def _move(self, conn: Connection, start: int, position: int) -> None:
        if (
            start == 0
            and conn.execute(
                sa.select(rm_tracking.c.position).where(rm_tracking.c.name == TRACKING_NAME)
            ).first()
            is None
        ):
            try:
                with conn.begin_nested():
                    conn.execute(rm_tracking.insert().values(name=TRACKING_NAME, position=position))
                return
            except sa.exc.IntegrityError:
                raise _Moved from None
        moved = conn.execute(
            rm_tracking.update()
            .where(rm_tracking.c.name == TRACKING_NAME, rm_tracking.c.position == start)
            .values(position=position)
        )
        if moved.rowcount != 1:
            raise _Moved

    # TrackingRecorder -----------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record ``tracking`` as the position reached (positions only move forward)."""
        with self.engine.begin() as conn:
            current = position_of(conn, tracking.application_name)
            if current is None:
                conn.execute(
                    rm_tracking.insert().values(
                        name=tracking.application_name, position=tracking.notification_id
                    )
                )
            elif tracking.notification_id > current:
                conn.execute(
                    rm_tracking.update()
                    .where(rm_tracking.c.name == tracking.application_name)
                    .values(position=tracking.notification_id)
                )

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last notification id applied, or None before the first."""
        with self.engine.connect() as conn:
            return position_of(conn, application_name)

    # Queries --------------------------------------------------------------------------------

    def case(self, stream: str) -> CaseSummary | None:
        """The summary of one case, or None."""
        return self._one(rm_cases.c.stream == stream)

    def by_number(self, number: str) -> CaseSummary | None:
        """The summary of the case with that case number, or None."""
        return self._one(rm_cases.c.case_number == number)

    def _one(self, where: Any) -> CaseSummary | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(rm_cases).where(where)).mappings().first()
        return from_row(row, self._calendar()) if row is not None else None

    def _calendar(self) -> WorkCalendar | None:
        """The calendar of the directory last read (None before any: the package's years)."""
        directory = self._directory
        return directory.work_calendar() if directory is not None else None

    def result_stream(self, sha256: str) -> str | None:
        """The case stream whose ResultIssued recorded the document ``sha256``, or None."""
        query = sa.select(rm_results.c.stream).where(rm_results.c.sha256 == sha256)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return str(row[0]) if row is not None else None

    def result_of_document(self, document_id: str) -> str | None:
        """The SHA-256 of the document whose QR code carries ``document_id``, or None."""
        query = sa.select(rm_results.c.sha256).where(rm_results.c.document_id == document_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return str(row[0]) if row is not None else None

    def waiting_for(self, role: str, *, limit: int = 200) -> list[CaseSummary]:
        """Open cases whose next step needs ``role``, soonest deadline first."""
        query = (
            sa.select(rm_cases)
            .where(rm_cases.c.next_role == role)
            .order_by(rm_cases.c.deadline_committed.is_(None), rm_cases.c.deadline_committed)
            .order_by(rm_cases.c.applied_at)
            .limit(limit)
        )
        return self._many(query)

    def on_the_clock(
        self, *, due_by: date, matter: str | None = None, unit: str | None = None
    ) -> list[CaseSummary]:
        """Undecided accepted cases whose committed deadline is on or before ``due_by``."""
        query = sa.select(rm_cases).where(
            rm_cases.c.status.in_(CLOCK_STATUSES),
            rm_cases.c.deadline_committed.is_not(None),
            rm_cases.c.deadline_committed <= due_by,
        )
        if matter:
            query = query.where(rm_cases.c.matter_code == matter)
        if unit:
            query = query.where(rm_cases.c.unit == unit)
        return self._many(query.order_by(rm_cases.c.deadline_committed).limit(1000))

    def undated(
        self, *, matter: str | None = None, unit: str | None = None, limit: int = 1000
    ) -> list[CaseSummary]:
        """Undecided accepted cases with no committed deadline stored: those suspended, and
        those whose deadline runs into a year with no published calendar."""
        query = sa.select(rm_cases).where(
            rm_cases.c.status.in_(CLOCK_STATUSES), rm_cases.c.deadline_committed.is_(None)
        )
        if matter:
            query = query.where(rm_cases.c.matter_code == matter)
        if unit:
            query = query.where(rm_cases.c.unit == unit)
        return self._many(query.order_by(rm_cases.c.applied_at).limit(limit))

    def touched_since(self, since: str, *, limit: int = 100_000) -> list[CaseSummary]:
        """Cases whose last step is at or after ``since`` (an envelope time), oldest first:
        every case decided since then is among them."""
        query = sa.select(rm_cases).where(rm_cases.c.last_at >= since)
        return self._many(query.order_by(rm_cases.c.last_at).limit(limit))

    def _many(self, query: Any) -> list[CaseSummary]:
        with self.engine.connect() as conn:
            calendar = self._calendar()
            return [from_row(row, calendar) for row in conn.execute(query).mappings()]

    def reform_due(
        self,
        kind: str,
        today: date,
        *,
        overdue_only: bool = False,
        matter: str | None = None,
        unit: str | None = None,
    ) -> list[reform.Due]:
        """What the reform modes leave due (容缺 materials, 核查, rectifications); see
        :mod:`ledger.store.read_models.reform`."""
        return reform.due(
            self.engine, kind, today, overdue_only=overdue_only, matter=matter, unit=unit
        )

    def rating_statistics(self, today: date) -> list[dict[str, Any]]:
        """Per matter and unit: 好差评 ratings by level and their rectifications."""
        return reform.rating_statistics(self.engine, today)

    def statistics(self, today: date) -> list[dict[str, Any]]:
        """Per matter and unit: cases, decided, decided late, on-time rate, open and overdue,
        yellow cards (stages that overran their share, in finished stages)."""
        c = rm_cases.c
        late = sa.func.sum(sa.case((c.decided_late.is_(True), 1), else_=0))
        decided = sa.func.sum(sa.case((c.decided_late.is_not(None), 1), else_=0))
        overdue = sa.func.sum(
            sa.case(
                (sa.and_(c.status.in_(CLOCK_STATUSES), c.deadline_committed < today), 1), else_=0
            )
        )
        yellow = sa.func.sum(sa.case((c.yellow_card.is_(True), 1), else_=0))
        query = (
            sa.select(c.matter_code, c.matter_name, c.unit, sa.func.count(), decided, late)
            .add_columns(overdue, yellow)
            .group_by(c.matter_code, c.matter_name, c.unit)
            .order_by(c.matter_code, c.unit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "matter": row[0],
                "matter_name": row[1],
                "unit": row[2],
                "cases": int(row[3]),
                "decided": int(row[4] or 0),
                "decided_late": int(row[5] or 0),
                "on_time_rate": (int(row[4]) - int(row[5] or 0)) / int(row[4]) if row[4] else None,
                "open_overdue": int(row[6] or 0),
                "yellow_cards": int(row[7] or 0),
            }
            for row in rows
        ]


def _derived_data_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # These tables can be rebuilt from the ledger at any time, so their commits need not
    # wait for the disk: in WAL mode NORMAL loses at most the last commits on power loss.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _Listener:
    """Follows the ledger's commits: sets the background follower's flag, or catches up in
    the appending thread."""

    def __init__(self, models: ReadModels, ledger: Any, flag: threading.Event | None) -> None:
        self._models, self._ledger, self._flag = models, ledger, flag

    def wake(self) -> None:
        if self._flag is not None:
            self._flag.set()
        else:
            self._models._quietly(self._ledger)

    def replayed(self, result: Any) -> None:
        del result  # the summaries follow positions only: a replay adds nothing
