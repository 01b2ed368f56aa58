"""Recognise the nine tables in a workbook's sheets, cell by cell.

For every title found (see titles.py) the rows below it are read as:
  meta lines   公开0N表, 编制单位：…, 金额单位：万元 (unit and unit name are taken from them);
  header rows  1–3 rows of header labels, merged cells filled in, an optional 栏次 row;
  data rows    until the next title: row labels (normalised, with 科目编码 as one
               column or split over 类 | 款 | 项) and amounts; 注：/说明： lines are notes.
Each column's header labels, read top to bottom, form a set that names the column
(tables.toml `match`), so the same spec serves the central layout (预算数 block then
决算数 block) and Shanghai's interleaved one.  Label columns split a table into
side-by-side blocks (收入 | 支出, the 经济分类 blocks of table 6).
Nothing is guessed by position: rows are found by label or code, columns by header.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from ..model import HEADING_END, Block, Inspection, Problem, RecognizedTable, Row, Sheet
from ..specs import BlockSpec, TableSpec, YearSpec
from ..text import (
    Memo,
    NotANumber,
    a1,
    column_index,
    column_letter,
    covered_cells,
    is_code,
    normalize_label,
    parse_amount,
    split_code,
)
from .titles import TITLE_MARK, TitleHit, find_titles, prefix_parts

_HEADER_WINDOW = 16  # rows below a title in which its header must start and end
_HEADER_CACHE_SIZE = 4096  # distinct headers remembered per table (a batch has a handful of templates)


def recognize(sheets: list[Sheet], spec: YearSpec, path: str = "", reader: str = "") -> Inspection:
    """Find each of the year's tables in `sheets`; the best-structured candidate wins."""
    found: dict[str, list[tuple[tuple[bool, int], RecognizedTable]]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)
    problems: list[Problem] = []
    notes: list[str] = []  # sentences anywhere that may say a table is empty
    for sheet in sheets:
        merges = _MergeMap(sheet)
        candidates = _text_cells(sheet, _memo(_may_note, spec.lines.empty_note), notes)
        hits = find_titles(sheet, spec, candidates)
        before: TitleHit | None = None  # the hit read just before, when it gave a table
        for i, hit in enumerate(hits):
            end = next((h.row for h in hits[i + 1 :] if h.row > hit.row), len(sheet.rows))
            table, reason, score = _TableReader(hit, end, spec, merges).read()
            where = f"「{sheet.name}」!{a1(hit.row, hit.col)}"
            if table is None:
                failures[hit.table.name].append(f"{where} 有标题，但{reason}")
            elif before is not None and before.table is hit.table and before.row < hit.row and _continue(found[hit.table.name][-1][1], table):
                (shown, first_score), joined = found[hit.table.name][-1]
                found[hit.table.name][-1] = ((shown, first_score + score), joined)
            else:  # a table on a shown sheet before one on a hidden sheet (a unit's old working copy)
                found[hit.table.name].append(((not sheet.hidden, score), table))
            before = hit if table is not None else None
    tables: dict[str, RecognizedTable | None] = {}
    missing: dict[str, str] = {}
    for table_spec in spec.tables:
        candidates = found.get(table_spec.name, [])
        if candidates:
            best = max(candidates, key=lambda item: item[0])[1]
            tables[table_spec.name] = best
            for _, other in candidates:
                if other is not best:
                    problems.append(Problem(f"另有一处「{table_spec.name}」未采用（{other.range}）", other.title_cell, other.sheet, "other"))
        else:
            tables[table_spec.name] = None
            missing[table_spec.name] = "；".join(failures.get(table_spec.name, [])) or "没有找到这张表的标题（title not found）"
    _inherit_unit(tables)
    reported = {(p.sheet, p.cell) for t in tables.values() if t for p in t.problems}
    for sheet in sheets:  # formulas outside the tables still deserve a word
        for r, c in sorted(sheet.uncached_formulas):
            if (sheet.name, a1(r, c)) not in reported:
                problems.append(Problem("公式没有缓存值（formula without cached value）；请在 Excel 中重新计算并保存", a1(r, c), sheet.name, "formula"))
    return Inspection(path, reader, tables, missing, [s.name for s in sheets], problems, notes)


