"""End-to-end helpers: a real uvicorn server on a loopback port, and the real ``caseledger``
command line driven in process (Typer's runner) with the signing client mounted."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from typer.testing import CliRunner, Result

from api.app import create_app
from api.cli import app as root_app
from api.cli_client import register
from api.settings import Settings

register(root_app)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(home: Path, db: str | None, port: int) -> Iterator[str]:
    """Run the organisation's API and pages under uvicorn on ``port``; yield the base URL."""
    settings = Settings(home=home, db=db, public_rate_per_minute=10_000)
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Cli:
    """The ``caseledger`` command line for one organisation folder."""

    home: Path
    db: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, ok: bool = True, env: dict[str, str] | None = None) -> Result:
        """Run one command; assert its exit status (0 if ``ok``, else 1) and no traceback."""
        full_env = {"CASELEDGER_HOME": str(self.home), **self.env, **(env or {})}
        if self.db:
            full_env["CASELEDGER_DB"] = self.db
        result = self.runner.invoke(root_app, list(args), env=full_env)
        shown = f"$ caseledger {' '.join(args)}\n{result.output}"
        assert "Traceback" not in result.output, shown
        if ok:
            assert result.exit_code == 0, shown
        else:
            assert result.exit_code == 1, shown
            errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1, shown
        return result


def field_of(result: Result, name: str) -> str:
    """The value printed on the ``name   value`` line of a command's output."""
    found = re.search(rf"^{re.escape(name)}\s+(\S+)", result.stdout, re.MULTILINE)
    assert found, f"no {name!r} in:\n{result.stdout}"
    return found.group(1)


def get_json(url: str, **params: str) -> dict[str, object]:
    response = httpx.get(url, params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body
