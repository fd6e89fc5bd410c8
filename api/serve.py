"""Run the service with uvicorn (``caseledger serve``)."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from api.settings import Settings, get_settings
from ledger.errors import CaseLedgerError
from ledger.store.storage import open_store

__all__ = ["ServeError", "app_from_environment", "run"]


class ServeError(CaseLedgerError):
    code = "serve.workers"


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
    workers: int = 1,
) -> None:
    """Serve the organisation's API until interrupted; the keyword arguments override
    ``settings`` (default: from the environment).

    With ``workers`` > 1, that many processes serve one PostgreSQL database: each runs the
    app with its own ledger, which re-checks every batch against the database under the
    writer's lock, so racing appends stay exact. SQLite is one process's (ServeError).
    """
    _log_to_stderr()
    base = settings or get_settings()
    changes = {"home": home, "db": db, "host": host, "port": port, "tsa_url": tsa_url}
    settings = base.model_copy(update={k: v for k, v in changes.items() if v is not None})
    # uvicorn's own access lines would carry query strings (query codes): the app logs its
    # own (api.errors.RequestBoundary) instead.
    options: dict[str, Any] = {"log_level": "info", "access_log": False, "proxy_headers": False}
    if workers > 1:
        _check_several(settings)
        # Each process builds its app from the environment: hand the settings down there.
        for name, value in (
            ("CASELEDGER_HOME", str(settings.home)),
            ("CASELEDGER_DB", settings.db),
            ("CASELEDGER_TSA_URL", settings.tsa_url),
        ):
            if value:
                os.environ[name] = value
        uvicorn.run(
            "api.serve:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            **options,
        )
        return
    # The ledger's writer thread batches concurrent appends; the other routes run in
    # uvicorn's thread pool.
    app = create_app(settings)
    _keep_started_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, **options)


def app_from_environment() -> Any:
    """One worker process's app (``serve --workers N``), from the CASELEDGER_* settings."""
    _log_to_stderr()
    app = create_app(get_settings())
    _keep_started_objects()
    return app


def _keep_started_objects() -> None:
    """Take what start-up loaded (modules, the app, the folded directory) out of the garbage
    collector's full passes: it lives as long as the server, and scanning it again and again
    stopped every request for 50 to 150 ms at a time."""
    gc.collect()
    gc.freeze()


def _check_several(settings: Settings) -> None:
    from api.org import resolve_db_url

    url = resolve_db_url(Path(settings.home), settings.db)
    if open_store(url).kind != "postgres":
        raise ServeError(
            "several server processes need PostgreSQL (--db postgresql://...): "
            "an embedded SQLite file is served by one process"
        )