def _continue(first: RecognizedTable, second: RecognizedTable) -> bool:
    """Join `second` to `first` when it continues it: a long table printed over two pages, its
    title (公开02表（续）) and header repeated, right below it on the same sheet.  The same
    columns, and no row of the one repeated in the other; else they are two copies."""
    if first.blocks.keys() != second.blocks.keys():
        return False
    for name, block in second.blocks.items():
        if block.columns != first.blocks[name].columns or {r.key for r in block.rows} & {r.key for r in first.blocks[name].rows}:
            return False
    for name, block in second.blocks.items():
        first.blocks[name].rows.extend(block.rows)
    (c0, r0), (c1, r1) = (_corner(first.range.split(":")[i]) for i in (0, 1))
    (d0, _), (d1, s1) = (_corner(second.range.split(":")[i]) for i in (0, 1))
    first.range = f"{column_letter(min(c0, d0))}{r0}:{column_letter(max(c1, d1))}{max(r1, s1)}"
    first.notes += second.notes
    first.problems += second.problems
    return True


def _corner(address: str) -> tuple[int, int]:
    """(0-based column, Excel row) of an A1 address."""
    letters = address.rstrip("0123456789")
    return column_index(letters), int(address[len(letters) :])


def _inherit_unit(tables: dict[str, RecognizedTable | None]) -> None:
    """A table that states no 金额单位 is in the unit the workbook's other tables state, when they
    agree (a workbook in 元 may say so above its first table only); otherwise in 万元, the norm."""
    stated = {t.unit for t in tables.values() if t is not None and t.unit_stated}
    if len(stated) == 1:
        unit = stated.pop()
        for table in tables.values():
            if table is not None and not table.unit_stated:
                table.unit = unit


def _text_cells(sheet: Sheet, may_note: Memo, notes: list[str]) -> list[tuple[int, int, str]]:
    """(row, col, text) of the text cells that may be a title (they hold TITLE_MARK); the
    texts that may note an empty table are added to `notes`, after the heading they continue
    (see _heading).  One pass over every cell."""
    candidates = []
    rows = sheet.rows
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if type(value) is str:
                if may_note[value]:
                    heading = _heading(rows, r, c)
                    notes.append(f"{heading}{HEADING_END}{value}" if heading else value)
                if TITLE_MARK in value:
                    candidates.append((r, c, value))
    return candidates


def _heading(rows: list[list[Any]], r: int, c: int) -> str:
    """The text a note cell continues: the nearest text left of it in its row, else the first
    text of the row above.  A 说明 puts 「七、政府性基金预算财政拨款收入支出决算表」 beside or above
    「本单位未发生此类收支。」; joined, the sentence names its table (a heading that ends a sentence
    stays a sentence of its own: the rules split sentences)."""
    for value in reversed(rows[r][:c]):
        if type(value) is str and value.strip():
            return value
    if r > 0:
        for value in rows[r - 1]:
            if type(value) is str and value.strip():
                return value
    return ""


