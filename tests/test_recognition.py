"""Recognition of the nine tables in our template and the sample, with both readers."""

from __future__ import annotations

import math

import openpyxl
import pytest
from conftest import SAMPLE, TEMPLATE

from xlplugin.specs import load_year
from xlplugin.workbook import inspect_workbook

READERS = ["calamine", "openpyxl"]
NAMES = load_year(2024).table_names


@pytest.fixture(scope="module", params=READERS)
def sample(request):
    return inspect_workbook(SAMPLE, reader=request.param)


@pytest.fixture(scope="module", params=READERS)
def template(request):
    return inspect_workbook(TEMPLATE, reader=request.param)


def test_all_nine_tables_found_in_the_template(template):
    assert list(template.tables) == NAMES
    assert template.missing == {}
    for name, table in template.tables.items():
        assert table.sheet == name
        assert table.unit == "万元" and table.unit_stated
        assert not table.problems, table.problems


def test_template_cells_land_on_keys(template):
    t = template.tables
    assert t["收入支出决算总表"].address("总计", "金额", block="收入") == "B36"
    assert t["收入支出决算总表"].address("总计", "金额", block="支出") == "D36"
    assert t["收入支出决算总表"].address("社会保障和就业支出", "金额") == "D14"
    assert t["收入支出决算总表"].address("本年收入合计", "金额") == "B33"
    assert t["财政拨款收入支出决算总表"].address("年初财政拨款结转和结余.一般公共预算财政拨款", "金额") == "B35"
    assert t["财政拨款收入支出决算总表"].address("一般公共预算财政拨款", "金额") == "B7"
    assert t["财政拨款收入支出决算总表"].address("本年支出合计", "一般公共预算财政拨款") == "E33"
    assert t["收入决算表"].address("合计", "其他收入") == "I7"
    assert t["一般公共预算财政拨款基本支出决算表"].address("30101", "决算数") == "C8"
    assert t["一般公共预算财政拨款基本支出决算表"].address("公用经费合计", "决算数") == "F35"
    assert t["财政拨款“三公”经费支出决算表"].address("合计", "决算数.公务用车运行费") == "K8"
    assert t["财政拨款“三公”经费支出决算表"].address("合计", "预算数.因公出国(境)费") == "B8"
    # T1 and T4 list every one of the 26 类 rows with its catalogue code
    expense = t["收入支出决算总表"].blocks["支出"].frame
    assert len(expense[expense["code"] != ""]) == 26
    assert expense.set_index("key").at["社会保障和就业支出", "code"] == "208"


def test_sample_cells_land_on_keys(sample):
    t = sample.tables
    t5 = t["一般公共预算财政拨款支出决算表"]
    assert t5.address("2080101", "基本支出") == "D10"
    assert t5.value("2080101", "合计") == 493.92
    assert t5.address("合计", "合计") == "C7"
    assert t["收入支出决算总表"].value("总计", "金额", block="收入") == 13580.78
    assert t["一般公共预算财政拨款基本支出决算表"].value("人员经费合计", "决算数") == 654.08
    assert t["国有资本经营预算财政拨款收入支出决算表"].value("2230105", "本年支出合计") == 30.13
    assert t["财政拨款“三公”经费支出决算表"].value("合计", "决算数.合计") == 9.90
    assert t["政府性基金预算财政拨款收入支出决算表"].notes == ["注：本单位本年度无政府性基金预算财政拨款收入、支出及结转和结余，故本表无数据。"]
    assert t["收入支出决算总表"].unit_name == "乌鲁木齐市水磨沟区人力资源和社会保障局"


def test_every_sample_figure_is_recognised_at_its_cell(sample, sample_data):
    """Each figure of sample_2024.toml is found under its (row, column) key, at a cell holding it."""
    book = openpyxl.load_workbook(SAMPLE, read_only=True)
    checked = 0
    for source in sample_data["table"]:
        table = sample.tables[source["name"]]
        sheet = book[table.sheet]
        for block in source["block"]:
            name = None if block["name"].startswith("经济分类") else block["name"]
            for row in block["rows"]:
                key = row.get("code") or row["key"]
                for column, value in row.get("values", {}).items():
                    assert math.isclose(table.value(key, column, block=name), value), (source["name"], key, column)
                    address = table.address(key, column, block=name)
                    assert sheet[address].value == value
                    checked += 1
    assert checked > 200


def test_no_problems_and_nothing_left_unplaced_in_the_sample(sample):
    assert sample.missing == {}
    assert sample.problems == []
    for table in sample.tables.values():
        assert table.problems == [], (table.name, table.problems)


