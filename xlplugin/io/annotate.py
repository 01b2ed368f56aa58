"""Marks in a workbook file: the annotated copy, and clearing it again.

annotate: every cell with a finding gets a fill by severity and a note (legacy comment,
which Excel 2016 and WPS show); the cells it was compared with get a lighter fill; a
first sheet 审核结果 lists every finding with a link to its cell.  What a mark replaced
(the cell's fill and note, the active sheet) is kept in a very hidden sheet, so that
`clear` restores the original even after the file has travelled, and annotating an
annotated workbook replaces the old marks instead of piling up new ones.

The source file is only read; outputs are written to a temporary file and renamed.
Both are done by patch.py, which writes into the package XML and copies every other part
as it is.  What patch.py does not handle (XML it cannot parse, a sheet of the user's called
审核结果, …) goes through openpyxl here; a workbook with parts that openpyxl would drop (charts, pictures,
form controls, …) is then refused unless the caller accepts the loss, so that nothing is
lost silently.
"""

from __future__ import annotations

import re
import zipfile
from copy import copy
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.xml.functions import tostring

from ..marks import (
    COLUMNS,
    LINK_COLUMN,
    MESSAGE_COLUMN,
    NOTE_AUTHOR,
    NOTE_HEADER,
    OUR_FILLS,
    RESULT_WIDTHS,
    UNDO_SHEET,
    USER_NOTE_HEADER,
    Cleared,
    MarkPlan,
    is_result_title,
    may_be_result_sheet,
    restored_note,
    result_sheet_name,
    sheet_reference,
    still_marked,
    stray_note,
    undo_runs,
)
from ..text import cell_reference, column_letter, covered_cells
from .patch import Unsupported, annotate_package, clear_package, stored_fill
from .readers import SHEET_ENTRY

# Parts of a package that openpyxl does not carry over when it saves a workbook.
_DROPPED_PARTS = {
    "xl/drawings/": "图片、图表或形状（drawings）",
    "xl/charts/": "图表（charts）",
    "xl/media/": "图片（media）",
    "xl/slicers/": "切片器（slicers）",
    "xl/timelines/": "日程表（timelines）",
    "xl/ctrlProps/": "表单控件（form controls）",
    "xl/activeX/": "ActiveX 控件（activeX）",
    "xl/embeddings/": "嵌入对象（embeddings）",
    "xl/threadedComments/": "新式批注（threaded comments）",
}
_DROPPED_EXTENSIONS = {
    b"x14:conditionalFormatting": "扩展条件格式（如数据条，x14 conditional formatting）",
    b"x14:dataValidation": "引用其他工作表的数据验证（x14 data validation）",
    b"x14:sparklineGroup": "迷你图（sparklines）",
}
_SHEET_PART = re.compile(r"^xl/worksheets/sheet\d+\.xml$")


class AnnotateRefused(Exception):
    """The workbook has content the writer would lose (`lost`, at_risk's labels; empty when the
    refusal has another reason); str() says what."""

    def __init__(self, message: str, lost: list[str] | None = None):
        super().__init__(message)
        self.lost = lost or []