class _MergeMap:
    """Reads a cell's text as shown: a cell covered by a merged range shows its top-left value."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.covered = _COVERED[tuple(sheet.merges)]  # a batch's sheets share their template's merges

    def shown_row(self, row: int, width: int) -> list[Any]:
        """The row as shown, `width` cells long."""
        cells = self.sheet.rows[row] if row < len(self.sheet.rows) else []
        shown = cells[:width] + [None] * (width - len(cells))
        for c, r0, c0 in self.covered.get(row, ()):
            if c < width:
                shown[c] = self.sheet.value(r0, c0)
        return shown


class _HeaderRow(NamedTuple):
    raw: tuple[tuple[int, Any], ...]  # (column, value) of the non-blank cells
    meta: bool  # every non-blank cell is a 公开0N表 / 编制单位 / 金额单位 line
    column_numbers: bool  # the 栏次 row
    known: frozenset[int]  # columns whose text is a known header label
    label_known: frozenset[int]  # … and names a label column (项目, 科目名称)


def _covered_by(merges: tuple[tuple[int, int, int, int], ...]) -> dict[int, list[tuple[int, int, int]]]:
    """Row → (col, origin row, origin col) of each cell that a merged range covers (read only)."""
    covered: dict[int, list[tuple[int, int, int]]] = {}
    for r0, c0, r1, c1 in merges:
        for r, c in covered_cells(r0, c0, r1, c1):
            covered.setdefault(r, []).append((c, r0, c0))
    return covered


_COVERED = Memo(_covered_by, size=1024)


def _remembered(memory: dict, key: Any, work: Callable[[], Any]) -> Any:
    """memory[key], worked out (and kept) on a first sight.  One lookup, so that a server thread
    clearing the memory cannot cause a KeyError; bounded, for a server that runs for months."""
    found = memory.get(key)
    if found is None:
        if len(memory) >= _HEADER_CACHE_SIZE:
            memory.clear()
        found = memory[key] = work()
    return found


@dataclass
class _Column:
    index: int
    path: list[str]
    role: str  # label, code, ignore, amount
    key: str = ""


@dataclass
class _Group:
    """Columns of one side-by-side block, before it is matched to a block spec."""

    columns: list[_Column] = field(default_factory=list)
    spec: BlockSpec | None = None
    name: str = ""
    used: set[str] = field(default_factory=set)  # row keys already placed

    def freeze(self) -> None:
        """Fix what every data row reads, once the columns are matched (keys assigned)."""
        self.label_columns = [c for c in self.columns if c.role in ("label", "code")]
        self.amount_columns = [c for c in self.columns if c.role == "amount" and c.key]
        self.amount_indexes = tuple(c.index for c in self.amount_columns)
        self.amount_letters = tuple(column_letter(c.index) for c in self.amount_columns)
        self.label_indexes = tuple(c.index for c in self.label_columns)
        # where a row problem of this block is reported: its first label (or any) column
        self.first_index = self.label_columns[0].index if self.label_columns else self.columns[0].index
        self.prepare(0)

    def fresh(self) -> _Group:
        """A copy with no row placed yet (the columns are shared: they do not change)."""
        clone = _Group.__new__(_Group)  # not copy.copy: a table of a batch makes one per block
        clone.__dict__.update(self.__dict__)
        clone.used = set()
        return clone

    def prepare(self, narrowest: int) -> None:
        """The row readers, for rows at least `narrowest` cells long (then no row is too short)."""
        self.pick_labels = _picker(self.label_indexes, narrowest)
        self.pick_amounts = _picker(self.amount_indexes, narrowest)


class _TableReader:
    def __init__(self, hit: TitleHit, end: int, spec: YearSpec, merges: _MergeMap):
        self.hit, self.end, self.spec, self.merges = hit, end, spec, merges
        self.sheet = hit.sheet
        self.table: TableSpec = hit.table
        self.vocab = spec.header
        self.lines = spec.lines
        self.problems: list[Problem] = []
        self.unit, self.unit_stated = "万元", False
        self.unit_name, _ = prefix_parts(hit.prefix)
        self.known_tokens = self.vocab.label_words | self.vocab.ignore | self.table.header_tokens
        self.row_labels = self.table.row_labels
        # a blank amount cell is blank, unless a formula without a cached value stands there
        self.blanks_are_blank = not self.sheet.uncached_formulas

    # -- reading ---------------------------------------------------------------
    def read(self) -> tuple[RecognizedTable | None, str, int]:
        self._read_meta(self.hit.row)
        header_rows, data_start = self._find_header()
        if not header_rows:
            return None, "标题下方没有找到表头（no header）", 0
        self.header_rows = header_rows
        groups = self._columns(header_rows)
        if not any(g.amount_columns for g in groups):
            labels = "、".join(sorted({t for g in groups for c in g.columns for t in c.path})) or "无"
            return None, f"表头中没有可识别的金额列（header not understood：{labels}）", 0
        notes: list[str] = []
        rows = {id(g): [] for g in groups}
        last_row = max(header_rows)
        sheet_rows = self.sheet.rows
        stop = min(self.end, len(sheet_rows))
        narrowest = min(map(len, sheet_rows[data_start:stop]), default=0)
        for group in groups:
            group.prepare(narrowest)
        readers = [(self._row_reader(group), rows[id(group)].append) for group in groups]
        is_note, meta_line = _memo(_is_note, self.lines.note), _memo(_found, self.lines.meta)
        header_words = self.known_tokens | self.vocab.column_numbers
        for r in range(data_start, stop):
            values = sheet_rows[r]
            for first in values:  # the row's first non-blank cell
                if first is not None and first != "":
                    break
            else:
                continue
            last_row = r
            if isinstance(first, str):
                if is_note[first]:
                    notes.append(first.strip())
                    continue
                if _all_meta(values, meta_line):
                    continue
                if self.vocab.token(first) in header_words and self._repeated_header(r):
                    continue
            for read_row, keep in readers:
                record = read_row(r, values)
                if record:
                    keep(record)
        self._drop_spacer_columns(header_rows, data_start, stop)
        if not any(rows.values()):
            for group in groups:  # a single-row table (三公) printed blank: its data row is the first row
                at_end = data_start >= len(self.sheet.rows)  # calamine drops trailing rows without values
                if group.spec and group.spec.default_row and not group.label_columns and (data_start < self.end or at_end):
                    rows[id(group)].append(self._blank_default_row(data_start, group))
        blocks = {}
        for group in groups:
            block = self._block(group, rows[id(group)])
            if block is not None:
                blocks[group.name] = block
        placed = sum(len(b.rows) for b in blocks.values())
        if not placed:
            return None, "表头下没有可识别的数据行（no rows recognised）", 0
        last_row = max([last_row, *(b.rows[-1].excel_row - 1 for b in blocks.values() if b.rows)])
        table = RecognizedTable(
            name=self.table.name,
            id=self.table.id,
            sheet=self.sheet.name,
            title=self.hit.text,
            title_cell=a1(self.hit.row, self.hit.col),
            range=self._range(last_row, groups),
            unit=self.unit,
            unit_stated=self.unit_stated,
            unit_name=self.unit_name,
            header_rows=[r + 1 for r in header_rows],
            blocks=blocks,
            notes=notes,
            problems=self.problems,
        )
        score = placed + 3 * sum(len(b.columns) for b in blocks.values())
        return table, "", score

    def _read_meta(self, r: int) -> None:
        for value in self.sheet.rows[r] if r < len(self.sheet.rows) else []:
            if not isinstance(value, str):
                continue
            unit = self.lines.amount_unit.search(value.replace(" ", ""))
            if unit:
                self.unit, self.unit_stated = unit.group(1), True
            name = self.lines.unit_name.search(value)
            if name:
                self.unit_name = name.group(1)

    def _find_header(self) -> tuple[list[int], int]:
        header_rows: list[int] = []
        label_cols: set[int] = set()
        r = self.hit.row + 1
        limit = min(self.end, self.hit.row + _HEADER_WINDOW)
        while r < limit:
            row = self._header_row(r)
            if not row.raw:
                if header_rows:
                    break
                r += 1
                continue
            if not header_rows and row.meta:
                self._read_meta(r)
                r += 1
                continue
            if header_rows and row.column_numbers:
                r += 1
                break
            if row.known and not self._looks_like_data(row.raw, label_cols):
                header_rows.append(r)
                label_cols |= row.label_known
                r += 1
                continue
            if header_rows:
                break
            self._read_meta(r)
            r += 1
        return header_rows, r

    def _header_row(self, r: int) -> _HeaderRow:
        """What the header search needs to know of row r.  Units of one district fill in the
        same template, so the rows around a header recur across a batch: a row is worked out
        once per table and content (as stored, and as shown where merged cells cover it)."""
        values = self.sheet.rows[r]
        shown = self.merges.shown_row(r, len(values) + 1) if r in self.merges.covered else None
        try:  # types too: True == 1, but 1 is data and True is not
            key = (tuple(values), tuple(map(type, values)), shown and tuple(shown))
            hash(key)
        except TypeError:  # a value that cannot be hashed
            return self._read_header_row(values, shown)
        return _remembered(self.table.header_row_cache, key, lambda: self._read_header_row(values, shown))

    def _read_header_row(self, values: list[Any], shown: list[Any] | None) -> _HeaderRow:
        raw = tuple((c, v) for c, v in enumerate(values) if v not in (None, ""))
        tokens = {c: self.vocab.token(v) for c, v in enumerate(shown or values) if type(v) is str}  # only text names a column
        known = frozenset(c for c, t in tokens.items() if t in self.known_tokens)
        return _HeaderRow(
            raw,
            meta=_all_meta(values, _memo(_found, self.lines.meta)),
            column_numbers=bool(raw) and self._is_column_numbers(raw),
            known=known,
            label_known=frozenset(c for c in known if tokens[c] in self.vocab.label_words),
        )

    def _repeated_header(self, r: int) -> bool:
        """Row r, inside the data, repeats the header (a long table printed over two pages: 项目 /
        科目编码 科目名称 / 栏次 again): every cell a header word, none a row's label; or a 栏次 row."""
        row = self._header_row(r)
        if any(self.vocab.token(v) in self.vocab.column_numbers for _, v in row.raw):
            return True
        if not all(c in row.known for c, _ in row.raw):
            return False
        return not any(normalize_label(v) in self.row_labels for _, v in row.raw)

    def _is_column_numbers(self, raw: tuple[tuple[int, Any], ...]) -> bool:
        """The 栏次 row: says 栏次, or holds only the column numbers 1, 2, 3 …"""
        if any(self.vocab.token(v) in self.vocab.column_numbers for _, v in raw):
            return True
        numbers = []
        for _, v in raw:
            digits, rest = split_code(v)
            if not digits or rest or int(digits) > 60:
                return False
            numbers.append(int(digits))
        return len(numbers) >= 2 and sorted(set(numbers)) == list(range(1, max(numbers) + 1))

    def _looks_like_data(self, raw: tuple[tuple[int, Any], ...], label_cols: set[int]) -> bool:
        for c, v in raw:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return True
            if c in label_cols:
                digits, rest = split_code(v)
                if (digits and is_code(digits)) or normalize_label(v) in self.row_labels:
                    return True
        return False

    def _columns(self, header_rows: list[int]) -> list[_Group]:
        """The table's matched column groups.  Units of one district fill in the same template,
        so a batch meets the same header again and again: it is worked out once per header (its
        cells as shown, place and sheet name, which the problems name) and copied after that."""
        width = max(len(self.sheet.rows[r]) for r in header_rows)
        shown = tuple(tuple(self.merges.shown_row(r, width)) for r in header_rows)
        key = (shown, bool(self.sheet.merges), self.hit.row, tuple(header_rows), self.sheet.name)

        def match() -> tuple[list[_Group], list[Problem]]:
            first = len(self.problems)
            groups = self._match_header(shown, width)
            problems = self.problems[first:]
            del self.problems[first:]  # added below, like those of a header remembered
            return groups, problems

        groups, problems = _remembered(self.table.header_cache, key, match)
        self.problems += [dataclasses.replace(p) for p in problems]
        return [g.fresh() for g in groups]

    def _match_header(self, shown: tuple[tuple[Any, ...], ...], width: int) -> list[_Group]:
        parts = set(self.vocab.code_parts)
        groups: list[_Group] = []
        current: _Group | None = None
        past_labels = False
        grid = self._header_grid(shown, width)
        for c in range(width):
            path: list[str] = []
            for tokens in grid:
                token = tokens[c]
                if token and (not path or path[-1] != token):
                    path.append(token)
            if not path:
                continue
            names = set(path)
            if names & self.vocab.ignore:
                role = "ignore"
            elif names & (parts | self.vocab.code):
                role = "code"
            elif names & self.vocab.label:
                role = "label"
            else:
                role = "amount"
            if role in ("label", "code"):
                if current is None or past_labels:
                    current = _Group()
                    groups.append(current)
                    past_labels = False
            else:
                if current is None:
                    current = _Group()
                    groups.append(current)
                past_labels = True
            current.columns.append(_Column(c, path, role))
        self._assign_blocks(groups)
        matched = [g for g in groups if g.spec is not None]
        for group in matched:
            group.freeze()
        return matched

    def _header_grid(self, shown: tuple[tuple[Any, ...], ...], width: int) -> list[list[str]]:
        """Header labels by row and column, from the header rows as shown (merged cells filled in).

        A sheet read without merge information (an xlwings Book sent by Office.js) gets its
        horizontal spans back: a blank header cell takes the label on its left when both
        columns sit under the same labels above it (收入 over 项目 | 金额, 预算数 over six items).
        """
        grid = [[self.vocab.token(v) for v in row] for row in shown]
        if self.sheet.merges:
            return grid
        for i, tokens in enumerate(grid):
            for c in range(1, width):
                if not tokens[c] and tokens[c - 1] and all(grid[j][c] == grid[j][c - 1] for j in range(i)):
                    tokens[c] = tokens[c - 1]
        return grid

    def _assign_blocks(self, groups: list[_Group]) -> None:
        specs = list(self.table.blocks)
        all_tokens = self.table.tokens
        unused = [b for b in specs if not b.repeat]
        repeat = next((b for b in specs if b.repeat), None)
        for number, group in enumerate(groups, start=1):
            named = {t for c in group.columns for t in c.path} & all_tokens
            by_token = [b for b in unused if b.tokens and named & b.tokens]
            if repeat is not None:
                group.spec, group.name = repeat, f"{repeat.name}{number}"
            elif len(by_token) == 1:
                group.spec, group.name = by_token[0], by_token[0].name
            elif unused:
                group.spec, group.name = unused[0], unused[0].name
            else:
                cells = "、".join(a1(self.hit.row, c.index) for c in group.columns[:1])
                self.problems.append(Problem(f"多出的一组列（extra block）未识别：{cells} 起", sheet=self.sheet.name, kind="column"))
                continue
            if group.spec in unused:
                unused.remove(group.spec)
            self._match_columns(group, all_tokens)

    def _match_columns(self, group: _Group, block_tokens: frozenset[str]) -> None:
        spec = group.spec
        taken: set[str] = set()
        for column in group.columns:
            if column.role != "amount":
                continue
            keys = spec.column_keys(frozenset(column.path) - block_tokens)
            label = "/".join(column.path)
            if len(keys) == 1 and keys[0] not in taken:
                column.key = keys[0]
                taken.add(keys[0])
            elif keys:
                self.problems.append(Problem(f"列「{label}」重复（duplicate column），未采用", self._header_cell(column.index), self.sheet.name, "column"))
            else:
                self.problems.append(Problem(f"列「{label}」的表头未识别（unknown column）", self._header_cell(column.index), self.sheet.name, "column"))

    def _drop_spacer_columns(self, header_rows: list[int], data_start: int, stop: int) -> None:
        """No column problem (unknown, duplicate) for a spacer: a column with no header text of its
        own (only a merged 收入 or 支出 above it) and no value in the data.  A column with words of
        its own stays reported, blank or not (a 三公 split in words we do not know must be looked at)."""

        def spacer(problem: Problem) -> bool:
            if problem.kind != "column" or not problem.cell:  # an extra block names no one cell
                return False
            col = column_index(problem.cell.rstrip("0123456789"))
            return all(self.sheet.value(r, col) in (None, "") for r in [*header_rows, *range(data_start, stop)])

        self.problems[:] = [p for p in self.problems if not spacer(p)]

    def _header_cell(self, col: int) -> str:
        """Where column `col`'s header words stand: its lowest header cell that is not blank."""
        return a1(next((r for r in reversed(self.header_rows) if self.sheet.value(r, col) not in (None, "")), self.header_rows[-1]), col)

    def _row_reader(self, group: _Group) -> Callable[[int, list[Any]], Row | None]:
        """Reads one data row into `group`: its Row, or None (with a problem when the row is not
        blank but has no place).  A closure, so that the names it needs on every row are at hand."""
        spec, used, problems, sheet_name = group.spec, group.used, self.problems, self.sheet.name
        coded, keys_by_label, class_rows, default_row = spec.coded, spec.keys_by_label, spec.class_rows, spec.default_row
        pick_labels, pick_amounts, letters = group.pick_labels, group.pick_amounts, group.amount_letters
        blanks_are_blank, labels_of, nan_for_blank, floats = self.blanks_are_blank, _LABELS, _NAN_FOR_BLANK.get, _FLOAT

        def read_row(r: int, values: list[Any]) -> Row | None:
            labels = pick_labels(values)
            if True in labels or False in labels:  # 1 == True: the label memo must not mix them up
                code, label, digits = _label_parts(labels)
            else:
                code, label, digits = labels_of[labels]
            if coded and digits and not code:  # a malformed 科目编码 stays visible for the rules
                code = digits
            raw = pick_amounts(values)
            try:  # the common case: numbers and blank cells
                amounts = tuple(map(nan_for_blank, raw, raw))
            except TypeError:  # a value that cannot be hashed: read cell by cell below
                amounts = raw
            if not (blanks_are_blank and floats.issuperset(map(type, amounts))):
                amounts = self._amounts(r, raw, group)
            key = ""
            if code and coded:
                key = code
            elif label:
                key = next((k for k in keys_by_label.get(label, ()) if k not in used), "")
                if not key and class_rows:
                    entry = self._class_entry(label)
                    if entry is not None:
                        key, code = entry.name, entry.code
            elif default_row and default_row not in used and any(v is not None and v != "" for v in raw):
                key = default_row
            if not key:
                if label or code or any(v is not None and v != "" for v in raw):
                    what = f"行标签「{label or code}」未识别（unknown row）" if (label or code) else "有数值但没有行标签（no row label）"
                    if coded and label and not code:
                        what = f"行「{label}」缺少科目编码（no code）"
                    problems.append(Problem(what, a1(r, group.first_index), sheet_name))
                return None
            if key in used:
                problems.append(Problem(f"行「{key}」重复出现（duplicate row），未采用", a1(r, group.first_index), sheet_name))
                return None
            used.add(key)
            return Row(r + 1, key, code, label, amounts, letters, raw)

        return read_row

    def _blank_default_row(self, r: int, group: _Group) -> Row:
        values = self.sheet.rows[r] if r < len(self.sheet.rows) else []
        raw = _picker(group.amount_indexes)(values)  # the row may be short or missing
        return Row(r + 1, group.spec.default_row, "", "", self._amounts(r, raw, group), group.amount_letters, raw)

    def _amounts(self, r: int, raw: tuple[Any, ...], group: _Group) -> tuple[float, ...]:
        """The amounts of a row's amount cells as stored, cell by cell; NaN for blank or unreadable."""
        amounts = []
        for c, value in zip(group.amount_indexes, raw):
            number = value if type(value) is float else self._amount(r, c, value)
            amounts.append(math.nan if number is None else number)
        return tuple(amounts)

    def _class_entry(self, label: str):
        catalog = self.spec.catalogs.get("功能分类")
        return catalog.class_by_name.get(label) if catalog else None

    def _amount(self, r: int, c: int, value: Any) -> float | None:
        if (value is None or value == "") and (r, c) in self.sheet.uncached_formulas:
            self.problems.append(
                Problem("公式没有缓存值（formula without cached value），按空白处理；请在 Excel 中重新计算并保存", a1(r, c), self.sheet.name, "formula")
            )
            return None
        try:
            return parse_amount(value)
        except NotANumber:
            self.problems.append(Problem(f"「{value}」不是数字（not a number）", a1(r, c), self.sheet.name, "value"))
            return None

    def _block(self, group: _Group, rows: list[Row]) -> Block | None:
        if not group.amount_columns:
            return None
        letters = dict(zip((c.key for c in group.amount_columns), group.amount_letters))
        label = column_letter(group.label_columns[0].index) if group.label_columns else ""
        return Block(group.name, rows, letters, label)

    def _range(self, last_row: int, groups: list[_Group]) -> str:
        cols = [c.index for g in groups for c in g.columns] + [self.hit.col]
        return f"{a1(self.hit.row, min(cols))}:{a1(last_row, max(cols))}"


