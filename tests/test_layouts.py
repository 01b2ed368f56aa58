"""Recognition in real-world layouts other than our own (fixtures built by tests/layouts.py).

Every fixture must yield all nine tables on the sheets where they were written, in the
right amount unit, and every named cell must land on its (row key, column key) with
the amount it holds — text numbers, full-width digits and dashes included.
"""

from __future__ import annotations

import json

import layouts
import pytest
from conftest import run_cli

from xlplugin.workbook import inspect_workbook


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layouts")
    return {name: (folder / f"{name}.xlsx", layouts.build(name, folder / f"{name}.xlsx")) for name in layouts.LAYOUTS}


def test_there_are_at_least_six_layouts():
    assert len(layouts.LAYOUTS) >= 6


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
@pytest.mark.parametrize("name", layouts.LAYOUTS)
def test_named_cells_land_on_named_keys(built, name, reader):
    path, expected = built[name]
    result = inspect_workbook(path, reader=reader)
    assert result.missing == {}, result.missing
    checked = 0
    for table_name, sheet in expected.sheets.items():
        table = result.tables[table_name]
        assert table.sheet == sheet
        assert table.unit == expected.unit and table.unit_stated
        for (row_key, column_key), address in expected.cells[table_name].items():
            assert table.address(row_key, column_key) == address, (table_name, row_key, column_key)
            value = expected.values[table_name][(row_key, column_key)]
            assert table.value(row_key, column_key) == pytest.approx(float(value)), (table_name, row_key, column_key)
            checked += 1
        assert not [p for p in table.problems if "不是数字" in p.message], table.problems
    assert checked >= 150


@pytest.mark.parametrize("name", layouts.LAYOUTS)
def test_inspect_json_finds_all_nine_tables(built, name):
    path, expected = built[name]
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    tables = json.loads(result.stdout)["tables"]
    assert {k: v["sheet"] for k, v in tables.items()} == expected.sheets
    assert {v["unit"] for v in tables.values()} == {expected.unit}


@pytest.mark.parametrize("name", layouts.LAYOUTS)
def test_recognition_without_merge_information(built, name):
    """An xlwings Book from Office.js carries values only: header spans must be inferred."""
    from xlplugin.io.readers import read_workbook
    from xlplugin.specs import load_year
    from xlplugin.tables.recognize import recognize

    path, expected = built[name]
    sheets = read_workbook(path)
    for sheet in sheets:
        sheet.merges = []
    result = recognize(sheets, load_year(2024), str(path))
    assert result.missing == {}
    for table_name, cells in expected.cells.items():
        table = result.tables[table_name]
        for (row_key, column_key), address in cells.items():
            assert table.address(row_key, column_key) == address, (table_name, row_key, column_key)


def test_sample_and_template_without_merge_information():
    from conftest import SAMPLE, TEMPLATE

    from xlplugin.io.readers import read_workbook
    from xlplugin.specs import load_year
    from xlplugin.tables.recognize import recognize

    for path in (SAMPLE, TEMPLATE):
        with_merges = recognize(read_workbook(path), load_year(2024), str(path))
        sheets = read_workbook(path)
        for sheet in sheets:
            sheet.merges = []
        without = recognize(sheets, load_year(2024), str(path))
        for name, table in with_merges.tables.items():
            for block, part in table.blocks.items():
                assert without.tables[name].blocks[block].cells.equals(part.cells), (path.name, name, block)


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_split_codes_typed_as_numbers_are_the_same_codes(built, tmp_path, reader):
    """类 | 款 | 项 typed into number cells: 06 is stored as 6 (a 00 number format shows 06 again).
    The parts must still make 2080601, not 20861: the whole table had given H-6 errors."""
    import openpyxl

    path, expected = built["shanghai"]
    book = openpyxl.load_workbook(path)
    typed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row[:3]:
                if isinstance(cell.value, str) and cell.value.isdigit() and len(cell.value) in (2, 3):
                    cell.value, cell.number_format = int(cell.value), "00"
                    typed += 1
    numbers = tmp_path / "数字编码.xlsx"
    book.save(numbers)
    assert typed > 100
    result = inspect_workbook(numbers, reader=reader)
    for table_name, cells in expected.cells.items():
        for (row_key, column_key), address in cells.items():
            assert result.tables[table_name].address(row_key, column_key) == address, (table_name, row_key, column_key)
    original, typed_in = (json.loads(run_cli("validate", str(p), "--format", "json").stdout)["workbooks"][0]["findings"] for p in (path, numbers))
    assert typed_in == original
