"""Read a workbook file into neutral `Sheet`s (cached values, merges, formulas without a value).

Two readers: python-calamine (fast, the default) and openpyxl.  Both give the values
Excel cached when it last saved the file; a formula cell with no cached value reads as
blank, and `uncached_formulas` says where that happened so that the user is told.
A file that is not a readable .xlsx/.xlsm raises `WorkbookReadError` with one Chinese
line naming the problem (English key word in brackets).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException, ElementTree

from ..model import Sheet
from ..text import a1, column_index, os_problem

READERS = ("calamine", "openpyxl")
_PACKAGE_SUFFIXES = (".xlsx", ".xlsm")  # the names by which both readers know a package; any other is read by its content
# A sheet is read as a grid from A1 to its farthest value: one stray value in XFD1048576 makes
# 17 billion cells, and python-calamine then asks for 550 GB and aborts the whole process.  A 决算
# sheet has a few thousand cells; a sheet past this many is refused with the corner to look at.
MAX_CELLS = 5_000_000
MAX_PART_BYTES = 1 << 30  # one part of the package, unpacked: a 决算 workbook's largest is a few hundred KB
_BLANK = {"": None}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
_SHEET_TAGS = {f"{{{ns}}}sheet" for ns in ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")}
_REL_IDS = {f"{{{ns}}}id" for ns in ("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "http://purl.oclc.org/ooxml/officeDocument/relationships")}


class WorkbookReadError(Exception):
    """The file cannot be read as a workbook; str() is the message for the user."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def read_workbook(path: str | Path, reader: str = "calamine") -> list[Sheet]:
    """All worksheets of `path`, in workbook order."""
    path = Path(path)
    with _package(path) as package:
        try:
            with_formulas = _sheet_xml(package)
        except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ElementTree.ParseError, DefusedXmlException) as error:
            raise WorkbookReadError(path, f"文件已损坏（corrupt workbook）：{error}") from error
        except _SheetTooLarge as large:
            raise WorkbookReadError(path, large.message(package)) from None
        if reader == "calamine":
            sheets = _read_calamine(path)
        elif reader == "openpyxl":
            sheets = _read_openpyxl(path)
        else:
            raise ValueError(f"unknown reader {reader!r}; choose one of {READERS}")
        if with_formulas:
            try:
                uncached, errors = _formula_cells(package, with_formulas)
            except (KeyError, ElementTree.ParseError, DefusedXmlException) as error:
                raise WorkbookReadError(path, f"文件已损坏（corrupt workbook）：{error}") from error
            for sheet in sheets:
                sheet.uncached_formulas = uncached.get(sheet.name, set())
                _show_errors(sheet, errors.get(sheet.name, {}))
    return sheets


def _show_errors(sheet: Sheet, errors: dict[tuple[int, int], str]) -> None:
    """Put a formula's cached error value (#DIV/0!, #N/A…) where python-calamine read a blank,
    as openpyxl reads it: the cell is then 「#DIV/0!」, not a number (C-1), rather than a silent 0."""
    rows = sheet.rows
    for (r, c), text in errors.items():
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        if row[c] is None:
            row[c] = text


def check_workbook_file(path: Path) -> None:
    """Raise WorkbookReadError unless `path` looks like an .xlsx/.xlsm package."""
    with _package(path):
        pass


def _package(path: Path) -> zipfile.ZipFile:
    """The opened .xlsx/.xlsm package at `path`, or WorkbookReadError saying why it is not one."""
    if not path.exists():
        if path.is_symlink():
            raise WorkbookReadError(path, "这是一个链接，它指向的文件不存在（broken link）")
        raise WorkbookReadError(path, "文件不存在（file not found）")
    if path.is_dir():
        raise WorkbookReadError(path, "这是一个文件夹，不是工作簿（is a directory）")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise WorkbookReadError(path, f"无法读取文件（cannot read）：{os_problem(error)}") from error
    if not head:
        raise WorkbookReadError(path, "文件为空（empty file）")
    if head == _OLE_MAGIC:
        if _ENCRYPTION_STREAM in path.read_bytes():
            raise WorkbookReadError(path, "工作簿设有打开密码（encrypted workbook），请取消密码后另存再检查")
        if path.suffix.lower() == ".et":
            raise WorkbookReadError(path, "WPS 表格 .et 格式不受支持（WPS .et），请在 WPS 中另存为 .xlsx 后再检查")
        raise WorkbookReadError(path, "旧版 .xls 格式不受支持（legacy .xls），请在 Excel 或 WPS 中另存为 .xlsx 后再检查")
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        if head.startswith(b"PK"):
            raise WorkbookReadError(path, f"文件已损坏或不完整（corrupt zip），请重新保存或重新下载（{error}）") from error
        raise WorkbookReadError(path, "不是 Excel 工作簿（not a workbook）：请提供 .xlsx 或 .xlsm 文件") from error
    if "xl/workbook.xml" not in package.NameToInfo:
        problem = _other_package(package)
        package.close()
        raise WorkbookReadError(path, problem)
    huge = next((info for info in package.infolist() if info.file_size > MAX_PART_BYTES), None)
    if huge is not None:  # a zip bomb, or a damaged size: python-calamine would abort trying to hold it
        package.close()
        raise WorkbookReadError(
            path, f"文件解压后过大（too large when unpacked）：其中 {huge.filename} 约 {huge.file_size / 2**30:.1f} GB，超过 {MAX_PART_BYTES // 2**30} GB；文件可能已损坏"
        )
    return package


