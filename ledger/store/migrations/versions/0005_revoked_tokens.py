"""Sign-in tokens revoked at sign-out (``auth_revoked_tokens``), so that every server process
and the next start refuse them until they would have expired."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if "auth_revoked_tokens" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by the service's own create_all before this database was stamped
    op.create_table(
        "auth_revoked_tokens",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_auth_revoked_tokens_expires_at", "auth_revoked_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_revoked_tokens_expires_at", table_name="auth_revoked_tokens")
    op.drop_table("auth_revoked_tokens")
