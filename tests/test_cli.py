"""`xlplugin inspect` as scripts and people use it: the JSON contract, the text, bad input."""

from __future__ import annotations

import json
import shutil
import zipfile

import openpyxl
import pytest
import xlwt
from conftest import SAMPLE, TEMPLATE, binary_workbook, opendocument_spreadsheet, run_cli
from msoffcrypto.format.ooxml import OOXMLFile

from xlplugin.specs import load_year

NAMES = load_year(2024).table_names


def test_json_has_exactly_the_contract_keys():
    result = run_cli("inspect", str(SAMPLE), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"path", "tables"}
    assert data["path"] == str(SAMPLE)
    assert list(data["tables"]) == NAMES
    assert "财政拨款“三公”经费支出决算表" in data["tables"]  # the Chinese quotes, exactly
    for name, table in data["tables"].items():
        assert set(table) == {"sheet", "range", "unit"}
        assert table["sheet"] == name and table["unit"] == "万元"
    assert data["tables"]["一般公共预算财政拨款支出决算表"]["range"] == "A1:E24"


def test_json_reports_a_missing_table_as_null(tmp_path):
    book = openpyxl.load_workbook(TEMPLATE)
    del book["财政拨款“三公”经费支出决算表"]
    path = tmp_path / "八张表.xlsx"
    book.save(path)
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.returncode == 0
    tables = json.loads(result.stdout)["tables"]
    assert tables["财政拨款“三公”经费支出决算表"] is None
    assert tables["收入支出决算总表"] is not None
    text = run_cli("inspect", str(path)).stdout
    assert "财政拨款“三公”经费支出决算表：未找到 — 没有找到这张表的标题" in text
    assert "共找到 8/9 张表" in text


def test_text_lists_sheet_range_unit_rows_and_columns():
    result = run_cli("inspect", str(SAMPLE), "--reader", "openpyxl")
    assert result.returncode == 0
    out = result.stdout
    assert "[5] 一般公共预算财政拨款支出决算表：工作表「一般公共预算财政拨款支出决算表」A1:E24，金额单位 万元" in out
    assert "列 合计(C)、基本支出(D)、项目支出(E)" in out
    assert "2080101" in out and "共找到 9/9 张表。" in out
    assert "注释：注：本单位本年度无政府性基金预算财政拨款收入" in out


def test_a_table_whose_header_is_not_understood_is_reported_with_the_reason(tmp_path):
    book = openpyxl.load_workbook(TEMPLATE)
    ws = book["一般公共预算财政拨款支出决算表"]
    for cell in ("C4", "C5", "D5", "E5"):  # wipe the amount headers
        ws[cell].value = None
    path = tmp_path / "坏表头.xlsx"
    book.save(path)
    result = run_cli("inspect", str(path))
    assert result.returncode == 0
    assert "一般公共预算财政拨款支出决算表：未找到 — 「一般公共预算财政拨款支出决算表」!A1 有标题，但表头中没有可识别的金额列" in result.stdout


def _encrypted(path):
    with TEMPLATE.open("rb") as plain, path.open("wb") as out:
        OOXMLFile(plain).encrypt("secret", out)


def _legacy_xls(path):
    book = xlwt.Workbook()
    book.add_sheet("收入支出决算总表").write(0, 0, "收入支出决算总表")
    book.save(str(path))


def _docx_like(path):
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", "<document/>")


def _truncated(path):
    path.write_bytes(TEMPLATE.read_bytes()[:4000])


def _damaged_sheet(path):
    """A whole package whose first sheet's compressed data is garbled (a bad disk copy)."""
    data = bytearray(TEMPLATE.read_bytes())
    with zipfile.ZipFile(TEMPLATE) as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 10
    for i in range(start, start + 40):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _stray_value_in_the_last_cell(path):
    """One value typed into XFD1048576: python-calamine would ask for 550 GB and abort."""
    book = openpyxl.load_workbook(TEMPLATE)
    book.worksheets[0]["XFD1048576"] = "x"
    book.save(path)


def _declared_huge(path):
    """The template whose central directory says its first sheet unpacks to 3 GB (as a zip bomb
    would; python-calamine would try to hold it)."""
    data = bytearray(TEMPLATE.read_bytes())
    name, entry = b"xl/worksheets/sheet1.xml", data.index(b"PK\x01\x02")  # the central directory
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (3 << 30).to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(data))


