"""Test support for xlwings' *remote* engine (the one behind ``xw.Book(json=...)``).

Two functions stand in for the Excel side of a round trip, so plugin code that
drives a remote ``xw.Book`` can be tested without Excel:

* ``payload_from_file(path)`` builds the request body the xlwings Office.js client
  sends (``getBookData``) from an .xlsx on disk, ready for ``xw.Book(json=...)``.
* ``apply_actions(actions, book)`` applies the actions that ``book.json()`` returns
  to an openpyxl workbook, the way the Office.js client's callbacks apply them
  to Excel.

Sources the formats follow (xlwings 0.37.8 as installed in .venv):

* Python side, which reads the payload and emits the actions:
  ``xlwings/pro/_xlremote.py``.  Action layout: ``Book.append_json_action``
  (l. 881-896); range actions add ``sheet_position``/``start_row``/
  ``start_column``/``row_count``/``column_count`` 0-based (``Range.append_json_action``
  l. 1626-1642); sheet actions add ``sheet_position`` only (l. 1140-1148).
  Payload keys read: ``Book.__init__`` (l. 862-879, ``version``/``client``),
  ``Sheets.add`` (l. 1083-1124, the keys of a sheet entry), ``Sheet.used_range``
  (l. 1442-1470), ``Range.note``/``add_note`` (l. 2029-2045), ``Name`` (l. 2959-3043),
  values cleaning (``_clean_value_data_element`` l. 487-524: "" is empty, ISO
  strings ending in Z are datetimes, ``#DIV/0!`` etc. are errors).
* Clients shipped in the package: ``xlwings/js/xlwings.ts`` (Office Scripts, payload
  l. 114-258, ``getRange`` = ``getRangeByIndexes(start_row, start_column, row_count,
  column_count)`` l. 346-355, callbacks l. 375-702), ``xlwings/js/xlwings.js``
  (Google Apps Script, ``getRange`` adds 1 to the 0-based indices, l. 238-251) and
  ``xlwings/addin/Remote.bas`` (VBA ``RunServerPython``, payload l. 89-258,
  ``GetRange`` l. 364-381).
* The Office.js client itself isn't shipped in the wheel; it lives in
  xlwings-server (``app/static/js/core/xlwingsjs/xlwings.js``): ``getBookData``
  builds the payload, ``runActions`` calls ``globalThis.callbacks[action.func]``
  in order, one callback per action name.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.formula.translate import Translator
from openpyxl.styles import PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink

# xlwings registers its remote engine at import time, and only with a license key.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
import xlwings  # noqa: E402

if "remote" not in xlwings.engines.engines_by_name:  # xlwings was imported before the key was set
    from xlwings.pro import _xlofficejs, _xlremote  # noqa: E402

    xlwings.engines.add(xlwings.Engine(impl=_xlremote.engine))
    xlwings.engines.add(xlwings.Engine(impl=_xlofficejs.engine))
    xlwings.__pro__ = True

__all__ = ["payload_from_file", "apply_actions", "REMOTE_ACTIONS", "SUPPORTED_ACTIONS"]

MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
# Range formatting/value actions on more cells than this (whole rows/columns) aren't
# emulated cell by cell.
_MAX_CELLS = 2_000_000

# --------------------------------------------------------------------------------------
# Payload (Office.js getBookData)
# --------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_CALC_MODES = {"auto": "Automatic", "manual": "Manual", "autoNoTable": "AutomaticExceptTables"}
_VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}


def _js_iso(value: dt.datetime) -> str:
    """``new Date(ms).toISOString()``: UTC, millisecond precision, trailing Z."""
    value = value.replace(tzinfo=None)
    ms = round(value.microsecond / 1000)
    value = value.replace(microsecond=0) + dt.timedelta(milliseconds=ms)
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def _to_json_value(value: Any) -> Any:
    """One cell as Office.js ``range.values`` reports it (after the client's date fix-up).

    Empty -> "" (Office.js never sends null for a book's cells); numbers and bools as is;
    errors as their text ("#DIV/0!"); cells whose number format category is Date/Time
    -> ``toISOString()`` of the serial, which is why a time-only cell arrives as
    1899-12-30T..Z.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime):
        return _js_iso(value)
    if isinstance(value, dt.date):
        return _js_iso(dt.datetime.combine(value, dt.time()))
    if isinstance(value, dt.time):
        return _js_iso(dt.datetime.combine(_EXCEL_EPOCH.date(), value))
    if isinstance(value, dt.timedelta):
        return _js_iso(_EXCEL_EPOCH + value)
    try:  # Decimal and friends
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _address(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    """Office.js-style unqualified address: no $, and "A1" rather than "A1:A1"."""
    first = f"{get_column_letter(min_col)}{min_row}"
    if (min_col, min_row) == (max_col, max_row):
        return first
    return f"{first}:{get_column_letter(max_col)}{max_row}"


def _strip_address(address: str) -> str:
    """'Sheet 1'!$A$1:$B$2 -> A1:B2 (what Office.js' ``unqualifiedAddress`` sends)."""
    return address.rsplit("!", 1)[-1].replace("$", "")


_AREA = re.compile(r"(?:'(?:[^']|'')*'|[^',!]+)!(\$?[A-Z]*\$?\d*(?::\$?[A-Z]*\$?\d*)?)")


def _print_area(ws) -> str | None:
    text = ws.print_area
    if not text:
        return None
    areas = [m.replace("$", "") for m in _AREA.findall(text)] or [_strip_address(text)]
    return ",".join(areas)


def _values_extent(ws) -> tuple[int, int, int, int] | None:
    """(min_row, min_col, max_row, max_col) of the cells holding a value -- Office.js' values-only used
    range (``getUsedRangeOrNullObject(true)``), not openpyxl's styled ``dimensions``."""
    rows = cols = 0
    min_row = min_col = None
    for (row, col), cell in ws._cells.items():
        if cell.value is None or cell.value == "":
            continue
        rows, cols = max(rows, row), max(cols, col)
        min_row = row if min_row is None else min(min_row, row)
        min_col = col if min_col is None else min(min_col, col)
    if not rows:
        return None
    return min_row, min_col, rows, cols


def _names(wb) -> list[dict]:
    """Named ranges: book scope first, then each sheet's (as getBookData orders them).

    Like the client, only names that refer to a range are sent; a multi-area name is
    sent with sheet_index/address None.  Built-in ``_xlnm.*`` names are skipped.
    """
    sheet_ix = {ws.title: ix for ix, ws in enumerate(wb.worksheets)}

    def entry(dn, scope_ws):
        if dn.name.startswith("_xlnm.") or dn.is_reserved:
            return None
        if dn.type != "RANGE":
            return None  # a constant or a formula: Office.js' NamedItemType isn't "Range"
        # openpyxl strips the quotes around a sheet name but leaves '' doubled
        dests = [(title.replace("''", "'"), ref) for title, ref in dn.destinations]
        if len(dests) == 1 and dests[0][0] in sheet_ix:
            sheet_index, address = sheet_ix[dests[0][0]], _strip_address(dests[0][1])
        else:
            sheet_index, address = None, None
        return {
            "name": dn.name,
            "sheet_index": sheet_index,
            "address": address,
            "scope_sheet_name": None if scope_ws is None else scope_ws.title,
            "scope_sheet_index": None if scope_ws is None else sheet_ix[scope_ws.title],
            "book_scope": scope_ws is None,
            "refers_to": f"={dn.attr_text}",
        }

    out = [entry(dn, None) for dn in wb.defined_names.values()]
    for ws in wb.worksheets:
        out += [entry(dn, ws) for dn in ws.defined_names.values()]
    return [e for e in out if e is not None]


def _tables(ws) -> list[dict]:
    out = []
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        headers = bool(table.headerRowCount if table.headerRowCount is not None else 1)
        totals = bool(table.totalsRowCount)
        body_first = min_row + (1 if headers else 0)
        body_last = max_row - (1 if totals else 0)
        style = table.tableStyleInfo
        out.append(
            {
                "name": table.displayName or table.name,
                "range_address": _address(min_col, min_row, max_col, max_row),
                "row_count": max_row - min_row + 1,
                "column_count": max_col - min_col + 1,
                "columns": [column.name for column in table.tableColumns],
                "header_row_range_address": _address(min_col, min_row, max_col, min_row) if headers else None,
                "data_body_range_address": _address(min_col, body_first, max_col, max(body_first, body_last)),
                "total_row_range_address": _address(min_col, max_row, max_col, max_row) if totals else None,
                "show_headers": headers,
                "show_totals": totals,
                "table_style": style.name if style is not None and style.name else "",
                "show_autofilter": table.autoFilter is not None,
                "show_table_style_first_column": bool(style and style.showFirstColumn),
                "show_table_style_last_column": bool(style and style.showLastColumn),
                "show_table_style_row_stripes": bool(style and style.showRowStripes),
                "show_table_style_column_stripes": bool(style and style.showColumnStripes),
            }
        )
    return out


def _sheet_payload(ws) -> dict:
    extent = _values_extent(ws)
    if extent is None:
        # Empty sheet: no used range; the values window falls back to A1 (1x1).
        used_address, used_rows, used_cols, values = None, 0, 0, [[""]]
    else:
        min_row, min_col, max_row, max_col = extent
        used_address = _address(min_col, min_row, max_col, max_row)
        used_rows, used_cols = max_row - min_row + 1, max_col - min_col + 1
        # Values always start at A1 (the engine slices them by 1-based coordinates),
        # up to the used range's last cell.
        grid = [[""] * max_col for _ in range(max_row)]
        for (row, col), cell in ws._cells.items():
            if row <= max_row and col <= max_col and not isinstance(cell, MergedCell):
                grid[row - 1][col - 1] = _to_json_value(cell.value)
        values = grid
    notes = [{"address": cell.coordinate} for _, cell in sorted(ws._cells.items()) if getattr(cell, "comment", None) is not None]
    show_gridlines = ws.sheet_view.showGridLines
    return {
        "name": ws.title,
        "visibility": _VISIBILITY.get(ws.sheet_state, "Visible"),
        "print_area": _print_area(ws),
        "notes": notes,
        "notes_supported": True,
        "used_range_address": used_address,
        "used_range_row_count": used_rows,
        "used_range_column_count": used_cols,
        "values": values,
        "pictures": [],
        "shapes": [],
        "charts": [],
        "tables": _tables(ws),
        "show_gridlines": True if show_gridlines is None else bool(show_gridlines),
        "pivot_tables": [],
    }


def _selection(ws) -> str | None:
    try:
        sqref = str(ws.sheet_view.selection[0].sqref or "A1")
    except (IndexError, AttributeError):
        return "A1"
    # A multi-area selection makes getSelectedRange() throw -> the client sends null.
    return None if " " in sqref.strip() else sqref.replace("$", "")


def payload_from_file(path: str | Path) -> dict:
    """The JSON body xlwings' Office.js client sends for the whole workbook at ``path``.

    Read with openpyxl (``data_only=True``: formulas contribute their cached values, or
    "" when the file has none, e.g. one written by openpyxl).  The result went through
    ``json.dumps``/``json.loads``, so it holds only what crosses the wire.  Pass it to
    ``xw.Book(json=payload)``; note the engine keeps (and mutates) the dict it's given.
    """
    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    worksheets = wb.worksheets
    active = wb.active if wb.active in worksheets else worksheets[0]
    calc_mode = wb.calculation.calcMode if wb.calculation is not None else None
    payload = {
        "client": "Office.js",
        "version": xlwings.__version__,
        "book": {
            "name": path.name,
            "active_sheet_index": worksheets.index(active),
            "selection": _selection(active),
            "calculation": _CALC_MODES.get(calc_mode or "auto", "Automatic"),
        },
        "names": _names(wb),
        "sheets": [_sheet_payload(ws) for ws in worksheets],
    }
    return json.loads(json.dumps(payload, ensure_ascii=False))


# --------------------------------------------------------------------------------------
# Actions (Office.js runActions)
# --------------------------------------------------------------------------------------

# Every action name xlwings/pro/_xlremote.py (0.37.8) can emit.
REMOTE_ACTIONS = frozenset(
    """
    activateSheet addChart addComment addCommentReply addConditionalFormat addHyperlink
    addNote addPicture addPivotField addPivotTable addPivotValueField addSheet addTable
    addTableColumn addTableRow alert applyAutoFilterRange applyAutoFilterTable calculate
    chartToPng clearAutoFilterRange clearAutoFilterTable clearConditionalFormats
    copyFromRange copyRange copySheet deleteChart deleteComment deleteConditionalFormat
    deleteDataValidation deleteNote deletePicture deletePivotTable deleteShape
    deleteTableColumn deleteTableRow freezePaneAtRange freezePaneUnfreeze moveRange
    nameDelete namesAdd rangeAdjustIndent rangeAutofill rangeClear rangeClearContents
    rangeClearFormats rangeDelete rangeGroup rangeInsert rangeMerge rangeRemoveDuplicates
    rangeReplaceAll rangeSelect rangeSort rangeToPng rangeUngroup rangeUnmerge
    refreshPivotTable removePivotField removePivotValueField resizeTable runMacro save
    scaleShape setAutofit setBorderProperty setCalculation setChartAxis setChartLegend
    setChartName setChartPlotBy setChartPosition setChartSeries setChartSourceData
    setChartStyle setChartTitle setChartType setChartXAxisValues setColumnHidden
    setColumnWidth setCommentResolved setCommentText setConditionalFormat
    setDataValidationList setDataValidationRule setFontProperty setFormula
    setFormulaArray setHorizontalAlignment setNameRefersTo setNoteText setNumberFormat
    setPictureHeight setPictureLeft setPictureLockAspectRatio setPictureName
    setPictureTop setPictureWidth setPivotLayout setPivotTableName setPivotValueField
    setPrintArea setRangeColor setRangeColors setRangeName setRowHeight setRowHidden
    setScreenUpdating setShapeFontProperty setShapeHeight setShapeLeft setShapeName
    setShapeText setShapeTop setShapeWidth setSheetAutofit setSheetName setSheetPosition
    setSheetVisibility setShowGridlines setTableName setTableStyle setValues
    setVerticalAlignment setWrapText sheetClear sheetClearContents sheetClearFormats
    sheetDelete showAutofilterTable showHeadersTable showTableStyleColumnStripes
    showTableStyleFirstColumn showTableStyleLastColumn showTableStyleRowStripes
    showTotalsTable tableSort updatePicture
    """.split()
)

NOTE_AUTHOR = "xlwings"

_HEX = re.compile(r"#?([0-9A-Fa-f]{6})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?)?")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BAD_SHEET_CHARS = set("[]:*?/\\")


class _Ctx:
    def __init__(self, book, action: dict, note_author: str, excel_input: bool):
        self.book = book
        self.action = action
        self.args = action.get("args") or []
        self.note_author = note_author
        self.excel_input = excel_input

    def arg(self, ix: int, default: Any = None) -> Any:
        return self.args[ix] if ix < len(self.args) else default

    @property
    def ws(self):
        pos = self.action.get("sheet_position")
        if pos is None:
            raise ValueError(f"{self.action['func']}: action has no sheet_position")
        return self.book.worksheets[pos]

    # 0-based start + counts, as getRangeByIndexes takes them -> 1-based bounds
    @property
    def bounds(self) -> tuple[int, int, int, int]:
        a = self.action
        r, c = a["start_row"] + 1, a["start_column"] + 1
        return r, c, r + a["row_count"] - 1, c + a["column_count"] - 1

    def cells(self) -> Iterator[tuple[int, int]]:
        r1, c1, r2, c2 = self.bounds
        if (r2 - r1 + 1) * (c2 - c1 + 1) > _MAX_CELLS:
            raise NotImplementedError(f"{self.action['func']}: whole-row/column ranges aren't emulated cell by cell")
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                yield r, c


def _argb(color: str) -> str:
    m = _HEX.fullmatch(str(color))
    if not m:
        raise ValueError(f"not a #RRGGBB colour: {color!r} (Office.js would reject it too)")
    return "FF" + m.group(1).upper()


def _bounds_of(address: str) -> tuple[int, int, int, int]:
    """'$A$1:$B$2', 'A:C', '1:3' -> 1-based (min_row, min_col, max_row, max_col)."""
    min_col, min_row, max_col, max_row = range_boundaries(_strip_address(address))
    return min_row or 1, min_col or 1, max_row or MAX_ROWS, max_col or MAX_COLUMNS


def _excel_typed(value: str, number_format: str) -> Any:
    """What Excel stores when Office.js assigns a string to ``range.values``: it parses
    it like typed input.  Emulated for the forms that matter here: numbers, and the ISO
    dates xlwings sends for date/datetime values ("2024-01-02", "2024-01-02 03:04:05").
    Cells formatted as text ("@") keep the string."""
    if number_format == "@" or not value or value.startswith("="):
        return value
    if _NUMBER.fullmatch(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    m = _ISO_DATE.fullmatch(value)
    if m:
        y, mo, d, h, mi, s, frac = m.groups()
        try:
            return dt.datetime(
                int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), int((frac or "0")[:6].ljust(6, "0"))
            )
        except ValueError:
            return value
    return value


def _write(ctx: _Ctx, ws, r: int, c: int, value: Any) -> None:
    cell = ws.cell(row=r, column=c)
    if value == "" or value is None:
        value = None
    elif isinstance(value, str) and ctx.excel_input:
        value = _excel_typed(value, cell.number_format)
    if isinstance(cell, MergedCell):
        if value is None:
            return
        raise ValueError(
            f"{ctx.action['func']}: {ws.title}!{cell.coordinate} is hidden inside a merged area; write to its top-left cell"
        )
    cell.value = value


def _matrix(ctx: _Ctx, values: Any) -> list[list[Any]]:
    r1, c1, r2, c2 = ctx.bounds
    nrows, ncols = r2 - r1 + 1, c2 - c1 + 1
    if not isinstance(values, list):
        return [[values] * ncols for _ in range(nrows)]
    if len(values) != nrows or any(not isinstance(row, list) or len(row) != ncols for row in values):
        raise ValueError(f"{ctx.action['func']}: values don't match the {nrows}x{ncols} range (Office.js would throw)")
    return values


# ---- values ---------------------------------------------------------------------------


def _set_values(ctx: _Ctx) -> None:
    ws, (r1, c1, _, _) = ctx.ws, ctx.bounds
    for i, row in enumerate(_matrix(ctx, ctx.action.get("values"))):
        for j, value in enumerate(row):
            _write(ctx, ws, r1 + i, c1 + j, value)


def _set_formula(ctx: _Ctx) -> None:
    ws, (r1, c1, _, _) = ctx.ws, ctx.bounds
    values = ctx.action.get("values")
    if not isinstance(values, list) and isinstance(values, str) and values.startswith("="):
        # One formula for a bigger range: Excel fills it and shifts relative references.
        origin = f"{get_column_letter(c1)}{r1}"
        for r, c in ctx.cells():
            ws.cell(row=r, column=c).value = Translator(values, origin=origin).translate_formula(f"{get_column_letter(c)}{r}")
        return
    for i, row in enumerate(_matrix(ctx, values)):
        for j, value in enumerate(row):
            _write(ctx, ws, r1 + i, c1 + j, value)


def _set_formula_array(ctx: _Ctx) -> None:
    r1, c1, r2, c2 = ctx.bounds
    ref = _address(c1, r1, c2, r2)
    ctx.ws.cell(row=r1, column=c1).value = ArrayFormula(ref if ":" in ref else f"{ref}:{ref}", str(ctx.arg(0)))


def _clear_contents(ws, cells) -> None:
    for r, c in cells:
        cell = ws.cell(row=r, column=c)
        if not isinstance(cell, MergedCell):
            cell.value = None


def _clear_formats(ws, cells, bounds=None) -> None:
    for r, c in cells:
        ws.cell(row=r, column=c)._style = StyleArray()
    # Clearing formats unmerges, as Excel's Clear Formats does.
    for merged in list(ws.merged_cells.ranges):
        if bounds is None or (
            bounds[0] <= merged.min_row
            and merged.max_row <= bounds[2]
            and bounds[1] <= merged.min_col
            and merged.max_col <= bounds[3]
        ):
            ws.unmerge_cells(merged.coord)


def _clear_all(ws, cells, bounds=None) -> None:
    cells = list(cells)
    _clear_contents(ws, cells)
    for r, c in cells:
        cell = ws.cell(row=r, column=c)
        if not isinstance(cell, MergedCell):
            cell.hyperlink = None
    _clear_formats(ws, cells, bounds)


def _range_clear_contents(ctx: _Ctx) -> None:
    _clear_contents(ctx.ws, ctx.cells())


def _range_clear_formats(ctx: _Ctx) -> None:
    _clear_formats(ctx.ws, ctx.cells(), ctx.bounds)


def _range_clear(ctx: _Ctx) -> None:
    _clear_all(ctx.ws, ctx.cells(), ctx.bounds)


def _sheet_cells(ws) -> list[tuple[int, int]]:
    return list(ws._cells.keys())


def _sheet_clear_contents(ctx: _Ctx) -> None:
    _clear_contents(ctx.ws, _sheet_cells(ctx.ws))


def _sheet_clear_formats(ctx: _Ctx) -> None:
    _clear_formats(ctx.ws, _sheet_cells(ctx.ws))


def _sheet_clear(ctx: _Ctx) -> None:
    _clear_all(ctx.ws, _sheet_cells(ctx.ws))


# ---- formats --------------------------------------------------------------------------


def _set_range_color(ctx: _Ctx) -> None:
    color = ctx.arg(0)
    fill = PatternFill(fill_type=None) if color is None else PatternFill(fill_type="solid", fgColor=_argb(color))
    for r, c in ctx.cells():
        ctx.ws.cell(row=r, column=c).fill = copy.copy(fill)


def _set_range_colors(ctx: _Ctx) -> None:
    ws, (r1, c1, _, _) = ctx.ws, ctx.bounds
    for i, row in enumerate(_matrix(ctx, ctx.arg(0))):
        for j, color in enumerate(row):
            if color == "keep":
                continue
            fill = PatternFill(fill_type=None) if color is None else PatternFill(fill_type="solid", fgColor=_argb(color))
            ws.cell(row=r1 + i, column=c1 + j).fill = fill


def _set_number_format(ctx: _Ctx) -> None:
    for r, c in ctx.cells():
        ctx.ws.cell(row=r, column=c).number_format = str(ctx.arg(0))


def _set_font_property(ctx: _Ctx) -> None:
    prop, value = ctx.arg(0), ctx.arg(1)
    key = {"bold": "b", "italic": "i", "size": "sz", "color": "color", "name": "name"}.get(prop)
    if key is None:
        raise NotImplementedError(f"setFontProperty: {prop!r}")
    if prop == "color":
        value = _argb(value)
    elif prop in ("bold", "italic"):
        value = bool(value)
    for r, c in ctx.cells():
        cell = ctx.ws.cell(row=r, column=c)
        font = copy.copy(cell.font)
        setattr(font, key, value)
        cell.font = font


def _alignment(ctx: _Ctx, **changes: Any) -> None:
    for r, c in ctx.cells():
        cell = ctx.ws.cell(row=r, column=c)
        alignment = copy.copy(cell.alignment)
        for key, value in changes.items():
            setattr(alignment, key, value)
        cell.alignment = alignment


_HALIGN = {
    "General": "general",
    "Left": "left",
    "Center": "center",
    "Right": "right",
    "Fill": "fill",
    "Justify": "justify",
    "CenterAcrossSelection": "centerContinuous",
    "Distributed": "distributed",
}
_VALIGN = {"Top": "top", "Center": "center", "Bottom": "bottom", "Justify": "justify", "Distributed": "distributed"}


def _set_wrap_text(ctx: _Ctx) -> None:
    _alignment(ctx, wrap_text=bool(ctx.arg(0)))


def _set_horizontal_alignment(ctx: _Ctx) -> None:
    _alignment(ctx, horizontal=_HALIGN[ctx.arg(0)])


def _set_vertical_alignment(ctx: _Ctx) -> None:
    _alignment(ctx, vertical=_VALIGN[ctx.arg(0)])


# Border: the engine sends one setBorderProperty per side and attribute (color, weight,
# line_style); openpyxl has one style per side, so each is combined with what's there.
_STYLE_OF = {
    ("continuous", "hairline"): "hair",
    ("continuous", "thin"): "thin",
    ("continuous", "medium"): "medium",
    ("continuous", "thick"): "thick",
    ("dash", "hairline"): "dashed",
    ("dash", "thin"): "dashed",
    ("dash", "medium"): "mediumDashed",
    ("dash", "thick"): "mediumDashed",
    ("dash_dot", "hairline"): "dashDot",
    ("dash_dot", "thin"): "dashDot",
    ("dash_dot", "medium"): "mediumDashDot",
    ("dash_dot", "thick"): "mediumDashDot",
    ("dash_dot_dot", "hairline"): "dashDotDot",
    ("dash_dot_dot", "thin"): "dashDotDot",
    ("dash_dot_dot", "medium"): "mediumDashDotDot",
    ("dash_dot_dot", "thick"): "mediumDashDotDot",
}
_LINE_OF = {
    "hair": ("continuous", "hairline"),
    "thin": ("continuous", "thin"),
    "medium": ("continuous", "medium"),
    "thick": ("continuous", "thick"),
    "dashed": ("dash", "thin"),
    "mediumDashed": ("dash", "medium"),
    "dashDot": ("dash_dot", "thin"),
    "mediumDashDot": ("dash_dot", "medium"),
    "dashDotDot": ("dash_dot_dot", "thin"),
    "mediumDashDotDot": ("dash_dot_dot", "medium"),
    "dotted": ("dot", "thin"),
    "double": ("double", "thick"),
    "slantDashDot": ("slant_dash_dot", "medium"),
}


def _new_side(side: Side | None, attribute: str, value: Any) -> Side:
    style = side.style if side is not None else None
    color = side.color if side is not None else None
    line, weight = _LINE_OF.get(style, (None, "thin"))
    if attribute == "color":
        return Side(style=style, color=_argb(value))
    if attribute == "weight":
        line = line or "continuous"
        weight = value
    elif attribute == "line_style":
        if value in (None, "none"):
            return Side(style=None)
        line = value
    else:
        raise NotImplementedError(f"setBorderProperty: attribute {attribute!r}")
    if line == "dot":
        style = "hair" if weight == "hairline" else "dotted"
    elif line in ("double", "slant_dash_dot"):
        style = {"double": "double", "slant_dash_dot": "slantDashDot"}[line]
    else:
        style = _STYLE_OF[(line, weight)]
    return Side(style=style, color=color)


def _set_border_property(ctx: _Ctx) -> None:
    side_name, attribute, value = ctx.arg(0), ctx.arg(1), ctx.arg(2)
    r1, c1, r2, c2 = ctx.bounds
    targets: list[tuple[int, int, str]] = []
    for r, c in ctx.cells():
        if side_name == "edge_top" and r == r1:
            targets.append((r, c, "top"))
        elif side_name == "edge_bottom" and r == r2:
            targets.append((r, c, "bottom"))
        elif side_name == "edge_left" and c == c1:
            targets.append((r, c, "left"))
        elif side_name == "edge_right" and c == c2:
            targets.append((r, c, "right"))
        elif side_name == "inside_horizontal":
            targets += [(r, c, "bottom")] * (r < r2) + [(r, c, "top")] * (r > r1)
        elif side_name == "inside_vertical":
            targets += [(r, c, "right")] * (c < c2) + [(r, c, "left")] * (c > c1)
        elif side_name in ("diagonal_down", "diagonal_up"):
            targets.append((r, c, side_name))
    for r, c, attr in targets:
        cell = ctx.ws.cell(row=r, column=c)
        border = copy.copy(cell.border)
        if attr.startswith("diagonal"):
            border.diagonal = _new_side(border.diagonal, attribute, value)
            setattr(border, "diagonalDown" if attr == "diagonal_down" else "diagonalUp", border.diagonal.style is not None)
        else:
            setattr(border, attr, _new_side(getattr(border, attr), attribute, value))
        cell.border = border


def _set_column_width(ctx: _Ctx) -> None:
    # Office.js columnWidth is in points; the file stores character widths
    # (~ pixels / 7 for the default 11pt font, pixels = points * 4/3).
    _, c1, _, c2 = ctx.bounds
    for c in range(c1, c2 + 1):
        ctx.ws.column_dimensions[get_column_letter(c)].width = round(float(ctx.arg(0)) * 4 / 3 / 7, 2)


def _set_row_height(ctx: _Ctx) -> None:
    r1, _, r2, _ = ctx.bounds
    for r in range(r1, min(r2, MAX_ROWS) + 1):
        ctx.ws.row_dimensions[r].height = float(ctx.arg(0))


def _set_row_hidden(ctx: _Ctx) -> None:
    r1, _, r2, _ = ctx.bounds
    for r in range(r1, r2 + 1):
        ctx.ws.row_dimensions[r].hidden = bool(ctx.arg(0))


def _set_column_hidden(ctx: _Ctx) -> None:
    _, c1, _, c2 = ctx.bounds
    for c in range(c1, c2 + 1):
        ctx.ws.column_dimensions[get_column_letter(c)].hidden = bool(ctx.arg(0))


def _display_width(cell) -> float:
    value = cell.value
    if value is None:
        return 0
    if isinstance(value, float | int) and not isinstance(value, bool) and "#,##0" in (cell.number_format or ""):
        m = re.search(r"\.(0+)", cell.number_format)
        decimals = len(m.group(1)) if m else 0
        text = f"{value:,.{decimals}f}"
    else:
        text = str(value)
    longest = max(text.split("\n"), key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest) * (1.1 if cell.font and cell.font.b else 1)


def _autofit(ws, axis: str, bounds: tuple[int, int, int, int] | None) -> None:
    """Approximation: openpyxl has no text metrics. Columns get the widest value's
    character count (CJK counted double) + 2; rows drop their fixed height."""
    merged = {
        (r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)
    }
    r1, c1, r2, c2 = bounds or (1, 1, ws.max_row, ws.max_column)
    if axis == "columns":
        widths: dict[int, float] = {}
        for (r, c), cell in ws._cells.items():
            if r1 <= r <= r2 and c1 <= c <= c2 and (r, c) not in merged:
                widths[c] = max(widths.get(c, 0), _display_width(cell))
        for c, width in widths.items():
            if width:
                ws.column_dimensions[get_column_letter(c)].width = round(width + 2, 2)
    else:
        for r in range(r1, min(r2, ws.max_row) + 1):
            if r in ws.row_dimensions:
                ws.row_dimensions[r].height = None


def _set_autofit(ctx: _Ctx) -> None:
    _autofit(ctx.ws, ctx.arg(0), ctx.bounds)


def _set_sheet_autofit(ctx: _Ctx) -> None:
    _autofit(ctx.ws, ctx.arg(0), None)


def _range_merge(ctx: _Ctx) -> None:
    r1, c1, r2, c2 = ctx.bounds
    if ctx.arg(0):  # across: one merged area per row
        for r in range(r1, r2 + 1):
            if c2 > c1:
                ctx.ws.merge_cells(start_row=r, start_column=c1, end_row=r, end_column=c2)
    elif (r1, c1) != (r2, c2):
        ctx.ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def _range_unmerge(ctx: _Ctx) -> None:
    r1, c1, r2, c2 = ctx.bounds
    for merged in list(ctx.ws.merged_cells.ranges):
        if merged.min_row <= r2 and r1 <= merged.max_row and merged.min_col <= c2 and c1 <= merged.max_col:
            ctx.ws.unmerge_cells(merged.coord)


def _group(ctx: _Ctx, delta: int) -> None:
    r1, c1, r2, c2 = ctx.bounds
    if ctx.arg(0) == "columns":
        for c in range(c1, c2 + 1):
            dim = ctx.ws.column_dimensions[get_column_letter(c)]
            dim.outline_level = max(0, (dim.outline_level or 0) + delta)
    else:
        for r in range(r1, r2 + 1):
            dim = ctx.ws.row_dimensions[r]
            dim.outline_level = max(0, (dim.outline_level or 0) + delta)


def _range_select(ctx: _Ctx) -> None:
    r1, c1, r2, c2 = ctx.bounds
    ws = ctx.ws
    _activate(ctx.book, ctx.book.worksheets.index(ws))
    selection = ws.sheet_view.selection[0]
    selection.activeCell = f"{get_column_letter(c1)}{r1}"
    selection.sqref = _address(c1, r1, c2, r2)


# ---- hyperlinks, notes ----------------------------------------------------------------


def _single_cell(ctx: _Ctx):
    r1, c1, r2, c2 = ctx.bounds
    if (r1, c1) != (r2, c2):
        raise ValueError(f"{ctx.action['func']}: expects a single cell, got {_address(c1, r1, c2, r2)}")
    return ctx.ws.cell(row=r1, column=c1)


def _add_hyperlink(ctx: _Ctx) -> None:
    # args: [address, text_to_display, screen_tip]; Office.js sets range.hyperlink =
    # {address, textToDisplay, screenTip}, which also puts the text in the cell.
    cell = _single_cell(ctx)
    address, text, tip = ctx.arg(0), ctx.arg(1), ctx.arg(2)
    if isinstance(cell, MergedCell):
        raise ValueError(f"addHyperlink: {cell.coordinate} is hidden inside a merged area")
    if str(address).startswith("#"):
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=str(address)[1:], tooltip=tip)
    else:
        cell.hyperlink = str(address)
        if tip is not None:
            cell.hyperlink.tooltip = str(tip)
    cell.value = str(text) if text is not None else str(address)


def _note_cell(ctx: _Ctx):
    ws = ctx.ws
    cell = ws[_strip_address(str(ctx.arg(0)))]
    if isinstance(cell, MergedCell):
        raise ValueError(
            f"{ctx.action['func']}: {ws.title}!{cell.coordinate} is hidden inside a merged area; use its top-left cell"
        )
    return cell


def _add_note(ctx: _Ctx) -> None:
    # args: [address ("$B$2"), text]  (Office.js: worksheet.notes.add(address, text))
    cell = _note_cell(ctx)
    if cell.comment is not None:
        raise ValueError(f"addNote: {ctx.ws.title}!{cell.coordinate} already has a note")
    cell.comment = Comment(str(ctx.arg(1)), ctx.note_author)


def _set_note_text(ctx: _Ctx) -> None:
    # args: [address, text]; the JS callback throws when the cell has no note.
    cell = _note_cell(ctx)
    if cell.comment is None:
        raise ValueError(f"setNoteText: there's no note on {ctx.ws.title}!{cell.coordinate} to set the text of")
    cell.comment = Comment(str(ctx.arg(1)), cell.comment.author or ctx.note_author)


def _delete_note(ctx: _Ctx) -> None:
    cell = _note_cell(ctx)
    cell.comment = None


# ---- sheets ---------------------------------------------------------------------------


def _check_sheet_name(book, name: str, ignore=None) -> None:
    if not name or len(name) > 31 or set(name) & _BAD_SHEET_CHARS or name[0] == "'" or name[-1] == "'":
        raise ValueError(f"invalid sheet name for Excel: {name!r}")
    for ws in book.worksheets:
        if ws is not ignore and ws.title.casefold() == name.casefold():
            raise ValueError(f"a sheet named {name!r} already exists")


def _sheets_index(book, worksheet_position: int) -> int:
    """Index into book._sheets (which includes chart sheets) of the n-th worksheet."""
    worksheets = book.worksheets
    if worksheet_position >= len(worksheets):
        return len(book._sheets)
    return book._sheets.index(worksheets[worksheet_position])


def _activate(book, worksheet_position: int) -> None:
    target = book.worksheets[worksheet_position]
    for ws in book.worksheets:
        ws.sheet_view.tabSelected = ws is target
    book.active = book._sheets.index(target)


def _add_sheet(ctx: _Ctx) -> None:
    # args: [0-based position, name]; worksheets.add(name) then sheet.position = pos.
    # No activation: Office.js' worksheets.add() doesn't activate the new sheet.
    position, name = int(ctx.arg(0)), ctx.arg(1)
    if name is None:
        n = 1
        while any(ws.title.casefold() == f"sheet{n}" for ws in ctx.book.worksheets):
            n += 1
        name = f"Sheet{n}"
    _check_sheet_name(ctx.book, str(name))
    active = ctx.book.active
    ctx.book.create_sheet(title=str(name), index=_sheets_index(ctx.book, position))
    ctx.book.active = ctx.book._sheets.index(active)


def _set_sheet_name(ctx: _Ctx) -> None:
    ws = ctx.ws
    _check_sheet_name(ctx.book, str(ctx.arg(0)), ignore=ws)
    ws.title = str(ctx.arg(0))


def _set_sheet_visibility(ctx: _Ctx) -> None:
    ctx.ws.sheet_state = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}[ctx.arg(0)]


