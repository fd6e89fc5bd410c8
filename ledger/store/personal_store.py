"""The office's private table: the identity numbers behind the commitments signed records carry.

``pd_openings`` maps a commitment (``ledger.personal``) to the number and salt that open it;
``pd_reads`` records every read of a number: who, which commitment, for what, when. Neither
table is ever exported: receipts, bundles, the log and the public routes see commitments only.
Openings are written before the envelope that carries their commitments is appended and
taken back if the append is refused (:func:`append_with_openings`), so a refused step leaves
nothing behind and an admitted one is never without its opening.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.envelope import Envelope
from ledger.errors import CaseLedgerError
from ledger.personal import CONTACT_FIELDS, Opening, is_commitment, opens
from ledger.store.storage import scalar

__all__ = [
    "PERSONAL_METADATA",
    "OpeningRefused",
    "PersonalStore",
    "Read",
    "commitments_in",
]

PERSONAL_METADATA = sa.MetaData()

pd_openings = sa.Table(
    "pd_openings",
    PERSONAL_METADATA,
    sa.Column("commitment", sa.String(68), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

pd_reads = sa.Table(
    "pd_reads",
    PERSONAL_METADATA,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("commitment", sa.String(68), nullable=False),
    sa.Column("reader", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
)


class OpeningRefused(CaseLedgerError):
    """An opening that does not open its commitment, or a commitment sent without one."""

    code = "body.commitment"


@dataclass(frozen=True, slots=True)
class Read:
    commitment: str
    reader: str
    purpose: str
    read_at: datetime


def commitments_in(envelope: Envelope) -> list[str]:
    """The commitments an envelope's body carries: an identity (staff or a natural applicant),
    the applicant's contact (phone, e-mail) and a postal delivery's address."""
    body = envelope.body
    found = [body.get("id_commitment"), body.get("address_commitment")]
    applicant = body.get("applicant")
    if isinstance(applicant, dict):
        found.append(applicant.get("id_commitment"))
    contact = body.get("contact")
    if isinstance(contact, dict):
        found.extend(contact.get(name) for name in CONTACT_FIELDS)
    return [str(c) for c in found if is_commitment(c)]


class PersonalStore:
    """The private table on the office's database (created by the migrations)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def check_openings(self, envelope: Envelope, openings: Iterable[Opening]) -> list[Opening]:
        """The openings ``envelope`` needs stored; raise OpeningRefused if one does not open its
        commitment or a commitment of the envelope is neither opened here nor already stored."""
        given = {o.commitment: o for o in openings}
        for opening in given.values():
            if not opens(opening.commitment, opening.value, opening.salt):
                raise OpeningRefused("an opening does not open its commitment")
        needed = commitments_in(envelope)
        missing = [c for c in needed if c not in given and self._stored(c) is None]
        if missing:
            raise OpeningRefused("the office must be given the number behind every commitment")
        return [given[c] for c in needed if c in given]

    def put(self, stream: str, openings: list[Opening], now: datetime) -> list[str]:
        """Store openings not stored yet; return the commitments this call wrote."""
        with self.engine.begin() as conn:
            return self.put_within(conn, stream, openings, now)

    def put_within(
        self, conn: Connection, stream: str, openings: Iterable[Opening], now: datetime
    ) -> list[str]:
        """:meth:`put` in the caller's transaction: the ledger stores a step's openings in the
        transaction that stores the step, so one is never kept without the other."""
        written = []
        for opening in openings:
            if conn.execute(
                sa.select(pd_openings.c.commitment).where(
                    pd_openings.c.commitment == opening.commitment
                )
            ).first():
                continue
            conn.execute(
                pd_openings.insert().values(
                    commitment=opening.commitment,
                    value=opening.value,
                    salt=opening.salt,
                    stream=stream,
                    recorded_at=now,
                )
            )
            written.append(opening.commitment)
        return written

    def take_back(self, commitments: list[str]) -> None:
        if commitments:
            with self.engine.begin() as conn:
                conn.execute(pd_openings.delete().where(pd_openings.c.commitment.in_(commitments)))

    def read(self, commitment: str, *, reader: str, purpose: str, now: datetime) -> Opening | None:
        """The opening of ``commitment``, the read recorded in ``pd_reads`` (even a miss)."""
        with self.engine.begin() as conn:
            conn.execute(
                pd_reads.insert().values(
                    commitment=commitment, reader=reader, purpose=purpose, read_at=now
                )
            )
            row = conn.execute(
                sa.select(pd_openings).where(pd_openings.c.commitment == commitment)
            ).first()
        return Opening(row.commitment, row.value, row.salt) if row else None

    def reads(self, commitment: str | None = None) -> list[Read]:
        query = sa.select(pd_reads).order_by(pd_reads.c.id)
        if commitment is not None:
            query = query.where(pd_reads.c.commitment == commitment)
        with self.engine.connect() as conn:
            return [Read(r.commitment, r.reader, r.purpose, r.read_at) for r in conn.execute(query)]

    def same_person(
        self,
        a: str,
        b: str,
        pending: Mapping[str, Opening] | None = None,
        conn: Connection | None = None,
    ) -> bool:
        """Whether two commitments open to one number (the rules' own-case check). ``pending``
        holds openings not committed yet (those of the steps being written with the one
        checked); the table is read on ``conn`` if given (the writer's, in its batch)."""
        if a == b:
            return True
        first, second = (
            pending[c].value if pending and c in pending else self._stored(c, conn) for c in (a, b)
        )
        return first is not None and second is not None and first == second

    def _stored(self, commitment: str, conn: Connection | None = None) -> str | None:
        query = sa.select(pd_openings.c.value).where(pd_openings.c.commitment == commitment)
        value = scalar(self.engine, query, conn)
        return str(value) if value is not None else None