def _other_package(package: zipfile.ZipFile) -> str:
    """What to tell the user of a zip package that is not an .xlsx/.xlsm: the way out where it is
    another spreadsheet format (Excel's binary .xlsb, OpenDocument's .ods)."""
    if "xl/workbook.bin" in package.NameToInfo:
        return "Excel 二进制工作簿 .xlsb 格式不受支持（.xlsb），请在 Excel 中另存为 .xlsx 后再检查"
    if "mimetype" in package.NameToInfo and package.NameToInfo["mimetype"].file_size < 100:
        if package.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return "OpenDocument 表格 .ods 格式不受支持（.ods），请在 WPS 或 LibreOffice 中另存为 .xlsx 后再检查"
    return "不是 Excel 工作簿（not a workbook）：压缩包中没有 xl/workbook.xml"


def _read_calamine(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        if path.suffix.lower() in _PACKAGE_SUFFIXES:
            book = CalamineWorkbook.from_path(str(path))
        else:  # python-calamine picks its parser by the name: an .xlsx saved as 单位.xls would be read as an old .xls
            with path.open("rb") as handle:
                book = CalamineWorkbook.from_filelike(handle)
        sheets, blank = [], _BLANK.get  # blank(v, v): "" (an empty cell) as None, any other value as itself
        for meta in book.sheets_metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet":
                continue
            raw = book.get_sheet_by_name(meta.name)
            rows = [list(map(blank, row, row)) for row in raw.to_python(skip_empty_area=False)]
            merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (raw.merged_cell_ranges or [])]
            sheets.append(Sheet(meta.name, rows, merges, hidden=str(meta.visible) != "SheetVisibleEnum.Visible"))
        book.close()
        return sheets
    except Exception as error:  # calamine raises its own error types for damaged parts
        raise WorkbookReadError(path, f"无法读取工作簿（unreadable）：{error}") from error


def _read_openpyxl(path: Path) -> list[Sheet]:
    import openpyxl

    try:  # a file object: openpyxl refuses a name that does not end in .xlsx/.xlsm, whatever the content
        book = openpyxl.load_workbook(path if path.suffix.lower() in _PACKAGE_SUFFIXES else io.BytesIO(path.read_bytes()), data_only=True, read_only=False)
    except Exception as error:
        raise WorkbookReadError(path, f"无法读取工作簿（unreadable）：{error}") from error
    sheets = []
    for ws in book.worksheets:
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        sheets.append(Sheet(ws.title, rows, merges, hidden=ws.sheet_state != "visible"))
    book.close()
    return sheets


# Any namespace prefix (<x:c>), attributes in any order: the scan must not miss what calamine reads.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL = re.compile(rb"<" + _PREFIX + rb"c(\s[^>]*?)?(?:/>|>(.*?)</" + _PREFIX + rb"c>)", re.S)
_REF = re.compile(rb"""\sr=["']([A-Z]+)(\d+)["']""")
_FORMULA = re.compile(rb"<" + _PREFIX + rb"f[\s>/]")
_VALUE = re.compile(rb"<" + _PREFIX + rb"v>[^<]+</")
_INLINE = re.compile(rb"<" + _PREFIX + rb"is[\s>]")
SHEET_ENTRY = re.compile(rb"<" + _PREFIX + rb"sheet\s")  # in xl/workbook.xml
_SHEET_FOLDER = "xl/worksheets/"


def _sheet_xml(package: zipfile.ZipFile) -> dict[str, bytes]:
    """The XML of the worksheet parts that may hold a formula, by part.  Every sheet part is read
    before the reader runs, so that a damaged one, or one too large to read (_SheetTooLarge), is
    found first.  Writers put worksheets in xl/worksheets/; the workbook's relationships are
    parsed only when it lists more sheets than that folder holds (a chart sheet, or a writer of
    its own)."""
    with_formulas = {}
    for name in sheet_part_names(package):
        xml = package.read(name)
        if _FAR.search(xml):
            _check_extent(name, xml)
        if b"<f" in xml or (b":f" in xml and _FORMULA.search(xml) is not None):
            with_formulas[name] = xml
    return with_formulas


def sheet_part_names(package: zipfile.ZipFile) -> list[str]:
    """The worksheet parts of the package: those in xl/worksheets/, and those the workbook's
    relationships name elsewhere when it lists more sheets than that folder holds.  KeyError,
    ParseError or DefusedXmlException for a package without a readable xl/workbook.xml."""
    parts = [name for name in package.NameToInfo if _in_sheet_folder(name)]
    if len(SHEET_ENTRY.findall(package.read("xl/workbook.xml"))) > len(parts):
        parts = list(dict.fromkeys([*parts, *(p for p in _sheet_parts(package).values() if p in package.NameToInfo)]))
    return parts