def _set_sheet_position(ctx: _Ctx) -> None:
    ws, book = ctx.ws, ctx.book
    active = book.active
    book._sheets.remove(ws)
    book._sheets.insert(_sheets_index(book, int(ctx.arg(0))), ws)
    book.active = book._sheets.index(active)


def _copy_sheet(ctx: _Ctx) -> None:
    # args: ["Before"|"After", 0-based target position (before the copy), new name]
    source, book = ctx.ws, ctx.book
    where, target_ix, name = ctx.arg(0), int(ctx.arg(1)), str(ctx.arg(2))
    _check_sheet_name(book, name)
    target = book.worksheets[target_ix]
    active = book.active
    copy_ws = book.copy_worksheet(source)
    copy_ws.title = name
    book._sheets.remove(copy_ws)
    ix = book._sheets.index(target) + (1 if where == "After" else 0)
    book._sheets.insert(ix, copy_ws)
    book.active = book._sheets.index(active)


def _activate_sheet(ctx: _Ctx) -> None:
    _activate(ctx.book, int(ctx.arg(0)))


def _sheet_delete(ctx: _Ctx) -> None:
    ws, book = ctx.ws, ctx.book
    if sum(1 for w in book.worksheets if w.sheet_state == "visible" and w is not ws) == 0:
        raise ValueError("Excel can't delete the only visible sheet")
    active = book.active
    book.remove(ws)
    if active is ws or active not in book._sheets:
        visible = [i for i, w in enumerate(book.worksheets) if w.sheet_state == "visible"]
        _activate(book, visible[0])
    else:
        book.active = book._sheets.index(active)


