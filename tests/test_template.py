"""The nine-sheet template and the sample: committed files equal what the code builds, and look right."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE, TEMPLATE, TEMPLATES, run_cli

from xlplugin.specs import load_year

sys.path.insert(0, str(TEMPLATES))
import build_sample  # noqa: E402


def workbook_content(path: Path) -> dict:
    """Everything a user sees of a workbook: values, styles that matter, merges, widths, print setup."""
    book = openpyxl.load_workbook(path)
    content = {}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                cells[cell.coordinate] = (
                    cell.value,
                    cell.number_format,
                    bool(cell.font and cell.font.b),
                    cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else None,
                    bool(cell.border and cell.border.left and cell.border.left.style),
                )
        content[ws.title] = {
            "cells": cells,
            "merges": sorted(str(m) for m in ws.merged_cells.ranges),
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.width},
            "freeze": ws.freeze_panes,
            "orientation": ws.page_setup.orientation,
            "paper": ws.page_setup.paperSize,
            "print_titles": ws.print_title_rows,
        }
    return content


def test_committed_template_and_sample_equal_what_the_builder_makes(tmp_path):
    sample, template = build_sample.build(tmp_path)
    assert workbook_content(template) == workbook_content(TEMPLATE)
    assert workbook_content(sample) == workbook_content(SAMPLE)


def test_cli_template_equals_committed_template(tmp_path):
    out = tmp_path / "新单位.xlsx"
    result = run_cli("template", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "已生成模板" in result.stdout
    assert workbook_content(out) == workbook_content(TEMPLATE)


def test_template_unit_name_lands_in_every_sheet(tmp_path):
    out = tmp_path / "t.xlsx"
    assert run_cli("template", "-o", str(out), "--unit", "某某县财政局", "--year", "2024").returncode == 0
    book = openpyxl.load_workbook(out)
    assert [ws["A3"].value for ws in book.worksheets] == ["编制单位：某某县财政局"] * 9


def test_template_has_the_central_format():
    spec = load_year(2024)
    book = openpyxl.load_workbook(TEMPLATE)
    assert book.sheetnames == spec.table_names
    for table, ws in zip(spec.tables, book.worksheets):
        assert ws["A1"].value == table.name and ws["A1"].font.b and ws["A1"].font.sz == 16
        last = ws.max_column
        assert ws.cell(2, last).value == table.number  # 公开0N表 at the top right
        assert ws.cell(3, last).value == "金额单位：万元"
        assert ws["A4"].font.b and ws["A4"].fill.fgColor.rgb.endswith("F2F2F2")
        assert any(m.min_row == 1 and m.max_col == last for m in ws.merged_cells.ranges)  # title spans the table
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
        assert ws.freeze_panes is not None and ws.freeze_panes != "A1" or table.id == "T9"
        lanci = [row for row in ws.iter_rows(min_row=4, max_row=8) if any(c.value == 1 for c in row)]
        assert lanci, f"{table.name}: no 栏次 row"
        numbers = [c.value for c in lanci[0] if isinstance(c.value, int)]
        assert numbers == list(range(1, len(numbers) + 1))


def test_template_lists_every_class_row_and_fixed_row():
    book = openpyxl.load_workbook(TEMPLATE)
    t1 = book["收入支出决算总表"]
    expense_labels = [t1.cell(r, 3).value for r in range(7, t1.max_row + 1)]
    assert expense_labels[:3] == ["一、一般公共服务支出", "二、外交支出", "三、国防支出"]
    assert "二十六、抗疫特别国债安排的支出" in expense_labels
    assert sum(1 for v in expense_labels if v and "、" in v) == 26
    income_labels = [t1.cell(r, 1).value for r in range(7, t1.max_row + 1)]
    assert "八、其他收入" in income_labels
    # 本年收入合计 sits beside 本年支出合计, 总计 beside 总计
    row = income_labels.index("本年收入合计")
    assert expense_labels[row] == "本年支出合计"
    assert income_labels[-1] == expense_labels[-1] == "总计"
    t6 = book["一般公共预算财政拨款基本支出决算表"]
    codes = {str(c.value) for row in t6.iter_rows(min_row=7) for c in row if isinstance(c.value, str) and c.value.isdigit()}
    assert {"301", "30101", "30199", "302", "30231", "303", "30302", "310", "31002"} <= codes
    labels = {c.value for row in t6.iter_rows(min_row=7) for c in row}
    assert {"人员经费合计", "公用经费合计"} <= labels


def test_amount_cells_have_two_decimals():
    book = openpyxl.load_workbook(SAMPLE)
    ws = book["收入支出决算总表"]
    totals = [c for row in ws.iter_rows() for c in row if c.value == 13580.78]
    assert totals and all(c.number_format == "#,##0.00" for c in totals)


def test_sample_records_published_and_constructed_figures(sample_data):
    book = openpyxl.load_workbook(SAMPLE)
    notes = book["说明"]
    rows = list(notes.iter_rows(values_only=True))
    header = rows.index(("表", "行", "列", "数值（万元）", "来源", "依据"))
    figures = rows[header + 1 :]
    assert {r[4] for r in figures} == {"公开数", "构造数"}
    published = [r for r in figures if r[4] == "公开数"]
    assert ("《收入支出决算总表》", "总计", "金额", 13580.78, "公开数") in [r[:5] for r in published]
    assert ("《一般公共预算财政拨款基本支出决算表》", "人员经费合计", "决算数", 654.08, "公开数") in [r[:5] for r in published]
    expected = sum(len(row.get("values", {})) for t in sample_data["table"] for b in t["block"] for row in b["rows"])
    assert len(figures) == expected


@pytest.mark.parametrize("bad", ["out.txt", "out.xls"])
def test_template_refuses_a_non_xlsx_name(tmp_path, bad):
    result = run_cli("template", "-o", str(tmp_path / bad))
    assert result.returncode == 2
    assert ".xlsx" in result.stderr and bad in result.stderr
    assert not (tmp_path / bad).exists()
