"""The package writer (io/patch.py): what it writes equals what the openpyxl writer writes, read
back by openpyxl and by LibreOffice; every part it does not touch is copied as it was."""

from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import layouts
import openpyxl
import pytest
from conftest import SAMPLE, T5, run_cli
from corpus.build import build, cases
from lxml import etree
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from test_annotate import _broken, _with_chart
from test_template import workbook_content

from xlplugin.io.annotate import AnnotateRefused, annotate_file, annotate_with_openpyxl, clear_file, clear_with_openpyxl
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
            if ws.title == UNDO_SHEET and row[0].value == "created":  # the package writer's: cells it added
                continue
            for c in row:
                if c.value is None and not c.has_style and c.comment is None:
                    continue
                if ws.title == UNDO_SHEET and c.column_letter in "HI":  # the package writer's extras: note runs, box
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
    book[T1]["AB5"] = "右边已有的单元格"  # new cells X5, Y5, Z5 go before it, in column order
    for name in (T1, "说明"):  # two selected tabs, one of them marked: after marking, only 审核结果 is
        book[name].sheet_view.tabSelected = True
    book.active = book["说明"]
    book.save(source)
    merged = next(str(m) for m in book[T1].merged_cells.ranges if m.max_col > m.min_col)
    inside = merged.split(":")[1]  # the last cell of a merged range: the mark goes to its top-left
    marks = [(T1, "Z5"), (T1, "X5"), (T1, "Y5"), (T1, "A300"), (T1, "C1"), (T1, inside), (odd.title, "B2"), (odd.title, "A1"), ("没有这张表", "A1")]
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
    links = {c.value: c.hyperlink.location for row in marked[RESULT_SHEET].iter_rows() for c in row if c.hyperlink}
    assert links[f"{odd.title}!B2"] == "'收支&说明''<副本>'!B2"  # a quote in a sheet name is doubled in a reference
    assert marked[T1]["Z5"].fill.fgColor.rgb.endswith(FILLS["error"]) and marked[T1]["A300"].comment is not None
    assert marked[T1][merged.split(":")[0]].comment.text.count("有问题") == 1  # one mark on the merged range
    cleared = tmp_path / "清除.xlsx"
    clear_package(patched, cleared)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(cleared) as package:
        part = "xl/worksheets/sheet1.xml"  # 收入支出决算总表: the cells and the row the marks added are gone again
        assert b'r="300"' not in package.read(part) and b'r="Z5"' not in package.read(part)
        assert etree.tostring(etree.fromstring(package.read(part)).find(f"{MAIN}sheetData")) == etree.tostring(
            etree.fromstring(original.read(part)).find(f"{MAIN}sheetData"))
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


THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
THREAD_ID = "{11111111-1111-1111-1111-111111111111}"


def _with_threaded_comment(path: Path) -> Path:
    """The broken sample with 张会计's note on 表五 C10 turned into an Excel 365 threaded comment:
    threadedComments and persons parts, and the legacy note linked to it by xr:uid."""
    source = _broken(path)
    comments, _ = _note_part(source, T5)
    sheet_part = f"xl/worksheets/sheet{openpyxl.load_workbook(source).sheetnames.index(T5) + 1}.xml"
    threaded = (
        f'<ThreadedComments xmlns="{THREADED_NS}" xmlns:x="{MAIN[1:-1]}"><threadedComment ref="C10" dT="2024-03-01T10:00:00.00" '
        f'personId="{{00000000-0000-0000-0000-000000000001}}" id="{THREAD_ID}"><text>请财务科核对</text></threadedComment></ThreadedComments>'
    )
    persons = f'<personList xmlns="{THREADED_NS}"><person displayName="张会计" id="{{00000000-0000-0000-0000-000000000001}}" userId="张会计" providerId="None"/></personList>'
    rel = "http://schemas.microsoft.com/office/2017/10/relationships/"

    def link(rels: bytes, target: str, kind: str) -> bytes:
        return rels.replace(b"</Relationships>", f'<Relationship Id="rIdT{kind}" Type="{rel}{kind}" Target="{target}"/></Relationships>'.encode())

    def types(xml: bytes) -> bytes:
        return xml.replace(b"</Types>", (
            b'<Override PartName="/xl/threadedComments/threadedComment1.xml" ContentType="application/vnd.ms-excel.threadedcomments+xml"/>'
            b'<Override PartName="/xl/persons/person.xml" ContentType="application/vnd.ms-excel.person+xml"/></Types>'))

    def uid(xml: bytes) -> bytes:
        xml = xml.replace(b"<comments ", b'<comments xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" ', 1)
        return xml.replace(b'<comment ref="C10"', f'<comment ref="C10" xr:uid="{THREAD_ID}"'.encode(), 1)

    _rewrite(source, comments, uid)
    _rewrite(source, "[Content_Types].xml", types)
    _rewrite(source, "xl/_rels/workbook.xml.rels", lambda rels: link(rels, "persons/person.xml", "person"))
    _rewrite(source, posixpath.join("xl/worksheets/_rels", posixpath.basename(sheet_part) + ".rels"),
             lambda rels: link(rels, "../threadedComments/threadedComment1.xml", "threadedComment"))
    with zipfile.ZipFile(source, "a") as package:
        package.writestr("xl/threadedComments/threadedComment1.xml", threaded)
        package.writestr("xl/persons/person.xml", persons)
    return source