def _freeze_at(ctx: _Ctx) -> None:
    # freezePanes.freezeAt(range): the range is what stays frozen (top-left pane), so
    # "A1:B3" keeps rows 1-3 and columns A-B -> openpyxl's top-left unfrozen cell "C4".
    r1, c1, r2, c2 = _bounds_of(str(ctx.arg(0)))
    rows = 0 if r2 >= MAX_ROWS else r2
    cols = 0 if c2 >= MAX_COLUMNS else c2
    ctx.ws.freeze_panes = f"{get_column_letter(cols + 1)}{rows + 1}" if rows or cols else None


def _unfreeze(ctx: _Ctx) -> None:
    ctx.ws.freeze_panes = None


def _set_show_gridlines(ctx: _Ctx) -> None:
    ctx.ws.sheet_view.showGridLines = bool(ctx.arg(0))


def _set_print_area(ctx: _Ctx) -> None:
    if ctx.arg(0) is None:
        ctx.ws._print_area = None
    else:
        ctx.ws.print_area = str(ctx.arg(0)).replace("$", "")


# ---- book -----------------------------------------------------------------------------


def _set_calculation(ctx: _Ctx) -> None:
    ctx.book.calculation.calcMode = {"Automatic": "auto", "Manual": "manual", "AutomaticExceptTables": "autoNoTable"}[ctx.arg(0)]