def at_risk(path: Path) -> list[str]:
    """What saving this workbook with openpyxl would lose (empty when nothing)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as package:
        # legacy notes live in VML drawings, which openpyxl writes again from the notes
        names = [n for n in package.namelist() if not n.endswith((".vml", ".vml.rels"))]
        for prefix, label in _DROPPED_PARTS.items():
            if any(n.startswith(prefix) for n in names) and label not in found:
                found.append(label)
        for name in names:
            if _SHEET_PART.match(name):
                xml = package.read(name)
                for marker, label in _DROPPED_EXTENSIONS.items():
                    if marker in xml and label not in found:
                        found.append(label)
    return found


def check_suffix(source: Path, target: Path) -> None:
    """Refuse a target whose .xlsx/.xlsm name does not say what the workbook is: Excel will not open
    a macro-enabled workbook named .xlsx, nor a plain one named .xlsm (any other name, such as the
    .xls of an .xlsx sent under that name, Excel opens after a warning).  A target named as its
    source is what the user had, and is written."""
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".xlsm") or suffix == source.suffix.lower():
        return
    try:
        with zipfile.ZipFile(source) as package:
            macros = macro_enabled(package)
    except (OSError, zipfile.BadZipFile):
        return  # the writers say what is wrong with the package
    wanted = ".xlsm" if macros else ".xlsx"
    if suffix != wanted:
        kind = "启用宏的工作簿" if macros else "不含宏的工作簿"
        raise AnnotateRefused(f"{target}: {source.name} 是{kind}，输出文件名应以 {wanted} 结尾，否则 Excel 打不开（use {wanted}）")


def macro_enabled(package: zipfile.ZipFile) -> bool:
    """Whether the package is a macro-enabled workbook (what an .xlsm must be, and an .xlsx must not)."""
    types = package.read("[Content_Types].xml") if "[Content_Types].xml" in package.NameToInfo else b""
    return _MACRO_WORKBOOK in types


_MACRO_WORKBOOK = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def annotate_file(source: Path, target: Path, plan: MarkPlan, accept_loss: bool = False) -> Path:
    """Write `source` with the marks of `plan` to `target` (which may be `source` itself)."""
    check_suffix(source, target)
    try:
        return annotate_package(source, target, plan)
    except Unsupported:
        return annotate_with_openpyxl(source, target, plan, accept_loss)


def annotate_with_openpyxl(source: Path, target: Path, plan: MarkPlan, accept_loss: bool = False) -> Path:
    """annotate_file through openpyxl: load, restore old marks, mark, save (threaded comments and
    drawings would be lost: at_risk refuses them unless accept_loss)."""
    book = _load(source, accept_loss)
    remove_marks(book)
    undo = _undo_sheet(book)
    undo.append(["active", book.index(book.active)])
    done = set()
    origins: dict[str, dict[str, tuple[int, int]]] = {}
    fills: dict[int, str] = {}  # the XML of each original fill, written once
    plain: dict[tuple[str, str], list[str]] = {}  # (sheet, fill) → cells that had that fill and no note
    for mark in plan.cells.values():
        if mark.sheet not in book.sheetnames:
            continue
        sheet = book[mark.sheet]
        if mark.sheet not in origins:
            origins[mark.sheet] = _merged_origins(sheet)
        at = origins[mark.sheet].get(mark.cell)
        cell = sheet[mark.cell] if at is None else sheet.cell(*at)
        if (mark.sheet, cell.coordinate) in done:  # two marks on one merged range: the first one counts
            continue
        done.add((mark.sheet, cell.coordinate))
        comment = cell.comment
        if comment is None:  # the usual case, recorded in groups: one undo row per sheet and fill
            plain.setdefault((mark.sheet, _fill_xml(cell, fills)), []).append(cell.coordinate)
        else:
            undo.append(
                [
                    "cell",
                    mark.sheet,
                    cell.coordinate,
                    _fill_xml(cell, fills),
                    comment.text,
                    comment.author,
                    None,  # the note was replaced (the xlwings remote path writes "kept" when it left a note alone)
                ]
            )
        cell.fill = PatternFill("solid", fgColor="FF" + mark.fill)
        if mark.note:
            text = mark.note if comment is None else f"{mark.note}\n\n{USER_NOTE_HEADER}\n{comment.text}"
            cell.comment = Comment(text, NOTE_AUTHOR, height=220, width=420)
    for (sheet_name, fill), cells in plain.items():
        for run in undo_runs(cells):
            undo.append(["cells", sheet_name, " ".join(run), fill])
    result = _write_result_sheet(book, plan)
    book.active = 0
    for sheet in book.worksheets:  # 审核结果 is the one selected sheet, as patch.py writes it
        sheet.sheet_view.tabSelected = sheet is result
    return _save(book, target)


def clear_file(source: Path, target: Path, accept_loss: bool = False) -> Cleared:
    """Write `source` without xlplugin's marks to `target`; what could not be put back as recorded."""
    check_suffix(source, target)
    try:
        return clear_package(source, target)
    except Unsupported:
        return clear_with_openpyxl(source, target, accept_loss)


