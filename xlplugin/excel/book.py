"""The same marks through the xlwings object model: functions that take an `xw.Book`.

These are what the ribbon buttons call with `xw.Book.caller()` on the desktop and what
the server calls with `xw.Book(json=...)` (the remote engine behind Office.js and
RunServerPython).  They read the sheets' values through xlwings, run the same
recognition and rules as the command line, and write the same plan (marks.py):
fills, notes and the 审核结果 sheet.

What the remote engine cannot do is worked around, not faked: it sends values only
(header spans are inferred by the recogniser), it cannot read a cell's colour or a
note's text (so an existing note of the user is left as it is and only the fill is
recorded for undo), and it has no autofilter (the desktop gets one through the COM API).
"""

from __future__ import annotations

from typing import Any

from ..io.readers import MAX_CELLS, WorkbookReadError, too_large
from ..marks import (
    COLUMNS,
    LINK_COLUMN,
    RESULT_WIDTHS,
    UNDO_SHEET,
    MarkPlan,
    is_result_title,
    may_be_result_sheet,
    plan_marks,
    restored_note,
    result_sheet_name,
    sheet_reference,
    stored_fill_rgb,
)
from ..model import Sheet, WorkbookReport
from ..rules.validate import load_rules, validate_inspection
from ..specs import DEFAULT_YEAR, load_year
from ..tables.layout import SheetLayout
from ..tables.recognize import recognize
from ..text import a1, column_letter

_UNKNOWN = "unknown"  # a fill the engine could not read: cleared to no fill


def read_sheets(book: Any) -> list[Sheet]:
    """The workbook's sheets as neutral grids (values from A1; no merge information)."""
    sheets = []
    for sheet in book.sheets:
        if sheet.name == UNDO_SHEET or _is_result_sheet(sheet):
            continue
        last = sheet.used_range.last_cell
        if last.row * last.column > MAX_CELLS:  # one stray value in XFD1048576: billions of cells to ask Excel for
            raise WorkbookReadError(book.name, too_large(sheet.name, last.row, last.column))
        values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value or [[]]
        sheets.append(Sheet(sheet.name, [list(row) for row in values], hidden=not _visible(sheet)))
    return sheets


def validate_book(book: Any, year: int = DEFAULT_YEAR, catalogs: tuple = (), rules_file: str | None = None) -> WorkbookReport:
    """Validate the open workbook and mark it (old marks are removed first)."""
    clear_book(book)
    spec = load_year(year, catalogs)
    inspection = recognize(read_sheets(book), spec, book.name, "xlwings")
    report = validate_inspection(inspection, spec, load_rules(year, rules_file))
    mark_book(book, plan_marks(report))
    return report


def mark_book(book: Any, plan: MarkPlan) -> None:
    names = [s.name for s in book.sheets]
    undo_rows: list[list[object]] = [["xlplugin", "what the marks replaced; used by clear"], ["active", names.index(book.sheets.active.name)]]
    for mark in plan.cells.values():
        if mark.sheet not in names:
            continue
        cell = book.sheets[mark.sheet].range(mark.cell)
        note = cell.note
        user_note = _read_note(note)
        kept = "kept" if note is not None and user_note is None else None  # remote: a note we cannot read is left alone
        undo_rows.append(["cell", mark.sheet, mark.cell, _read_fill(cell), user_note, None, kept])
        cell.color = "#" + mark.fill
        if not mark.note:
            continue
        if note is None:
            try:
                cell.add_note(mark.note)
            except NotImplementedError:  # the VBA client of RunServerPython (server mode) cannot add notes:
                pass  # the cell is filled, and the 审核结果 sheet says what is wrong there
        elif user_note is not None:  # desktop: the user's note stays readable under ours
            note.text = f"{mark.note}\n\n——原批注——\n{user_note}"
    result = _write_result_sheet(book, plan)
    undo = book.sheets.add(UNDO_SHEET, after=book.sheets[-1])
    width = max(len(r) for r in undo_rows)
    undo.range("A1").value = [r + [None] * (width - len(r)) for r in undo_rows]
    undo.visible = False
    result.activate()


def clear_book(book: Any) -> bool:
    """Remove xlplugin's marks from the open workbook; False when there were none."""
    names = [s.name for s in book.sheets]
    if UNDO_SHEET not in names:
        return _remove_result_sheets(book)
    undo = book.sheets[UNDO_SHEET]
    rows = undo.used_range.options(ndim=2).value
    active = 0
    for row in rows:
        row = list(row) + [None] * 7
        if row[0] == "active":
            active = int(row[1])
        elif row[0] in ("cell", "cells") and row[1] in names:
            for address in str(row[2]).split():  # "cells" (written by `--annotate`): several cells, no note before
                cell = book.sheets[row[1]].range(address)
                cell.color = _fill_colour(row[3])
                if row[6] == "kept" or cell.note is None:
                    continue
                text = restored_note(row[4], _read_note(cell.note))  # what the user wrote since stays (desktop)
                if text is not None:
                    cell.note.text = text
                else:
                    cell.note.delete()
    undo.delete()
    _remove_result_sheets(book)
    remaining = book.sheets
    remaining[min(active, len(remaining) - 1)].activate()
    return True


