"""The supervision exports as a spreadsheet (.xlsx, Office Open XML), beside the CSV.

The rows are the CSV's own (:data:`api.supervising.Table`), cell for cell: a date is a date
cell (China date, ``yyyy-mm-dd``), a number a number, a yes/no a boolean, and a rate is shown
as a percentage, so a supervisor can sort and sum without converting text first.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from api.supervising import Table

__all__ = ["MEDIA_TYPE", "SHEET_TITLES", "to_xlsx"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What each export's sheet is called; the China date of the export follows.
SHEET_TITLES = {"open": "在办案件", "figures": "办件统计"}

_RATES = {"on_time_rate", "statutory_on_time_rate"}


def to_xlsx(table: Table, *, title: str, as_of: date, now: datetime) -> bytes:
    """The table as one worksheet named ``title`` and the China date ``as_of``; ``now`` (UTC)
    is the workbook's creation time, so the same data at the same time gives the same file."""
    header, rows = table
    book = Workbook()
    sheet = book.active
    sheet.title = f"{title} {as_of.isoformat()}"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for index, name in enumerate(header, start=1):
        letter = get_column_letter(index)
        cells = sheet[letter][1:]
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            elif name in _RATES and cell.value is not None:
                cell.number_format = "0.0%"
        width = max([len(str(name)), *(_width(c.value) for c in cells)])
        sheet.column_dimensions[letter].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    # openpyxl stamps the wall clock otherwise; the export's own time keeps the file
    # reproducible (Office Open XML core properties are UTC).
    stamp = now.replace(tzinfo=None, microsecond=0)
    book.properties.created = book.properties.modified = stamp
    book.properties.title = sheet.title
    out = io.BytesIO()
    book.save(out)
    return _dated(out.getvalue(), stamp)


def _dated(xlsx: bytes, when: datetime) -> bytes:
    """The file with every zip entry dated ``when``: openpyxl dates them by the wall clock,
    so two exports a second apart differed in their bytes."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = info.external_attr
                target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def _width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    text = str(value)
    # A Chinese character takes about two columns of a Latin one.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
