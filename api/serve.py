"""Run the service with uvicorn (``caseledger serve``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from api.app import create_app
from api.settings import Settings, get_settings

__all__ = ["run"]


def run(
    settings: Settings | None = None,
    *,
    home: Path | None = None,
    db: str | None = None,
    host: str | None = None,
    port: int | None = None,
    tsa_url: str | None = None,
) -> None:
    """Serve the organisation's API until interrupted; the keyword arguments override
    ``settings`` (default: from the environment)."""
    base = settings or get_settings()
    changes = {"home": home, "db": db, "host": host, "port": port, "tsa_url": tsa_url}
    settings = base.model_copy(update={k: v for k, v in changes.items() if v is not None})
    app = create_app(settings)
    # The ledger serialises appends itself; uvicorn's thread pool runs the blocking routes.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