BAD_INPUTS = {
    "missing.xlsx": (None, "文件不存在（file not found）"),
    "empty.xlsx": (lambda p: p.write_bytes(b""), "文件为空（empty file）"),
    "notes.xlsx": (lambda p: p.write_text("这不是工作簿", encoding="utf-8"), "不是 Excel 工作簿（not a workbook）"),
    "report.docx.xlsx": (_docx_like, "不是 Excel 工作簿（not a workbook）"),
    "locked.xlsx": (_encrypted, "工作簿设有打开密码（encrypted workbook）"),
    "old.xls": (_legacy_xls, "旧版 .xls 格式不受支持（legacy .xls）"),
    "wps.et": (_legacy_xls, "WPS 表格 .et 格式不受支持（WPS .et）"),  # WPS's own format is an OLE file too
    "binary.xlsb": (binary_workbook, "Excel 二进制工作簿 .xlsb 格式不受支持（.xlsb），请在 Excel 中另存为 .xlsx"),
    "calc.ods": (opendocument_spreadsheet, "OpenDocument 表格 .ods 格式不受支持（.ods），请在 WPS 或 LibreOffice 中另存为 .xlsx"),
    "broken.xlsx": (_truncated, "文件已损坏或不完整（corrupt zip）"),
    "damaged.xlsx": (_damaged_sheet, "文件已损坏（corrupt workbook）"),
    "stray.xlsx": (_stray_value_in_the_last_cell, "工作表「收入支出决算总表」的已用区域为 A1:XFD1048576"),
    "bomb.xlsx": (_declared_huge, "文件解压后过大（too large when unpacked）：其中 xl/worksheets/sheet1.xml 约 3.0 GB，超过 1 GB"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_exit_2_with_one_clear_line(tmp_path, name):
    make, words = BAD_INPUTS[name]
    path = tmp_path / name
    if make:
        make(path)
    result = run_cli("inspect", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and words in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_inspect_writes_nothing(tmp_path):
    work = tmp_path / "单位"
    work.mkdir()
    path = work / "sample.xlsx"
    shutil.copy2(SAMPLE, path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    for args in (["--format", "json"], ["--reader", "openpyxl"], []):
        assert run_cli("inspect", str(path), *args, cwd=work).returncode == 0
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert [p.name for p in work.iterdir()] == ["sample.xlsx"]


def test_unknown_year_is_a_clear_error():
    result = run_cli("inspect", str(SAMPLE), "--year", "1999")
    assert result.returncode == 2
    assert "没有 1999 年度的表格定义" in result.stderr and "2024" in result.stderr


@pytest.mark.parametrize("code_page, written_as", [("cp936", "gb18030"), ("cp1252", "utf-8"), ("utf-8", "utf-8")])
def test_output_to_a_file_holds_any_unit_name_whatever_the_code_page(tmp_path, code_page, written_as):
    """Redirected output uses the system's code page (GBK on Chinese Windows, cp1252 on others),
    which lacks rare characters of names (𠮷) or all Chinese: the text is written as GB18030 (GBK's
    bytes for every GBK character) or UTF-8 instead of stopping with a traceback."""
    import os
    import subprocess
    import sys

    book = openpyxl.load_workbook(SAMPLE)
    old, new = "乌鲁木齐市水磨沟区人力资源和社会保障局", "𠮷𬌗县人力资源和社会保障局"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and old in cell.value:
                    cell.value = cell.value.replace(old, new)
    path = tmp_path / "生僻字.xlsx"
    book.save(path)
    environment = {**os.environ, "PYTHONIOENCODING": code_page}

    def validate(*options: str) -> bytes:
        command = [sys.executable, "-m", "xlplugin.cli", "validate", str(path), *options]
        result = subprocess.run(command, capture_output=True, env=environment, timeout=120)
        assert result.returncode == 0, result.stderr.decode(written_as, errors="replace")
        return result.stdout

    text = validate()
    assert text.decode(written_as).startswith(f"工作簿：{path}（{new}，2024 年度）")
    if written_as == "gb18030":  # a reader that takes the file as GBK still reads everything else
        assert text.split("（".encode("gbk"))[0] == f"工作簿：{path}".encode("gbk")
    sarif = json.loads(validate("--format", "sarif").decode("utf-8"))  # the machine formats are UTF-8, as they say
    assert sarif["runs"][0]["artifacts"][0]["location"]["uri"]
    assert new in validate("--format", "html").decode("utf-8")
