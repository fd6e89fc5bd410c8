"""Sign-in tokens revoked before they expire (sign-out), kept in the database so every server
process of the organisation, and the next start, refuses them too.

A token names a random id (``jti``); signing out records that id with the token's expiry. Rows
whose token has expired anyway are dropped whenever another token is revoked.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["SESSION_METADATA", "RevokedTokens", "auth_revoked_tokens"]

SESSION_METADATA = sa.MetaData()

auth_revoked_tokens = sa.Table(
    "auth_revoked_tokens",
    SESSION_METADATA,
    sa.Column("token_id", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)


class RevokedTokens:
    """The revoked token ids of one organisation's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        SESSION_METADATA.create_all(engine)

    def revoke(self, token_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse the token ``token_id`` from now on (idempotent)."""
        table = auth_revoked_tokens
        with self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.expires_at < int(now.timestamp())))
            known = conn.execute(
                sa.select(table.c.token_id).where(table.c.token_id == token_id)
            ).first()
            if known is None:
                values = {"token_id": token_id, "expires_at": int(expires_at.timestamp())}
                conn.execute(table.insert().values(values))

    def is_revoked(self, token_id: str) -> bool:
        table = auth_revoked_tokens
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(table.c.token_id).where(table.c.token_id == token_id)
            ).first()
        return found is not None
