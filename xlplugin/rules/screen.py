"""The arithmetic rules over a whole batch at once: which workbooks can have a finding at all.

A 财政局 batch is hundreds of workbooks that mostly add up.  Instead of walking every
equation of every workbook with Operand objects (checks.py), each table is stacked
across the batch (one float column per amount column, keyed by workbook) and every rule
of the kinds sum, not_greater, zero_together, row_sum, hierarchy and match_rows is a
few numpy/pandas operations over the stacks, whatever the number of workbooks.  The
screen says, per rule and workbook:

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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model import Inspection
from ..specs import YearSpec
from .checks import Rule, rule_checks
from .facts import CLASS_ROWS, parse_reference
from .tolerance import table_half_width

SKIP, CLEAN, DEFER = 0, 1, 2
_EXACT = 1e-7  # a difference checks.py rounds to 6 decimals and calls inexact is at least 5e-7
_SLACK = 1e-9  # far above the float noise of adding a few dozen printed amounts in another order


def _may_exceed(difference: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """Where checks.tolerance.exceeds could find left > right: rounding is monotonic, so that
    needs difference > tolerance (up to float noise), and a positive difference when nothing
    read was printed (tolerance 0: all blank)."""
    return (difference - tolerance > -_SLACK) & ((tolerance > 0) | (difference > _SLACK))


# -- every table stacked across the batch ----------------------------------------------
@dataclass
class _Stack:
    """One table's rows across the batch, in workbook, block and row order: per row its
    workbook number, block, code, key and half-width, and one column per amount column key
    (NaN = blank or no such column in that row's block; `present` says which)."""

    workbook: np.ndarray
    block: np.ndarray
    code: list[str]
    key: np.ndarray
    columns: dict[str, int]
    matrix: np.ndarray
    present: np.ndarray
    half: np.ndarray
    layouts: list[list[tuple[str, tuple[str, ...]]] | None]  # per workbook: (block, column keys), None = no table
    _in_block: dict[str, np.ndarray] = field(default_factory=dict)
    _available: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.block)

    @functools.cached_property
    def identity(self) -> np.ndarray:
        """Per row, what match_rows pairs rows by: the code, or the key of a row without one."""
        return np.array([code or key for code, key in zip(self.code, self.key)], dtype=object)

    @functools.cached_property
    def is_class(self) -> np.ndarray:
        return np.array([len(code) == 3 for code in self.code], dtype=bool)

    def in_block(self, prefix: str) -> np.ndarray:
        if prefix not in self._in_block:
            self._in_block[prefix] = np.array([name.startswith(prefix) for name in self.block], dtype=bool)
        return self._in_block[prefix]

    def available(self, prefix: str, column: str) -> np.ndarray:
        """Per workbook: the table has a block under `prefix` with this column (else the check is skipped)."""
        if (prefix, column) not in self._available:
            self._available[(prefix, column)] = np.array(
                [layout is not None and any(n.startswith(prefix) and column in keys for n, keys in layout) for layout in self.layouts],
                dtype=bool,
            )
        return self._available[(prefix, column)]


def _stack(inspections: list[Inspection], name: str) -> _Stack:
    workbook, blocks, codes, keys, halves, layouts, pieces = [], [], [], [], [], [], []
    columns: dict[str, None] = {}
    for number, inspection in enumerate(inspections):
        table = inspection.tables.get(name)
        layouts.append(None if table is None else [(n, tuple(b.keys)) for n, b in table.blocks.items()])
        if table is None:
            continue
        half = table_half_width(table)
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
            pieces.append((tuple(block.keys), block.rows))
    index = {c: i for i, c in enumerate(columns)}
    rows: list[tuple[float, ...]] = []
    masks, counts = [], []
    order = tuple(columns)
    for block_keys, block_rows in pieces:
        if block_keys == order:
            rows.extend(r.values for r in block_rows)
        else:
            where = [block_keys.index(c) if c in block_keys else -1 for c in order]
            rows.extend(tuple(r.values[i] if i >= 0 else math.nan for i in where) for r in block_rows)
        masks.append([c in block_keys for c in order])
        counts.append(len(block_rows))
    matrix = np.array(rows, dtype="float64").reshape(len(rows), len(order))
    present = np.repeat(np.array(masks, dtype=bool).reshape(len(masks), len(order)), counts, axis=0)
    return _Stack(
        np.array(workbook, dtype="int64"),
        np.array(blocks, dtype=object),
        codes,
        np.array(keys, dtype=object),
        index,
        matrix,
        present,
        np.array(halves, dtype="float64"),
        layouts,
    )


