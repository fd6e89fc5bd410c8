"""The FastAPI application: ``create_app(settings)`` — no import-time singletons."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio.to_thread
import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.checkpoints import CheckpointSchedule
from api.deps import Clock, Services, open_services
from api.errors import RequestBoundary, error_body, install_error_handlers
from api.lag import FollowerLag
from api.routes import admin, feed, log, materials, public, reform, staff, supervision, workbench
from api.settings import Settings, get_settings
from api.verifying import make_checker

__all__ = ["BodyLimit", "create_app"]

UPLOAD_PATHS = ("/v1/verify", "/v1/materials")

DESCRIPTION = """\
caseledger's HTTP API: signed case steps for administrative approval, their queues and time
limits, public case status, and the transparency log. Every error is JSON `{code, message}`.
See docs/api.md.
"""


class BodyLimit:
    """Refuse (413, JSON) any request body over the cap, before the app reads it.

    The body is read here, up to the cap, and handed on whole; a declared Content-Length over
    the cap is refused without reading.
    """

    def __init__(self, app: ASGIApp, *, default: int, uploads: int) -> None:
        self.app, self.default, self.uploads = app, default, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.uploads if scope["path"] in UPLOAD_PATHS else self.default
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    payload = json.dumps(
        error_body("request.too_large", f"the request body exceeds {limit} bytes")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API for the organisation ``settings`` names (default: from the environment).

    Opens the organisation now (raising a CaseLedgerError if it cannot be opened) and closes
    it when the app shuts down. ``clock`` replaces the server clock (tests).
    """
    settings = settings or get_settings()
    opened = services or open_services(settings, clock=clock)
    schedule = CheckpointSchedule(opened, settings.checkpoint_interval_seconds)

    checker = make_checker(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if checker is not None:
            await anyio.to_thread.run_sync(checker.warm)
        schedule.start()
        if opened.notifier is not None:
            opened.notifier.start()
        # However the app ends (a shutdown, or its lifespan cancelled), its background threads
        # stop before the ledger closes: none of them outlives the store it works on.
        try:
            yield
        finally:
            try:
                schedule.stop()
            finally:
                opened.close()

    # The API's documentation pages (/docs, /redoc) serve Swagger UI and ReDoc from this
    # server: an office's network often reaches no CDN.
    app = FastAPIOffline(
        title="caseledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    _include_redoc(app)
    app.state.services = opened
    app.state.pdf_checker = checker
    app.state.checkpoints = schedule
    install_error_handlers(app)
    for module in (staff, admin, supervision, public, log, feed, materials, reform, workbench):
        app.include_router(module.router)
    _include_pages(app)
    app.add_middleware(
        BodyLimit, default=settings.max_body_bytes, uploads=settings.max_upload_bytes
    )
    app.add_middleware(FollowerLag, services=opened, wait_seconds=settings.read_wait_seconds)
    # Added last, so it is outermost: request ids, access lines, and a 500 that keeps the
    # connection for whatever fails below it.
    app.add_middleware(RequestBoundary)
    return app


# ReDoc's bundle draws its footer logo from the vendor's CDN; the copy served here points it
# at an inline image instead, so the page needs nothing from another host.
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_INLINE_LOGO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


def _include_redoc(app: FastAPI) -> None:
    """/redoc, with ReDoc's script served by this server (see _REDOC_LOGO)."""
    bundle = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"

    @lru_cache(maxsize=1)
    def script() -> bytes:
        return bundle.read_text("utf-8").replace(_REDOC_LOGO, _INLINE_LOGO).encode("utf-8")

    @app.get("/docs-assets/redoc.standalone.js", include_in_schema=False)
    def redoc_script() -> Response:
        return Response(script(), media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="caseledger - ReDoc",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/static-offline-docs/favicon.png",
            with_google_fonts=False,
        )


def _include_pages(app: FastAPI) -> None:
    """Mount the web pages (api/pages.py, api/status_page.py) when those modules are present."""
    for name in ("api.pages", "api.status_page"):
        if importlib.util.find_spec(name) is None:
            continue
        pages: Any = importlib.import_module(name)
        router = getattr(pages, "router", None)
        if router is not None:
            app.include_router(router)
