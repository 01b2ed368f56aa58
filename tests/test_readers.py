"""Reading cells as Excel shows them: cached formula values, formulas without one, text numbers."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE, TEMPLATE, run_cli

from xlplugin.io.readers import WorkbookReadError, read_workbook
from xlplugin.text import column_index
from xlplugin.workbook import inspect_workbook

T5 = "一般公共预算财政拨款支出决算表"


def _with_formula(path: Path) -> None:
    """The template with T5's 合计 row as formulas =D7+E7 (openpyxl writes no cached value)."""
    book = openpyxl.load_workbook(TEMPLATE)
    ws = book[T5]
    ws["D7"], ws["E7"], ws["C7"] = 1.25, 2.5, "=D7+E7"
    book.save(path)


def _rewrite(path: Path, change) -> None:
    """Rewrite the package's parts through change(name, data) -> (name, data)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(*change(item.filename, src.read(item.filename)))
    tmp.replace(path)


def _substitute(path: Path, part: str, pattern: bytes, replacement: bytes) -> None:
    """re.sub(pattern, replacement) once in the package's part `part`."""
    _rewrite(path, lambda name, data: (name, re.sub(pattern, replacement, data, count=1) if name == part else data))


def _cache(path: Path, sheet_part: str, cell: str, value: str) -> None:
    """Give formula cell `cell` the cached value Excel would have stored."""
    _substitute(path, sheet_part, rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v></v>)?'.encode(), rb"\1<v>" + value.encode() + b"</v>")


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_formula_without_cached_value_is_reported_not_guessed(tmp_path, reader):
    path = tmp_path / "公式.xlsx"
    _with_formula(path)
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert table.value("合计", "合计") is None
    assert [(p.cell, p.sheet) for p in table.problems] == [("C7", T5)]
    assert "公式没有缓存值" in table.problems[0].message
    out = run_cli("inspect", str(path), "--reader", reader).stdout
    assert "C7 公式没有缓存值（formula without cached value）" in out


_T5_PART = "xl/worksheets/sheet5.xml"
_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _r_attribute_last(name: str, data: bytes) -> tuple[str, bytes]:
    if name == _T5_PART:  # <c s="3" r="C7">: XML does not fix the order of attributes
        data = re.sub(rb'<c r="([A-Z]+\d+)"([^>]*?)(/?)>', rb'<c\2 r="\1"\3>', data)
    return name, data


def _prefixed(name: str, data: bytes) -> tuple[str, bytes]:
    if name == _T5_PART:  # <x:c r="C7"><x:f>…: as .NET's Open XML SDK may write it
        data = re.sub(rb"<(/?)([A-Za-z]+[ />])", rb"<\1x:\2", data.replace(_MAIN, _MAIN.replace(b"xmlns=", b"xmlns:x=")))
    return name, data


def _moved(part: str):
    """A change that stores `part` outside xl/worksheets/: its place is whatever the workbook's
    relationships say."""
    old, new = part.removeprefix("xl/").encode(), b"sheets/" + part.rsplit("/", 1)[1].encode()

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if name == part:
            return "xl/" + new.decode(), data
        if name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            data = data.replace(old, new)
        return name, data

    return change


_stored_elsewhere = _moved(_T5_PART)


def _strict(name: str, data: bytes) -> tuple[str, bytes]:
    """Every part in Strict Open XML namespaces, as Excel's "Strict Open XML Spreadsheet" saves it."""
    if name.endswith((".xml", ".rels")) and name != "[Content_Types].xml":
        data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
        data = data.replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships", b"http://purl.oclc.org/ooxml/officeDocument/relationships")
    return name, data


@pytest.mark.parametrize(
    "reader,spelling",
    [(reader, spelling) for reader in ("calamine", "openpyxl") for spelling in (_r_attribute_last, _prefixed, _stored_elsewhere)] + [("calamine", _strict)],
    ids=[f"{r}-{s}" for r in ("calamine", "openpyxl") for s in ("r_attribute_last", "prefixed", "stored_elsewhere")] + ["calamine-strict"],
)
def test_formula_without_cached_value_is_reported_however_the_writer_spells_the_sheet(tmp_path, reader, spelling):
    path = tmp_path / "公式.xlsx"
    _with_formula(path)
    _rewrite(path, spelling)
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert (table.value("合计", "合计"), table.value("合计", "基本支出")) == (None, 1.25)  # both readers read the part
    assert [(p.cell, p.sheet) for p in table.problems] == [("C7", T5)]
    assert "公式没有缓存值" in table.problems[0].message


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_formula_with_cached_value_reads_the_cached_value(tmp_path, reader):
    path = tmp_path / "公式.xlsx"
    _with_formula(path)
    _cache(path, "xl/worksheets/sheet5.xml", "C7", "3.75")
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert table.value("合计", "合计") == 3.75
    assert table.problems == []


