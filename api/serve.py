"""Run the service with uvicorn (``caseledger serve``)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from api.app import create_app
from api.settings import Settings, get_settings

__all__ = ["run"]


def _log_to_stderr() -> None:
    """caseledger's own log lines (access lines, warnings) on stderr, as uvicorn's are."""
    logger = logging.getLogger("caseledger")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


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
    _log_to_stderr()
    base = settings or get_settings()
    changes = {"home": home, "db": db, "host": host, "port": port, "tsa_url": tsa_url}
    settings = base.model_copy(update={k: v for k, v in changes.items() if v is not None})
    app = create_app(settings)
    # The ledger serialises appends itself; uvicorn's thread pool runs the blocking routes.
    # uvicorn's own access lines would carry query strings (query codes): the app logs its
    # own (api.errors.RequestBoundary) instead.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        proxy_headers=False,
    )
