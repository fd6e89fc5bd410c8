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

from ledger.directory import DirectoryState
from ledger.envelope import Envelope, format_time, parse_time
from ledger.store.read_models.summary import CaseFold, CaseSummary, fold_case, summary_of
from ledger.timelimits import CaseTimes

__all__ = [
    "READ_MODEL_METADATA",
    "TRACKING_NAME",
    "ReadModels",
    "rm_cases",
    "rm_results",
    "rm_tracking",
]

log = logging.getLogger("caseledger.read_models")

READ_MODEL_METADATA = sa.MetaData()
TRACKING_NAME = "caseledger"

rm_tracking = sa.Table(
    "rm_tracking",
    READ_MODEL_METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

rm_cases = sa.Table(
    "rm_cases",
    READ_MODEL_METADATA,
    sa.Column("stream", sa.String(48), primary_key=True),
    sa.Column("case_number", sa.String(32), nullable=False, unique=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("matter_code", sa.String(64), nullable=False),
    sa.Column("matter_name", sa.String(200), nullable=False),
    sa.Column("unit", sa.String(200), nullable=False),
    sa.Column("next_step", sa.String(32)),
    sa.Column("next_role", sa.String(32), index=True),
    sa.Column("next_capacity", sa.String(32)),
    sa.Column("applicant_name", sa.String(200), nullable=False),
    sa.Column("applicant_kind", sa.String(32), nullable=False),
    sa.Column("applicant_id_number", sa.String(64), nullable=False),
    sa.Column("participants", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(16)),
    sa.Column("applied_at", sa.String(20), nullable=False),
    sa.Column("last_at", sa.String(20), nullable=False),
    sa.Column("deadline_committed", sa.Date, index=True),
    sa.Column("deadline_statutory", sa.Date),
    sa.Column("decided_late", sa.Boolean),
    sa.Column("yellow_card", sa.Boolean, nullable=False),
    sa.Column("clock", sa.Text, nullable=False),
)

# Which case issued a sealed result: a document's status is found by its SHA-256 alone
# (GET /v1/public/results/{sha256}); the status itself is read from the case's envelopes.
rm_results = sa.Table(
    "rm_results",
    READ_MODEL_METADATA,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(48), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    # The id printed in the document's QR code (chosen before sealing, so not its hash).
    sa.Column("document_id", sa.String(32), unique=True),
)

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
        """
        self.catch_up(ledger)
        if background:
            follower = _Follower(self, ledger)
            self._follower = follower
            follower.start()

            def wake(_: Any, result: Any) -> Any:
                follower.wake.set()
                return result

            ledger.after_append.append(wake)
            return

        def follow(led: Any, result: Any) -> Any:
            self._quietly(led)
            return result

        ledger.after_append.append(follow)

    def _quietly(self, source: EnvelopeSource) -> None:
        try:
            self.catch_up(source)
        except Exception:
            # The envelope is stored; a failed summary update must not turn that into an
            # error for the signer. The next catch-up (on the next append or read) retries.
            log.exception("read models could not follow the ledger; will retry")

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
        touched: dict[str, CaseFold] = {}
        issued: list[Envelope] = []
        for row in rows:
            envelope = Envelope.from_bytes(json.loads(row.state)["envelope"])
            if envelope.type == "ResultIssued":
                issued.append(envelope)
            if envelope.stream.startswith("directory:"):
                self._directory = None
                continue
            fold = touched.get(envelope.stream) or self._folds.get(envelope.stream)
            if fold is None or fold.state.seq != envelope.seq - 1:
                earlier = source.events(envelope.stream, lte=envelope.seq - 1)
                fold = fold_case(earlier, envelope.stream)
            touched[envelope.stream] = fold.apply(envelope)
        if self._directory is None:
            self._directory = source.directory()
        summaries = [summary_of(fold, self._directory) for fold in touched.values()]
        with self.engine.begin() as conn:
            self._move(conn, start, rows[-1].id)
            for summary in summaries:
                _upsert(conn, summary)
            _index_results(conn, issued)
        for stream, fold in touched.items():
            self._folds[stream] = fold
            self._folds.move_to_end(stream)
        while len(self._folds) > 10_000:
            self._folds.popitem(last=False)

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
            current = _position(conn, tracking.application_name)
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
            return _position(conn, application_name)

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
        return _from_row(row) if row is not None else None

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

    def _many(self, query: Any) -> list[CaseSummary]:
        with self.engine.connect() as conn:
            return [_from_row(row) for row in conn.execute(query).mappings()]

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


def _position(conn: Connection, name: str) -> int | None:
    row = conn.execute(sa.select(rm_tracking.c.position).where(rm_tracking.c.name == name)).first()
    return int(row[0]) if row is not None else None


_PLAIN = [
    "stream",
    "case_number",
    "seq",
    "status",
    "matter_code",
    "matter_name",
    "unit",
    "next_step",
    "next_role",
    "next_capacity",
    "applicant_name",
    "applicant_kind",
    "applicant_id_number",
    "outcome",
]


def _row(summary: CaseSummary) -> dict[str, Any]:
    # Deadlines and cards that no longer change once the case is decided are stored; a
    # still-running clock is assessed at read time against the reader's ``now``.
    settled = summary.assess(summary.times.decided_at or summary.last_at)
    finished = [s for s in settled.stages if s.ended is not None]
    return {
        **{name: getattr(summary, name) for name in _PLAIN},
        "participants": json.dumps([list(p) for p in summary.participants]),
        "applied_at": format_time(summary.applied_at),
        "last_at": format_time(summary.last_at),
        "deadline_committed": settled.committed_deadline,
        "deadline_statutory": settled.statutory_deadline,
        "decided_late": settled.overdue if settled.decided else None,
        "yellow_card": any(s.overran for s in finished),
        "clock": json.dumps(summary.times.to_json()),
    }


def _from_row(row: Any) -> CaseSummary:
    return CaseSummary(
        **{name: row[name] for name in _PLAIN},
        participants=tuple((p, c) for p, c in json.loads(row["participants"])),
        applied_at=parse_time(row["applied_at"]),
        last_at=parse_time(row["last_at"]),
        times=CaseTimes.from_json(json.loads(row["clock"])),
    )


_UPDATE_NEWER = rm_cases.update().where(
    rm_cases.c.stream == sa.bindparam("b_stream"), rm_cases.c.seq < sa.bindparam("b_seq")
)
_SEQ_OF = sa.select(rm_cases.c.seq).where(rm_cases.c.stream == sa.bindparam("b_stream"))


def _index_results(conn: Connection, issued: list[Envelope]) -> None:
    # Replaying a batch (another follower, a rebuilt position) finds the rows already there.
    for env in issued:
        sha256 = env.body.get("pdf_sha256")
        known = sa.select(rm_results.c.sha256).where(rm_results.c.sha256 == sha256)
        document_id = env.body.get("document_id")
        if isinstance(sha256, str) and conn.execute(known).first() is None:
            conn.execute(
                rm_results.insert().values(
                    sha256=sha256,
                    stream=env.stream,
                    seq=env.seq,
                    document_id=document_id if isinstance(document_id, str) else None,
                )
            )


def _upsert(conn: Connection, summary: CaseSummary) -> None:
    values = _row(summary)
    keys = {"b_stream": summary.stream, "b_seq": summary.seq}
    if conn.execute(_UPDATE_NEWER, {**values, **keys}).rowcount:
        return
    if conn.execute(_SEQ_OF, keys).first() is None:
        conn.execute(rm_cases.insert(), values)
