"""The batch summary as a file a reviewer opens in Excel or WPS: .xlsx, or .csv (UTF-8 with a
byte-order mark, without which Excel reads Chinese text in the system's code page)."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..io.files import atomic_target
from ..text import printable

SUFFIXES = (".xlsx", ".csv")
SHEET = "审核汇总"
_SHEET_NAMES = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?sheet\s[^>]*?name=["']([^"']*)["']""")
_WIDTHS = (6, 60, 36, 8, 8, 40)


def write_summary(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], total: str, into: Path | None = None) -> None:
    """Header, one row per workbook (numbers as numbers), then the totals line, as `path`'s name
    says (.xlsx or .csv); written atomically, or into the file `into` when the caller replaces
    `path` with it."""
    if into is None:
        with atomic_target(path) as temporary:
            write_summary(path, header, rows, total, temporary)
    elif path.suffix.lower() == ".xlsx":
        _xlsx(into, header, rows, total)
    else:
        with into.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerows([header, *rows, [], [total]])


def _xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], total: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for number, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:  # a worksheet cell cannot hold most control characters (a tab or newline it can)
        sheet.append([printable(v) if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v) else v for v in row])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"  # sort and filter by 状态 at once
    sheet.append([])
    sheet.append([total])
    book.save(path)


def is_summary(path: str | Path) -> bool:
    """The .xlsx is a summary table that --summary wrote: its only sheet is 审核汇总."""
    try:
        with zipfile.ZipFile(path) as package:
            return _SHEET_NAMES.findall(package.read("xl/workbook.xml")) == [SHEET.encode()]
    except Exception:  # not readable as a package: not ours, and the check will say what it is
        return False
