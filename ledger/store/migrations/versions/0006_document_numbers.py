"""文号 claims: one row per numbered document, keyed by office, type, China year and number.

See :mod:`ledger.store.doc_numbers`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "doc_numbers",
        sa.Column("office", sa.Text, primary_key=True),
        sa.Column("doc_type", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf_sha256", sa.Text),
        sa.UniqueConstraint(
            "office", "doc_type", "stream", "answers", name="uq_doc_numbers_answer"
        ),
    )


def downgrade() -> None:
    op.drop_table("doc_numbers")
