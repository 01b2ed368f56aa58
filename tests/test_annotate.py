"""Marks in the workbook file: the annotated copy, clearing it, and never losing anything."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import layouts
import openpyxl
import pytest
from conftest import SAMPLE, run_cli
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from test_template import workbook_content

from xlplugin.io.annotate import annotate_with_openpyxl, clear_with_openpyxl
from xlplugin.io.patch import annotate_package, clear_package
from xlplugin.marks import FILLS, RELATED_FILLS, RESULT_SHEET, UNDO_SHEET, plan_marks
from xlplugin.workbook import validate_workbook

T1, T5 = "收入支出决算总表", "一般公共预算财政拨款支出决算表"
XLWINGS_XLSM = Path(openpyxl.__file__).parent.parent / "xlwings" / "quickstart.xlsm"


def _broken(path: Path) -> Path:
    """The sample with one error in 表五 (2080101 基本支出 +1) and a negative 其他收入 in 表一,
    and a note and a fill of the user's own on cells that will be marked."""
    shutil.copy(SAMPLE, path)
    book = openpyxl.load_workbook(path)
    book[T5]["D10"] = 494.92
    book[T1]["B14"] = -5.0
    book[T5]["C10"].comment = Comment("请财务科核对", "张会计")
    book[T5]["C10"].fill = PatternFill("solid", fgColor="DDEBF7")
    book.save(path)
    return path


def _writer(name: str, accept_loss: bool = False):
    """(annotate, clear) of one writer: the package writer (patch.py) or the openpyxl one."""
    if name == "package":
        return annotate_package, clear_package
    return (
        lambda source, target, plan: annotate_with_openpyxl(source, target, plan, accept_loss),
        lambda source, target: clear_with_openpyxl(source, target, accept_loss),
    )


def _marked(path: Path, out: Path, *extra: str):
    result = run_cli("validate", str(path), "--annotate", str(out), *extra)
    assert out.exists(), result.stderr
    return result


