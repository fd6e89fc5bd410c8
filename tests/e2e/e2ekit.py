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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from typer.testing import CliRunner, Result

from api.app import create_app
from api.settings import Settings
from cli.client import register
from cli.main import app as root_app
from ledger.calendar import package_calendar
from ledger.clock import china_date
from ledger.keyfile import KeyFile

register(root_app)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ShiftedClock:
    """The server's clock: the real time plus ``offset`` (to look at deadlines weeks ahead)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.offset


@contextmanager
def serve(
    home: Path, db: str | None, port: int, clock: ShiftedClock | None = None
) -> Iterator[str]:
    """Run the organisation's API and pages under uvicorn on ``port``; yield the base URL."""
    settings = Settings(home=home, db=db, public_rate_per_minute=10_000)
    app = create_app(settings, clock=clock)
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


# A new office: folder, three staff with their own keys, a matter -----------------------------

STAFF = (
    # principal, name, id number, role, passphrase variable
    ("staff:wang.li", "王立", "370102198502020027", "handler", "WANG_PASS"),
    ("staff:li.na", "李娜", "370102198703030037", "reviewer", "LI_PASS"),
    ("staff:zhang.wei", "张伟", "370102197904040042", "approver", "ZHANG_PASS"),
)
PASSPHRASES = {
    "WANG_PASS": "wang-pw-1",
    "LI_PASS": "li-pw-2",
    "ZHANG_PASS": "zhang-pw-3",
    "ADMIN_PASS": "admin-pw-0",
}
MATTER_CODE = "XK-370100-001"
MATTER = f"""\
code = "{MATTER_CODE}"
name = "食品经营许可证核发"
legal_basis = "《中华人民共和国行政许可法》"
review_levels = ["reviewer"]
statutory_days = 20
committed_days = 10
required_materials = ["食品经营许可申请书"]
seal_issued = true
"""


def new_office(tmp_path: Path, db: str | None) -> tuple[Cli, int, dict[str, Path]]:
    """`caseledger init` a folder, and three staff key files from `caseledger keygen`."""
    port = free_port()
    cli = Cli(tmp_path / "office", db=db, env=PASSPHRASES)
    # The root, admin and seal-CA keys are sealed under the admin's passphrase, given from a
    # file; the server started later is never told it.
    passphrase_file = tmp_path / "admin-passphrase"
    passphrase_file.write_text(PASSPHRASES["ADMIN_PASS"] + "\n", encoding="utf-8")
    cli("init", "--org", "jinan-e2e", "--name", "济南市行政审批服务局", "--url",
        f"http://127.0.0.1:{port}", "--passphrase-file", str(passphrase_file))  # fmt: skip
    assert KeyFile.is_sealed(tmp_path / "office" / "keys" / "admin.key")
    publish_the_years_ahead(cli, tmp_path)
    keys = {}
    for principal, _, _, _, variable in STAFF:
        path = tmp_path / "keys" / f"{principal.split(':')[1]}.key"
        made = cli("keygen", "--principal", principal, "--out", str(path),
                   "--passphrase-env", variable)  # fmt: skip
        assert KeyFile.is_sealed(path)
        assert field_of(made, "key id") == KeyFile.load(path, PASSPHRASES[variable]).key.key_id
        keys[principal] = path
    return cli, port, keys


ADMIN = ("--passphrase-env", "ADMIN_PASS")


def publish_the_years_ahead(cli: Cli, tmp_path: Path, admin: tuple[str, ...] = ADMIN) -> None:
    """The admin publishes this year's and next year's calendar where the package has none,
    as an office does each year: the server dates steps by the machine's clock, which
    ./dev test-clock moves past the package's years. Monday to Friday, no holidays."""
    this_year = china_date(datetime.now(UTC)).year
    for year in (this_year, this_year + 1):
        if package_calendar().knows(year):
            continue
        path = tmp_path / f"calendar-{year}.toml"
        path.write_text(f'source = "{year}年测试工作日历（周一至周五）"\n', encoding="utf-8")
        cli("calendar", "publish", str(year), "--from", str(path), *admin)


def enrol(cli: Cli, server: str, keys: dict[str, Path], tmp_path: Path) -> None:
    """The admin enrols the three staff with their keys, grants their roles, defines the
    matter — all through the signing client against ``server``."""
    for principal, name, id_number, role, _ in STAFF:
        cli("staff", "add", principal, "--name", name, "--id-number", id_number,
            "--from-key", str(keys[principal]), "--server", server, *ADMIN)  # fmt: skip
        cli("staff", "grant", principal, "--role", role, "--server", server, *ADMIN)
    matter = tmp_path / "matter.toml"
    matter.write_text(MATTER, encoding="utf-8")
    cli("matter", "add", str(matter), "--server", server, *ADMIN)


class Staff:
    """Run case commands as one staff member, with their key and passphrase variable."""

    def __init__(self, cli: Cli, server: str, keys: dict[str, Path], principal: str) -> None:
        variable = next(v for p, *_, v in STAFF if p == principal)
        self.cli, self.args = cli, ["--key", str(keys[principal]), "--passphrase-env", variable]
        self.server = server

    def __call__(self, step: str, *args: str, ok: bool = True) -> Result:
        return self.cli("case", step, *args, *self.args, "--server", self.server, ok=ok)


def apply(handler: Staff, name: str) -> tuple[str, str, str]:
    """A window application recorded by ``handler``: (case id, case number, query code)."""
    applied = handler("apply", "--matter", MATTER_CODE, "--applicant-name", name,
                      "--applicant-kind", "organisation", "--applicant-id", "91370100MA3C000001",
                      "--material", "食品经营许可申请书.pdf=" + "ab" * 32)  # fmt: skip
    return (
        field_of(applied, "case id"),
        field_of(applied, "case number"),
        field_of(applied, "query code"),
    )