def clear_with_openpyxl(source: Path, target: Path, accept_loss: bool = False) -> Cleared:
    """clear_file through openpyxl: load, restore, save."""
    book = _load(source, accept_loss)
    cleared = remove_marks(book)
    _save(book, target)
    return cleared


def remove_marks(book: Workbook) -> Cleared:
    """Restore what the marks replaced where the marks still are (as patch.py's clear) and remove
    the 审核结果 and undo sheets."""
    cleared = Cleared()
    if UNDO_SHEET not in book.sheetnames:
        _remove_result_sheets(book)
        return cleared
    undo = book[UNDO_SHEET]
    handled: set[tuple[str, str]] = set()
    active = None
    for values in undo.iter_rows(values_only=True):
        row = (*values, None, None, None, None, None, None, None)  # trailing blanks are not stored
        kind = row[0]
        if kind == "active":
            active = int(row[1])
        elif kind in ("cell", "cells") and row[1] in book.sheetnames:
            fill = stored_fill(row[3])
            for address in str(row[2]).split():  # "cells": several cells that had this fill and no note
                cell = book[row[1]][address]
                if not still_marked(_fill_rgb(cell), cell.comment.text if cell.comment else None):
                    cleared.moved.append(cell_reference(row[1], address))
                    continue
                handled.add((row[1], address))
                cell.fill = fill
                if row[6] == "kept":
                    continue
                text = restored_note(row[4], cell.comment.text if cell.comment else None)  # what the user wrote since stays
                cell.comment = None if text is None else Comment(text, (row[5] or "") if row[4] is not None else "")
    del book[UNDO_SHEET]
    _remove_result_sheets(book)
    if cleared.moved:
        _sweep(book, handled, cleared)
    if active is not None and book.sheetnames:
        book.active = min(active, len(book.sheetnames) - 1)
        for sheet in book.worksheets:  # the active sheet is the selected one, as patch.py restores it
            sheet.sheet_view.tabSelected = sheet is book.active
    return cleared


def _fill_rgb(cell) -> str | None:
    fill = cell.fill
    colour = fill.fgColor.rgb if fill is not None and fill.patternType == "solid" and fill.fgColor is not None else None
    return colour[-6:] if isinstance(colour, str) else None