def test_failing_cells_get_fills_and_notes_and_related_cells_a_lighter_mark(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    out = tmp_path / "标注.xlsx"
    result = _marked(source, out)
    assert result.returncode == 1 and "已写出标注文件" in result.stderr
    book = openpyxl.load_workbook(out)
    t5 = book[T5]
    assert t5["C10"].fill.fgColor.rgb.endswith(FILLS["error"])  # H-4 at C10
    assert t5["D10"].fill.fgColor.rgb.endswith(FILLS["warning"])  # X-8 at D10 (and read by H-4)
    assert t5["E10"].fill.fgColor.rgb.endswith(RELATED_FILLS["error"])  # read by H-4
    assert book[T1]["B14"].fill.fgColor.rgb.endswith(FILLS["error"])
    note = t5["C10"].comment.text
    assert note.startswith("【xlplugin 审核】") and "H-4" in note
    assert "期望值 494.92；实际值 493.92；差额 -1.00；允许尾差 0.01" in note
    assert note.endswith("——原批注——\n请财务科核对")  # the user's own note is still readable
    assert t5["B10"].fill.fill_type is None  # an unrelated cell is untouched


def test_the_result_sheet_lists_every_finding_with_links(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    out = tmp_path / "标注.xlsx"
    _marked(source, out)
    report = validate_workbook(source)
    shown = [f for f in report.findings if f.severity != "info"]
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == RESULT_SHEET and book.active.title == RESULT_SHEET
    assert book[UNDO_SHEET].sheet_state == "veryHidden"
    ws = book[RESULT_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    header = rows.index(("序号", "级别", "规则", "表", "单元格", "说明", "期望值", "实际值", "差额"))
    listed = [r for r in rows[header + 1 :] if r[0] is not None]
    assert [(r[2], r[4]) for r in listed] == [(f.rule_id, f"{f.sheet}!{f.cell}") for f in shown]
    assert ws.freeze_panes == f"A{header + 2}" and ws.auto_filter.ref == f"A{header + 1}:I{header + 1 + len(listed)}"
    assert rows[1][0] == "错误（强制，必须改正）4 个：收入支出决算总表 2；一般公共预算财政拨款支出决算表 2"
    for r in range(header + 2, header + 2 + len(listed)):
        cell = ws.cell(r, 5)
        sheet, _, address = cell.value.rpartition("!")
        assert cell.hyperlink.location == f"'{sheet}'!{address}"


def test_a_table_that_was_not_found_is_named_on_the_result_sheet(tmp_path):
    source = tmp_path / "缺表.xlsx"
    shutil.copy(SAMPLE, source)
    book = openpyxl.load_workbook(source)
    del book["财政拨款“三公”经费支出决算表"]
    book.save(source)
    out = tmp_path / "标注.xlsx"
    _marked(source, out)
    lines = [r[0] for r in openpyxl.load_workbook(out)[RESULT_SHEET].iter_rows(values_only=True) if r[0]]
    assert any(str(line).startswith("未找到（未校验）：财政拨款“三公”经费支出决算表") for line in lines)


def test_annotate_then_clear_gives_back_the_original(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    marked, cleared = tmp_path / "标注.xlsx", tmp_path / "清除.xlsx"
    _marked(source, marked)
    result = run_cli("clear", str(marked), "-o", str(cleared))
    assert result.returncode == 0, result.stderr
    assert workbook_content(cleared) == workbook_content(source)
    book = openpyxl.load_workbook(cleared)
    assert book[T5]["C10"].comment.text == "请财务科核对" and book[T5]["C10"].comment.author == "张会计"
    assert book.active.title == openpyxl.load_workbook(source).active.title


@pytest.mark.parametrize("writer", ["package", "openpyxl"])
def test_what_the_user_writes_into_our_note_outlives_marking_again_and_clearing(writer, tmp_path):
    """A unit's reply typed under a finding (the reviewer sent the annotated copy back): marking the
    copy again keeps it under ours, and clearing leaves it as the note, after the original one."""
    annotate, clear = _writer(writer)
    source = _broken(tmp_path / "单位.xlsx")
    plan = plan_marks(validate_workbook(source))
    marked, again, cleared = tmp_path / "标注.xlsx", tmp_path / "再标注.xlsx", tmp_path / "清除.xlsx"
    annotate(source, marked, plan)
    book = openpyxl.load_workbook(marked)
    for sheet, cell in ((T5, "C10"), (T1, "B14")):  # C10 had a note of the user's before the marks, B14 none
        note = book[sheet][cell].comment
        book[sheet][cell].comment = Comment(note.text.replace("\n\n——原批注——", "\n王五回复：已改正\n\n——原批注——", 1) if "原批注" in note.text else note.text + "\n王五回复：已改正", note.author)
    book.save(marked)
    annotate(marked, again, plan)
    remarked = openpyxl.load_workbook(again)
    assert remarked[T1]["B14"].comment.text.startswith("【xlplugin 审核】")
    assert remarked[T1]["B14"].comment.text.endswith("——原批注——\n王五回复：已改正")
    clear(again, cleared)
    back = openpyxl.load_workbook(cleared)
    assert back[T1]["B14"].comment.text == "王五回复：已改正"
    assert back[T5]["C10"].comment.text == "请财务科核对\n\n王五回复：已改正"
    assert back[T5]["D10"].comment is None  # a note as xlplugin wrote it goes


@pytest.mark.parametrize("name", ["shanghai", "one_sheet"])
def test_round_trip_on_other_layouts(tmp_path, name):
    source = tmp_path / f"{name}.xlsx"
    layouts.build(name, source)
    book = openpyxl.load_workbook(source)
    first = book.worksheets[0]
    first["B8"] = -1.0  # something to mark
    book.save(source)
    marked, cleared = tmp_path / "m.xlsx", tmp_path / "c.xlsx"
    _marked(source, marked)
    assert run_cli("clear", str(marked), "-o", str(cleared)).returncode == 0
    assert workbook_content(cleared) == workbook_content(source)


def test_annotating_twice_equals_annotating_once(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    once, twice = tmp_path / "一次.xlsx", tmp_path / "两次.xlsx"
    _marked(source, once)
    _marked(once, twice)
    assert workbook_content(twice) == workbook_content(once)
    book = openpyxl.load_workbook(twice)
    assert book.sheetnames.count(RESULT_SHEET) == 1
    assert book[T5]["C10"].comment.text.count("【xlplugin 审核】") == 1


def test_the_original_is_never_modified(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    before = hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns
    _marked(source, tmp_path / "标注.xlsx")
    assert (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns) == before
    result = run_cli("validate", str(source), "--annotate", str(source))
    assert result.returncode == 2 and "不能覆盖原文件" in result.stderr
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before[0]


def test_in_place_keeps_a_backup(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    original = source.read_bytes()
    result = run_cli("validate", str(source), "--in-place")
    assert result.returncode == 1
    assert (tmp_path / "单位.bak.xlsx").read_bytes() == original
    assert RESULT_SHEET in openpyxl.load_workbook(source).sheetnames
    assert run_cli("clear", str(source), "--in-place").returncode == 0
    assert workbook_content(source) == workbook_content(tmp_path / "单位.bak.xlsx")


def test_annotate_dir_writes_one_copy_per_workbook(tmp_path):
    a = _broken(tmp_path / "甲单位.xlsx")
    b = tmp_path / "乙单位.xlsx"
    shutil.copy(SAMPLE, b)
    out = tmp_path / "标注"
    result = run_cli("validate", str(a), str(b), "--annotate-dir", str(out))
    assert result.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == [".xlplugin-标注副本", "乙单位.xlsx", "甲单位.xlsx"]  # the copies, and the mark that keeps them out of later runs
    clean = openpyxl.load_workbook(out / "乙单位.xlsx")
    assert clean.sheetnames[0] == RESULT_SHEET
    assert str(clean[RESULT_SHEET]["A2"].value).startswith("错误（强制，必须改正）0 个")


def test_xlsm_keeps_its_vba_project_byte_for_byte(tmp_path):
    source = tmp_path / "宏.xlsm"
    book = openpyxl.load_workbook(_broken(tmp_path / "单位.xlsx"))
    book.vba_archive = zipfile.ZipFile(XLWINGS_XLSM)  # a real VBA project, from xlwings' quickstart workbook
    book.save(source)
    vba = zipfile.ZipFile(source).read("xl/vbaProject.bin")
    assert vba == zipfile.ZipFile(XLWINGS_XLSM).read("xl/vbaProject.bin")
    marked, cleared = tmp_path / "标注.xlsm", tmp_path / "清除.xlsm"
    _marked(source, marked)
    assert zipfile.ZipFile(marked).read("xl/vbaProject.bin") == vba
    assert run_cli("clear", str(marked), "-o", str(cleared)).returncode == 0
    assert zipfile.ZipFile(cleared).read("xl/vbaProject.bin") == vba
    assert b"macroEnabled" in zipfile.ZipFile(marked).read("[Content_Types].xml")


def test_an_output_name_excel_would_refuse_is_refused_before_anything_is_written(tmp_path):
    """A macro-enabled workbook named .xlsx (or a plain one .xlsm) does not open in Excel at all."""
    macro = tmp_path / "宏.xlsm"
    book = openpyxl.load_workbook(_broken(tmp_path / "单位.xlsx"))
    book.vba_archive = zipfile.ZipFile(XLWINGS_XLSM)
    book.save(macro)
    for source, wrong, right in ((macro, "标注.xlsx", ".xlsm"), (tmp_path / "单位.xlsx", "标注.xlsm", ".xlsx")):
        result = run_cli("validate", str(source), "--annotate", str(tmp_path / wrong))
        assert result.returncode == 2 and right in result.stderr and not (tmp_path / wrong).exists(), result.stderr
    marked = tmp_path / "标注2.xlsm"
    _marked(macro, marked)
    result = run_cli("clear", str(marked), "-o", str(tmp_path / "清除.xlsx"))
    assert result.returncode == 2 and ".xlsm" in result.stderr and not (tmp_path / "清除.xlsx").exists()


def test_a_refused_in_place_run_leaves_no_backup(tmp_path):
    source = _with_chart(tmp_path / "图表.xlsx")  # left to openpyxl (a sheet called like our undo sheet), which would drop the chart
    book = openpyxl.load_workbook(source)
    book.create_sheet("_XLPLUGIN_UNDO")
    book.save(source)
    before = source.read_bytes()
    result = run_cli("validate", str(source), "--in-place")
    assert "图表" in result.stderr and source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["图表.xlsx"]
    (tmp_path / "标注").mkdir()
    marked = tmp_path / "标注" / "图表.xlsx"  # marked with notes, then its notes part lost: clearing it is left to openpyxl
    _marked(_with_chart(tmp_path / "标注" / "原.xlsx"), marked, "--allow-loss")
    with zipfile.ZipFile(marked) as package:
        parts = [(info, package.read(info)) for info in package.infolist() if not info.filename.startswith("xl/comments")]
    with zipfile.ZipFile(marked, "w") as package:
        for info, data in parts:
            package.writestr(info, data)
    result = run_cli("clear", str(marked), "--in-place")
    assert result.returncode == 2 and sorted(p.name for p in marked.parent.iterdir()) == ["原.xlsx", "图表.xlsx"], result.stderr


def test_backups_of_an_in_place_run_are_not_checked_as_units(tmp_path):
    folder = tmp_path / "收到"
    for unit in ("甲单位", "乙单位"):
        (folder / unit).mkdir(parents=True)
        _broken(folder / unit / "决算.xlsx")
    for _ in range(2):
        result = run_cli("validate", str(folder), "--in-place", "-j", "1")
        assert result.returncode == 1, result.stderr
        assert "共 2 个工作簿" in result.stdout, result.stdout
    assert sorted(p.name for p in (folder / "甲单位").iterdir()) == ["决算.bak.xlsx", "决算.bak2.xlsx", "决算.xlsx"]
    alone = run_cli("validate", str(folder / "甲单位" / "决算.bak.xlsx"))  # named, it is checked
    assert "工作簿：" in alone.stdout


def _with_chart(path: Path) -> Path:
    source = _broken(path)
    book = openpyxl.load_workbook(source)
    chart = BarChart()
    chart.add_data(Reference(book[T5], min_col=3, min_row=7, max_row=12))
    book[T5].add_chart(chart, "H2")
    book.save(source)
    return source


def test_a_chart_is_kept_byte_for_byte(tmp_path):
    source = _with_chart(tmp_path / "图表.xlsx")
    out = tmp_path / "标注.xlsx"
    assert run_cli("validate", str(source), "--annotate", str(out)).returncode == 1
    original, marked = zipfile.ZipFile(source), zipfile.ZipFile(out)
    kept = [n for n in original.namelist() if n.startswith(("xl/charts/", "xl/drawings/")) and not n.endswith(".vml")]  # VML: the notes
    assert kept and all(marked.read(n) == original.read(n) for n in kept)
    assert openpyxl.load_workbook(out)[T5]["C10"].fill.fgColor.rgb.endswith(FILLS["error"])


def test_content_openpyxl_would_drop_is_not_lost_silently(tmp_path):
    """A workbook the package writer leaves to openpyxl (here: the user has a sheet called like our
    undo sheet), which would drop the chart: refused, unless the loss is accepted."""
    source = _with_chart(tmp_path / "图表.xlsx")
    book = openpyxl.load_workbook(source)
    book.create_sheet("_XLPLUGIN_UNDO")["A1"] = "科室自己的记录"
    book.save(source)
    out = tmp_path / "标注.xlsx"
    result = run_cli("validate", str(source), "--annotate", str(out))
    assert result.returncode == 2 and not out.exists()
    assert "图表" in result.stderr and "--allow-loss" in result.stderr
    assert run_cli("validate", str(source), "--annotate", str(out), "--allow-loss").returncode == 1 and out.exists()
    assert openpyxl.load_workbook(out)["_XLPLUGIN_UNDO"]["A1"].value == "科室自己的记录"  # theirs kept, ours renamed


@pytest.mark.parametrize("writer", ["package", "openpyxl"])
def test_a_sheet_of_the_users_called_like_our_result_sheet_is_never_removed(writer, tmp_path):
    """A reviewer's own 审核结果 sheet: ours is 审核结果1 beside it, and marking again or clearing
    removes ours only (both writers; the package writer keeps the chart)."""
    annotate, clear = _writer(writer, accept_loss=True)  # openpyxl drops the chart: accepted here
    source = _with_chart(tmp_path / "单位.xlsx")
    book = openpyxl.load_workbook(source)
    book[T5]["D10"] = 494.92
    theirs = book.create_sheet("审核结果")
    theirs["A1"], theirs["A2"] = "财务科内部审核意见", "张三：表四已核对"
    book.save(source)
    plan = plan_marks(validate_workbook(source))
    once, twice, cleared = tmp_path / "一.xlsx", tmp_path / "二.xlsx", tmp_path / "清.xlsx"
    annotate(source, once, plan)
    marked = openpyxl.load_workbook(once)
    assert marked.sheetnames[0] == "审核结果1" and marked["审核结果1"]["A1"].value.startswith("xlplugin 审核结果")
    assert [ws.title for ws in marked.worksheets if ws.sheet_view.tabSelected] == ["审核结果1"]
    assert marked["审核结果"]["A2"].value == "张三：表四已核对"
    annotate(once, twice, plan)
    assert openpyxl.load_workbook(twice).sheetnames == marked.sheetnames
    clear(twice, cleared)
    back = openpyxl.load_workbook(cleared)
    assert back.sheetnames == openpyxl.load_workbook(source).sheetnames
    assert [[c.value for c in row] for row in back["审核结果"].iter_rows()] == [["财务科内部审核意见"], ["张三：表四已核对"]]
    if writer == "package":
        assert any(n.startswith("xl/charts/") for n in zipfile.ZipFile(cleared).namelist())


def test_values_are_never_changed(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    out = tmp_path / "标注.xlsx"
    _marked(source, out)
    original, marked = openpyxl.load_workbook(source), openpyxl.load_workbook(out)
    for ws in original.worksheets:
        assert [[c.value for c in row] for row in ws.iter_rows()] == [[c.value for c in row] for row in marked[ws.title].iter_rows()]


def test_a_thousand_findings(tmp_path):
    """1,000 broken rows in 表五: every one listed, linked and filled."""
    source = tmp_path / "大表.xlsx"
    shutil.copy(SAMPLE, source)
    book = openpyxl.load_workbook(source)
    ws = book[T5]
    for i in range(1000):
        r = 30 + i
        ws.cell(r, 1, f"{2089000 + i}")
        ws.cell(r, 2, f"测试项目{i}")
        ws.cell(r, 3, 10.0)
        ws.cell(r, 4, 4.0)
        ws.cell(r, 5, 5.0)  # 10 ≠ 4 + 5: H-4 on every row
    book.save(source)
    out = tmp_path / "标注.xlsx"
    _marked(source, out)
    report = validate_workbook(source)
    h4 = [f for f in report.findings if f.rule_id == "H-4"]
    assert len(h4) == 1000
    marked = openpyxl.load_workbook(out)
    rows = list(marked[RESULT_SHEET].iter_rows(min_row=1))
    linked = {(c.value, c.hyperlink.location) for row in rows for c in row[4:5] if c.hyperlink}
    for finding in h4:
        assert (f"{T5}!{finding.cell}", f"'{T5}'!{finding.cell}") in linked
        assert marked[T5][finding.cell].fill.fgColor.rgb.endswith(FILLS["error"])
    assert len([r for r in rows if isinstance(r[0].value, int)]) == len([f for f in report.findings if f.severity != "info"])


def test_undo_addresses_are_split_below_the_excel_cell_limit():
    from xlplugin.marks import undo_runs

    cells = [f"C{r}" for r in range(1, 20001)]
    chunks = undo_runs(cells, 30_000)
    assert [a for chunk in chunks for a in chunk] == cells
    assert len(chunks) > 1 and all(len(" ".join(chunk)) <= 30_000 for chunk in chunks)


def _strict(source: Path, target: Path) -> Path:
    """`source` in Strict Open XML namespaces, as Excel's "Strict Open XML Spreadsheet (*.xlsx)" saves it."""
    names = [
        (b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
        (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships", b"http://purl.oclc.org/ooxml/officeDocument/relationships"),
    ]
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith((".xml", ".rels")) and info.filename != "[Content_Types].xml":
                for transitional, strict in names:
                    data = data.replace(transitional, strict)
            new.writestr(info, data)
    return target


def test_a_strict_open_xml_workbook_is_validated_but_never_annotated_into_an_empty_one(tmp_path):
    """openpyxl reads a Strict workbook as one without worksheets: annotated (or cleared, or marked
    in place) through it, every sheet was gone and `clear` ended in a traceback."""
    source = _strict(_broken(tmp_path / "单位.xlsx"), tmp_path / "严格.xlsx")
    before = source.read_bytes()
    result = run_cli("validate", str(source))
    assert result.returncode == 1 and "T1-1" in result.stdout, result.stdout  # the values are read as usual
    for command in (("validate", str(source), "--annotate", str(tmp_path / "标注.xlsx")), ("validate", str(source), "--in-place"), ("clear", str(source), "-o", str(tmp_path / "清除.xlsx"))):
        result = run_cli(*command)
        assert result.returncode == 2 and "Strict Open XML" in result.stderr and "Traceback" not in result.stderr, (command, result.stderr)
    assert source.read_bytes() == before and {p.name for p in tmp_path.iterdir()} == {"单位.xlsx", "严格.xlsx"}
