"""Read models that take any envelope the rules admitted: no length limit on a column that
holds text a user controls, case numbers that carry the whole case id, and the table of cases
set aside.

The summaries are derived data: this revision empties ``rm_cases`` and moves the read
models' position back to the start, so the follower rebuilds every summary (with the new case
numbers) from the ledger when the organisation next opens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_UNBOUNDED = (
    "matter_code",
    "matter_name",
    "unit",
    "next_capacity",
    "applicant_name",
    "applicant_kind",
    "applicant_id_number",
    "outcome",
)
_NULLABLE = {"next_capacity", "outcome"}
_BEFORE = {
    "matter_code": sa.String(64),
    "matter_name": sa.String(200),
    "unit": sa.String(200),
    "next_capacity": sa.String(32),
    "applicant_name": sa.String(200),
    "applicant_kind": sa.String(32),
    "applicant_id_number": sa.String(64),
    "outcome": sa.String(16),
}


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM rm_cases"))
    op.execute(sa.text("DELETE FROM rm_tracking"))
    with op.batch_alter_table("rm_cases") as batch:
        for name in _UNBOUNDED:
            batch.alter_column(
                name,
                type_=sa.Text(),
                existing_type=_BEFORE[name],
                existing_nullable=name in _NULLABLE,
            )
        batch.alter_column(
            "case_number", type_=sa.String(48), existing_type=sa.String(32), existing_nullable=False
        )
    if "rm_set_aside" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by the read models' own create_all before this database was stamped
    op.create_table(
        "rm_set_aside",
        sa.Column("stream", sa.String(48), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("step_at", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rm_set_aside")
    op.execute(sa.text("DELETE FROM rm_cases"))
    op.execute(sa.text("DELETE FROM rm_tracking"))
    with op.batch_alter_table("rm_cases") as batch:
        batch.alter_column(
            "case_number", type_=sa.String(32), existing_type=sa.String(48), existing_nullable=False
        )
        for name in _UNBOUNDED:
            batch.alter_column(
                name,
                type_=_BEFORE[name],
                existing_type=sa.Text(),
                existing_nullable=name in _NULLABLE,
            )
