"""The outbox: every message owed to an applicant or a department, kept until it is sent.

``out_messages`` holds one row per step that concerns the applicant and per contact channel
(SMS to the phone, e-mail), written by :meth:`Outbox.catch_up`, a follower of the ledger's
notification log: it reads the envelopes committed after its own position (``out_tracking``)
and writes their messages and its new position in one transaction. The append path is never
touched — a step is stored whatever becomes of its message — and no message is lost or written
twice: a crash before that transaction commits leaves the position where it was, and the
unique (envelope, channel) key refuses a second writer. The rows name the recipient by the
commitment the Applied body signed; the number itself is read from the private table only
when the message is sent.

``out_hooks`` holds each department's webhook: its URL, the directory key that registered it,
and the feed position delivered so far. Both kinds retry with the same backoff.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.personal import CONTACT_FIELDS, is_commitment
from ledger.state import case_number
from ledger.store.application import CaseLedger
from ledger.store.storage import writing_turn
from ledger.store.tracking import advance
from ledger.telling import message_for

__all__ = [
    "MAX_ATTEMPTS",
    "OUTBOX_METADATA",
    "Hook",
    "Outbox",
    "Outgoing",
    "backoff",
]

OUTBOX_METADATA = sa.MetaData()
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TRACKING_NAME = "applicant-notices"
MAX_ATTEMPTS = 10
_APPLIED_KEPT = 10_000
_CHANNEL_OF = {"phone_commitment": "sms", "email_commitment": "email"}

out_messages = sa.Table(
    "out_messages",
    OUTBOX_METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("envelope", sa.String(64), nullable=False),
    sa.Column("step", sa.Text, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("recipient", sa.String(68), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("envelope", "channel", name="out_messages_once"),
)
sa.Index("out_messages_due", out_messages.c.state, out_messages.c.next_at)

out_tracking = sa.Table(
    "out_tracking",
    OUTBOX_METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

out_hooks = sa.Table(
    "out_hooks",
    OUTBOX_METADATA,
    sa.Column("department", sa.String(128), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
)


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed tries: 30 s doubling, at most six hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _aware(at: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything here is UTC.
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message in the outbox."""

    id: int
    stream: str
    envelope: str
    step: str
    channel: str
    recipient: str  # the commitment to the phone or e-mail address
    subject: str
    text: str
    state: str
    attempts: int
    next_at: datetime
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Hook:
    """A department's webhook and how far its deliveries have come."""

    department: str
    url: str
    key_id: str
    position: int
    attempts: int
    next_at: datetime
    last_error: str | None
    delivered_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "url": self.url,
            "key_id": self.key_id,
            "position": self.position,
            "attempts": self.attempts,
            "next_attempt_at": self.next_at.isoformat(),
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }


