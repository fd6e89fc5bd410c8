"""The FastAPI application: ``create_app(settings)`` — no import-time singletons."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Clock, Services, open_services
from api.errors import error_body, install_error_handlers
from api.routes import admin, feed, log, materials, public, staff, supervision
from api.settings import Settings, get_settings

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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        opened.close()

    app = FastAPI(
        title="caseledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = opened
    install_error_handlers(app)
    for module in (staff, admin, supervision, public, log, feed, materials):
        app.include_router(module.router)
    _include_pages(app)
    app.add_middleware(
        BodyLimit, default=settings.max_body_bytes, uploads=settings.max_upload_bytes
    )
    return app


def _include_pages(app: FastAPI) -> None:
    """Mount the web pages (api/pages.py) when that module is present."""
    if importlib.util.find_spec("api.pages") is None:
        return
    pages: Any = importlib.import_module("api.pages")
    router = getattr(pages, "router", None)
    if router is not None:
        app.include_router(router)
