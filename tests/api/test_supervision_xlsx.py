"""The supervision export as a real .xlsx: opened with openpyxl, it holds the CSV's rows cell
for cell, with China dates in date cells, under the same filters."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

from apikit import Api
from openpyxl import load_workbook

from ledger.client import StreamWriter
from ledger.envelope import Envelope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _run(api: Api, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        api.clock.now = envelope.at
        reply = api.post(envelope)
        assert reply.status_code == 201, reply.text


def _both(api: Api, query: str) -> tuple[list[list[str]], list[list[object]], str]:
    """The CSV rows and the worksheet rows of one export, and the sheet's title."""
    headers = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    as_csv = api.client.get(f"/v1/supervision/export.csv?{query}", headers=headers)
    as_xlsx = api.client.get(f"/v1/supervision/export.xlsx?{query}", headers=headers)
    assert as_csv.status_code == 200 and as_xlsx.status_code == 200, as_xlsx.text
    assert as_xlsx.headers["content-type"] == XLSX
    assert as_xlsx.headers["content-disposition"].endswith('.xlsx"')
    assert as_xlsx.content[:2] == b"PK"  # a zip package, not CSV under another name
    book = load_workbook(io.BytesIO(as_xlsx.content))
    (sheet,) = book.worksheets
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    text = as_csv.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text))), cells, sheet.title


def _same(cells: list[list[object]], rows: list[list[str]]) -> bool:
    """Whether the worksheet holds the CSV's rows, cell for cell."""
    assert len(cells) == len(rows)
    return all(
        len(cell_row) == len(row) and all(map(_same_cell, cell_row, row))
        for cell_row, row in zip(cells, rows, strict=True)
    )


def _same_cell(value: object, text: str) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, datetime):
        # A date cell reads back as midnight of that day: a day, not a moment.
        return (value.hour, value.minute) == (0, 0) and value.date().isoformat() == text
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A spreadsheet keeps 0.0 as 0: the number is the same.
        return value == float(text)
    return str(value) == text


def test_the_open_cases_workbook_holds_the_csv_rows_with_china_dates(api: Api) -> None:
    # 23:30 UTC on 24 November is already 25 November in China: the dates must be China's.
    start = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    envelopes = api.office.case_until_decided(start)
    _run(api, envelopes[:2])
    stream = envelopes[0].stream
    seq, head = api.services().ledger.head(stream)
    writer = StreamWriter(stream, seq, head)
    suspended_at = datetime(2026, 11, 26, 17, tzinfo=UTC)  # 27 November, 01:00 in China
    _run(api, [writer.sign("Suspended", api.office.handler, suspended_at, {"reason": "专家评审"})])
    other = api.office.case_until_decided(start + timedelta(minutes=1))
    _run(api, other[:2])
    api.clock.now = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 4 December in China

    rows, cells, title = _both(api, "list=open")
    assert title == "在办案件 2026-12-04"
    assert len(rows) == 3 and cells[0] == rows[0]
    assert _same(cells, rows)
    header = rows[0]
    by_reason = {row[header.index("suspended_reason")]: row for row in cells[1:]}
    suspended = by_reason["专家评审"]
    assert suspended[header.index("suspended_since")] == datetime(2026, 11, 27)
    assert suspended[header.index("suspended_calendar_days")] == 7
    running = by_reason[None]
    # Accepted on 25 November (China): 10 working days end on 9 December, 20 on 23 December
    # (counted from the UTC date, 24 November, they would end a day earlier).
    assert running[header.index("committed_deadline")] == datetime(2026, 12, 9)
    assert running[header.index("statutory_deadline")] == datetime(2026, 12, 23)
    assert running[header.index("overdue")] is False  # a boolean cell, not the text "False"


def test_the_figures_workbook_keeps_the_csv_filters(api: Api) -> None:
    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    _run(api, api.office.case_until_decided(start))
    late = api.office.case_until_decided(start + timedelta(minutes=1))
    _run(api, late[:3])
    writer = StreamWriter(late[0].stream, 3, late[2].hash)
    decided_at = datetime(2026, 12, 28, 2, tzinfo=UTC)
    _run(api, [writer.sign("Decided", api.office.approver, decided_at, late[3].body)])
    api.clock.now = datetime(2027, 1, 4, 2, tzinfo=UTC)

    query = "list=figures&by=person&from=2026-12-01&to=2026-12-31"
    rows, cells, title = _both(api, query)
    assert title == "办件统计 2027-01-04"
    assert _same(cells, rows)
    header = rows[0]
    people = {row[0]: row for row in cells[1:]}
    # Only December's decision counts: the case decided in November is left out.
    assert people["staff:zhang.wei"][header.index("decided")] == 1
    assert people["staff:zhang.wei"][header.index("on_time_rate")] == 0.0
    everything, all_cells, _ = _both(api, "list=figures&by=person")
    assert everything != rows
    assert dict((r[0], r) for r in all_cells[1:])["staff:zhang.wei"][header.index("decided")] == 2
    assert _both(api, "list=figures&by=unit")[0][0][0] == "unit"


def test_the_same_export_at_the_same_time_is_the_same_file(api: Api) -> None:
    _run(api, api.office.case_until_decided(datetime(2026, 11, 24, 1, tzinfo=UTC))[:2])
    api.clock.now = datetime(2026, 11, 30, 2, tzinfo=UTC)
    headers = api.sign_in(api.signer("staff:sun.qi", "supervisor"))
    first = api.client.get("/v1/supervision/export.xlsx", headers=headers).content
    second = api.client.get("/v1/supervision/export.xlsx", headers=headers).content
    assert first == second
    # Every part of the file is dated by the export's time, not the machine's clock.
    with zipfile.ZipFile(io.BytesIO(first)) as parts:
        assert {info.date_time for info in parts.infolist()} == {(2026, 11, 30, 2, 0, 0)}
    book = load_workbook(io.BytesIO(first))
    assert book.properties.created == datetime(2026, 11, 30, 2)  # the export's time, UTC
    assert date(2026, 11, 30).isoformat() in book.worksheets[0].title
