"""The arithmetic rules over a whole batch at once: which workbooks can have a finding at all.

A 财政局 batch is hundreds of workbooks that mostly add up.  Instead of walking every
equation of every workbook with Operand objects (checks.py), each table is stacked
across the batch (one float column per amount column, keyed by workbook) and every
row_sum and hierarchy rule is one numpy expression over the stack; the rules that read
a handful of fixed cells (sum, not_greater, zero_together) and match_rows read plain
floats.  The screen says, per rule and workbook:

    SKIP   the rule has nothing to check there (it did not run),
    CLEAN  it ran and every equation holds exactly (no finding, not even a 尾差),
    DEFER  something is not exact, or the layout is unusual: checks.py runs the rule
           on that workbook and builds its findings, so there is one source of messages.

The screen is conservative: it defers whenever an equation is not exact within 1e-7,
a tighter bound than the finding threshold, so it never hides a finding (tested against
checks.py alone on the corpus and on random perturbations of the sample).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model import Inspection, RecognizedTable
from ..specs import YearSpec
from .checks import Rule, rule_checks
from .tolerance import half_width

SKIP, CLEAN, DEFER = 0, 1, 2
_EXACT = 1e-7  # below the finding threshold (|Σ| rounded to 6 decimals > 1e-9)


@dataclass(frozen=True)
class _Ref:
    sign: int
    table: str
    block: str
    key: str
    column: str


@functools.lru_cache(maxsize=1024)
def _ref(reference: str) -> _Ref:
    """Parse "-T4|支出/本年支出合计|一般公共预算财政拨款" once (facts.py describes the form)."""
    sign = -1 if reference.startswith("-") else 1
    table, row_part, column = reference.lstrip("-").split("|")
    block, _, key = row_part.rpartition("/")
    return _Ref(sign, table, block, key, column)


class _Unavailable(Exception):
    """The reference cannot be read here: the check is skipped (as Facts.resolve does)."""


class _Lookup:
    """One workbook's tables by id, with rows found by key and amounts as plain floats."""

    def __init__(self, inspection: Inspection, spec: YearSpec):
        self.tables = {t.id: inspection.tables.get(t.name) for t in spec.tables}
        self._blocks: dict[str, list] = {}

    def blocks(self, table_id: str) -> list[tuple[str, dict[str, int], dict, list, float]]:
        """Per block: name, column index, rows by key (first wins), 类 rows, half-width."""
        if table_id not in self._blocks:
            table = self.tables.get(table_id)
            if table is None:
                raise _Unavailable(table_id)
            half = _half(table)
            parts = []
            for name, block in table.blocks.items():
                by_key: dict = {}
                for row in block.rows:
                    by_key.setdefault(row.key, row)
                classes = [row for row in block.rows if len(row.code) == 3]
                parts.append((name, {k: i for i, k in enumerate(block.keys)}, by_key, classes, half))
            self._blocks[table_id] = parts
        return self._blocks[table_id]

    def read(self, reference: str) -> list[tuple[float, float]]:
        """(signed value, half-width) of every cell the reference names (blank = 0, 0)."""
        ref = _ref(reference)
        blocks = [b for b in self.blocks(ref.table) if b[0].startswith(ref.block)]
        if not any(ref.column in columns for _, columns, _, _, _ in blocks):
            raise _Unavailable(reference)
        found = []
        for _, columns, by_key, classes, half in blocks:
            rows = classes if ref.key == "@类" else [by_key[ref.key]] if ref.key in by_key else []
            index = columns.get(ref.column)
            for row in rows:
                if index is not None:
                    found.append(_operand(row.values[index], half, ref.sign))
            if rows and ref.key != "@类":
                break
        return found


def _operand(value: float, half: float, sign: int) -> tuple[float, float]:
    return (0.0, 0.0) if value != value else (sign * value, half)


def _half(table: RecognizedTable) -> float:
    unit_is_yuan = table.unit == "元"
    values = [v for b in table.blocks.values() for r in b.rows for v in r.values] if unit_is_yuan else []
    return half_width(table.unit, values)


def _not_exact(left: list[tuple[float, float]], right: list[tuple[float, float]]) -> bool:
    return abs(math.fsum(v for v, _ in left) - math.fsum(v for v, _ in right)) > _EXACT


def _exceeds(left: list[tuple[float, float]], right: list[tuple[float, float]]) -> bool:
    tolerance = sum(h for _, h in left) + sum(h for _, h in right)
    return math.fsum(v for v, _ in left) - math.fsum(v for v, _ in right) > tolerance - _EXACT


# -- rules that read a few fixed cells, per workbook ---------------------------------
def _screen_sum(rule: Rule, book: _Lookup) -> int:
    status = SKIP
    for check in rule_checks(rule):
        try:
            totals = book.read(check["total"])
            parts = [o for ref in check["parts"] for o in book.read(ref)]
        except _Unavailable:
            continue
        if not totals:
            continue
        if _not_exact(totals[:1], parts):
            return DEFER
        status = CLEAN
    return status


