"""What the reform modes leave due (``rm_reform``: 容缺 materials, 核查, 好差评 rectifications).

The read models are derived data: this revision moves their position back to the start, so the
follower refolds every case (and fills ``rm_reform``) when the organisation next opens; the
case summaries already stored are kept (a summary is replaced only by a later step's).

Spelled out as released, never imported from the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM rm_tracking"))
    if "rm_reform" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by the read models' own create_all before this database was stamped
    op.create_table(
        "rm_reform",
        sa.Column("stream", sa.String(48), primary_key=True),
        sa.Column("case_number", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("matter_code", sa.Text, nullable=False),
        sa.Column("matter_name", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("tolerance_missing", sa.Text, nullable=False),
        sa.Column("tolerance_due", sa.Date),
        sa.Column("tolerance_consequence", sa.Text),
        sa.Column("promise", sa.String(64)),
        sa.Column("verification_due", sa.Date),
        sa.Column("verification", sa.String(16)),
        sa.Column("rating", sa.String(16)),
        sa.Column("rated_at", sa.String(20)),
        sa.Column("rectification_due", sa.Date),
        sa.Column("rectified_at", sa.String(20)),
    )


def downgrade() -> None:
    op.drop_table("rm_reform")