def test_both_readers_agree_on_the_sample():
    a = inspect_workbook(SAMPLE, reader="calamine")
    b = inspect_workbook(SAMPLE, reader="openpyxl")
    for name in NAMES:
        ta, tb = a.tables[name], b.tables[name]
        assert (ta.sheet, ta.range, ta.unit) == (tb.sheet, tb.range, tb.unit)
        for block in ta.blocks:
            assert ta.blocks[block].frame.equals(tb.blocks[block].frame)
            assert ta.blocks[block].cells.equals(tb.blocks[block].cells)


def _recognised(inspection) -> list:
    """Everything recognition says of a workbook, as plain values (NaN as None)."""
    tables = []
    for name, table in inspection.tables.items():
        if table is None:
            tables.append((name, None))
            continue
        blocks = [
            (block_name, block.columns, [(r.excel_row, r.key, r.code, r.label, [None if v != v else v for v in r.values], r.cells) for r in block.rows])
            for block_name, block in table.blocks.items()
        ]
        tables.append((name, table.range, [(p.message, p.cell, p.sheet, p.kind) for p in table.problems], blocks))
    return tables


def test_a_header_seen_before_gives_the_same_tables_and_problems(tmp_path):
    """Recognition remembers headers it has matched (a batch meets one template again and
    again): a second workbook with the same header gets the same columns, its own rows (no
    'duplicate row' left over from the first) and the header's problems again; a header that
    differs in one cell is matched afresh."""
    from corpus.build import HERE, build

    from xlplugin.io.readers import read_workbook
    from xlplugin.tables.recognize import recognize

    spec = load_year(2024)
    for table in spec.tables:
        table.header_cache.clear()
    unknown = build(HERE / "r-2-unknown-column", tmp_path / "unknown.xlsx")
    first = recognize(read_workbook(SAMPLE), spec)
    with_problem = recognize(read_workbook(unknown), spec)
    again = recognize(read_workbook(SAMPLE), spec)
    problem_again = recognize(read_workbook(unknown), spec)
    assert any(t.header_cache for t in spec.tables)
    assert _recognised(again) == _recognised(first)
    assert _recognised(problem_again) == _recognised(with_problem)
    column_problems = [p for t in with_problem.tables.values() if t for p in t.problems if p.kind == "column"]
    assert column_problems and not [p for t in first.tables.values() if t for p in t.problems]


def test_amounts_typed_as_text_read_the_same_every_time(tmp_path):
    """Text amounts ("—", full-width digits, (1,234.50), 待定) are remembered across a batch:
    the second workbook must get the same numbers, and 待定 must be reported again each time,
    not only the first time it is seen."""
    from xlplugin.io.readers import read_workbook
    from xlplugin.tables.recognize import recognize

    spec = load_year(2024)
    table = recognize(read_workbook(SAMPLE), spec).tables["一般公共预算财政拨款支出决算表"]
    first, second = next(iter(table.blocks.values())).rows[:2]
    cells = [*first.cells, second.cells[0]]  # 合计, 基本支出, 项目支出 of one row, 合计 of the next
    texts = ["—", "(1,234.50)", "待定", "１２３.４５"]
    book = openpyxl.load_workbook(SAMPLE)
    for cell, text in zip(cells, texts):
        book[table.sheet][cell] = text
    path = tmp_path / "text_amounts.xlsx"
    book.save(path)
    for _ in range(2):
        again = recognize(read_workbook(path), spec).tables["一般公共预算财政拨款支出决算表"]
        rows = {r.excel_row: r.values for b in again.blocks.values() for r in b.rows}
        values = [*rows[first.excel_row], rows[second.excel_row][0]]
        assert values[:2] == [0.0, -1234.5] and math.isnan(values[2]) and values[3] == 123.45
        assert [(p.cell, p.kind) for p in again.problems] == [(cells[2], "value")]


def test_a_memo_gives_the_function_value_and_stays_bounded():
    from xlplugin.text import Memo

    calls = []
    square = Memo(lambda x: calls.append(x) or x * x, size=3)
    assert [square[x] for x in (2, 3, 2, 4, 5, 2)] == [4, 9, 4, 16, 25, 4]
    assert len(square) <= 3 and calls == [2, 3, 4, 5, 2]


CHANGED_IN_PLACE = ["r-1-unknown-row", "r-2-unknown-column", "c-1-text-amount", "c-3-formula-without-value", "e-1-empty-fund-without-note", "g-1-missing-table", "s-3-empty-without-note", "h-6-code-format"]


