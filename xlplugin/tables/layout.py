"""The printed layout of the nine tables in the central 公开 format, as plain data.

`sheet_layout` says what goes in which cell (title, 公开0N表, 编制单位/金额单位, merged
headers built from the specs' header paths, 栏次, rows, notes) and how it is styled,
without touching any workbook library: io/template.py renders it with openpyxl, and
the Excel ribbon renders the same layout through xlwings.  Filled in with `content`
it is the sample workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..specs import ECONOMIC, BlockSpec, TableSpec, YearSpec

_NUMERALS = "一二三四五六七八九十"
BLANK_CODED_ROWS = 20  # empty 科目 rows a template offers under 合计


@dataclass
class CellLayout:
    row: int  # 0-based
    col: int
    value: object
    style: str  # title, number_label, meta, meta_right, header, lanci, label, code, amount, note


@dataclass
class SheetLayout:
    name: str
    table: str
    cells: list[CellLayout] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    header_rows: tuple[int, int] = (0, 0)  # first, last (0-based, inclusive)
    freeze: tuple[int, int] = (0, 0)  # first data row, first amount column
    width: int = 0


@dataclass
class _Col:
    path: list[str]
    kind: str  # code, label, amount
    key: str = ""


@dataclass
class _BlockLayout:
    name: str
    spec: BlockSpec
    columns: list[_Col]
    top: list[dict]  # rows: {"label"|"code"+"name", "key", "values"}
    bottom: list[dict]


def chinese_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 26 → 二十六."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens - 1] + "十")
    return head + ("" if ones == 0 else _NUMERALS[ones - 1])


def sheet_layout(table: TableSpec, spec: YearSpec, unit: str = "", amount_unit: str = "万元", content: dict | None = None) -> SheetLayout:
    """The layout of one table; `content` (block name → rows) fills it, None gives the blank template."""
    content = content or {}
    blocks = _blocks(table, spec, content.get("blocks", {}))
    layout = SheetLayout(name=table.name, table=table.name)
    columns = [(b, c) for b in blocks for c in b.columns]
    width = len(columns)
    layout.width = width
    depth = max(len(c.path) for _, c in columns)
    put = layout.cells.append

    put(CellLayout(0, 0, table.name, "title"))
    layout.merges.append((0, 0, 0, width - 1))
    put(CellLayout(1, width - 1, table.number, "number_label"))
    put(CellLayout(2, 0, f"编制单位：{unit}", "meta"))
    put(CellLayout(2, width - 1, f"金额单位：{amount_unit}", "meta_right"))

    first_header = 3
    _headers(layout, [c for _, c in columns], first_header, depth)
    lanci = first_header + depth
    number = 0
    for col, (block, column) in enumerate(columns):
        if column.kind == "amount":
            number += 1
            put(CellLayout(lanci, col, number, "lanci"))
        elif column is block.columns[0]:
            put(CellLayout(lanci, col, "栏次", "lanci"))
        else:
            put(CellLayout(lanci, col, None, "lanci"))
    layout.header_rows = (first_header, lanci)

    top = max(len(b.top) for b in blocks)
    bottom = max(len(b.bottom) for b in blocks)
    start = lanci + 1
    col = 0
    for block in blocks:
        for i, row in enumerate(block.top):
            _data_row(layout, block, row, start + i, col)
        for i, row in enumerate(block.bottom):
            _data_row(layout, block, row, start + top + i, col)
        col += len(block.columns)
    taken = {(c.row, c.col) for c in layout.cells}
    for r in range(start, start + top + bottom):  # borders on the empty cells too
        for j, (_, column) in enumerate(columns):
            if (r, j) not in taken:
                put(CellLayout(r, j, None, "amount" if column.kind == "amount" else "label"))
    end = start + top + bottom
    for i, note in enumerate(content.get("notes", [])):
        put(CellLayout(end + i, 0, note, "note"))
        layout.merges.append((end + i, 0, end + i, width - 1))

    layout.freeze = (start, next(i for i, (_, c) in enumerate(columns) if c.kind == "amount"))
    for i, (_, column) in enumerate(columns):
        texts = [str(c.value) for c in layout.cells if c.col == i and c.row >= first_header and isinstance(c.value, str)]
        longest = max((_display_width(t) for t in texts), default=8)
        if column.kind == "amount":
            layout.widths[i] = max(14.0, min(longest + 2.0, 24.0))
        elif column.kind == "code":
            layout.widths[i] = max(12.0, min(longest + 2.0, 16.0))
        else:
            layout.widths[i] = max(16.0, min(longest + 2.0, 48.0))
    return layout


def _display_width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text)


def _headers(layout: SheetLayout, columns: list[_Col], first: int, depth: int) -> None:
    """Header labels top-down: a parent label spans its children, a short path's last label spans down."""
    put = layout.cells.append
    for level in range(depth):
        col = 0
        while col < len(columns):
            path = columns[col].path
            if level >= len(path):  # covered by the vertical merge above
                put(CellLayout(first + level, col, None, "header"))
                col += 1
                continue
            end = col
            if level < len(path) - 1:
                while (
                    end + 1 < len(columns)
                    and len(columns[end + 1].path) > level + 1
                    and columns[end + 1].path[: level + 1] == path[: level + 1]
                ):
                    end += 1
            put(CellLayout(first + level, col, path[level], "header"))
            for c in range(col + 1, end + 1):
                put(CellLayout(first + level, c, None, "header"))
            if end > col:
                layout.merges.append((first + level, col, first + level, end))
            if level == len(path) - 1 and len(path) < depth:
                layout.merges.append((first + level, col, first + depth - 1, col))
            col = end + 1


