"""Where the summaries are kept, and how they follow the ledger (see the package docstring)."""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import Tracking, TrackingRecorder
from sqlalchemy.engine import Engine

from ledger.calendar import WorkCalendar
from ledger.store.followers import Rounds
from ledger.store.read_models import reform, set_aside
from ledger.store.read_models.batches import EnvelopeSource, FoldCache, Moved, apply_batch, kind
from ledger.store.read_models.set_aside import FOLD_ERRORS, STORE_ERRORS, SetAside
from ledger.store.read_models.summary import CaseSummary, fold_case, summary_of
from ledger.store.read_models.tables import (
    READ_MODEL_METADATA,
    TRACKING_NAME,
    from_row,
    position_of,
    rm_cases,
    rm_results,
    rm_tracking,
    upsert,
)

__all__ = ["TRACKING_NAME", "ReadModels"]

log = logging.getLogger("caseledger.read_models")

# How long the background follower lets commits gather after a wake: a busy ledger then
# costs one summary transaction per gathering, not one per commit (readers catch up first).
GATHER = 0.05
# Statuses in which the decision clock runs (or is stopped by a suspension).
CLOCK_STATUSES = ("accepted", "in_review", "suspended")


class ReadModels(TrackingRecorder):
    """The case summaries of one ledger, kept in ``engine``'s database."""

    def __init__(self, engine: Engine, *, batch: int = 500) -> None:
        self.engine = engine
        self.batch = batch
        self._lock = threading.Lock()
        self._cache = FoldCache()
        self._rounds: Rounds | None = None
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
        rounds = None
        if background:
            rounds = Rounds(lambda: self._quietly(ledger), name="read-models", gather=GATHER)
            self._rounds = rounds
            rounds.start()
        ledger.listen(_Listener(self, ledger, rounds))

    def _quietly(self, source: EnvelopeSource) -> None:
        try:
            self.catch_up(source)
        except Exception as exc:
            # The envelope is stored; a failed summary update must not turn that into an
            # error for the signer. The next catch-up (on the next append or read) retries.
            # The error's kind only: its text may quote an applicant's data.
            log.warning("read models could not follow the ledger (%s); will retry", kind(exc))

    def close(self) -> None:
        """Stop the follower thread, if any (the engine stays the caller's)."""
        rounds, self._rounds = self._rounds, None
        if rounds is not None:
            rounds.stop()

    def catch_up(self, source: EnvelopeSource) -> int:
        """Apply every envelope after the tracked position, in order; return how many."""
        done = 0
        with self._lock:
            while True:
                start = self.max_tracking_id(TRACKING_NAME) or 0
                rows = source.envelopes_after(start, self.batch)
                if not rows:
                    return done
                try:
                    apply_batch(self.engine, source, self._cache, start, rows)
                except Moved:
                    continue
                done += len(rows)
                if len(rows) < self.batch:
                    return done

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
            directory = self._cache.directory = source.directory()
            for entry in self.set_aside():
                try:
                    events = list(source.events(entry.stream))
                    fold = fold_case(events, entry.stream)
                    summary = summary_of(fold, directory)
                    with self.engine.begin() as conn:
                        upsert(conn, summary)
                        reform.upsert_reform(conn, fold.state, summary, directory)
                        set_aside.forget(conn, entry.stream)
                except (*FOLD_ERRORS, *STORE_ERRORS) as exc:
                    log.warning("case %s stays set aside: %s", entry.stream, kind(exc))
                    continue
                taken.append(entry.stream)
        return taken

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
        directory = self._cache.directory
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
    """Follows the ledger's commits: wakes the background rounds, or catches up in the
    appending thread."""

    def __init__(self, models: ReadModels, ledger: Any, rounds: Rounds | None) -> None:
        self._models, self._ledger, self._rounds = models, ledger, rounds

    def wake(self) -> None:
        if self._rounds is not None:
            self._rounds.wake()
        else:
            self._models._quietly(self._ledger)

    def replayed(self, result: Any) -> None:
        del result  # the summaries follow positions only: a replay adds nothing
