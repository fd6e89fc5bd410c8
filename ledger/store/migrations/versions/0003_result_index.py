"""The result index: which case issued the sealed result with a given SHA-256 (and which
document id its QR code carries).

Filled as the read models follow the ledger. A database upgraded from an earlier revision
already holds results issued before the index existed, so the read models' tracked position is
set back to the start: the next catch-up refolds every case (summaries are upserted, so nothing
changes there) and indexes every ResultIssued on the way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if "rm_results" not in set(sa.inspect(op.get_bind()).get_table_names()):
        op.create_table(
            "rm_results",
            sa.Column("sha256", sa.String(64), primary_key=True),
            sa.Column("stream", sa.String(48), nullable=False),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("document_id", sa.String(32)),
            sa.UniqueConstraint("document_id"),
        )
    op.execute(sa.text("DELETE FROM rm_tracking WHERE name = 'caseledger'"))


def downgrade() -> None:
    op.drop_table("rm_results")