def _no_op(ctx: _Ctx) -> None:
    """calculate/save/setScreenUpdating: nothing a saved file would show (the caller
    saves; openpyxl can't recalculate)."""


# ---- names, validation ----------------------------------------------------------------


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _abs_ref(ws, bounds: tuple[int, int, int, int]) -> str:
    r1, c1, r2, c2 = bounds
    first = f"${get_column_letter(c1)}${r1}"
    last = f"${get_column_letter(c2)}${r2}"
    return f"{_quote(ws.title)}!{first}" + (f":{last}" if (r1, c1) != (r2, c2) else "")


def _set_range_name(ctx: _Ctx) -> None:
    # workbook.names.add(name, range): always book scope
    ctx.book.defined_names[str(ctx.arg(0))] = DefinedName(str(ctx.arg(0)), attr_text=_abs_ref(ctx.ws, ctx.bounds))


def _names_add(ctx: _Ctx) -> None:
    name, refers_to = str(ctx.arg(0)), str(ctx.arg(1)).lstrip("=")
    if ctx.action.get("sheet_position") is None:
        ctx.book.defined_names[name] = DefinedName(name, attr_text=refers_to)
    else:
        ctx.ws.defined_names[name] = DefinedName(name, attr_text=refers_to)


def _name_scope(ctx: _Ctx, book_scope: Any, scope_sheet_index: Any):
    return ctx.book.defined_names if book_scope else ctx.book.worksheets[int(scope_sheet_index)].defined_names


