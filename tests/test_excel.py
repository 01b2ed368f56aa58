"""The xlwings functions the ribbon and the server call, run on xlwings' remote engine.

A real workbook file becomes the JSON an Office.js client sends (tests/remote.py);
the function runs on `xw.Book(json=payload)`; the actions it returns are checked, then
applied to an openpyxl copy, which must carry the same marks as `validate --annotate`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw
from conftest import ONE_ERROR, SAMPLE, TEMPLATE, run_cli, sample_with
from remote import apply_actions, payload_from_file

from xlplugin.excel import clear_book, insert_template, read_sheets, validate_book
from xlplugin.io.template import template_layouts
from xlplugin.marks import RESULT_SHEET, UNDO_SHEET, plan_marks
from xlplugin.specs import load_year
from xlplugin.workbook import inspect_workbook, validate_workbook

T1, T5 = "收入支出决算总表", "一般公共预算财政拨款支出决算表"


@pytest.fixture
def broken(tmp_path) -> Path:
    return sample_with(tmp_path / "单位.xlsx", {**ONE_ERROR, (T1, "B14"): -5.0, ("财政拨款“三公”经费支出决算表", "G8"): 10.9})


def _remote(path: Path):
    return xw.Book(json=copy.deepcopy(payload_from_file(path)))


def _actions(book, name: str) -> list[dict]:
    return [a for a in book.json()["actions"] if a["func"] == name]


def _address(action: dict) -> str:
    start = openpyxl.utils.get_column_letter(action["start_column"] + 1) + str(action["start_row"] + 1)
    return start


def test_reading_through_xlwings_finds_the_same_cells():
    remote = inspect_workbook(SAMPLE)
    sheets = read_sheets(_remote(SAMPLE))
    from xlplugin.tables.recognize import recognize

    through_xlwings = recognize(sheets, load_year(2024), "remote")
    for name, table in remote.tables.items():
        for block, part in table.blocks.items():
            assert through_xlwings.tables[name].blocks[block].cells.equals(part.cells)
            assert through_xlwings.tables[name].blocks[block].frame.equals(part.frame)


def test_validate_book_colours_exactly_the_planned_cells(broken):
    book = _remote(broken)
    report = validate_book(book)
    expected = validate_workbook(broken)
    assert [(f.rule_id, f.cell) for f in report.findings] == [(f.rule_id, f.cell) for f in expected.findings]
    plan = plan_marks(expected)
    names = [s["name"] for s in payload_from_file(broken)["sheets"]]
    coloured = {}
    for action in _actions(book, "setRangeColor"):
        assert action["row_count"] == action["column_count"] == 1
        # sheet positions count the 审核结果 sheet only once it is added, after the marks
        coloured[(names[action["sheet_position"]], _address(action))] = action["args"][0]
    assert coloured == {key: "#" + mark.fill for key, mark in plan.cells.items()}
    notes = {(names[a["sheet_position"]], a["args"][0].replace("$", "")): a["args"][1] for a in _actions(book, "addNote")}
    assert notes == {key: mark.note for key, mark in plan.cells.items() if mark.note}


def test_the_result_sheet_values_and_links(broken):
    book = _remote(broken)
    validate_book(book)
    plan = plan_marks(validate_workbook(broken))
    added = _actions(book, "addSheet")
    assert [a["args"] for a in added] == [[0, RESULT_SHEET], [len(payload_from_file(broken)["sheets"]) + 1, UNDO_SHEET]]
    values = next(a for a in _actions(book, "setValues") if a["sheet_position"] == 0)["values"]
    header = plan.header_row
    assert values[header] == ["序号", "级别", "规则", "表", "单元格", "说明", "期望值", "实际值", "差额"]
    blank = lambda v: "" if v is None else v  # noqa: E731  (xlwings sends blanks as "")
    assert values[header + 1 :] == [[blank(v) for v in r.values] for r in plan.rows[1:]]
    assert values[0][0].startswith("xlplugin 审核结果：乌鲁木齐市水磨沟区人力资源和社会保障局")
    links = [a["args"][0] for a in _actions(book, "addHyperlink")]
    assert links == [f"#'{r.link[0]}'!{r.link[1]}" for r in plan.rows[1:] if r.link]


def test_actions_applied_in_excel_give_the_same_marks_as_the_annotated_file(broken, tmp_path):
    annotated = tmp_path / "标注.xlsx"
    assert run_cli("validate", str(broken), "--annotate", str(annotated)).returncode == 1
    book = _remote(broken)
    validate_book(book)
    applied = openpyxl.load_workbook(broken)
    apply_actions(book.json()["actions"], applied)
    applied.save(tmp_path / "远程.xlsx")
    applied = openpyxl.load_workbook(tmp_path / "远程.xlsx")
    reference = openpyxl.load_workbook(annotated)
    assert applied.sheetnames[0] == reference.sheetnames[0] == RESULT_SHEET
    for ws in reference.worksheets:
        if ws.title in (RESULT_SHEET, UNDO_SHEET):
            continue
        other = applied[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                mine = other[cell.coordinate]
                assert (mine.fill.fgColor.rgb if mine.fill.fill_type else None) == (cell.fill.fgColor.rgb if cell.fill.fill_type else None), (ws.title, cell.coordinate)
                assert (mine.comment.text if mine.comment else None) == (cell.comment.text if cell.comment else None), (ws.title, cell.coordinate)
    assert [[c.value for c in r] for r in reference[RESULT_SHEET].iter_rows()] == [
        [c.value for c in r] for r in applied[RESULT_SHEET].iter_rows()
    ]


def test_clear_book_undoes_the_annotated_file(broken, tmp_path):
    annotated = tmp_path / "标注.xlsx"
    run_cli("validate", str(broken), "--annotate", str(annotated))
    book = _remote(annotated)
    assert clear_book(book)
    cleared = openpyxl.load_workbook(annotated)
    apply_actions(book.json()["actions"], cleared)
    original = openpyxl.load_workbook(broken)
    assert cleared.sheetnames == original.sheetnames
    for ws in original.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                mine = cleared[ws.title][cell.coordinate]
                assert mine.value == cell.value
                assert mine.fill.fill_type == cell.fill.fill_type, (ws.title, cell.coordinate)
                assert mine.comment is None and cell.comment is None


def test_a_sheet_of_the_users_called_like_our_result_sheet_stays(broken, tmp_path):
    """A reviewer's own 审核结果 sheet: ours is added beside it as 审核结果1, and marking again or
    clearing deletes ours only."""
    book = openpyxl.load_workbook(broken)
    book.create_sheet("审核结果")["A1"] = "财务科内部审核意见"
    book.save(broken)
    remote = _remote(broken)
    validate_book(remote)
    assert [a["args"][1] for a in _actions(remote, "addSheet")] == ["审核结果1", UNDO_SHEET]
    marked = openpyxl.load_workbook(broken)
    apply_actions(remote.json()["actions"], marked)
    assert marked.sheetnames[0] == "审核结果1" and marked["审核结果"]["A1"].value == "财务科内部审核意见"
    annotated = tmp_path / "标注.xlsx"
    marked.save(annotated)
    again = _remote(annotated)
    validate_book(again)  # the old marks go, the user's sheet stays
    assert [a["args"] for a in _actions(again, "addSheet")][0][1] == "审核结果1"
    cleared_book = _remote(annotated)
    assert clear_book(cleared_book)
    cleared = openpyxl.load_workbook(annotated)
    apply_actions(cleared_book.json()["actions"], cleared)
    assert cleared.sheetnames == openpyxl.load_workbook(broken).sheetnames
    assert cleared["审核结果"]["A1"].value == "财务科内部审核意见"


def test_validating_a_marked_book_replaces_the_marks(broken, tmp_path):
    annotated = tmp_path / "标注.xlsx"
    run_cli("validate", str(broken), "--annotate", str(annotated))
    book = _remote(annotated)
    validate_book(book)
    funcs = [a["func"] for a in book.json()["actions"]]
    assert funcs.count("sheetDelete") == 2 and funcs.count("addSheet") == 2
    assert funcs.index("sheetDelete") < funcs.index("addSheet")


def test_a_book_without_tables_says_so(tmp_path):
    path = tmp_path / "空.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "封面"
    book.save(path)
    remote = _remote(path)
    report = validate_book(remote)
    assert any("没有识别出任何一张表" in f.message for f in report.findings)
    values = next(a for a in _actions(remote, "setValues") if a["sheet_position"] == 0)["values"]
    assert any("未找到（未校验）：收入支出决算总表" in str(row[0]) for row in values)


def test_insert_template_gives_the_template_sheets(tmp_path):
    path = tmp_path / "新工作簿.xlsx"
    openpyxl.Workbook().save(path)
    book = _remote(path)
    added = insert_template(book, template_layouts(load_year(2024)))
    assert added == load_year(2024).table_names
    result = openpyxl.load_workbook(path)
    apply_actions(book.json()["actions"], result)
    template = openpyxl.load_workbook(TEMPLATE)
    for name in added:
        ours, theirs = result[name], template[name]
        assert [[c.value for c in r] for r in ours.iter_rows()] == [[c.value for c in r] for r in theirs.iter_rows()], name
        assert sorted(map(str, ours.merged_cells.ranges)) == sorted(map(str, theirs.merged_cells.ranges)), name