def _screen_not_greater(rule: Rule, book: _Lookup) -> int:
    status = SKIP
    for check in rule_checks(rule):
        try:
            left = [o for ref in check["left"] for o in book.read(ref)]
            right = [o for ref in check["right"] for o in book.read(ref)]
        except _Unavailable:
            continue
        if not left and not right:
            continue
        if left and _exceeds(left, right):
            return DEFER
        status = CLEAN
    return status


def _screen_zero_together(rule: Rule, book: _Lookup) -> int:
    try:
        totals = book.read(rule.params["total"])
        items = [o for ref in rule.params["items"] for o in book.read(ref)]
    except _Unavailable:
        return SKIP
    if not totals:
        return SKIP
    value, half = totals[0]
    total_zero = abs(value) <= half
    nonzero = any(abs(v) > h for v, h in items)
    if (total_zero and nonzero) or (not total_zero and items and not nonzero):
        return DEFER
    return CLEAN


def _screen_match_rows(rule: Rule, book: _Lookup) -> int:
    left_spec, right_spec = rule.params["left"], rule.params["right"]
    classes_only = left_spec.get("rows", "all") == "类"
    try:
        left_rows = _rows(book, left_spec, classes_only)
        right_rows = _rows(book, right_spec, classes_only)
    except _Unavailable:
        return SKIP
    less_or_equal = rule.params.get("op", "=") == "<="
    for left_column, right_column in rule.params["columns"]:
        left_by = _by_code_or_key(left_rows, left_column)
        right_by = _by_code_or_key(right_rows, right_column)
        for key in left_by.keys() | right_by.keys():
            a, b = left_by.get(key), right_by.get(key)
            if a is None and b is None:
                continue
            if less_or_equal:
                if a is None or (b is None and a[1] == 0):
                    continue
                if _exceeds([a], [b] if b else []):
                    return DEFER
            elif _not_exact([a] if a else [], [b] if b else []):
                return DEFER
    return CLEAN


def _rows(book: _Lookup, side: dict, classes_only: bool) -> list:
    """(row, column index, half) of the rows a match_rows side names, in table order
    (the rows of a block are its values by key: keys are unique within a block)."""
    rows = []
    for name, columns, by_key, classes, half in book.blocks(side["table"]):
        if name.startswith(side.get("block", "")):
            rows.extend((r, columns, half) for r in (classes if classes_only else by_key.values()))
    return rows


def _by_code_or_key(rows: list, column: str) -> dict[str, tuple[float, float] | None]:
    """Row identity → the cell of `column` (None when the row's block has no such column);
    later rows with the same identity win, as in checks.check_match_rows."""
    found: dict[str, tuple[float, float] | None] = {}
    for row, columns, half in rows:
        index = columns.get(column)
        found[row.code or row.key] = None if index is None else _operand(row.values[index], half, 1)
    return {k: v for k, v in found.items() if v is not None}


# -- rules that read every row: one numpy expression over the batch ------------------
@dataclass
class _Stack:
    """One table's rows across the batch: workbook number, block, code, key, and per
    amount column the values (NaN = blank or no such column) and where the column exists."""

    workbook: np.ndarray
    block: list[str]
    code: list[str]
    key: list[str]
    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    half: np.ndarray

    @property
    def size(self) -> int:
        return len(self.block)


def _stack(inspections: list[Inspection], table_id: str, name: str) -> _Stack:
    workbook, blocks, codes, keys, halves = [], [], [], [], []
    columns: dict[str, None] = {}
    pieces = []
    for number, inspection in enumerate(inspections):
        table = inspection.tables.get(name)
        if table is None:
            continue
        half = _half(table)
        for block_name, block in table.blocks.items():
            if not block.rows:
                continue
            columns.update(dict.fromkeys(block.keys))
            count = len(block.rows)
            workbook += [number] * count
            blocks += [block_name] * count
            halves += [half] * count
            codes += [r.code for r in block.rows]
            keys += [r.key for r in block.rows]
            pieces.append((block.keys, [r.values for r in block.rows]))
    values = {c: [] for c in columns}
    present = {c: [] for c in columns}
    for block_keys, rows in pieces:
        matrix = np.array(rows, dtype="float64").reshape(len(rows), len(block_keys))
        for column in columns:
            if column in block_keys:
                values[column].append(matrix[:, block_keys.index(column)])
                present[column].append(np.ones(len(rows), dtype=bool))
            else:
                values[column].append(np.full(len(rows), np.nan))
                present[column].append(np.zeros(len(rows), dtype=bool))
    join = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)  # noqa: E731
    return _Stack(
        np.array(workbook, dtype="int64"),
        blocks,
        codes,
        keys,
        {c: join(v, "float64") for c, v in values.items()},
        {c: join(p, bool) for c, p in present.items()},
        np.array(halves, dtype="float64"),
    )