def _name_delete(ctx: _Ctx) -> None:
    # args: [full name, refers_to, name, sheet_index, book_scope, scope_sheet_index]
    del _name_scope(ctx, ctx.arg(4), ctx.arg(5))[str(ctx.arg(2))]


def _set_name_refers_to(ctx: _Ctx) -> None:
    # args: [name, book_scope, scope_sheet_index, refers_to]
    _name_scope(ctx, ctx.arg(1), ctx.arg(2))[str(ctx.arg(0))].attr_text = str(ctx.arg(3)).lstrip("=")


def _set_data_validation_list(ctx: _Ctx) -> None:
    # args: [{"type": "literal", "values": [...]} | {"type": "range", sheet_position,
    #        start_row, start_column, row_count, column_count} | {"type": "name", name},
    #        in_cell_dropdown]
    source, dropdown = ctx.arg(0), ctx.arg(1)
    if source["type"] == "literal":
        formula = '"' + ",".join(str(v) for v in source["values"]) + '"'
    elif source["type"] == "range":
        ws = ctx.book.worksheets[source["sheet_position"]]
        r, c = source["start_row"] + 1, source["start_column"] + 1
        formula = _abs_ref(ws, (r, c, r + source["row_count"] - 1, c + source["column_count"] - 1))
    else:
        formula = str(source["name"])
    _delete_validation(ctx)
    # openpyxl's showDropDown is the file's inverted flag: True *hides* the arrow.
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=not (dropdown is None or dropdown))
    r1, c1, r2, c2 = ctx.bounds
    dv.add(_address(c1, r1, c2, r2))
    ctx.ws.add_data_validation(dv)