_FAR = re.compile(rb"""r=["'](?:[A-Z]{3}|[A-Z]{1,2}\d{5})""")  # a cell past column ZZ or row 9999


class _SheetTooLarge(Exception):
    def __init__(self, part: str, rows: int, columns: int):
        super().__init__(part)
        self.part, self.rows, self.columns = part, rows, columns

    def message(self, package: zipfile.ZipFile) -> str:
        try:
            name = next((n for n, p in _sheet_parts(package).items() if p == self.part), self.part)
        except (KeyError, ElementTree.ParseError, DefusedXmlException):
            name = self.part
        return too_large(name, self.rows, self.columns)


def too_large(sheet: str, rows: int, columns: int) -> str:
    """What the user reads about a sheet whose grid from A1 passes MAX_CELLS (file or open book)."""
    return (
        f"工作表「{sheet}」的已用区域为 A1:{a1(rows - 1, columns - 1)}，共 {rows * columns:,} 个单元格，"
        f"超过可检查的 {MAX_CELLS:,} 个（sheet too large）；多半是远处的单元格误填了内容，请在 Excel 中按 Ctrl+End 找到并删除后另存再检查"
    )


def value_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of a sheet's grid from A1 to its farthest cell with a value: what a reader builds."""
    rows = columns = 0
    for place, _ in _cells(xml, lambda attributes, body: _VALUE.search(body) or _INLINE.search(body)):
        rows, columns = max(rows, place[0] + 1), max(columns, place[1] + 1)
    return rows, columns


def _check_extent(part: str, xml: bytes) -> None:
    """Raise _SheetTooLarge when the grid from A1 to the farthest cell with a value is too large."""
    rows, columns = value_extent(xml)
    if rows * columns > MAX_CELLS:
        raise _SheetTooLarge(part, rows, columns)


def _cells(xml: bytes, holds: Callable[[bytes, bytes], object]) -> Iterator[tuple[tuple[int, int], object]]:
    """0-based (row, col) of the cells for which holds(attributes, content) is true, with what it
    gave (a cell without its r attribute has no place to report, and is left)."""
    for attributes, body in _CELL.findall(xml):
        found = holds(attributes, body) if body else None
        if found:
            ref = _REF.search(attributes) if attributes else None
            if ref is not None:
                yield (int(ref[2]) - 1, column_index(ref[1].decode())), found


def _in_sheet_folder(name: str) -> bool:
    return name.startswith(_SHEET_FOLDER) and name.endswith(".xml") and "/" not in name[len(_SHEET_FOLDER) :]


_STRING_RESULT = re.compile(rb"""\st=["']str["']""")  # a formula whose result is text: <v></v> caches ""
_ERROR_RESULT = re.compile(rb"""\st=["']e["']""")
_ERROR_VALUE = re.compile(rb"<" + _PREFIX + rb"v>\s*(#[^<]{1,20})</")


def _formula_cell(attributes: bytes, body: bytes) -> str | None:
    """What a formula cell's XML says of its cached value: "uncached" when there is none (openpyxl
    writes <v></v> with no type; =IF(x=0,"",x) saved by Excel or LibreOffice is t="str" with
    <v></v>, an empty text), its error text for an error (t="e"), else None."""
    if not _FORMULA.search(body):
        return None
    if attributes and _ERROR_RESULT.search(attributes):
        error = _ERROR_VALUE.search(body)
        return error[1].decode("utf-8", "replace").strip() if error else None
    if _VALUE.search(body) or (attributes and _STRING_RESULT.search(attributes)):
        return None
    return "uncached"


def _formula_cells(package: zipfile.ZipFile, with_formulas: dict[str, bytes]) -> tuple[dict[str, set[tuple[int, int]]], dict[str, dict[tuple[int, int], str]]]:
    """Per sheet name, the (row, col) of formula cells that carry no cached value, and the
    cached error values of formula cells by (row, col)."""
    uncached: dict[str, set[tuple[int, int]]] = {}
    errors: dict[str, dict[tuple[int, int], str]] = {}
    for name, part in _sheet_parts(package).items():
        for place, found in _cells(with_formulas.get(part, b""), _formula_cell):
            if found == "uncached":
                uncached.setdefault(name, set()).add(place)
            else:
                errors.setdefault(name, {})[place] = found
    return uncached, errors


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → path of its XML part inside the package."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    parts = {}
    for sheet in workbook.iter():  # transitional or Strict namespaces (Excel's "Strict Open XML Spreadsheet")
        if sheet.tag not in _SHEET_TAGS:
            continue
        target = targets.get(next((v for k, v in sheet.attrib.items() if k in _REL_IDS), None), "")
        if target.startswith("/"):
            parts[sheet.get("name")] = target.lstrip("/")
        elif target:
            parts[sheet.get("name")] = str(PurePosixPath("xl") / target)
    return parts

