"""The package writer (io/patch.py): what it writes equals what the openpyxl writer writes, read
back by openpyxl and by LibreOffice; every part it does not touch is copied as it was."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import layouts
import openpyxl
import pytest
from conftest import SAMPLE, T5
from corpus.build import build, cases
from lxml import etree
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from test_annotate import _broken, _with_chart
from test_template import workbook_content

from xlplugin.io.annotate import annotate_file, annotate_with_openpyxl, clear_file, clear_with_openpyxl
from xlplugin.io.patch import Unsupported, annotate_package, clear_package
from xlplugin.marks import FILLS, RELATED_FILLS, RESULT_SHEET, UNDO_SHEET, CellMark, MarkPlan, ResultRow, plan_marks
from xlplugin.workbook import validate_workbook

T1 = "收入支出决算总表"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SOFFICE = shutil.which("soffice")


def marked_content(path: Path) -> dict:
    """What a user sees of an annotated workbook: every cell's value, look, note and link, per sheet."""
    book = openpyxl.load_workbook(path)
    content: dict = {"sheets": book.sheetnames, "active": book.active.title}
    content["names"] = sorted((name, str(value.attr_text)) for name, value in book.defined_names.items())
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style and c.comment is None:
                    continue
                font_rgb = c.font.color.rgb[-6:] if c.font.color is not None and c.font.color.type == "rgb" else None
                cells[c.coordinate] = (
                    c.value,
                    c.number_format,
                    (c.font.b, c.font.sz or 11.0, c.font.u, font_rgb),  # openpyxl writes its fonts without a size
                    (c.fill.fill_type, c.fill.fgColor.rgb if c.fill.fill_type else None),
                    (c.alignment.wrap_text, c.alignment.vertical),
                    (c.comment.text, c.comment.author) if c.comment else None,
                    (c.hyperlink.location, c.hyperlink.display) if c.hyperlink else None,
                )
        content[ws.title] = {
            "cells": cells,
            "state": ws.sheet_state,
            "selected": bool(ws.sheet_view.tabSelected),
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
            "merges": sorted(str(m) for m in ws.merged_cells.ranges),
        }
    return content


def _both(source: Path, plan: MarkPlan, folder: Path) -> tuple[Path, Path]:
    patched, through_openpyxl = folder / "patched.xlsx", folder / "openpyxl.xlsx"
    annotate_package(source, patched, plan)
    annotate_with_openpyxl(source, through_openpyxl, plan)
    return patched, through_openpyxl


def _one_sheet(path: Path) -> Path:
    """The nine tables on one sheet, with 表五's first 基本支出 one higher than it was."""
    expected = layouts.build("one_sheet", path)
    book = openpyxl.load_workbook(path)
    cell = expected.cells[T5][("201", "基本支出")]
    sheet = book[expected.sheets[T5]]
    sheet[cell] = float(sheet[cell].value) + 1
    book.save(path)
    return path


@pytest.mark.parametrize("build", [_broken, _one_sheet], ids=["sample with a note and a fill", "one_sheet layout"])
def test_both_writers_write_the_same_workbook(tmp_path, build):
    source = build(tmp_path / "单位.xlsx")
    plan = plan_marks(validate_workbook(source))
    assert plan.cells
    patched, through_openpyxl = _both(source, plan, tmp_path)
    assert marked_content(patched) == marked_content(through_openpyxl)


