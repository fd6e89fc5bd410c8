"""The first release's tables: the Merkle log (leaves, stored subtree hashes, checkpoints)
and the read models (tracking position, case summaries).

Every table is spelled out here as it was released, never imported from the live metadata.

A database whose tables were made by ``create_all`` before migrations existed is stamped
at this revision by :func:`ledger.store.migrate.upgrade` when all five tables are there. When only
some are (a process that opened the log but never the read models, or the other way round),
this revision creates the missing ones and leaves the existing ones alone.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# SQLite autoincrements an INTEGER PRIMARY KEY only, so the id is INTEGER there.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _log_leaves() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("envelope_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("envelope_hash"),
        sa.UniqueConstraint("position"),
    )


def _log_nodes() -> None:
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )


def _log_checkpoints() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )


def _rm_tracking() -> None:
    op.create_table(
        "rm_tracking",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )


def _rm_cases() -> None:
    op.create_table(
        "rm_cases",
        sa.Column("stream", sa.String(48), primary_key=True),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=False),
        sa.Column("matter_name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("next_step", sa.String(32)),
        sa.Column("next_role", sa.String(32)),
        sa.Column("next_capacity", sa.String(32)),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("applicant_kind", sa.String(32), nullable=False),
        sa.Column("applicant_id_number", sa.String(64), nullable=False),
        sa.Column("participants", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("applied_at", sa.String(20), nullable=False),
        sa.Column("last_at", sa.String(20), nullable=False),
        sa.Column("deadline_committed", sa.Date),
        sa.Column("deadline_statutory", sa.Date),
        sa.Column("decided_late", sa.Boolean),
        sa.Column("yellow_card", sa.Boolean, nullable=False),
        sa.Column("clock", sa.Text, nullable=False),
        sa.UniqueConstraint("case_number"),
    )
    op.create_index("ix_rm_cases_status", "rm_cases", ["status"])
    op.create_index("ix_rm_cases_next_role", "rm_cases", ["next_role"])
    op.create_index("ix_rm_cases_deadline_committed", "rm_cases", ["deadline_committed"])


_TABLES: dict[str, Callable[[], None]] = {
    "log_leaves": _log_leaves,
    "log_nodes": _log_nodes,
    "log_checkpoints": _log_checkpoints,
    "rm_tracking": _rm_tracking,
    "rm_cases": _rm_cases,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    op.drop_index("ix_rm_cases_deadline_committed", table_name="rm_cases")
    op.drop_index("ix_rm_cases_next_role", table_name="rm_cases")
    op.drop_index("ix_rm_cases_status", table_name="rm_cases")
    for name in reversed(_TABLES):
        op.drop_table(name)
