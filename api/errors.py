"""The one boundary where errors become HTTP statuses: always JSON ``{code, message}``.

| error | status |
| --- | --- |
| EnvelopeError (json.too_large) | 413 |
| EnvelopeError (any other code) | 400 |
| RulesRefused with a ``sig.*`` violation | 401 (only the ``sig.*`` codes are told) |
| RulesRefused otherwise | 403 with every violation code |
| StaleVersion | 409 with the stream's head (``head_seq``, ``head_hash``) |
| ClockSkew, request validation | 422 |
| StreamNotFound | 404 |
| StoreBusy (the database could not take a write now) | 503 with Retry-After |
| ApiError | its own status |
| any other CaseLedgerError | 422 |
| anything unexpected | 500 ``internal`` (no details leak) |

:class:`RequestBoundary` wraps the whole app: every request gets an id (``X-Request-Id``,
also in a 500's body), one access line is logged (id, method, path without its query, status,
error code), and an unexpected exception becomes the 500 answer right there, without being
raised on to the server — so the server keeps the connection open. What is logged about such
an exception is its kind and where it was raised (file, line, function), never its message,
which may quote a body or an applicant's data.
"""

from __future__ import annotations

import json
import logging
import random
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import (
    CaseLedgerError,
    ClockSkew,
    EnvelopeError,
    RulesRefused,
    StaleVersion,
    StoreBusy,
    StreamNotFound,
)
from ledger.messages import message as text_of

__all__ = ["ApiError", "RequestBoundary", "error_body", "install_error_handlers", "where_raised"]

log = logging.getLogger("caseledger.api")
access = logging.getLogger("caseledger.access")


class ApiError(CaseLedgerError):
    """An error the service itself raises, with the HTTP status it stands for."""

    code = "api.error"

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.headers = headers


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The error answer: the stable code, the detail, and the code's Chinese text (``zh``,
    from ledger/messages.py) that pages show."""
    return {"code": code, "message": message, "zh": _zh(code), **extra}


def _zh(code: str) -> str:
    return text_of(code) or "操作未能完成"


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _envelope_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EnvelopeError)  # noqa: S101 - registered for this type only
    status = 413 if exc.code == "json.too_large" else 400
    return _json(status, error_body(exc.code, exc.message))


def _rules_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RulesRefused)  # noqa: S101
    codes = [str(getattr(v, "code", v)) for v in exc.violations]
    violations = [
        {"code": str(getattr(v, "code", v)), "detail": str(getattr(v, "detail", ""))}
        for v in exc.violations
    ]
    signature = [v for v in violations if v["code"].startswith("sig.")]
    if signature:
        # Whoever cannot show a valid signature learns nothing about the rules.
        return _json(
            401,
            error_body(
                "sig.invalid" if len(signature) > 1 else signature[0]["code"],
                "the envelope's signature is not valid for a known key",
                codes=[v["code"] for v in signature],
                violations=signature,
            ),
        )
    return _json(403, error_body("rules.refused", exc.message, codes=codes, violations=violations))


def _stale(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StaleVersion)  # noqa: S101
    body = error_body(
        exc.code, exc.message, stream=exc.stream, head_seq=exc.head_seq, head_hash=exc.head_hash
    )
    return _json(409, body)


def _status_for(exc: CaseLedgerError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, StreamNotFound):
        return 404
    if isinstance(exc, StoreBusy):
        return 503
    return 422


def _ledger_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CaseLedgerError)  # noqa: S101
    headers = exc.headers if isinstance(exc, ApiError) else None
    if isinstance(exc, StoreBusy):
        headers = {"Retry-After": "1"}
    return _json(_status_for(exc), error_body(exc.code, exc.message), headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    problems = [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))}
        for item in exc.errors()
    ]
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    message = f"{'.'.join(first['loc'])}: {first['msg']}"
    return _json(422, error_body("request.invalid", message, problems=problems))


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(
        exc.status_code, f"http.{exc.status_code}"
    )
    return _json(exc.status_code, error_body(code, str(exc.detail)), dict(exc.headers or {}))


def where_raised(exc: BaseException) -> str:
    """The exception's kind and the frames it passed (file:line function), no message."""
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    path = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames)
    return f"{type(exc).__name__} at {path or '?'}"


def _internal_body(request_id: str) -> dict[str, Any]:
    return error_body(
        "internal", "服务器内部错误，已记录（编号 " + request_id + "）", request_id=request_id
    )


def _internal(request: Request, exc: Exception) -> JSONResponse:
    request_id = str(request.scope.get("caseledger.request_id", "-"))
    log.error("internal error in request %s: %s", request_id, where_raised(exc))
    return _json(500, _internal_body(request_id))


class RequestBoundary:
    """The outermost layer of the app (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Names the request in the log lines and the answer; it needs no secrecy, and the
        # system's random source would cost a system call per request.
        request_id = f"{random.getrandbits(64):016x}"
        scope["caseledger.request_id"] = request_id
        seen: dict[str, Any] = {"status": 0, "code": "-"}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and seen["status"] >= 400:
                seen["code"] = _code_of(message.get("body", b""), seen["code"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            log.error("internal error in request %s: %s", request_id, where_raised(exc))
            if not seen["status"]:
                await _send_json(send, 500, _internal_body(request_id), request_id)
                seen.update(status=500, code="internal")
        access.info(
            "%s %s %s %s %s",
            request_id,
            scope.get("method", "-"),
            scope.get("path", "-"),
            seen["status"],
            seen["code"],
        )


def _code_of(body: bytes, default: str) -> str:
    try:
        code = json.loads(body).get("code") if body.startswith(b"{") else None
    except (ValueError, UnicodeDecodeError):
        return default
    return str(code)[:64] if code else default


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(EnvelopeError, _envelope_error)
    app.add_exception_handler(RulesRefused, _rules_refused)
    app.add_exception_handler(StaleVersion, _stale)
    app.add_exception_handler(ClockSkew, _ledger_error)
    app.add_exception_handler(CaseLedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