def _delete_validation(ctx: _Ctx) -> None:
    r1, c1, r2, c2 = ctx.bounds
    for dv in list(ctx.ws.data_validations.dataValidation):
        inside = [r1 <= cr.min_row and cr.max_row <= r2 and c1 <= cr.min_col and cr.max_col <= c2 for cr in dv.sqref.ranges]
        overlap = [cr.min_row <= r2 and r1 <= cr.max_row and cr.min_col <= c2 and c1 <= cr.max_col for cr in dv.sqref.ranges]
        if all(inside):
            ctx.ws.data_validations.dataValidation.remove(dv)
        elif any(overlap):
            raise NotImplementedError("data validation partly overlapping the range isn't emulated")


_HANDLERS: dict[str, Callable[[_Ctx], None]] = {
    "setValues": _set_values,
    "setFormula": _set_formula,
    "setFormulaArray": _set_formula_array,
    "rangeClear": _range_clear,
    "rangeClearContents": _range_clear_contents,
    "rangeClearFormats": _range_clear_formats,
    "sheetClear": _sheet_clear,
    "sheetClearContents": _sheet_clear_contents,
    "sheetClearFormats": _sheet_clear_formats,
    "setRangeColor": _set_range_color,
    "setRangeColors": _set_range_colors,
    "setNumberFormat": _set_number_format,
    "setFontProperty": _set_font_property,
    "setBorderProperty": _set_border_property,
    "setWrapText": _set_wrap_text,
    "setHorizontalAlignment": _set_horizontal_alignment,
    "setVerticalAlignment": _set_vertical_alignment,
    "setColumnWidth": _set_column_width,
    "setRowHeight": _set_row_height,
    "setRowHidden": _set_row_hidden,
    "setColumnHidden": _set_column_hidden,
    "setAutofit": _set_autofit,
    "setSheetAutofit": _set_sheet_autofit,
    "rangeMerge": _range_merge,
    "rangeUnmerge": _range_unmerge,
    "rangeGroup": lambda ctx: _group(ctx, +1),
    "rangeUngroup": lambda ctx: _group(ctx, -1),
    "rangeSelect": _range_select,
    "addHyperlink": _add_hyperlink,
    "addNote": _add_note,
    "setNoteText": _set_note_text,
    "deleteNote": _delete_note,
    "addSheet": _add_sheet,
    "setSheetName": _set_sheet_name,
    "setSheetVisibility": _set_sheet_visibility,
    "setSheetPosition": _set_sheet_position,
    "copySheet": _copy_sheet,
    "activateSheet": _activate_sheet,
    "sheetDelete": _sheet_delete,
    "freezePaneAtRange": _freeze_at,
    "freezePaneUnfreeze": _unfreeze,
    "setShowGridlines": _set_show_gridlines,
    "setPrintArea": _set_print_area,
    "setCalculation": _set_calculation,
    "calculate": _no_op,
    "save": _no_op,
    "setScreenUpdating": _no_op,
    "setRangeName": _set_range_name,
    "namesAdd": _names_add,
    "nameDelete": _name_delete,
    "setNameRefersTo": _set_name_refers_to,
    "setDataValidationList": _set_data_validation_list,
    "deleteDataValidation": _delete_validation,
}
SUPPORTED_ACTIONS = frozenset(_HANDLERS)
assert SUPPORTED_ACTIONS <= REMOTE_ACTIONS