def test_recognition_does_not_depend_on_the_workbooks_seen_before(tmp_path):
    """Recognition remembers header rows and headers across workbooks; each workbook must
    still be recognised as if nothing were remembered.  Every layout, the template and the
    sample and the sample without its merged ranges with both readers, and corpus cases that
    change them in place, one after the other: the same as with a memory that keeps nothing."""
    import layouts

    from xlplugin.io.readers import read_workbook
    from xlplugin.tables.recognize import recognize

    spec = load_year(2024)
    from corpus.build import HERE, build

    paths = [SAMPLE, TEMPLATE]
    for name in layouts.LAYOUTS:
        layouts.build(name, tmp_path / f"{name}.xlsx")
        paths.append(tmp_path / f"{name}.xlsx")
    book = openpyxl.load_workbook(SAMPLE)  # the same cells without merged ranges, as an Office.js Book sends them
    for sheet in book.worksheets:
        for merged in list(sheet.merged_cells.ranges):
            sheet.unmerge_cells(str(merged))
    book.save(tmp_path / "unmerged.xlsx")
    paths.append(tmp_path / "unmerged.xlsx")
    inputs = [(path, reader) for reader in READERS for path in paths]
    # corpus cases that change a header, a row label, a value or a table of the sample or a
    # layout in a cell or two, at the same places (calamine only: openpyxl reads slowly)
    changed = [HERE / name for name in CHANGED_IN_PLACE]
    inputs += [(build(case, tmp_path / f"{case.name}.xlsx"), "calamine") for case in changed]

    class Forgetful(dict):  # a memory that keeps nothing: each header is worked out afresh
        def __setitem__(self, key, value) -> None:
            pass

    def remember(memory: type[dict]) -> None:
        for table in spec.tables:  # the memories are cached properties: set them directly
            vars(table)["header_cache"], vars(table)["header_row_cache"] = memory(), memory()

    remember(Forgetful)
    alone = [_recognised(recognize(read_workbook(path, reader), spec)) for path, reader in inputs]
    remember(dict)
    together = [_recognised(recognize(read_workbook(path, reader), spec)) for path, reader in inputs]
    assert any(table.header_row_cache for table in spec.tables)
    assert together == alone


def test_a_table_without_its_own_unit_line_takes_the_unit_the_others_state(tmp_path):
    """A workbook in 元 that says 金额单位：元 above its first table only: every table is in 元 (in
    万元, the tolerance of each whole-元 rounding would be 100 times too narrow); and 元江县 is a
    unit's name, not an amount unit."""
    import layouts

    path = tmp_path / "元.xlsx"
    layouts.build("yuan", path)
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets[1:]:
        for row in ws.iter_rows(max_row=4):
            for cell in row:
                if cell.value == "金额单位：元":
                    cell.value = None
    book.worksheets[0]["A3"] = "编制单位：元江哈尼族彝族傣族自治县财政局"
    book.save(path)
    inspection = inspect_workbook(path)
    assert {name: (t.unit, t.unit_stated) for name, t in inspection.tables.items()} == {name: ("元", name == NAMES[0]) for name in NAMES}
    assert inspection.tables[NAMES[0]].unit_name == "元江哈尼族彝族傣族自治县财政局"
    for ws in book.worksheets[:1]:
        ws["F3"] = "金额单位：万元"  # the stated units disagree: the others stay in 万元, the norm
    book.save(path)
    assert {t.unit for t in inspect_workbook(path).tables.values()} == {"万元"}


@pytest.mark.parametrize("line", ["金额单位（元）", "单位(元)", "单位/元", "（金额单位：人民币元）", "计量单位：元", "金额单位：元    公开01表", "单位：元 编制日期：2025年7月"])
def test_other_spellings_of_the_amount_unit_line(tmp_path, line):
    """In 万元, a whole-元 workbook's rounding tolerance is 10,000 times too narrow: every sum a false error."""
    import layouts

    path = tmp_path / "元.xlsx"
    layouts.build("yuan", path)
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows(max_row=4):
            for cell in row:
                if cell.value == "金额单位：元":
                    cell.value = line
    book.save(path)
    assert {(t.unit, t.unit_stated) for t in inspect_workbook(path).tables.values()} == {("元", True)}


