"""``caseledger calendar publish`` and ``show``: a year's working-day calendar, signed by the
admin from a TOML or JSON file, plain errors for a wrong file, and a server's calendars shown
from anywhere (``--server``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.e2ekit import Cli, ShiftedClock, free_port, serve

CALENDAR = """\
year = 2027
source = "国办发明电〔2026〕1号"
holidays = ["2027-01-01", "2027-02-06..2027-02-12", "2027-10-01..2027-10-07"]
workdays = ["2027-02-14", "2027-10-09"]
"""


def test_publish_a_year_then_show_it_and_refuse_wrong_files(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "office")
    cli("init", "--no-passphrase", "--org", "jinan-calendar")
    (tmp_path / "2027.toml").write_text(CALENDAR, encoding="utf-8")
    published = cli("calendar", "publish", "2027", "--from", str(tmp_path / "2027.toml"))
    assert "CalendarPublished" in published.stdout
    assert "2027: 15 holidays, 2 adjusted working days (国办发明电〔2026〕1号)" in published.stdout
    shown = json.loads(cli("calendar", "show", "2027", "--json").stdout)
    assert shown == [
        {
            "year": 2027,
            "holidays": ["2027-01-01", *(f"2027-02-{d:02}" for d in range(6, 13)),
                         *(f"2027-10-{d:02}" for d in range(1, 8))],
            "workdays": ["2027-02-14", "2027-10-09"],
            "source": "国办发明电〔2026〕1号",
            "signed": True,
        }
    ]  # fmt: skip
    listing = cli("calendar", "show").stdout
    assert "2027" in listing and "years after 2027 are unknown" in listing
    unknown = cli("calendar", "show", "2031", ok=False)
    assert "clock.calendar_unknown" in unknown.stderr

    (tmp_path / "bad.json").write_text(
        json.dumps({"source": "x", "holidays": ["2027-02-30"]}), encoding="utf-8"
    )
    wrong_date = cli("calendar", "publish", "2027", "--from", str(tmp_path / "bad.json"), ok=False)
    assert "input.file" in wrong_date.stderr and "2027-02-30" in wrong_date.stderr
    wrong_year = cli("calendar", "publish", "2028", "--from", str(tmp_path / "2027.toml"), ok=False)
    assert "not 2028" in wrong_year.stderr
    (tmp_path / "extra.toml").write_text(CALENDAR + 'mode = "x"\n', encoding="utf-8")
    extra = cli("calendar", "publish", "2027", "--from", str(tmp_path / "extra.toml"), ok=False)
    assert "unknown fields" in extra.stderr


def test_show_reads_a_server_s_calendars_without_a_key(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "office")
    cli("init", "--no-passphrase", "--org", "jinan-calendar-server")
    (tmp_path / "2027.toml").write_text(CALENDAR, encoding="utf-8")
    cli("calendar", "publish", "2027", "--from", str(tmp_path / "2027.toml"))
    local = json.loads(cli("calendar", "show", "--json").stdout)
    # Another folder, with no key and no database of its own: only the server is asked.
    stranger = Cli(tmp_path / "elsewhere")
    with serve(cli.home, None, free_port(), ShiftedClock()) as server:
        remote = json.loads(stranger("calendar", "show", "--server", server, "--json").stdout)
        assert remote == local and remote[-1]["year"] == 2027 and remote[-1]["signed"]
        listing = stranger("calendar", "show", "--server", server).stdout
        line = "2027   15 holidays   2 adjusted working days  signed  国办发明电〔2026〕1号"
        assert line in listing
        assert "years after 2027 are unknown" in listing
        one = stranger("calendar", "show", "2027", "--server", server).stdout
        assert "2027-02-14, 2027-10-09" in one
        unknown = stranger("calendar", "show", "2031", "--server", server, ok=False)
        assert "clock.calendar_unknown" in unknown.stderr
    gone = stranger("calendar", "show", "--server", server, ok=False)
    assert "server.unreachable" in gone.stderr
