"""文号: each office numbers its documents per type and China year, with no gap and no twice.

A number is claimed before the document is sealed, in ``doc_numbers``: the next number is one
more than the highest already claimed for the office, type and year, and the table's primary key
refuses a second writer of the same number (the loser reads again and takes the next). A claim
names the case and the envelope the document answers, so asking again for the same document —
a retry, or the recovery after a crash between the claim and the signed record — gets the same
number back instead of a new one. A number is therefore never lost: a claim whose document is
not yet recorded is finished by the recovery (api/recovery.py), and the signed ResultIssued or
DocumentIssued carries the number into the ledger, where the audit checks it.

Unlike a database sequence, nothing is taken by a transaction that rolls back: the claim is
the committed row itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

__all__ = ["DOC_METADATA", "Claim", "DocumentNumbers", "doc_numbers"]

DOC_METADATA = sa.MetaData()

doc_numbers = sa.Table(
    "doc_numbers",
    DOC_METADATA,
    sa.Column("office", sa.Text, primary_key=True),
    sa.Column("doc_type", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pdf_sha256", sa.Text),
    sa.UniqueConstraint("office", "doc_type", "stream", "answers", name="uq_doc_numbers_answer"),
)

_ATTEMPTS = 200


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed number: the document ``doc_type`` answering envelope ``answers`` of
    ``stream``; ``pdf_sha256`` is set once the signed record of the document is stored."""

    office: str
    doc_type: str
    year: int
    number: int
    stream: str
    answers: str
    claimed_at: datetime
    pdf_sha256: str | None


class DocumentNumbers:
    """The office's document numbers in the ledger's database."""

    def __init__(self, engine: Engine, office: str, *, create: bool = False) -> None:
        self.engine = engine
        self.office = office
        if create:
            DOC_METADATA.create_all(engine, checkfirst=True)

    def claim(self, doc_type: str, year: int, stream: str, answers: str, now: datetime) -> Claim:
        """The number of this document: the one claimed before for it, else the next free."""
        for _ in range(_ATTEMPTS):
            found = self.claimed(doc_type, stream, answers)
            if found is not None:
                return found
            try:
                with self.engine.begin() as conn:
                    top = conn.execute(
                        sa.select(sa.func.max(doc_numbers.c.number)).where(
                            doc_numbers.c.office == self.office,
                            doc_numbers.c.doc_type == doc_type,
                            doc_numbers.c.year == year,
                        )
                    ).scalar_one()
                    conn.execute(
                        doc_numbers.insert().values(
                            office=self.office,
                            doc_type=doc_type,
                            year=year,
                            number=(top or 0) + 1,
                            stream=stream,
                            answers=answers,
                            claimed_at=now,
                        )
                    )
            except (IntegrityError, OperationalError):
                # Another writer took that number (or is claiming this very document, or holds
                # SQLite's write lock): read again.
                continue
        found = self.claimed(doc_type, stream, answers)
        if found is None:
            raise RuntimeError(f"no {doc_type} number could be claimed after {_ATTEMPTS} tries")
        return found

    def claimed(self, doc_type: str, stream: str, answers: str) -> Claim | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(doc_numbers).where(
                    doc_numbers.c.office == self.office,
                    doc_numbers.c.doc_type == doc_type,
                    doc_numbers.c.stream == stream,
                    doc_numbers.c.answers == answers,
                )
            ).first()
        return _claim(row) if row is not None else None

    def mark_recorded(self, claim: Claim, pdf_sha256: str) -> None:
        """Note that the signed record of the claimed document is stored."""
        with self.engine.begin() as conn:
            conn.execute(
                doc_numbers.update()
                .where(
                    doc_numbers.c.office == claim.office,
                    doc_numbers.c.doc_type == claim.doc_type,
                    doc_numbers.c.year == claim.year,
                    doc_numbers.c.number == claim.number,
                )
                .values(pdf_sha256=pdf_sha256)
            )

    def pending(self, stream: str | None = None) -> list[Claim]:
        """Claims whose document is not recorded yet (in flight, or cut short by a crash),
        of one case if ``stream`` is given."""
        query = sa.select(doc_numbers).where(
            doc_numbers.c.office == self.office, doc_numbers.c.pdf_sha256.is_(None)
        )
        if stream is not None:
            query = query.where(doc_numbers.c.stream == stream)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(doc_numbers.c.claimed_at)).all()
        return [_claim(row) for row in rows]

    def all(self) -> list[Claim]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(doc_numbers).where(doc_numbers.c.office == self.office)
            ).all()
        return [_claim(row) for row in rows]


def _claim(row: sa.Row[tuple[object, ...]]) -> Claim:
    data = row._mapping
    return Claim(
        office=str(data["office"]),
        doc_type=str(data["doc_type"]),
        year=int(data["year"]),
        number=int(data["number"]),
        stream=str(data["stream"]),
        answers=str(data["answers"]),
        claimed_at=data["claimed_at"],
        pdf_sha256=data["pdf_sha256"],
    )