class _Batch:
    """The batch's stacks, built on first use, and the cells that references name."""

    def __init__(self, inspections: list[Inspection], spec: YearSpec):
        self.inspections, self.spec, self.count = inspections, spec, len(inspections)
        self._stacks: dict[str, _Stack] = {}
        self._cells: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def stack(self, table_id: str) -> _Stack:
        if table_id not in self._stacks:  # an id the year does not know (a user's rules file) is a table never found
            name = next((t.name for t in self.spec.tables if t.id == table_id), "")
            self._stacks[table_id] = _stack(self.inspections, name)
        return self._stacks[table_id]

    def cells(self, reference: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per workbook: Σ signed values, Σ half-widths and number of the cells a reference
        names (Facts.resolve in checks.py), and whether it can be read at all."""
        if reference not in self._cells:
            ref = parse_reference(reference)
            stack = self.stack(ref.table)
            available = stack.available(ref.block, ref.column)
            empty = np.zeros(self.count)
            j = stack.columns.get(ref.column)
            if j is None:
                self._cells[reference] = (empty, empty, np.zeros(self.count, dtype="int64"), available)
                return self._cells[reference]
            in_block = stack.in_block(ref.block)
            if ref.key == CLASS_ROWS:
                rows = np.flatnonzero(in_block & stack.is_class & stack.present[:, j])
            else:  # the first row with the key, if its block has the column
                candidates = np.flatnonzero(in_block & (stack.key == ref.key))
                _, first = np.unique(stack.workbook[candidates], return_index=True)
                rows = candidates[first]
                rows = rows[stack.present[rows, j]]
            values = stack.matrix[rows, j]
            printed = ~np.isnan(values)
            books = stack.workbook[rows]
            self._cells[reference] = (
                np.bincount(books, weights=np.where(printed, ref.sign * values, 0.0), minlength=self.count),
                np.bincount(books, weights=np.where(printed, stack.half[rows], 0.0), minlength=self.count),
                np.bincount(books, minlength=self.count),
                available,
            )
        return self._cells[reference]

    def total(self, references: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """cells() of several references added up; available only where all of them are."""
        value, half = np.zeros(self.count), np.zeros(self.count)
        count, available = np.zeros(self.count, dtype="int64"), np.ones(self.count, dtype=bool)
        for reference in references:
            v, h, n, a = self.cells(reference)
            value, half, count, available = value + v, half + h, count + n, available & a
        return value, half, count, available


def _single(references: list[str]) -> bool:
    """Every reference names at most one cell (not "@类"): what the fixed-cell screens assume."""
    return all(parse_reference(r).key != CLASS_ROWS for r in references)


def _combine(status: np.ndarray, ran: np.ndarray, deferred: np.ndarray) -> np.ndarray:
    status = np.maximum(status, np.where(ran, CLEAN, SKIP).astype("int8"))
    return np.where(deferred, DEFER, status).astype("int8")


# -- the rule kinds ------------------------------------------------------------------
def _screen_sum(rule: Rule, batch: _Batch) -> np.ndarray:
    status = np.zeros(batch.count, dtype="int8")
    for check in rule_checks(rule):
        if not _single([check["total"]]):
            return np.full(batch.count, DEFER, dtype="int8")
        total, _, has_total, total_ok = batch.cells(check["total"])
        parts, _, _, parts_ok = batch.total(check["parts"])
        ran = total_ok & parts_ok & (has_total > 0)
        status = _combine(status, ran, ran & (np.abs(total - parts) > _EXACT))
    return status


def _screen_not_greater(rule: Rule, batch: _Batch) -> np.ndarray:
    status = np.zeros(batch.count, dtype="int8")
    for check in rule_checks(rule):
        left, left_half, left_count, left_ok = batch.total(check["left"])
        right, right_half, right_count, right_ok = batch.total(check["right"])
        ran = left_ok & right_ok & (left_count + right_count > 0)
        exceeds = _may_exceed(left - right, left_half + right_half)
        status = _combine(status, ran, ran & (left_count > 0) & exceeds)
    return status


def _screen_zero_together(rule: Rule, batch: _Batch) -> np.ndarray:
    if not _single([rule.params["total"], *rule.params["items"]]):
        return np.full(batch.count, DEFER, dtype="int8")
    total, total_half, has_total, ok = batch.cells(rule.params["total"])
    items = [batch.cells(reference) for reference in rule.params["items"]]
    for _, _, _, item_ok in items:
        ok = ok & item_ok
    ran = ok & (has_total > 0)
    nonzero = np.zeros(batch.count, dtype=bool)
    any_item = np.zeros(batch.count, dtype=bool)
    for value, half, count, _ in items:
        nonzero |= (count > 0) & (np.abs(value) > half)
        any_item |= count > 0
    total_zero = np.abs(total) <= total_half
    broken = (total_zero & nonzero) | (~total_zero & any_item & ~nonzero)
    return _combine(np.zeros(batch.count, dtype="int8"), ran, ran & broken)


def _screen_row_sum(rule: Rule, batch: _Batch) -> np.ndarray:
    status = np.zeros(batch.count, dtype="int8")
    for table_id in rule.params.get("tables") or [rule.params["table"]]:
        stack = batch.stack(table_id)
        j = stack.columns.get(rule.params["total"])
        if j is None:
            continue
        rows = stack.present[:, j] & stack.in_block(rule.params.get("block", ""))
        total = stack.matrix[:, j]
        printed = ~np.isnan(total)
        expected = np.zeros(stack.size)
        for name in rule.params["parts"]:
            k = stack.columns.get(name.lstrip("-"))
            if k is None:
                continue
            part = stack.matrix[:, k]
            printed |= ~np.isnan(part)
            expected += (-1 if name.startswith("-") else 1) * np.nan_to_num(part)
        deferred = rows & printed & (np.abs(np.nan_to_num(total) - expected) > _EXACT)
        status = np.maximum(status, _per_workbook(batch.count, rows, deferred, stack.workbook))
    return status


def _per_workbook(count: int, ran: np.ndarray, deferred: np.ndarray, workbook: np.ndarray) -> np.ndarray:
    status = np.zeros(count, dtype="int8")
    status[np.unique(workbook[ran])] = CLEAN
    status[np.unique(workbook[deferred])] = DEFER
    return status


def _parents(stack: _Stack, total_key: str | None) -> np.ndarray:
    """Per row, the row whose total it is part of (-1 for none), as checks.check_hierarchy
    groups them: 款/项 under the code two digits shorter, 类 under the code-less total row."""
    parent = np.full(stack.size, -1, dtype="int64")
    bounds = np.flatnonzero(np.diff(stack.workbook)) + 1
    for start, end in zip([0, *bounds.tolist()], [*bounds.tolist(), stack.size]):
        coded: dict[str, int] = {}
        total = -1
        for i in range(start, end):
            code = stack.code[i]
            if code and code.isdigit():
                coded[code] = i
            elif total < 0 and total_key and not code and stack.key[i] == total_key:
                total = i
        for code, i in coded.items():
            if len(code) > 3:
                parent[i] = coded.get(code[:-2], -1)
            elif len(code) == 3:
                parent[i] = total
    return parent


def _screen_hierarchy(rule: Rule, batch: _Batch) -> np.ndarray:
    status = np.zeros(batch.count, dtype="int8")
    for table_id in rule.params["tables"]:
        stack = batch.stack(table_id)
        if not stack.size:
            continue
        parent = _parents(stack, rule.params.get("total_row"))
        child = parent >= 0
        has_children = np.bincount(parent[child], minlength=stack.size) > 0
        values = np.nan_to_num(stack.matrix)
        for j in range(len(stack.columns)):
            sums = np.bincount(parent[child], weights=np.where(stack.present[child, j], values[child, j], 0.0), minlength=stack.size)
            heads = has_children & stack.present[:, j]
            deferred = heads & (np.abs(values[:, j] - sums) > _EXACT)
            status = np.maximum(status, _per_workbook(batch.count, heads, deferred, stack.workbook))
    return status


def _screen_match_rows(rule: Rule, batch: _Batch) -> np.ndarray:
    """Rows of two tables paired by (workbook, code or key), as checks.check_match_rows pairs them."""
    left_spec, right_spec = rule.params["left"], rule.params["right"]
    classes_only = left_spec.get("rows", "all") == "类"
    left_stack, right_stack = batch.stack(left_spec["table"]), batch.stack(right_spec["table"])
    both = np.array([a is not None and b is not None for a, b in zip(left_stack.layouts, right_stack.layouts)], dtype=bool)
    status = np.where(both, CLEAN, SKIP).astype("int8")
    less_or_equal = rule.params.get("op", "=") == "<="
    left_rows = _side_rows(left_stack, left_spec.get("block", ""), classes_only)
    right_rows = _side_rows(right_stack, right_spec.get("block", ""), classes_only)
    # one integer per (workbook, code or key), shared by both sides
    ids, _ = pd.factorize(np.concatenate([left_stack.identity[left_rows], right_stack.identity[right_rows]]))
    width = int(ids.max()) + 1 if len(ids) else 1
    left_keys = left_stack.workbook[left_rows] * width + ids[: len(left_rows)]
    right_keys = right_stack.workbook[right_rows] * width + ids[len(left_rows) :]
    for left_column, right_column in rule.params["columns"]:
        a_keys, a, a_half = _cells_by_key(left_stack, left_rows, left_keys, left_column)
        b_keys, b, b_half = _cells_by_key(right_stack, right_rows, right_keys, right_column)
        keys = np.union1d(a_keys, b_keys)
        has_a, has_b = np.isin(keys, a_keys), np.isin(keys, b_keys)
        va, ha, vb, hb = (np.zeros(len(keys)) for _ in range(4))
        va[has_a], ha[has_a] = a, a_half  # a_keys and b_keys are sorted and unique, like keys
        vb[has_b], hb[has_b] = b, b_half
        if less_or_equal:
            checked = has_a & ~(~has_b & (ha == 0))
            broken = checked & _may_exceed(va - vb, ha + hb)
        else:
            broken = np.abs(va - vb) > _EXACT
        status[np.unique(keys[broken] // width)] = DEFER
    return np.where(both, status, SKIP).astype("int8")


def _side_rows(stack: _Stack, prefix: str, classes_only: bool) -> np.ndarray:
    rows = stack.in_block(prefix)
    return np.flatnonzero(rows & stack.is_class if classes_only else rows)


def _cells_by_key(stack: _Stack, rows: np.ndarray, keys: np.ndarray, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted unique keys, value, half) of `column` in the rows of one match_rows side: the
    last row of a key wins, and a key whose row has no such column has no cell (blank = 0, 0)."""
    last = len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]
    chosen, keys = rows[last], keys[last]
    j = stack.columns.get(column)
    if j is None:
        return keys[:0], np.zeros(0), np.zeros(0)
    present = stack.present[chosen, j]
    chosen, keys = chosen[present], keys[present]
    values = stack.matrix[chosen, j]
    printed = ~np.isnan(values)
    return keys, np.where(printed, values, 0.0), np.where(printed, stack.half[chosen], 0.0)


_KINDS: dict[str, Callable[[Rule, _Batch], np.ndarray]] = {
    "sum": _screen_sum,
    "not_greater": _screen_not_greater,
    "zero_together": _screen_zero_together,
    "row_sum": _screen_row_sum,
    "hierarchy": _screen_hierarchy,
    "match_rows": _screen_match_rows,
}
SCREENED = set(_KINDS)


def screen(inspections: list[Inspection], spec: YearSpec, rules: list[Rule]) -> dict[str, np.ndarray]:
    """Per rule id (of the kinds in SCREENED), SKIP/CLEAN/DEFER for each workbook."""
    batch = _Batch(inspections, spec)
    return {rule.id: _KINDS[rule.kind](rule, batch) for rule in rules if rule.kind in _KINDS}