def _note_element(path: Path, sheet: str, address: str) -> bytes | None:
    with zipfile.ZipFile(path) as package:
        root = etree.fromstring(package.read(_note_part(path, sheet)[0]))
    found = [c for c in root.iter(f"{MAIN}comment") if c.get("ref") == address]
    return etree.tostring(found[0]) if found else None


def test_a_threaded_comment_stays_as_it_is_and_its_cell_is_filled(tmp_path):
    source = _with_threaded_comment(tmp_path / "新式批注.xlsx")
    marked, cleared = tmp_path / "标注.xlsx", tmp_path / "清除.xlsx"
    annotate_package(source, marked, plan_marks(validate_workbook(source)))
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(marked) as package:
        for part in ("xl/threadedComments/threadedComment1.xml", "xl/persons/person.xml"):
            assert package.read(part) == original.read(part)
    assert _note_element(marked, T5, "C10") == _note_element(source, T5, "C10")  # xr:uid and text as they were
    book = openpyxl.load_workbook(marked)
    assert book[T5]["C10"].fill.fgColor.rgb.endswith(FILLS["error"]) and book[T5]["D10"].comment.text.startswith("【xlplugin 审核】")
    assert ("cell", T5, "C10") in [row[:3] for row in book[UNDO_SHEET].iter_rows(values_only=True)]
    clear_package(marked, cleared)
    assert _note_element(cleared, T5, "C10") == _note_element(source, T5, "C10")
    assert _note_element(cleared, T5, "D10") is None
    assert workbook_content(cleared) == workbook_content(source)
    with zipfile.ZipFile(cleared) as package:
        assert package.read("xl/threadedComments/threadedComment1.xml") == zipfile.ZipFile(source).read("xl/threadedComments/threadedComment1.xml")


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
        assert names <= set(original.namelist())  # nothing added stays behind (no empty relationships part)
        comments = _note_part(cleared, T5)[0]
        assert b"xlplugin" not in package.read(comments) and package.read(comments).count(b"<author>") == 1
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
    # marked again and cleared again, that copy keeps every cell's format
    again, cleared_again = tmp_path / "again.xlsx", tmp_path / "cleared_again.xlsx"
    annotate_package(converted / "标注.xlsx", again, plan_marks(validate_workbook(converted / "标注.xlsx")))
    clear_package(again, cleared_again)
    assert workbook_content(cleared_again) == workbook_content(by_package)
    assert _unreferenced(by_package) <= _unreferenced(converted / "标注.xlsx")  # nothing of 审核结果 is left behind


def _unreferenced(path: Path) -> set[str]:
    """Parts of a package that no relationship points to (the content types and relationships aside)."""
    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())
        used = set()
        for name in names:
            if name.endswith(".rels"):
                base = posixpath.dirname(posixpath.dirname(name))
                for rel in etree.fromstring(package.read(name)):
                    if rel.get("TargetMode") != "External":
                        target = rel.get("Target")
                        used.add(target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target)))
    return {n for n in names if not n.endswith(".rels") and n != "[Content_Types].xml" and n not in used}


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


def _rewrite(path: Path, part: str, change) -> None:
    """Change one part of a package in place (what another program might have written)."""
    with zipfile.ZipFile(path) as package:
        parts = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in parts:
            package.writestr(info, change(data) if info.filename == part else data)