def insert_template(book: Any, layouts: list[SheetLayout]) -> list[str]:
    """Add the template's sheets (tables/layout.py) to the workbook, after its last sheet."""
    added = []
    taken = {s.name for s in book.sheets}
    for layout in layouts:
        name = layout.name if layout.name not in taken else f"{layout.name}(2)"
        sheet = book.sheets.add(name, after=book.sheets[-1])
        _render(sheet, layout)
        added.append(name)
    book.sheets[added[0]].activate()
    return added


def _render(sheet: Any, layout: SheetLayout) -> None:
    height = max(c.row for c in layout.cells) + 1
    grid: list[list[object]] = [[None] * layout.width for _ in range(height)]
    for cell in layout.cells:
        if cell.value is not None and cell.col < layout.width:
            grid[cell.row][cell.col] = cell.value
    for cell in layout.cells:
        if cell.style == "code":
            sheet.range(a1(cell.row, cell.col)).number_format = "@"
    sheet.range("A1").value = grid
    for r0, c0, r1, c1 in layout.merges:
        sheet.range(f"{a1(r0, c0)}:{a1(r1, c1)}").merge()
    first, last = layout.header_rows
    header = sheet.range(f"{a1(first, 0)}:{a1(last, layout.width - 1)}")
    header.font.bold = True
    sheet.range("A1").font.bold = True
    sheet.range("A1").font.size = 16
    amounts = sorted({(c.row, c.col) for c in layout.cells if c.style == "amount"})
    if amounts:
        sheet.range(f"{a1(amounts[0][0], 0)}:{a1(amounts[-1][0], layout.width - 1)}").number_format = "#,##0.00"
    for col, width in layout.widths.items():
        sheet.range(f"{column_letter(col)}1").column_width = width


def _is_result_sheet(sheet: Any) -> bool:
    return may_be_result_sheet(sheet.name) and is_result_title(sheet.range("A1").value)


def _remove_result_sheets(book: Any) -> bool:
    """Delete our 审核结果 sheet (or 审核结果1 …, beside a user's 审核结果); False when there is none."""
    ours = [sheet for sheet in book.sheets if _is_result_sheet(sheet)]
    for sheet in ours:
        sheet.delete()
    return bool(ours)


def _write_result_sheet(book: Any, plan: MarkPlan) -> Any:
    sheet = book.sheets.add(result_sheet_name([s.name for s in book.sheets]), before=book.sheets[0])
    rows = [list(line) + [None] * (len(COLUMNS) - len(line)) for line in plan.head]
    rows += [row.values for row in plan.rows]
    sheet.range("A1").value = rows
    first = plan.header_row  # 0-based row of the findings header
    sheet.range("A1").font.bold = True
    sheet.range(f"{a1(first, 0)}:{a1(first, len(COLUMNS) - 1)}").font.bold = True
    for offset, row in enumerate(plan.rows):
        if row.link:
            target = sheet.range(a1(first + offset, LINK_COLUMN))
            target.add_hyperlink("#" + sheet_reference(*row.link), text_to_display=str(row.values[LINK_COLUMN]))
    for col, width in enumerate(RESULT_WIDTHS):
        sheet.range(f"{column_letter(col)}1").column_width = width
    sheet.freeze_panes.freeze_at(f"1:{first + 1}")
    _autofilter(sheet, f"A{first + 1}:{column_letter(len(COLUMNS) - 1)}{first + len(plan.rows)}")
    return sheet


def _autofilter(sheet: Any, address: str) -> None:
    try:
        sheet.range(address).api.AutoFilter(1)
    except (NotImplementedError, AttributeError, TypeError):
        pass  # the remote engine has no autofilter; the desktop (COM) does


def _visible(sheet: Any) -> bool:
    """Whether the sheet is shown; shown when the engine cannot say (the remote engine reads the
    sheet's "visibility", which xlwings' own RunServerPython client does not send)."""
    try:
        return bool(sheet.visible)
    except (NotImplementedError, KeyError, AttributeError):
        return True


def _read_fill(cell: Any) -> str:
    try:
        colour = cell.color
    except NotImplementedError:
        return _UNKNOWN
    if colour is None:
        return "none"
    r, g, b = colour
    return f"rgb:{r:02X}{g:02X}{b:02X}"


def _fill_colour(stored: object) -> str | None:
    rgb = stored_fill_rgb(stored)
    return None if rgb is None else "#" + rgb


def _read_note(note: Any) -> str | None:
    if note is None:
        return None
    try:
        return note.text
    except NotImplementedError:
        return None