class _Stacks:
    def __init__(self, inspections: list[Inspection], spec: YearSpec):
        self.inspections, self.spec = inspections, spec
        self._built: dict[str, _Stack] = {}

    def __getitem__(self, table_id: str) -> _Stack:
        if table_id not in self._built:
            self._built[table_id] = _stack(self.inspections, table_id, self.spec.table(table_id).name)
        return self._built[table_id]


def _per_workbook(count: int, ran: np.ndarray, deferred: np.ndarray, workbook: np.ndarray) -> np.ndarray:
    status = np.zeros(count, dtype="int8")
    status[np.unique(workbook[ran])] = CLEAN
    status[np.unique(workbook[deferred])] = DEFER
    return status


def _screen_row_sum(rule: Rule, stacks: _Stacks, count: int) -> np.ndarray:
    status = np.zeros(count, dtype="int8")
    for table_id in rule.params.get("tables") or [rule.params["table"]]:
        stack = stacks[table_id]
        total_column = rule.params["total"]
        if total_column not in stack.values or not stack.size:
            continue
        rows = stack.present[total_column]
        prefix = rule.params.get("block")
        if prefix:
            rows = rows & np.array([b.startswith(prefix) for b in stack.block], dtype=bool)
        total = stack.values[total_column]
        printed = ~np.isnan(total)
        expected = np.zeros(stack.size)
        for name in rule.params["parts"]:
            column = name.lstrip("-")
            if column not in stack.values:
                continue
            part = stack.values[column]
            printed |= ~np.isnan(part)
            expected += (-1 if name.startswith("-") else 1) * np.nan_to_num(part)
        deferred = rows & printed & (np.abs(np.nan_to_num(total) - expected) > _EXACT)
        status = np.maximum(status, _per_workbook(count, rows, deferred, stack.workbook))
    return status


def _parents(stack: _Stack, classes_under_total: bool) -> np.ndarray:
    """Per row, the row whose total it is part of (-1 for none), as checks.check_hierarchy
    groups them: 款/项 under the code two digits shorter, 类 under the code-less 合计."""
    parent = np.full(stack.size, -1, dtype="int64")
    start = 0
    while start < stack.size:
        number = stack.workbook[start]
        end = start
        while end < stack.size and stack.workbook[end] == number:
            end += 1
        coded: dict[str, int] = {}
        total = -1
        for i in range(start, end):
            code = stack.code[i]
            if code and code.isdigit():
                coded[code] = i
            elif total < 0 and not code and stack.key[i] == "合计":
                total = i
        for code, i in coded.items():
            if len(code) > 3:
                parent[i] = coded.get(code[:-2], -1)
            elif len(code) == 3 and classes_under_total:
                parent[i] = total
        start = end
    return parent


def _screen_hierarchy(rule: Rule, stacks: _Stacks, count: int) -> np.ndarray:
    status = np.zeros(count, dtype="int8")
    for table_id in rule.params["tables"]:
        stack = stacks[table_id]
        if not stack.size:
            continue
        parent = _parents(stack, rule.params.get("total_is_sum_of_classes", True))
        child = parent >= 0
        has_children = np.bincount(parent[child], minlength=stack.size) > 0
        for column, values in stack.values.items():
            parts = np.where(stack.present[column], np.nan_to_num(values), 0.0)
            sums = np.bincount(parent[child], weights=parts[child], minlength=stack.size)
            heads = has_children & stack.present[column]
            deferred = heads & (np.abs(np.nan_to_num(values) - sums) > _EXACT)
            status = np.maximum(status, _per_workbook(count, heads, deferred, stack.workbook))
    return status


_PER_WORKBOOK: dict[str, Callable[[Rule, _Lookup], int]] = {
    "sum": _screen_sum,
    "not_greater": _screen_not_greater,
    "zero_together": _screen_zero_together,
    "match_rows": _screen_match_rows,
}
_OVER_BATCH: dict[str, Callable[[Rule, _Stacks, int], np.ndarray]] = {
    "row_sum": _screen_row_sum,
    "hierarchy": _screen_hierarchy,
}
SCREENED = set(_PER_WORKBOOK) | set(_OVER_BATCH)


def screen(inspections: list[Inspection], spec: YearSpec, rules: list[Rule]) -> dict[str, np.ndarray]:
    """Per rule id (of the kinds in SCREENED), SKIP/CLEAN/DEFER for each workbook."""
    count = len(inspections)
    stacks = _Stacks(inspections, spec)
    books = [_Lookup(inspection, spec) for inspection in inspections]
    result: dict[str, np.ndarray] = {}
    for rule in rules:
        if rule.kind in _OVER_BATCH:
            result[rule.id] = _OVER_BATCH[rule.kind](rule, stacks, count)
        elif rule.kind in _PER_WORKBOOK:
            check = _PER_WORKBOOK[rule.kind]
            result[rule.id] = np.array([check(rule, book) for book in books], dtype="int8")
    return result