def test_cells_rows_merges_and_names_the_sheet_does_not_have_yet(tmp_path):
    """Marks on a blank cell, a row that does not exist, the inside of a merged range, and a
    sheet whose name needs escaping: the same as the openpyxl writer, rows and cells in order."""
    source = tmp_path / "单位.xlsx"
    book = openpyxl.load_workbook(SAMPLE)
    odd = book.create_sheet("收支&说明'<副本>")
    odd["B2"] = 1.0
    for name in (T1, "说明"):  # two selected tabs, one of them marked: after marking, only 审核结果 is
        book[name].sheet_view.tabSelected = True
    book.active = book["说明"]
    book.save(source)
    merged = next(str(m) for m in book[T1].merged_cells.ranges if m.max_col > m.min_col)
    inside = merged.split(":")[1]  # the last cell of a merged range: the mark goes to its top-left
    marks = [(T1, "Z5"), (T1, "A300"), (T1, "C1"), (T1, inside), (odd.title, "B2"), (odd.title, "A1"), ("没有这张表", "A1")]
    plan = MarkPlan(
        {(s, c): CellMark(s, c, "error", False, [f"{s}!{c} 有问题 <&>"]) for s, c in marks},
        [["xlplugin 审核结果：测试"], []],
        [ResultRow(["序号", "级别", "规则", "表", "单元格", "说明", "期望值", "实际值", "差额"])]
        + [ResultRow([i, "错误（强制）", "T-1", s, f"{s}!{c}", "说明 <&>", 1.5, 2.0, -0.5], (s, c)) for i, (s, c) in enumerate(marks, 1)],
    )
    patched, through_openpyxl = _both(source, plan, tmp_path)
    assert marked_content(patched) == marked_content(through_openpyxl)
    marked = openpyxl.load_workbook(patched)
    assert [ws.title for ws in marked.worksheets if ws.sheet_view.tabSelected] == [RESULT_SHEET]
    assert list(marked[UNDO_SHEET].iter_rows(values_only=True))[1][:2] == ("active", book.sheetnames.index("说明"))
    assert marked[T1]["Z5"].fill.fgColor.rgb.endswith(FILLS["error"]) and marked[T1]["A300"].comment is not None
    assert marked[T1][merged.split(":")[0]].comment.text.count("有问题") == 1  # one mark on the merged range
    with zipfile.ZipFile(patched) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                rows = etree.fromstring(package.read(name)).find(f"{MAIN}sheetData")
                numbers = [int(r.get("r")) for r in rows]
                assert numbers == sorted(set(numbers)), name
                for row in rows:
                    columns = [openpyxl.utils.cell.coordinate_from_string(c.get("r"))[0] for c in row]
                    indexes = [openpyxl.utils.column_index_from_string(c) for c in columns]
                    assert indexes == sorted(set(indexes)), (name, row.get("r"))


def test_parts_the_marks_do_not_touch_are_copied_as_they_were(tmp_path):
    source = _with_chart(tmp_path / "图表.xlsx")
    out = tmp_path / "标注.xlsx"
    plan = plan_marks(validate_workbook(source))
    annotate_file(source, out, plan)
    touched = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out) as marked:
        sheets = {n for n in original.namelist() if n.startswith("xl/worksheets/sheet")}
        marked_sheets = {f"xl/worksheets/sheet{openpyxl.load_workbook(source).sheetnames.index(s) + 1}.xml" for s, _ in plan.cells}
        for name in original.namelist():
            if name in touched or name in marked_sheets or "comment" in name or name.endswith((".vml", ".rels")):
                continue
            data = original.read(name)
            if name in sheets:  # other sheets lose only tabSelected (审核结果 is the selected sheet)
                data = data.replace(b' tabSelected="1"', b"")
            assert marked.read(name) == data, name
        assert len(marked_sheets) < len(sheets)


