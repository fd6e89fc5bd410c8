"""A real RFC 3161 time-stamping authority over HTTP on 127.0.0.1, for the tests.

pyHanko's token maker (:class:`seals.InProcessTimeStamper`, on a TSA certificate from the test
PKI) behind a small ``http.server`` handler: ``POST`` a DER ``TimeStampReq`` with
``Content-Type: application/timestamp-query`` and get a DER ``TimeStampResp`` back as
``application/timestamp-reply`` (RFC 3161 §3.4). Anything else gets 400 or 415.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp

from seals import InProcessTimeStamper
from seals.authority import SealCredentials

__all__ = ["local_tsa"]


def _handler(stamper: InProcessTimeStamper, served: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self._reply(415, "text/plain", b"expected application/timestamp-query")
                return
            try:
                request = tsp.TimeStampReq.load(body)
                _ = request.native  # parse fully: a damaged request fails here, not later
                response = stamper.request_tsa_response(request)
            except ValueError:
                self._reply(400, "text/plain", b"not a TimeStampReq")
                return
            served.append(self.path)
            self._reply(200, "application/timestamp-reply", response.dump())

        def _reply(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the tests assert on what was served

    return Handler


@contextmanager
def local_tsa(
    credentials: SealCredentials, *, fixed_time: datetime | None = None
) -> Iterator[tuple[str, list[str]]]:
    """Serve a TSA on a free port; yields its URL and the list of paths it stamped for."""
    served: list[str] = []
    stamper = InProcessTimeStamper(credentials, fixed_time=fixed_time)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stamper, served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
