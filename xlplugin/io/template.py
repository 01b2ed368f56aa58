"""Render table layouts (tables/layout.py) into an .xlsx file with openpyxl.

Used by `xlplugin template` (the blank nine sheets) and by the sample builder (the
same sheets filled in).  The file is written to a temporary name beside the target
and renamed, so an interrupted run never leaves half a workbook.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from ..specs import DEFAULT_YEAR, YearSpec, load_year
from ..tables.layout import SheetLayout, sheet_layout
from ..text import a1, column_letter
from .files import atomic_target

FONT = "宋体"
AMOUNT_FORMAT = "#,##0.00"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_STYLES = {
    "title": (Font(name=FONT, size=16, bold=True), Alignment(horizontal="center", vertical="center")),
    "number_label": (Font(name=FONT, size=10), Alignment(horizontal="right")),
    "meta": (Font(name=FONT, size=10), Alignment(horizontal="left")),
    "meta_right": (Font(name=FONT, size=10), Alignment(horizontal="right")),
    "header": (Font(name=FONT, size=10, bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)),
    "lanci": (Font(name=FONT, size=10), Alignment(horizontal="center")),
    "label": (Font(name=FONT, size=10), Alignment(horizontal="left", vertical="center")),
    "code": (Font(name=FONT, size=10), Alignment(horizontal="left", vertical="center")),
    "amount": (Font(name=FONT, size=10), Alignment(horizontal="right", vertical="center")),
    "note": (Font(name=FONT, size=10), Alignment(horizontal="left", wrap_text=True)),
}
_BORDERED = {"header", "lanci", "label", "code", "amount"}
_HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")


def template_layouts(spec: YearSpec, unit: str = "", content: dict | None = None) -> list[SheetLayout]:
    """The nine sheet layouts of the year, filled from `content` (table name → content) if given."""
    content = content or {}
    return [sheet_layout(t, spec, unit=unit, content=content.get(t.name)) for t in spec.tables]


def write_template(path: str | Path, year: int = DEFAULT_YEAR, unit: str = "", catalogs: tuple[str | Path, ...] = ()) -> Path:
    """Write the blank nine-sheet template for `unit` to `path`."""
    spec = load_year(year, catalogs)
    return write_layouts(path, template_layouts(spec, unit))


def write_layouts(path: str | Path, layouts: list[SheetLayout], extra: list[tuple[str, list[list[object]]]] = ()) -> Path:
    """Render `layouts` (one sheet each) plus plain `extra` sheets, atomically."""
    book = Workbook()
    book.remove(book.active)
    for layout in layouts:
        render(book.create_sheet(layout.name), layout)
    for name, rows in extra:
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                set_value(sheet.cell(row=r, column=c), value)
        for cell in sheet[1]:
            cell.font = Font(name=FONT, bold=True)
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 60
    return save_atomically(book, Path(path))


def render(sheet: Worksheet, layout: SheetLayout) -> None:
    for item in layout.cells:
        cell = sheet.cell(row=item.row + 1, column=item.col + 1)
        if item.value is not None:
            set_value(cell, item.value)
        font, alignment = _STYLES[item.style]
        cell.font, cell.alignment = font, alignment
        if item.style in _BORDERED:
            cell.border = _BORDER
        if item.style == "header":
            cell.fill = _HEADER_FILL
        if item.style == "amount":
            cell.number_format = AMOUNT_FORMAT
        if item.style == "code":
            cell.number_format = "@"
    for r0, c0, r1, c1 in layout.merges:
        sheet.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    for col, width in layout.widths.items():
        sheet.column_dimensions[column_letter(col)].width = width
    sheet.row_dimensions[1].height = 30
    first, last = layout.header_rows
    sheet.freeze_panes = a1(*layout.freeze)
    sheet.print_title_rows = f"{first + 1}:{last + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True


def set_value(cell, value: object) -> None:
    """Write a value; text that starts with = stays text (openpyxl would make it a formula)."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def save_atomically(book: Workbook, path: Path) -> Path:
    """Save to a temporary file beside `path`, then rename it over `path`."""
    with atomic_target(path) as temporary:
        book.save(temporary)
    return path