def test_the_unit_name_and_the_amount_unit_in_one_cell(tmp_path):
    """编制单位 and 金额单位 in one cell without a space; a name that starts with 元 is no unit line."""
    path = tmp_path / "单位.xlsx"
    book = openpyxl.load_workbook(TEMPLATE)
    for ws in book.worksheets:
        for row in ws.iter_rows(max_row=4):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("金额单位"):
                    cell.value = None
                elif isinstance(cell.value, str) and cell.value.startswith("编制单位"):
                    cell.value = "编制单位：元江县人力资源和社会保障局金额单位：万元"
    book.save(path)
    tables = inspect_workbook(path).tables.values()
    assert {(t.unit, t.unit_stated, t.unit_name) for t in tables} == {("万元", True, "元江县人力资源和社会保障局")}


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_a_table_on_a_shown_sheet_wins_over_a_hidden_working_copy(tmp_path, reader):
    """A unit's hidden working copy of 表五, with an old figure, placed before the published one:
    it had won the tie, and its old figure gave errors on a sheet nobody sees."""
    path = tmp_path / "底稿.xlsx"
    book = openpyxl.load_workbook(SAMPLE)
    t5 = "一般公共预算财政拨款支出决算表"
    copy = book.copy_worksheet(book[t5])
    copy.title, copy.sheet_state, copy["D10"] = "底稿", "hidden", 400.0
    book.move_sheet(copy, offset=-book.index(copy))
    book.save(path)
    inspection = inspect_workbook(path, reader=reader)
    assert inspection.tables[t5].sheet == t5 and inspection.tables[t5].value("2080101", "基本支出") == 493.92
    assert any("底稿" in p.message or p.sheet == "底稿" for p in inspection.problems)  # the copy is not silently ignored


def _t2_with_rows_after(path, inserted: list[list[object]], at: int = 16) -> None:
    """The sample with `inserted` rows in 收入决算表 after Excel row `at`, and the header's merges
    repeated over an inserted copy of the header (rows 4–5)."""
    book = openpyxl.load_workbook(SAMPLE)
    ws = book["收入决算表"]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    merges = [str(m) for m in ws.merged_cells.ranges]
    for merge in merges:
        ws.unmerge_cells(merge)
    ws.delete_rows(1, ws.max_row)
    for row in grid[:at] + inserted + grid[at:]:
        ws.append(row)
    for merge in merges:
        ws.merge_cells(merge)
    header = next((i for i, row in enumerate(inserted) if row[:1] == ["项目"]), None)
    if header is not None:  # 项目 over 科目编码 | 科目名称, and each amount header over two rows, again
        top = at + header + 1
        ws.merge_cells(f"A{top}:B{top}")
        for letter in "CDEFGHI":
            ws.merge_cells(f"{letter}{top}:{letter}{top + 1}")
    book.save(path)


@pytest.mark.parametrize("repeated", ["header", "栏次", "title"])
def test_a_table_printed_over_two_pages_is_one_table(tmp_path, repeated):
    """Header rows (and the title, 公开02表（续）) repeated inside a long table: they had given R-1
    warnings (行「项目」缺少科目编码), and a repeated title had cut the table in two (the rows after it
    left out: five false H-1 errors)."""
    sample = openpyxl.load_workbook(SAMPLE)["收入决算表"]
    grid = [list(row) for row in sample.iter_rows(values_only=True)]
    inserted = {"header": grid[3:6], "栏次": grid[5:6], "title": [grid[0], [None] * 8 + ["公开02表（续）"], *grid[3:6]]}[repeated]
    path = tmp_path / "两页.xlsx"
    _t2_with_rows_after(path, inserted)
    table = inspect_workbook(path).tables["收入决算表"]
    assert [r.key for r in table.blocks["主表"].rows] == [r.key for r in inspect_workbook(SAMPLE).tables["收入决算表"].blocks["主表"].rows]
    assert table.problems == [] and table.range == f"A1:I{24 + len(inserted)}"
    from conftest import run_cli

    assert run_cli("validate", str(path)).returncode == 0


@pytest.mark.parametrize("words", [None, "备注"])
def test_an_empty_spacer_column_under_a_merged_header_is_no_unknown_column(tmp_path, words):
    """表一 with an empty column after each side's 金额, under the merged 收入 / 支出: it had given
    R-2 (列「收入」的表头未识别).  A column with header words of its own stays reported."""
    book = openpyxl.load_workbook(SAMPLE)
    ws = book["收入支出决算总表"]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    for merge in [str(m) for m in ws.merged_cells.ranges]:
        ws.unmerge_cells(merge)
    ws.delete_rows(1, ws.max_row)
    for row in grid:
        ws.append(row[:2] + [None] + row[2:] + [None])
    ws["C5"] = ws["F5"] = words
    for merge in ("A1:F1", "A4:C4", "D4:F4"):
        ws.merge_cells(merge)
    path = tmp_path / "空列.xlsx"
    book.save(path)
    table = inspect_workbook(path).tables["收入支出决算总表"]
    assert [(p.cell, p.message) for p in table.problems] == ([] if words is None else [("C5", "列「收入/备注」的表头未识别（unknown column）"), ("F5", "列「支出/备注」的表头未识别（unknown column）")])