def _sweep(book: Workbook, handled: set[tuple[str, str]], cleared: Cleared) -> None:
    """Our notes on cells the undo sheet does not name (moved there), as patch.py's _sweep."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                comment = cell.comment
                if comment is None or not comment.text.startswith(NOTE_HEADER) or (sheet.title, cell.coordinate) in handled:
                    continue
                original = stray_note(comment.text)
                cell.comment = None if original is None else Comment(original, "")
                if (_fill_rgb(cell) or "").upper() in OUR_FILLS:
                    cell.fill = PatternFill()
                cleared.swept.append(cell_reference(sheet.title, cell.coordinate))


def _remove_result_sheets(book: Workbook) -> None:
    """Our 审核结果 sheet (or 审核结果1 …, beside a user's 审核结果); a user's sheet of that name stays."""
    for name in [n for n in book.sheetnames if may_be_result_sheet(n) and is_result_title(book[n]["A1"].value)]:
        del book[name]


def _load(path: Path, accept_loss: bool) -> Workbook:
    if _strict(path):  # openpyxl reads such a workbook as one without worksheets: saved, every sheet would be gone
        raise AnnotateRefused(
            f"{path}: 工作簿为“Strict Open XML 电子表格”格式，暂不能标注或清除标注（校验不受影响）；"
            "请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后再操作（Strict Open XML）"
        )
    lost = at_risk(path)
    if lost and not accept_loss:
        raise AnnotateRefused(
            f"{path}: 工作簿含有写入时会丢失的内容：{'、'.join(lost)}。为避免丢失，未生成文件；"
            "可在 Excel 中用“决算校验”选项卡标注，或加 --allow-loss 接受丢失（not written: content would be lost）",
            lost,
        )
    try:
        book = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", rich_text=True, keep_links=True)
    except Exception as error:  # a damaged part that the value reader did not need
        raise AnnotateRefused(f"{path}: 工作簿有损坏的部分，未写出文件（damaged part）：{error}") from error
    listed = _listed_sheets(path)
    if len(book.sheetnames) < listed:  # whatever the cause, a save would drop the sheets openpyxl did not read
        raise AnnotateRefused(f"{path}: 工作簿列出 {listed} 张工作表，只读出 {len(book.sheetnames)} 张，为避免丢失，未写出文件（sheets not read）")
    return book


_STRICT_MAIN = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _strict(path: Path) -> bool:
    """Whether the workbook is saved as Strict Open XML (Excel's "Strict Open XML Spreadsheet")."""
    with zipfile.ZipFile(path) as package:
        return _STRICT_MAIN in package.read("xl/workbook.xml") if "xl/workbook.xml" in package.NameToInfo else False


def _listed_sheets(path: Path) -> int:
    """How many sheets (worksheets and chart sheets) the workbook part lists."""
    with zipfile.ZipFile(path) as package:
        return len(SHEET_ENTRY.findall(package.read("xl/workbook.xml"))) if "xl/workbook.xml" in package.NameToInfo else 0


def _save(book: Workbook, target: Path) -> Path:
    from .template import save_atomically

    return save_atomically(book, target)


def _undo_sheet(book: Workbook):
    sheet = book.create_sheet(UNDO_SHEET)
    sheet.sheet_state = "veryHidden"
    sheet.append(["xlplugin", "what the marks replaced; used by `xlplugin clear`"])
    return sheet


def _merged_origins(sheet) -> dict[str, tuple[int, int]]:
    """A1 of every cell inside a merged range (but its top-left) → (row, col) of the top-left cell."""
    origins = {}
    for merged in sheet.merged_cells.ranges:
        for row, col in covered_cells(merged.min_row, merged.min_col, merged.max_row, merged.max_col):
            origins[f"{column_letter(col - 1)}{row}"] = (merged.min_row, merged.min_col)
    return origins


def _fill_xml(cell, known: dict[int, str]) -> str:
    """The cell's fill as XML (what the undo sheet keeps), computed once per fill of the workbook."""
    fill_id = cell._style.fillId if cell._style is not None else 0  # index in the workbook's fills; unstyled: 0
    if fill_id not in known:
        known[fill_id] = tostring(cell.fill.to_tree()).decode()
    return known[fill_id]


WRAP = Alignment(wrap_text=True, vertical="top")
LINK_FONT = Font(color="0563C1", underline="single")


def _write_result_sheet(book: Workbook, plan: MarkPlan):
    sheet = book.create_sheet(result_sheet_name(book.sheetnames), 0)
    for line in plan.head:
        sheet.append(line)
    sheet["A1"].font = Font(bold=True, size=14)
    first = plan.header_row + 1  # 1-based row of the findings header
    # each style is set on one cell and copied to the others: openpyxl registers a style
    # object on every assignment, which is most of the time of a long findings list
    styles: dict[str, object] = {}

    def styled(cell, kind: str, **style) -> None:
        if kind in styles:
            cell._style = copy(styles[kind])
            return
        for name, value in style.items():
            setattr(cell, name, value)
        styles[kind] = copy(cell._style)

    for offset, row in enumerate(plan.rows):
        r = first + offset
        for c, value in enumerate(row.values, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, float):
                styled(cell, "number", number_format="#,##0.00")
            elif c == MESSAGE_COLUMN + 1 and offset:  # the message column wraps
                styled(cell, "message", alignment=WRAP)
        if row.link:
            link = sheet.cell(r, LINK_COLUMN + 1)
            target = sheet_reference(*row.link)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=target, display=str(link.value))
            styled(link, "link", font=LINK_FONT)
    for c in range(1, len(COLUMNS) + 1):
        sheet.cell(first, c).font = Font(bold=True)
    last = first + len(plan.rows) - 1
    sheet.auto_filter.ref = f"A{first}:{column_letter(len(COLUMNS) - 1)}{last}"
    sheet.freeze_panes = f"A{first + 1}"
    for c, width in enumerate(RESULT_WIDTHS):
        sheet.column_dimensions[column_letter(c)].width = width
    return sheet