def _cell_xml(path: Path, cell: str, xml: bytes) -> None:
    """Replace formula cell `cell` of T5 by `xml`, as another writer stores it."""
    _substitute(path, _T5_PART, rf'<c r="{cell}"[^>]*>.*?</c>'.encode(), xml)


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_a_formula_that_shows_zero_as_blank_has_a_cached_value(tmp_path, reader):
    """=IF(x=0,"",x) as Excel and LibreOffice save it: a text result, the empty text cached."""
    path = tmp_path / "公式.xlsx"
    _with_formula(path)
    _cell_xml(path, "C7", b'<c r="C7" s="8" t="str"><f>IF(D7+E7=0,"",D7+E7)</f><v></v></c>')
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert table.value("合计", "合计") is None and table.problems == []


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#REF!"])
def test_a_formula_error_is_read_as_its_text_not_as_a_blank(tmp_path, reader, error):
    """python-calamine reads a cached error as "": the amount would pass as a blank (0)."""
    path = tmp_path / "公式.xlsx"
    _with_formula(path)
    _cell_xml(path, "C7", b'<c r="C7" s="8" t="e"><f>D7/0</f><v>' + error.encode() + b"</v></c>")
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert [(p.cell, p.message) for p in table.problems] == [("C7", f"「{error}」不是数字（not a number）")]


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_dashes_pasted_from_pdf_and_word_read_as_zero_or_minus(tmp_path, reader):
    """U+2212 (the minus sign of PDF and Word) and U+2010 (a hyphen) are not mapped to "-" by NFKC:
    each had been a C-1 error, 「−」不是数字."""
    path = tmp_path / "横线.xlsx"
    shutil.copy(SAMPLE, path)
    book = openpyxl.load_workbook(path)
    book[T5]["D10"], book[T5]["E11"], book[T5]["C12"], book[T5]["D12"] = "\u2212", "\u2010", "\u2212" + "12.30", "———"
    book.save(path)
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert [table.value(*at) for at in (("2080101", "基本支出"), ("2080150", "项目支出"), ("2080199", "合计"), ("2080199", "基本支出"))] == [0.0, 0.0, -12.3, 0.0]
    assert table.problems == []


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_text_where_a_number_belongs_is_a_problem_on_that_cell(tmp_path, reader):
    path = tmp_path / "文字.xlsx"
    shutil.copy(SAMPLE, path)
    book = openpyxl.load_workbook(path)
    book[T5]["D10"] = "待定"
    book[T5]["E11"] = "12,3.4"
    book[T5]["C12"] = "１,２３４.５"
    book.save(path)
    table = inspect_workbook(path, reader=reader).tables[T5]
    assert table.value("2080101", "基本支出") is None
    assert table.value("2080199", "合计") == 1234.5
    assert sorted((p.cell, p.message) for p in table.problems) == [
        ("D10", "「待定」不是数字（not a number）"),
        ("E11", "「12,3.4」不是数字（not a number）"),
    ]


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_a_far_value_within_the_limit_is_read_as_usual(tmp_path, reader):
    """Values past column ZZ or row 9999 make the reader measure the sheet; these stay well
    within MAX_CELLS and are read as any other cell."""
    path = tmp_path / "远处.xlsx"
    book = openpyxl.load_workbook(SAMPLE)
    book[T5]["A12000"] = "备注：远处的一行"
    first = book.worksheets[0]
    first["AAB3"] = 1.5
    book.save(path)
    sheets = {s.name: s for s in read_workbook(path, reader)}
    assert sheets[T5].value(11999, 0) == "备注：远处的一行" and sheets[first.title].value(2, column_index("AAB")) == 1.5
    assert inspect_workbook(path, reader=reader).tables[T5] is not None


@pytest.mark.parametrize("elsewhere", [False, True], ids=["in_xl_worksheets", "stored_elsewhere"])
def test_the_grid_is_measured_from_a1_to_the_farthest_value(tmp_path, elsewhere):
    """MAX_CELLS against rows × columns of A1 to the farthest row and column with a value, even when
    no one cell stands at that corner; a formula without a value or an empty cell does not count;
    the sheet is measured before the reader reads it wherever the package stores it."""
    path = tmp_path / "两角.xlsx"
    book = openpyxl.load_workbook(TEMPLATE)
    sheet = book.worksheets[1]
    sheet["ZZZ1"], sheet["A9000"] = "右上", "左下"  # 18,278 columns × 9,000 rows = 164 million cells
    sheet["XFD1048576"] = "=1+1"  # no cached value: calamine leaves it out of the grid
    book.save(path)
    part = f"xl/worksheets/sheet{book.worksheets.index(sheet) + 1}.xml"

    def inline(name: str, data: bytes) -> tuple[str, bytes]:  # 右上 as an inline string, as some writers store text
        if name == part:
            data = re.sub(rb'<c r="ZZZ1" t="s"><v>\d+</v></c>', '<c r="ZZZ1" t="inlineStr"><is><t>右上</t></is></c>'.encode(), data)
            assert b"inlineStr" in data
        return name, data

    _rewrite(path, inline)
    if elsewhere:
        _rewrite(path, _moved(part))
    with pytest.raises(WorkbookReadError, match=f"工作表「{sheet.title}」的已用区域为 A1:ZZZ9000，共 164,502,000 个单元格"):
        read_workbook(path)
