"""``POST /v1/verify`` on a real uvicorn server: bombs never take the server.

While bombs are being checked, other routes keep answering; one check more than the bound is
answered 503 ``verify.busy`` with Retry-After at once; a check whose client left is killed and
frees its place long before its deadline. The caps lifted so that the bombs reach the parsers,
each check is stopped by the child's limits and answered INDETERMINATE (``verify.limits``).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
import uvicorn
from bombs import cmap_bomb, content_bomb
from verifykit import Org

from api.app import create_app
from api.settings import Settings

ANSWER_WITHIN = 90.0  # generous: a hang would take hours


@pytest.fixture(scope="module")
def bombs(org: Org, unsealed: bytes) -> dict[str, bytes]:
    return {"cmap": cmap_bomb(org, unsealed), "content": content_bomb(org, unsealed)}


@pytest.fixture(scope="module")
def blank() -> bytes:
    out = BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(out)
    return out.getvalue()


def _home(path: Path, org: Org) -> Path:
    """An organisation folder with only what a server needs to check PDFs."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "trust.json").write_text(org.trust().dumps(), encoding="utf-8")
    (path / "server.secret").write_text(secrets.token_hex(32))
    return path


@contextmanager
def _served(home: Path, **limits: Any) -> Iterator[str]:
    """The API for ``home`` under uvicorn on a loopback port (in a thread); its base URL."""
    settings = Settings(home=home, public_rate_per_minute=100_000, **limits)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _post(base: str, pdf: bytes, timeout: float = ANSWER_WITHIN) -> httpx.Response:
    return httpx.post(f"{base}/v1/verify", files={"file": ("x.pdf", pdf)}, timeout=timeout)


LIFTED = {"verify_max_inflated_mb": 1 << 20, "verify_max_cmap_entries": 10**9}


def test_the_caps_answer_both_bombs_400(tmp_path: Path, org: Org, bombs: dict[str, bytes]) -> None:
    with _served(_home(tmp_path / "org", org)) as base:
        for bomb in bombs.values():
            reply = _post(base, bomb)
            assert reply.status_code == 400, reply.text
            assert reply.json()["code"] == "input.too_complex"


def test_other_routes_answer_while_bombs_are_checked(
    tmp_path: Path, org: Org, bombs: dict[str, bytes], blank: bytes
) -> None:
    limits = {"verify_seconds": 20.0, "verify_memory_mb": 384, "verify_concurrency": 2}
    home = _home(tmp_path / "org", org)
    with _served(home, **limits, **LIFTED) as base, ThreadPoolExecutor(24) as pool:
        checks = [pool.submit(_post, base, bombs["content"]) for _ in range(2)]
        busy = _until_busy(base, blank, checks, lambda: pool.submit(_post, base, bombs["content"]))
        assert busy.json()["code"] == "verify.busy" and busy.headers["retry-after"].isdigit()
        # Both places are taken by the bombs now; twenty reads at once all answer meanwhile.
        reads = [pool.submit(httpx.get, f"{base}/v1/trust.json", timeout=60) for _ in range(20)]
        assert all(r.result().status_code == 200 for r in reads)
        assert not all(c.done() for c in checks), "the reads waited for the checks"
        for check in checks:
            reply = check.result(timeout=ANSWER_WITHIN)
            assert reply.status_code == 200, reply.text
            verdict = reply.json()
            assert verdict["verdict"] == "INDETERMINATE"
            assert [c["id"] for c in verdict["checks"]] == ["verify.limits"]


def _until_busy(
    base: str,
    probe: bytes,
    checks: list[Future[httpx.Response]],
    again: Callable[[], Future[httpx.Response]],
) -> httpx.Response:
    """Post the quick ``probe`` until the server answers 503: then the bombs hold every place
    (a probe is checked in a second, a bomb takes its limit). A bomb that came while a probe
    held a place was itself refused; it is posted again."""
    deadline = time.monotonic() + ANSWER_WITHIN
    while time.monotonic() < deadline:
        for index, check in enumerate(checks):
            if check.done() and check.result().status_code == 503:
                checks[index] = again()
        reply = _post(base, probe)
        if reply.status_code == 503:
            return reply
        time.sleep(0.2)
    raise AssertionError("the server never said it was busy")


def test_a_check_whose_client_left_frees_its_place(
    tmp_path: Path, org: Org, bombs: dict[str, bytes], blank: bytes
) -> None:
    # One place, and a deadline far off: only killing the abandoned check frees the place.
    limits = {"verify_seconds": 120.0, "verify_memory_mb": 384, "verify_concurrency": 1}
    with _served(_home(tmp_path / "org", org), **limits, **LIFTED) as base:
        with pytest.raises(httpx.TimeoutException):
            _post(base, bombs["content"], timeout=2.0)
        left = time.monotonic()
        while (reply := _post(base, blank)).status_code == 503:
            assert time.monotonic() - left < 60, "the abandoned check kept its place"
            time.sleep(0.2)
        assert reply.status_code == 200 and reply.json()["verdict"] in ("FAILED", "INDETERMINATE")