def _data_row(layout: SheetLayout, block: _BlockLayout, row: dict, r: int, col: int) -> None:
    put = layout.cells.append
    labels = [c for c in block.columns if c.kind != "amount"]
    if len(labels) == 2:
        code_col, name_col = col, col + 1
        if row.get("code"):
            put(CellLayout(r, code_col, row["code"], "code"))
            put(CellLayout(r, name_col, row.get("name", ""), "label"))
        else:
            put(CellLayout(r, code_col, row.get("label", ""), "label"))
            put(CellLayout(r, name_col, None, "label"))
            if row.get("label"):
                layout.merges.append((r, code_col, r, name_col))
    elif len(labels) == 1:
        put(CellLayout(r, col, row.get("label", ""), "label"))
    values = row.get("values", {})
    for j, column in enumerate(block.columns):
        if column.kind == "amount":
            put(CellLayout(r, col + j, values.get(column.key), "amount"))


def _blocks(table: TableSpec, spec: YearSpec, content: dict) -> list[_BlockLayout]:
    result = []
    for block in table.blocks:
        if block.repeat:
            for number, part in enumerate(block.template, start=1):
                name = f"{block.name}{number}"
                columns = [_Col([part["heading"], *h], "code" if i == 0 else "label") for i, h in enumerate(block.label_header)]
                columns += [_Col([part["heading"], *c.header], "amount", c.key) for c in block.columns if c.printed]
                rows = content.get(name) or _economic_rows(spec, part["classes"])
                top = [r for r in rows if r.get("code")]
                bottom = [r for r in rows if not r.get("code")]
                printed = [row for row in block.rows if row.printed]
                if not content.get(name) and number <= len(printed):
                    bottom = [{"label": printed[number - 1].key, "key": printed[number - 1].key}]
                result.append(_BlockLayout(name, block, columns, top, bottom))
            continue
        columns = [_Col(list(h), "code" if len(block.label_header) == 2 and i == 0 else "label") for i, h in enumerate(block.label_header)]
        columns += [_Col(list(c.header), "amount", c.key) for c in block.columns if c.printed]
        top, bottom = _fixed_rows(block, spec, content.get(block.name))
        result.append(_BlockLayout(block.name, block, columns, top, bottom))
    return result


def _fixed_rows(block: BlockSpec, spec: YearSpec, rows: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """Rows before the first total row go on top, the totals align at the bottom across blocks."""
    if block.coded:
        if rows is not None:
            return [_labelled(r, block) for r in rows], []
        return [{"label": block.rows[0].key, "key": block.rows[0].key}] + [{} for _ in range(BLANK_CODED_ROWS)], []
    given = {r.get("key"): r for r in rows or []}
    catalog = spec.catalogs["功能分类"].entries
    top: list[dict] = []
    for code in block.class_rows:
        name = catalog[code].name if code in catalog else code
        top.append({"key": name, "label": name, "values": given.get(name, {}).get("values", {})})
    bottom: list[dict] = []
    for row in (r for r in block.rows if r.printed):
        label = row.key.split(".")[-1]
        entry = {"key": row.key, "label": label, "values": given.get(row.key, {}).get("values", {})}
        if row.total or bottom:
            if "." in row.key:
                entry["label"] = "    " + label
            bottom.append(entry)
        else:
            top.append(entry)
    for i, entry in enumerate(top, start=1):
        entry["label"] = f"{chinese_numeral(i)}、{entry['label']}"
    return top, bottom


def _labelled(row: dict, block: BlockSpec) -> dict:
    if row.get("code"):
        return row
    key = row.get("key", "")
    return {**row, "label": row.get("label", key)}


def _economic_rows(spec: YearSpec, classes: list[str]) -> list[dict]:
    catalog = spec.catalogs[ECONOMIC].entries
    rows = []
    for cls in classes:
        for entry in catalog.values():
            if (entry.code == cls or entry.parent == cls) and entry.confidence in ("S", "H"):
                rows.append({"code": entry.code, "name": entry.name, "key": entry.code})
    return rows