def test_threaded_comments_are_left_to_openpyxl(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    threaded = tmp_path / "新式批注.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(threaded, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, original.read(info))
        copy.writestr("xl/threadedComments/threadedComment1.xml", "<ThreadedComments/>")
    with pytest.raises(Unsupported):
        annotate_package(threaded, tmp_path / "x.xlsx", plan_marks(validate_workbook(source)))


def test_both_writers_clear_the_same_way(tmp_path):
    """Marked by either writer (the openpyxl one stores the undo rows as shared strings), cleared by either:
    the original comes back."""
    source = _broken(tmp_path / "单位.xlsx")
    plan = plan_marks(validate_workbook(source))
    patched, through_openpyxl = _both(source, plan, tmp_path)
    expected = workbook_content(source)
    for marked in (patched, through_openpyxl):
        by_package, by_openpyxl = tmp_path / f"c1_{marked.name}", tmp_path / f"c2_{marked.name}"
        clear_package(marked, by_package)
        clear_with_openpyxl(marked, by_openpyxl)
        assert marked_content(by_package) == marked_content(by_openpyxl)
        assert workbook_content(by_package) == expected
        book = openpyxl.load_workbook(by_package)
        assert book[T5]["C10"].comment.text == "请财务科核对" and book[T5]["C10"].fill.fgColor.rgb.endswith("DDEBF7")
        assert book[T5]["D10"].comment is None and book.sheetnames == openpyxl.load_workbook(source).sheetnames


def test_a_marked_workbook_with_a_chart_is_marked_again_and_cleared_with_the_chart(tmp_path):
    source = _with_chart(tmp_path / "图表.xlsx")
    once, twice, cleared = tmp_path / "一次.xlsx", tmp_path / "两次.xlsx", tmp_path / "清除.xlsx"
    plan = plan_marks(validate_workbook(source))
    annotate_file(source, once, plan)
    annotate_file(once, twice, plan)
    assert marked_content(twice) == marked_content(once)
    clear_file(twice, cleared)
    assert workbook_content(cleared) == workbook_content(source)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(cleared) as package:
        assert package.read("xl/charts/chart1.xml") == original.read("xl/charts/chart1.xml")
        names = set(package.namelist())
        assert not any("xlplugin" in name for name in names)  # our sheets and our notes' parts are gone
        assert b"xlplugin" not in package.read("[Content_Types].xml")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_marks(tmp_path):
    """An independent reader: LibreOffice opens the copy and saves it again with the marks, the note and the chart."""
    source = _with_chart(tmp_path / "图表.xlsx")
    book = openpyxl.load_workbook(source)
    book[T1]["A40"].comment = Comment("用户自己的批注", "张会计")
    book[T1]["A41"].fill = PatternFill("solid", fgColor="DDEBF7")
    book.save(source)
    marked = tmp_path / "标注.xlsx"
    annotate_package(source, marked, plan_marks(validate_workbook(source)))
    converted = tmp_path / "lo"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--norestore", "--convert-to", "xlsx", "--outdir", str(converted), str(marked)],
        check=True, capture_output=True, timeout=180,
    )
    again = openpyxl.load_workbook(converted / "标注.xlsx")
    assert again.sheetnames[0] == RESULT_SHEET and again.active.title == RESULT_SHEET
    assert UNDO_SHEET in again.sheetnames
    assert again[T5]["C10"].fill.fgColor.rgb.endswith(FILLS["error"]) and again[T5]["E10"].fill.fgColor.rgb.endswith(RELATED_FILLS["error"])
    assert again[T5]["C10"].comment.text.startswith("【xlplugin 审核】") and again[T1]["A40"].comment.text == "用户自己的批注"
    assert again[T1]["A41"].fill.fgColor.rgb.endswith("DDEBF7")
    links = [c.hyperlink.location for row in again[RESULT_SHEET].iter_rows() for c in row if c.hyperlink]
    assert f"'{T5}'!C10" in links
    assert any(n.startswith("xl/charts/") for n in zipfile.ZipFile(converted / "标注.xlsx").namelist())
    # saved by another program (shared strings, its own styles), the marks still clear
    by_package = tmp_path / "c1.xlsx"
    clear_package(converted / "标注.xlsx", by_package)
    assert b"<si>" in zipfile.ZipFile(converted / "标注.xlsx").read("xl/sharedStrings.xml")
    cleared = openpyxl.load_workbook(by_package)
    assert cleared.sheetnames == book.sheetnames
    assert cleared[T5]["D10"].fill.fill_type is None and cleared[T5]["D10"].comment is None
    assert cleared[T5]["C10"].comment.text == "请财务科核对" and cleared[T5]["C10"].fill.fgColor.rgb.endswith("DDEBF7")
    assert cleared[T1]["A40"].comment.text == "用户自己的批注" and cleared.active.title == book.active.title


# corpus cases with something particular to mark: a missing table, findings without a cell,
# text and formula cells, the template, a single-row table, notes on many rows (all 53 pass;
# this selection keeps the suite's time down)
MARKED_CASES = ["g-1-missing-table", "rounding-12-items-0.01", "c-1-text-amount", "c-3-formula-without-value", "h-1-item-sum",
                "s-3-empty-without-note", "x-1-income-tables", "t6-1-economic-items", "h-6c-code-unknown"]
MARKED_CASES += [case.name for case in cases() if "template" in (case / "case.toml").read_text(encoding="utf-8")]


@pytest.mark.parametrize("name", MARKED_CASES)
def test_corpus_cases_are_marked_as_openpyxl_marks_them_and_cleared_back(name, tmp_path):
    source = build(next(case for case in cases() if case.name == name), tmp_path / "case.xlsx")
    plan = plan_marks(validate_workbook(source))
    patched, through_openpyxl = _both(source, plan, tmp_path)
    assert marked_content(patched) == marked_content(through_openpyxl)
    cleared = tmp_path / "cleared.xlsx"
    clear_package(patched, cleared)
    assert workbook_content(cleared) == workbook_content(source)