def apply_actions(
    actions: list[dict] | dict,
    book: openpyxl.Workbook,
    *,
    note_author: str = NOTE_AUTHOR,
    excel_input: bool = True,
) -> None:
    """Apply ``book.json()``'s actions to the openpyxl workbook ``book``, in order.

    ``actions`` is the list (``xw_book.json()["actions"]``) or the whole dict
    ``xw_book.json()``.  Indices are the engine's: ``sheet_position`` is the 0-based
    position among worksheets *at the time the action runs* (earlier addSheet/
    sheetDelete actions count), ``start_row``/``start_column`` are 0-based, counts are
    sizes -- Office.js ``getRangeByIndexes(start_row, start_column, row_count,
    column_count)``.

    ``excel_input``: strings written by setValues are parsed the way Excel parses
    ``range.values`` input (numbers, ISO dates); pass False to store them verbatim.

    Raises NotImplementedError naming the action for anything not emulated, and
    ValueError where Excel would refuse (bad colour, duplicate sheet name, a note on a
    cell that has one, writing into the hidden part of a merged area, ...).
    """
    if isinstance(actions, dict):
        actions = actions["actions"]
    for action in actions:
        func = action.get("func")
        handler = _HANDLERS.get(func)
        if handler is None:
            known = "an action xlwings' remote engine emits" if func in REMOTE_ACTIONS else "not an xlwings action"
            raise NotImplementedError(f"apply_actions: {func!r} ({known}) has no openpyxl emulation")
        handler(_Ctx(book, action, note_author, excel_input))
