"""Checking uploaded PDFs for ``POST /v1/verify`` (and the public verify page) without letting
them take the server.

Each check runs in a child process under the settings' limits (:mod:`verify.sandbox`), awaited
without holding a worker thread, and killed when its deadline passes or the client leaves. At
most ``verify_concurrency`` checks run at once; one more is answered 503 ``verify.busy`` with
``Retry-After`` at once, so that checks can never take the workers every other route needs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio.to_thread
from fastapi import Request

from api.errors import ApiError
from api.settings import Settings
from ledger.trust import TrustFile

__all__ = ["RETRY_AFTER_SECONDS", "PdfChecker", "get_checker"]

RETRY_AFTER_SECONDS = 5


class PdfChecker:
    """The server's sandbox for uploaded PDFs and its bound on concurrent checks."""

    def __init__(self, settings: Settings) -> None:
        from verify.limits import MIB, VerifyLimits
        from verify.sandbox import Sandbox

        limits = VerifyLimits(
            wall_seconds=settings.verify_seconds,
            cpu_seconds=max(1, math.ceil(settings.verify_seconds)),
            memory_bytes=settings.verify_memory_mb * MIB,
            max_inflated_bytes=settings.verify_max_inflated_mb * MIB,
            max_cmap_entries=settings.verify_max_cmap_entries,
        )
        self.sandbox = Sandbox(limits, start_method="forkserver")
        self.slots = asyncio.Semaphore(settings.verify_concurrency)

    def _start(self, data: bytes, trust: TrustFile, at: datetime, status: Any) -> Any:
        return self.sandbox.start("pdf", data, trust, at=at, status=status)

    def warm(self) -> None:
        """Start the fork server at start-up, so that the first upload does not wait for it."""
        self.sandbox.warm()

    async def check(
        self,
        data: bytes,
        trust: TrustFile,
        *,
        at: datetime,
        status: Any = None,
        gone: Callable[[], Awaitable[bool]],
    ) -> Any:
        """The verdict on ``data`` (``status``: the verifier's StatusEvidence); ApiError 503
        when every place is taken, 400 for unreadable input, 499 when the client left before
        the answer (the check is killed then)."""
        from verify import InputUnreadable
        from verify.sandbox import CheckAbandoned

        if self.slots.locked():
            raise ApiError(
                503,
                "verify.busy",
                "核验服务繁忙，请稍后再试；too many documents are being checked, try again shortly",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        async with self.slots:
            try:
                # Starting a child writes the upload down a pipe, which may block: not on the
                # event loop.
                running = await anyio.to_thread.run_sync(self._start, data, trust, at, status)
                return await running.wait_async(gone)
            except InputUnreadable as exc:
                raise ApiError(400, exc.code, exc.message) from None
            except CheckAbandoned:
                raise ApiError(499, "verify.abandoned", "客户端已断开；the client left") from None


def get_checker(request: Request) -> PdfChecker:
    """The app's checker (made at start-up); 503 when the verifier is not installed."""
    checker: PdfChecker | None = getattr(request.app.state, "pdf_checker", None)
    if checker is None:
        raise ApiError(
            503, "verify.unavailable", "核验程序未安装；the verifier is not installed here"
        )
    return checker


def make_checker(settings: Settings) -> PdfChecker | None:
    """A checker for ``settings``, or None when the verifier package is not installed."""
    try:
        return PdfChecker(settings)
    except ImportError:
        return None
