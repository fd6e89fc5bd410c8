"""``caseledger calendar publish YEAR --from FILE`` and ``calendar show``: the working-day
calendar the office signs (a ``CalendarPublished`` directory entry per year, ledger.calendar).

A calendar file (TOML or JSON) holds one year's arrangement as the State Council's notice
gives it::

    year = 2027                                   # optional; must match YEAR if given
    source = "国办发明电〔2026〕12号"               # the notice it follows
    holidays = ["2027-01-01", "2027-02-06..2027-02-13"]   # days off (a..b: every day between)
    workdays = ["2027-02-14"]                     # adjusted working days (调休)

Holidays that fall on a weekend may be listed or not: a weekend day is off unless listed as a
working day. ``caseledger init`` and ``caseledger demo`` publish the years the
``chinese_calendar`` package knows, from the year before the present on (at least its last).
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client._common import (
    ClientError,
    DbOption,
    HomeOption,
    PassphraseOption,
    boundary,
    session,
)
from cli.client._directory import AdminKey, Server, sign_and_append
from cli.texts import field, say
from ledger.calendar import CALENDAR_STEP, YearCalendar, package_years
from ledger.client import Signer, StreamWriter
from ledger.directory import DirectoryState
from ledger.envelope import Envelope
from ledger.errors import EnvelopeError

__all__ = ["calendar_app", "calendar_file", "seed_bodies", "seed_envelopes"]

calendar_app = typer.Typer(
    help="The working-day calendar (法定节假日 and 调休) the office signs, one year at a time.",
    no_args_is_help=True,
)

_MAX_RANGE = 400


def _bad(message: str) -> ClientError:
    return ClientError(message, code="input.file")


def _expand(items: object, name: str) -> list[str]:
    """The days a file lists, ``a..b`` ranges expanded; ClientError if not a list of text."""
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ClientError(f"{name} must be a list of dates (YYYY-MM-DD or a..b)", code="input.file")
    days: list[str] = []
    for item in items:
        first, dots, last = item.partition("..")
        if not dots:
            days.append(item.strip())
            continue
        try:
            start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
        except ValueError:
            raise ClientError(
                f"{name}: {item!r} is not a range of dates", code="input.file"
            ) from None
        if not timedelta(0) <= end - start <= timedelta(days=_MAX_RANGE):
            raise ClientError(
                f"{name}: {item!r} does not run forward within a year", code="input.file"
            )
        days += [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    return days


def calendar_file(path: Path, year: int) -> dict[str, Any]:
    """The CalendarPublished body a calendar file describes; ClientError (``input.file``) if
    the file cannot be read, EnvelopeError (``body.invalid``) if a date is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}", code="input.file") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ClientError(f"{path} is not valid JSON or TOML: {exc}", code="input.file") from None
    if not isinstance(data, dict):
        raise ClientError(f"{path} must hold one year's calendar (a table)", code="input.file")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise ClientError(
            f"unknown fields in the calendar file: {sorted(unknown)}", code="input.file"
        )
    if data.get("year", year) != year:
        raise ClientError(
            f"the file is the calendar of {data['year']}, not {year}", code="input.file"
        )
    body = {
        "year": year,
        "source": data.get("source"),
        "holidays": sorted(set(_expand(data.get("holidays", []), "holidays"))),
        "workdays": sorted(set(_expand(data.get("workdays", []), "workdays"))),
    }
    return YearCalendar.read(body).to_body()


def seed_bodies(now: datetime) -> list[dict[str, Any]]:
    """The package's calendars from the year before ``now`` on (at least its last year), as
    CalendarPublished bodies."""
    years = package_years()
    first = min(now.year - 1, years[-1].year) if years else now.year
    return [
        {**cal.to_body(), "source": f"国务院办公厅{cal.year}年部分节假日安排（{cal.source}）"}
        for cal in years
        if cal.year >= first
    ]


