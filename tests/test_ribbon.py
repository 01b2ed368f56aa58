"""Every ribbon button reaches its Python handler, on xlwings' remote engine, and never shows a traceback."""

from __future__ import annotations

import copy

import openpyxl
import pytest
import xlwings as xw
from conftest import ONE_ERROR, SAMPLE, TEMPLATE, run_cli, sample_with
from remote import apply_actions, payload_from_file

from xlplugin import __version__
from xlplugin.excel import ribbon
from xlplugin.marks import RESULT_SHEET
from xlplugin.specs import load_year


def _book(path):
    return xw.Book(json=copy.deepcopy(payload_from_file(path)))


def _alerts(book) -> list[list]:
    return [a["args"] for a in book.json()["actions"] if a["func"] == "alert"]


@pytest.fixture
def broken(tmp_path):
    return sample_with(tmp_path / "单位.xlsx", ONE_ERROR)


def test_every_button_has_a_handler():
    assert set(ribbon.HANDLERS) == {"btnValidate", "btnClear", "btnTemplate", "btnAbout"}


def test_validate_button_marks_the_book_and_says_what_it_found(broken):
    book = _book(broken)
    message = ribbon.on_ribbon("btnValidate", book)
    assert message.startswith("校验完成：错误 2 个，提示 1 个。")
    funcs = [a["func"] for a in book.json()["actions"]]
    assert "setRangeColor" in funcs and "addNote" in funcs and ["alert"] == funcs[-1:]
    assert _alerts(book) == [[message, "决算校验", "ok", "info", ""]]


def test_validate_button_on_a_clean_book(tmp_path):
    book = _book(SAMPLE)
    assert ribbon.on_ribbon("btnValidate", book).startswith("校验完成：错误 0 个，提示 0 个。未发现错误。")


def test_clear_button_removes_the_marks(broken, tmp_path):
    annotated = tmp_path / "标注.xlsx"
    run_cli("validate", str(broken), "--annotate", str(annotated))
    book = _book(annotated)
    assert ribbon.on_ribbon("btnClear", book).startswith("已清除 xlplugin 的标注")
    result = openpyxl.load_workbook(annotated)
    apply_actions([a for a in book.json()["actions"] if a["func"] != "alert"], result)
    assert RESULT_SHEET not in result.sheetnames
    assert ribbon.on_ribbon("btnClear", _book(broken)) == "本工作簿中没有 xlplugin 的标注，无需清除。"


def test_template_button_gives_the_same_sheets_as_the_command(tmp_path):
    path = tmp_path / "空白.xlsx"
    openpyxl.Workbook().save(path)
    book = _book(path)
    message = ribbon.on_ribbon("btnTemplate", book)
    assert message.startswith("已在当前工作簿中插入 2024 年度九张表模板（9 个工作表）")
    result = openpyxl.load_workbook(path)
    apply_actions([a for a in book.json()["actions"] if a["func"] != "alert"], result)
    template = openpyxl.load_workbook(TEMPLATE)
    for name in load_year(2024).table_names:
        assert [[c.value for c in r] for r in result[name].iter_rows()] == [[c.value for c in r] for r in template[name].iter_rows()]


def test_about_button_names_version_year_and_where_to_report(tmp_path):
    message = ribbon.on_ribbon("btnAbout", _book(SAMPLE))
    assert __version__ in message and "2024 年度" in message and "问题反馈" in message


def test_a_book_without_tables_says_so(tmp_path):
    path = tmp_path / "封面.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "某某局 2024 年度部门决算"
    book.save(path)
    message = ribbon.on_ribbon("btnValidate", _book(path))
    assert message.startswith("没有在本工作簿中识别出任何一张决算表")


def test_a_failure_is_a_chinese_message_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setattr(ribbon, "LOG_FILE", tmp_path / "xlplugin.log")

    def broken_handler(book):
        raise RuntimeError("simulated failure")

    monkeypatch.setitem(ribbon.HANDLERS, "btnValidate", broken_handler)
    book = _book(SAMPLE)
    message = ribbon.on_ribbon("btnValidate", book)
    assert message.startswith("操作未完成：处理工作簿时出错（btnValidate）")
    assert "Traceback" not in message
    assert _alerts(book)[0][3] == "critical"
    assert "simulated failure" in (tmp_path / "xlplugin.log").read_text(encoding="utf-8")


def test_an_unknown_button_is_a_message():
    book = _book(SAMPLE)
    assert ribbon.on_ribbon("btnNope", book).startswith("未知的按钮“btnNope”")


def _with_used_range(path, address: str):
    """The book as the client sends it, its first sheet's used range reaching `address` (one stray
    value there: Excel reports the used range up to it; the values sent stay the sheet's own)."""
    payload = copy.deepcopy(payload_from_file(path))
    payload["sheets"][0]["used_range_address"] = address
    return xw.Book(json=payload)


def test_a_stray_value_far_away_is_a_message_not_a_hang(tmp_path):
    """Reading A1:XFD1048576 would ask Excel for 17 billion cells: the button says which sheet and
    what to do, and marks nothing."""
    book = _with_used_range(SAMPLE, "A1:XFD1048576")
    message = ribbon.on_ribbon("btnValidate", book)
    first = openpyxl.load_workbook(SAMPLE, read_only=True).sheetnames[0]
    assert message.startswith(f"操作未完成：工作表「{first}」的已用区域为 A1:XFD1048576，共 17,179,869,184 个单元格")
    assert "Ctrl+End" in message
    assert [a["func"] for a in book.json()["actions"]] == ["alert"] and _alerts(book)[0][3] == "critical"


def test_blank_means_nothing_in_any_sheet_without_reading_a_far_used_range(tmp_path):
    blank = tmp_path / "空白.xlsx"
    openpyxl.Workbook().save(blank)
    assert ribbon._is_blank(_book(blank))
    assert not ribbon._is_blank(_book(SAMPLE))
    assert not ribbon._is_blank(_with_used_range(blank, "A1:XFD1048576"))  # decided without asking for its values
