"""Reads wait for the followers, and say how far they lag.

Sealed results and notices are made by followers off the request path (see
:mod:`ledger.store.followers`), so a 201 never waits for them. A read (GET or HEAD) first
waits, at most ``read_wait_seconds``, for them to reach what was stored when it arrived —
a client reading right after its own write sees what followed it — and then answers with
``Caseledger-Lag``: how far the slowest follower still trails, in store positions (0 when
caught up; positions may skip numbers on PostgreSQL, so it is an upper bound of envelopes).
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Services

__all__ = ["LAG_HEADER", "FollowerLag"]

LAG_HEADER = "caseledger-lag"


class FollowerLag:
    def __init__(self, app: ASGIApp, *, services: Services, wait_seconds: float) -> None:
        self.app = app
        self.services = services
        self.wait_seconds = wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        lag = await anyio.to_thread.run_sync(self.services.settle, self.wait_seconds)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (LAG_HEADER.encode(), str(lag).encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