def seed_envelopes(directory: DirectoryState, admin: Signer, now: datetime) -> list[Envelope]:
    """The seed calendars as envelopes after ``directory``'s head, signed by ``admin`` (dated
    ``now``, or the head's time if that is later: a step is never dated before the last)."""
    writer = StreamWriter(directory.stream, directory.seq, directory.head_hash)
    at = max(now, directory.last_at) if directory.last_at else now
    return [writer.sign(CALENDAR_STEP, admin, at, body) for body in seed_bodies(now)]


@calendar_app.command("publish")
@boundary
def publish(
    year: Annotated[int, typer.Argument(help="The year, e.g. 2027.")],
    source: Annotated[Path, typer.Option("--from", help="The year's calendar, .toml or .json.")],
    key: AdminKey = None,
    passphrase_env: PassphraseOption = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
) -> None:
    """Sign and publish one year's working-day calendar (CalendarPublished). A later
    publication for the same year replaces the earlier; deadlines are recounted on it."""
    try:
        body = calendar_file(source, year)
    except EnvelopeError as exc:
        raise ClientError(f"{source}: {exc.message}", code="input.file") from None
    options = session(home=home, db=db, server=server, key=key, passphrase_env=passphrase_env)
    sign_and_append(options, [(CALENDAR_STEP, body)])
    holidays, workdays = len(body["holidays"]), len(body["workdays"])
    published = say(
        "calendar.published",
        year=year,
        holidays=holidays,
        workdays=workdays,
        source=body["source"],
    )
    typer.echo(field("label.calendar", published))


@calendar_app.command("show")
@boundary
def show(
    year: Annotated[int | None, typer.Argument(help="One year in full (default: a list).")] = None,
    home: HomeOption = None,
    db: DbOption = None,
    server: Server = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The calendars in the directory: each year, its notice, and whether it is signed.

    With ``--server`` the server's directory is read (its public calendar route: no key)."""
    rows = _server_rows(server) if server else _local_rows(home, db)
    if year is not None:
        rows = [row for row in rows if row["year"] == year]
        if not rows:
            raise ClientError(
                f"no calendar for {year}: deadlines into it are flagged clock.calendar_unknown "
                f"（{year}年工作日历尚未发布）",
                code="clock.calendar_unknown",
            )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        mark = say("calendar.signed" if row["signed"] else "calendar.unsigned")
        line = say(
            "calendar.row",
            year=row["year"],
            holidays=len(row["holidays"]),
            workdays=len(row["workdays"]),
            mark=mark,
            source=row["source"],
        )
        typer.echo(line)
        if year is not None:
            typer.echo(say("calendar.holidays", days=", ".join(row["holidays"])))
            typer.echo(say("calendar.workdays", days=", ".join(row["workdays"])))
    if rows:
        typer.echo(say("calendar.after", year=rows[-1]["year"]))


def _local_rows(home: Path | None, db: str | None) -> list[dict[str, Any]]:
    from cli.client._target import LocalTarget
    from cli.main import load_home

    target = LocalTarget(load_home(home), db, None)
    try:
        calendar = target.ledger.directory().work_calendar()
    finally:
        target.close()
    years = sorted(calendar.years.values(), key=lambda cal: cal.year)
    return [{**cal.to_body(), "signed": cal.signed} for cal in years]


def _server_rows(server: str) -> list[dict[str, Any]]:
    """The server's calendars in the local rows' shape; ClientError if the answer is not
    the calendar list."""
    from cli.client._target import public_json

    found = public_json(server, "/v1/public/calendars")
    try:
        return [
            {
                "year": int(cal["year"]),
                "holidays": [str(day) for day in cal["holidays"]],
                "workdays": [str(day) for day in cal["workdays"]],
                "source": str(cal["source"]),
                "signed": bool(cal["signed"]),
            }
            for cal in found["calendars"]
        ]
    except (KeyError, TypeError, ValueError):
        raise ClientError(
            f"{server} did not answer with its calendars: is it a caseledger server?",
            code="server.bad_answer",
        ) from None