def _note_part(path: Path, sheet: str) -> tuple[str, str]:
    """(comments part, VML part) of a sheet, from the relationships."""
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

    def targets(package, part):
        rels = etree.fromstring(package.read(posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")))
        return {r.get("Id"): (r.get("Type").rsplit("/", 1)[1], posixpath.normpath(posixpath.join(posixpath.dirname(part), r.get("Target"))).lstrip("/")) for r in rels}

    with zipfile.ZipFile(path) as package:
        workbook = etree.fromstring(package.read("xl/workbook.xml"))
        element = next(e for e in workbook.iter(f"{MAIN}sheet") if e.get("name") == sheet)
        part = targets(package, "xl/workbook.xml")[element.get(rel)][1]
        found = {kind: target for kind, target in targets(package, part).values()}
    return found["comments"], found["vmlDrawing"]


def _shapes(path: Path, part: str) -> dict[str, bytes]:
    """The VML boxes of a drawing by note address (other shapes under their id)."""
    with zipfile.ZipFile(path) as package:
        return _shapes_text(package.read(part))


def _without_id(shape: bytes) -> bytes:
    return re.sub(rb' (?:id|o:spid)="[^"]*"', b"", shape)


def _shapes_text(data: bytes) -> dict[str, bytes]:
    root = etree.fromstring(data)
    shapes = {}
    for shape in root.iter("{urn:schemas-microsoft-com:vml}shape"):
        data = shape.find("{urn:schemas-microsoft-com:office:excel}ClientData")
        row, column = data.findtext("{urn:schemas-microsoft-com:office:excel}Row"), data.findtext("{urn:schemas-microsoft-com:office:excel}Column")
        key = f"{openpyxl.utils.get_column_letter(int(column) + 1)}{int(row) + 1}" if data.get("ObjectType") == "Note" else shape.get("id")
        shapes[key] = etree.tostring(shape)
    return shapes


def test_notes_that_do_not_change_keep_their_box_and_a_restored_note_its_formatting(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")  # 张会计's note on 表五 C10, which gets marked
    book = openpyxl.load_workbook(source)
    book[T5]["A30"].comment = Comment("不相干的批注", "李四", height=200, width=300)  # not marked
    book[T1]["B14"].comment = Comment("第一行\r\n第二行", "李四")  # marked; its line break is CR LF
    book.save(source)
    comments, drawing = _note_part(source, T5)
    rich = b"<text><r><rPr><b/></rPr><t>\xe5\xbc\xa0\xe4\xbc\x9a\xe8\xae\xa1:</t></r><r><t>\xe8\xaf\xb7\xe8\xb4\xa2\xe5\x8a\xa1\xe7\xa7\x91\xe6\xa0\xb8\xe5\xaf\xb9</t></r></text>"
    _rewrite(source, comments, lambda xml: re.sub(rb"<text>.*?</text>", lambda m: rich if "请财务科核对".encode() in m.group(0) else m.group(0), xml, flags=re.S))
    button = (  # a form button whose two-line caption Excel writes with an unclosed <br>
        '<v:shape xmlns:v="urn:schemas-microsoft-com:vml" xmlns:x="urn:schemas-microsoft-com:office:excel" id="_x0000_s1100" '
        'type="#_x0000_t201" style="position:absolute;width:60pt;height:20pt"><v:textbox>'
        '<div><font face="Calibri">核对<br>按钮</font></div></v:textbox><x:ClientData ObjectType="Button">'
        "<x:Anchor>9, 0, 1, 0, 10, 0, 2, 0</x:Anchor></x:ClientData></v:shape></xml>"
    )
    _rewrite(source, drawing, lambda vml: vml.replace(b"</xml>", button.encode("utf-8")))
    with zipfile.ZipFile(source) as package:
        before = _shapes_text(package.read(drawing).replace(b"<br>", b"<br/>"))
    marked, cleared = tmp_path / "标注.xlsx", tmp_path / "清除.xlsx"
    annotate_package(source, marked, plan_marks(validate_workbook(source)))
    after = _shapes(marked, _note_part(marked, T5)[1])
    assert after["A30"] == before["A30"] and after["C10"] != before["C10"] and "_x0000_s1100" in after
    with zipfile.ZipFile(marked) as package:
        refs = [c.get("ref") for c in etree.fromstring(package.read(_note_part(marked, T5)[0])).iter(f"{MAIN}comment")]
    positions = [(int(re.sub(r"[A-Z]", "", r)), openpyxl.utils.column_index_from_string(re.sub(r"\d", "", r))) for r in refs]
    assert positions == sorted(positions) and len(refs) > 2
    with zipfile.ZipFile(marked) as package:
        ids = re.findall(rb'id="(_x0000_s\d+)"', package.read(_note_part(marked, T5)[1]))
    assert len(ids) == len(set(ids)) == len(after)
    clear_package(marked, cleared)
    with zipfile.ZipFile(cleared) as package:
        assert re.search(rb'<r><rPr><b(?: val="1")?/></rPr><t>[^<]*:</t></r>', package.read(_note_part(cleared, T5)[0]))  # 张会计's bold name
    twice, cleared_twice = tmp_path / "两次.xlsx", tmp_path / "两次清除.xlsx"
    annotate_package(marked, twice, plan_marks(validate_workbook(source)))
    assert b"width:420px" in _shapes(twice, _note_part(twice, T5)[1])["C10"]  # our box, not the user's
    clear_package(twice, cleared_twice)
    assert _without_id(_shapes(cleared_twice, _note_part(cleared_twice, T5)[1])["C10"]) == _without_id(before["C10"])
    restored = _shapes(cleared, _note_part(cleared, T5)[1])
    assert restored["A30"] == before["A30"] and "_x0000_s1100" in restored
    assert _without_id(restored["C10"]) == _without_id(before["C10"])  # the user's box (size, place) is back
    again = openpyxl.load_workbook(cleared)
    assert again[T5]["C10"].comment.text == "张会计:请财务科核对" and again[T5]["A30"].comment.text == "不相干的批注"
    assert again[T1]["B14"].comment.text == openpyxl.load_workbook(source)[T1]["B14"].comment.text


def test_a_blank_cell_keeps_its_column_format_and_marking_again_does_not_grow_the_styles(tmp_path):
    source = tmp_path / "单位.xlsx"
    book = openpyxl.load_workbook(SAMPLE)
    book[T1].column_dimensions["H"].fill = PatternFill("solid", fgColor="C6EFCE")
    book[T1].column_dimensions["H"].number_format = "0.000"
    book.save(source)
    plan = MarkPlan({(T1, "H9"): CellMark(T1, "H9", "error", False, ["空白单元格"])}, [["xlplugin 审核结果：测试"], []],
                    [ResultRow(["序号", "级别", "规则", "表", "单元格", "说明", "期望值", "实际值", "差额"])])
    paths = [source] + [tmp_path / f"{n}.xlsx" for n in range(1, 4)]
    for before, after in zip(paths, paths[1:]):
        annotate_package(before, after, plan)
    marked = openpyxl.load_workbook(paths[1])
    assert marked[T1]["H9"].number_format == "0.000" and marked[T1]["H9"].fill.fgColor.rgb.endswith(FILLS["error"])
    with zipfile.ZipFile(paths[1]) as first, zipfile.ZipFile(paths[3]) as third:
        assert first.read("xl/styles.xml") == third.read("xl/styles.xml")
    clear_package(paths[3], tmp_path / "清除.xlsx")
    cleared = openpyxl.load_workbook(tmp_path / "清除.xlsx")
    with zipfile.ZipFile(tmp_path / "清除.xlsx") as package:  # blank again: it shows its column's format, as before
        assert b'r="H9"' not in package.read("xl/worksheets/sheet1.xml")
    assert cleared[T1].column_dimensions["H"].fill.fgColor.rgb.endswith("C6EFCE")
    assert cleared.active.sheet_view.tabSelected


def test_odd_packages_are_left_to_openpyxl(tmp_path):
    source = _broken(tmp_path / "单位.xlsx")
    plan = plan_marks(validate_workbook(source))
    comments, _ = _note_part(source, T5)
    cases = {
        "missing notes part": lambda path: _drop(path, comments),
        "a sheet called like ours": lambda path: _rename_sheet(path, "说明", "_XLPLUGIN_UNDO"),
    }
    for name, spoil in cases.items():
        path = tmp_path / f"{name}.xlsx"
        shutil.copy(source, path)
        spoil(path)
        with pytest.raises(Unsupported):
            annotate_package(path, tmp_path / "x.xlsx", plan)
    renamed = tmp_path / "a sheet called like ours.xlsx"
    annotate_file(renamed, tmp_path / "renamed 标注.xlsx", plan)  # the openpyxl writer takes it, and renames ours
    assert openpyxl.load_workbook(tmp_path / "renamed 标注.xlsx").sheetnames[-1] == "_xlplugin_undo1"
    with pytest.raises(AnnotateRefused, match="损坏"):  # openpyxl cannot read it either: a message, not a crash
        annotate_file(tmp_path / "missing notes part.xlsx", tmp_path / "m 标注.xlsx", plan)
    empty_fill = tmp_path / "空填充.xlsx"
    shutil.copy(source, empty_fill)
    _rewrite(empty_fill, "xl/styles.xml", lambda xml: xml.replace(b"<fills count=\"", b"<fills count=\"1").replace(b"</fills>", b"<fill/></fills>", 1))
    annotate_package(empty_fill, tmp_path / "y.xlsx", plan)
    clear_package(tmp_path / "y.xlsx", tmp_path / "z.xlsx")


def _drop(path: Path, part: str) -> None:
    with zipfile.ZipFile(path) as package:
        parts = [(info, package.read(info)) for info in package.infolist() if info.filename != part]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in parts:
            package.writestr(info, data)


def _rename_sheet(path: Path, old: str, new: str) -> None:
    _rewrite(path, "xl/workbook.xml", lambda xml: xml.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode()))


@pytest.mark.parametrize("writer", [clear_package, clear_with_openpyxl])
def test_clear_after_rows_were_inserted_restores_nothing_onto_other_cells(writer, tmp_path):
    """The user inserts a row above the marked cells after marking (the undo sheet's addresses
    are text: no application moves them).  clear must not put the recorded fills and notes on
    the cells now at those addresses (a yellow cell of the user's stays yellow), takes our notes
    off where they went (the user's own note comes back), and says which places to look at."""
    book = openpyxl.load_workbook(SAMPLE)
    book[T5]["D10"] = 494.92  # H-4 at C10, X-8 at D10, H-1 at D9 …
    book[T5]["C10"].comment = Comment("单位的批注", "会计")
    book[T5]["C9"].fill = PatternFill("solid", fgColor="FFFFFF00")  # not marked: the user's yellow
    source = tmp_path / "单位.xlsx"
    book.save(source)
    marked = tmp_path / "标注.xlsx"
    annotate_file(source, marked, plan_marks(validate_workbook(source)))
    assert not clear_package(marked, tmp_path / "原样.xlsx").moved  # nothing moved: nothing to say
    book = openpyxl.load_workbook(marked)
    book[T5].insert_rows(9)  # everything from row 9 down moves one row, notes and fills with it
    moved = tmp_path / "插入行.xlsx"
    book.save(moved)
    cleared = writer(moved, tmp_path / "清除.xlsx")
    assert f"{T5}!C10" in cleared.moved and f"{T5}!C11" in cleared.swept
    assert "标注已不在标注时的单元格" in cleared.warning() and f"{T5}!C10" in cleared.warning()
    sheet = openpyxl.load_workbook(tmp_path / "清除.xlsx")[T5]
    assert sheet["C10"].value == 645.39 and sheet["C10"].fill.fgColor.rgb == "FFFFFF00"  # the user's yellow, moved down
    assert sheet["C11"].value == 493.92 and sheet["C11"].comment.text == "单位的批注"
    assert sheet["C11"].fill.patternType is None
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.comment and c.comment.text.startswith("【xlplugin")]


def test_the_clear_command_says_where_marks_were_moved(tmp_path):
    book = openpyxl.load_workbook(SAMPLE)
    book[T5]["D10"] = 494.92
    source = tmp_path / "单位.xlsx"
    book.save(source)
    annotate_file(source, source, plan_marks(validate_workbook(source)))
    book = openpyxl.load_workbook(source)
    book[T5].insert_rows(1)
    book.save(source)
    result = run_cli("clear", str(source), "-o", str(tmp_path / "清除.xlsx"))
    assert result.returncode == 0, result.stderr
    assert "已清除标注" in result.stdout
    assert f"{source}: 注意：有 " in result.stderr and f"{T5}!C10" in result.stderr