_FLOAT = {float}
_NAN_FOR_BLANK = {None: math.nan}  # .get(v, v): a blank cell reads as NaN, a number as itself


def _picker(indexes: tuple[int, ...], narrowest: int = 0) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A function giving values[i] for each index (None past the end of a row shorter than `narrowest`)."""
    if len(indexes) > 1:
        fast = itemgetter(*indexes)
    elif indexes:
        only = indexes[0]
        fast = lambda values: (values[only],)  # noqa: E731
    else:
        return lambda values: ()
    if narrowest > max(indexes):
        return fast

    def pick(values: list[Any]) -> tuple[Any, ...]:
        try:
            return fast(values)
        except IndexError:
            width = len(values)
            return tuple(values[c] if c < width else None for c in indexes)

    return pick


@functools.lru_cache(maxsize=64)
def _memo(check: Callable[[str, re.Pattern], bool], pattern: re.Pattern) -> Memo:
    """check(text, pattern) remembered per text: the same texts recur in every workbook of a batch."""
    return Memo(lambda text: check(text, pattern))


def _is_note(text: str, pattern: re.Pattern) -> bool:
    """A 注：/说明： line under a table."""
    return pattern.match(normalize_label(text) or text.strip()) is not None


def _found(text: str, pattern: re.Pattern) -> bool:
    return pattern.search(text) is not None


def _all_meta(values: list[Any], meta_line: Memo) -> bool:
    """Every non-blank cell of the row is a 公开0N表 / 编制单位 / 金额单位 line (meta_line: _found, remembered)."""
    for value in values:
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not meta_line[value]:
            return False
    return True


def _may_note(text: str, pattern: re.Pattern) -> bool:
    return len(text) < 500 and _found(text, pattern)


def _label_parts(cells: tuple[Any, ...]) -> tuple[str, str, str]:
    """(科目编码, normalised label, all digits seen) of a row's label cells."""
    digits: list[str] = []
    words: list[str] = []
    for value in cells:
        if value is None or value == "":
            continue
        number, rest = split_code(value)
        if number:
            digits.append(number)
        if rest and rest not in words:
            words.append(rest)
    code = ""
    if len(digits) == 1 and is_code(digits[0]):
        code = digits[0]
    elif 1 < len(digits) <= 3 and len(digits[0]) == 3 and all(len(d) <= 2 for d in digits[1:]):
        # 类 | 款 | 项 in cells of their own: 06 typed into a number cell is stored as 6 (and shown
        # as 06 by a 00 number format), so a part of one digit is its level's two
        digits = [digits[0], *(d.zfill(2) for d in digits[1:])]
        code = "".join(digits)
    return code, normalize_label("".join(words)), "".join(digits)


_LABELS = Memo(_label_parts)  # the same label cells recur in every workbook of a batch
