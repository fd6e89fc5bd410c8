"""The office's private table: identity numbers behind the commitments signed records carry
(``pd_openings``), and the record of every read of one (``pd_reads``).

Spelled out as released, never imported from the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pd_openings",
        sa.Column("commitment", sa.String(68), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pd_reads",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("commitment", sa.String(68), nullable=False),
        sa.Column("reader", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pd_reads")
    op.drop_table("pd_openings")