class Outbox:
    """The outbox tables on the office's database (created by the migrations)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Each case's Applied, the first envelope of its stream (never changes once stored).
        self._applied: OrderedDict[str, Envelope | None] = OrderedDict()

    # Applicant messages ---------------------------------------------------------------------

    def position(self) -> int:
        with self.engine.connect() as conn:
            return _position(conn)

    def catch_up(self, ledger: CaseLedger, org_name: str, now: datetime, batch: int = 500) -> int:
        """Write the messages of the envelopes committed since the last call; return how many.

        A concurrent follower that moved the position first makes this call write nothing."""
        written = 0
        while True:
            start = self.position()
            rows = ledger.envelopes_after(start, batch)
            if not rows:
                return written
            # The directory once per batch; each case's Applied (the contact) once.
            directory = ledger.directory()
            messages = [
                m for _, env in rows for m in self._messages(ledger, env, org_name, now, directory)
            ]
            with writing_turn(self.engine), self.engine.begin() as conn:
                if not advance(conn, out_tracking, TRACKING_NAME, start, rows[-1][0]):
                    return written  # another follower took this batch
                for message in messages:
                    conn.execute(out_messages.insert().values(**message))
            written += len(messages)

    def _applied_of(self, ledger: CaseLedger, env: Envelope) -> Envelope | None:
        applied = self._applied
        if env.stream in applied:
            applied.move_to_end(env.stream)
            return applied[env.stream]
        first = env if env.seq == 1 else next(iter(ledger.events(env.stream, lte=1)), None)
        applied[env.stream] = first
        if len(applied) > _APPLIED_KEPT:
            applied.popitem(last=False)
        return first

    def _messages(
        self,
        ledger: CaseLedger,
        env: Envelope,
        org_name: str,
        now: datetime,
        directory: DirectoryState,
    ) -> Iterator[dict[str, Any]]:
        if not env.stream.startswith("case:"):
            return
        applied = self._applied_of(ledger, env)
        contact = applied.body.get("contact") if applied is not None else None
        if applied is None or not isinstance(contact, dict):
            return
        matter = applied.body.get("matter") or {}
        known = directory.matter_at(
            str(matter.get("code", "")), int(matter.get("version", 0) or 0), applied.at
        )
        message = message_for(
            env,
            org_name=org_name,
            case_number=case_number(env.stream, applied.at),
            matter=known.name if known else str(matter.get("code", "")),
        )
        if message is None:
            return
        for field in CONTACT_FIELDS:
            recipient = contact.get(field)
            if is_commitment(recipient):
                yield {
                    "stream": env.stream,
                    "envelope": env.hash,
                    "step": env.type,
                    "channel": _CHANNEL_OF[field],
                    "recipient": recipient,
                    "subject": message.subject,
                    "text": message.text,
                    "state": "pending",
                    "attempts": 0,
                    "next_at": now,
                    "created_at": now,
                }

    def due(self, now: datetime, limit: int = 100) -> list[Outgoing]:
        query = (
            sa.select(out_messages)
            .where(out_messages.c.state == "pending", out_messages.c.next_at <= now)
            .order_by(out_messages.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_outgoing(row) for row in conn.execute(query)]

    def messages(self, stream: str | None = None) -> list[Outgoing]:
        query = sa.select(out_messages).order_by(out_messages.c.id)
        if stream is not None:
            query = query.where(out_messages.c.stream == stream)
        with self.engine.connect() as conn:
            return [_outgoing(row) for row in conn.execute(query)]

    def sent(self, message: Outgoing, now: datetime) -> None:
        self._update(message.id, state="sent", sent_at=now, attempts=message.attempts + 1)

    def failed(self, message: Outgoing, now: datetime, error: str, *, final: bool = False) -> None:
        """Record a failed try: retried after :func:`backoff`, given up after MAX_ATTEMPTS or
        at once when ``final`` (nothing to send it to)."""
        attempts = message.attempts + 1
        gave_up = final or attempts >= MAX_ATTEMPTS
        self._update(
            message.id,
            state="failed" if gave_up else "pending",
            attempts=attempts,
            next_at=now + backoff(attempts),
            last_error=error[:500],
        )

    def _update(self, message_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                out_messages.update().where(out_messages.c.id == message_id).values(**values)
            )

    # Department webhooks --------------------------------------------------------------------

    def set_hook(self, department: str, url: str, key_id: str, now: datetime) -> Hook:
        """Register (or move) ``department``'s webhook; a new one starts from the feed's start,
        a moved one keeps its position."""
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(out_hooks).where(out_hooks.c.department == department)
            ).first()
            values = {"url": url, "key_id": key_id, "attempts": 0, "next_at": now}
            if found is None:
                conn.execute(
                    out_hooks.insert().values(
                        department=department, registered_at=now, position=0, **values
                    )
                )
            else:
                conn.execute(
                    out_hooks.update().where(out_hooks.c.department == department).values(**values)
                )
        hook = self.hook(department)
        assert hook is not None  # noqa: S101 - written above
        return hook

    def hook(self, department: str) -> Hook | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(out_hooks).where(out_hooks.c.department == department)
            ).first()
        return _hook(row) if row else None

    def drop_hook(self, department: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(out_hooks.delete().where(out_hooks.c.department == department))
        return bool(done.rowcount)

    def due_hooks(self, now: datetime) -> list[Hook]:
        query = sa.select(out_hooks).where(out_hooks.c.next_at <= now)
        with self.engine.connect() as conn:
            return [_hook(row) for row in conn.execute(query.order_by(out_hooks.c.department))]

    def hook_delivered(self, hook: Hook, position: int, now: datetime, *, sent: bool) -> None:
        """Move the hook to ``position``: ``sent`` a page there, or passed entries it may not
        see."""
        values: dict[str, Any] = {"position": position, "attempts": 0, "last_error": None}
        self._hook_update(hook, next_at=now, **values, **({"delivered_at": now} if sent else {}))

    def hook_failed(self, hook: Hook, now: datetime, error: str) -> None:
        attempts = hook.attempts + 1
        self._hook_update(
            hook, attempts=attempts, next_at=now + backoff(attempts), last_error=error[:500]
        )

    def _hook_update(self, hook: Hook, **values: Any) -> None:
        # Only the registration this delivery was made for: a hook moved meanwhile is left be.
        with self.engine.begin() as conn:
            conn.execute(
                out_hooks.update()
                .where(out_hooks.c.department == hook.department, out_hooks.c.url == hook.url)
                .values(**values)
            )


def _position(conn: Connection) -> int:
    value = conn.execute(
        sa.select(out_tracking.c.position).where(out_tracking.c.name == TRACKING_NAME)
    ).scalar()
    return int(value) if value is not None else 0


def _outgoing(row: Any) -> Outgoing:
    return Outgoing(
        id=row.id,
        stream=row.stream,
        envelope=row.envelope,
        step=row.step,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        text=row.text,
        state=row.state,
        attempts=row.attempts,
        next_at=_aware(row.next_at) or datetime.min.replace(tzinfo=UTC),
        last_error=row.last_error,
        sent_at=_aware(row.sent_at),
    )


def _hook(row: Any) -> Hook:
    return Hook(
        department=row.department,
        url=row.url,
        key_id=row.key_id,
        position=int(row.position),
        attempts=row.attempts,
        next_at=_aware(row.next_at) or datetime.min.replace(tzinfo=UTC),
        last_error=row.last_error,
        delivered_at=_aware(row.delivered_at),
    )
