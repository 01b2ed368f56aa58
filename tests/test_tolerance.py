"""Interval arithmetic: genuine rounding is never an error, a real typo always is."""

from __future__ import annotations

import math

import layouts
import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from xlplugin.rules.tolerance import HALF, adds_up_exactly, compare, exceeds, half_width, operand
from xlplugin.workbook import inspect_workbook, validate_workbook


def _printed(*values):
    return [operand(v, "S", f"A{i}") for i, v in enumerate(values, start=1)]


def test_a_total_of_n_printed_parts_may_differ_by_n_plus_one_halves():
    parts = _printed(*[1.11] * 12)  # Σ = 13.32
    assert not compare(_printed(13.38), parts).broken  # 0.06 ≤ 13 × 0.005
    assert compare(_printed(13.39), parts).broken  # 0.07 > 0.065
    assert compare(_printed(13.33), parts).tolerance == 13 * HALF


def test_blank_cells_are_exact_zeros():
    blank = operand(None, "S", "A1")
    assert blank.half == 0 and blank.value == 0
    assert compare([blank], _printed(0.0)).tolerance == HALF


_CELL = st.one_of(st.none(), st.just(math.nan), st.floats(-1e9, 1e9), st.integers(-10**6, 10**6).map(lambda n: n / 100))


@given(_CELL, st.lists(_CELL, max_size=12))
def test_adds_up_exactly_is_compare_exact_without_operands(total, parts):
    """The shortcut the rules take before building Operands says exactly what compare says,
    for blanks, NaN, printed two-decimal amounts and any float."""
    assert adds_up_exactly(total, parts) == compare(_printed(total), _printed(*parts)).exact


@given(st.lists(st.integers(-10**8, 10**8).map(lambda n: n / 100), max_size=12), st.integers(-2, 2))
def test_adds_up_exactly_agrees_on_totals_near_their_sum(parts, cents):
    total = round(sum(parts), 2) + cents / 100  # the printed total, or a cent or two off
    assert adds_up_exactly(total, parts) == compare(_printed(total), _printed(*parts)).exact


def test_adds_up_exactly_sees_a_cent():
    assert adds_up_exactly(3.3, [1.1, 2.2]) and adds_up_exactly(None, [math.nan, 0.0])
    assert not adds_up_exactly(3.31, [1.1, 2.2])


def test_exceeds_needs_the_intervals_apart():
    assert exceeds(_printed(10.01), _printed(10.0)) is None
    assert exceeds(_printed(10.02), _printed(10.0)) is not None


def test_whole_yuan_tables_get_half_a_yuan_per_cell():
    assert half_width("元", [12.0, 30.0, float("nan")]) == 0.5
    assert half_width("元", [12.0, 30.5]) == HALF
    assert half_width("万元", [12.0, 30.0]) == HALF


def test_a_genuine_whole_yuan_document_is_not_flagged(tmp_path):
    """Every amount of the 元 fixture rounded on its own to whole 元, as software prints it."""
    path = tmp_path / "yuan.xlsx"
    layouts.build("yuan", path)
    tables = inspect_workbook(path).tables
    book = openpyxl.load_workbook(path)
    changed = 0
    for table in tables.values():
        sheet = book[table.sheet]
        for block in table.blocks.values():
            for address in block.cells.to_numpy().ravel():
                value = sheet[address].value
                if isinstance(value, float) and not value.is_integer():
                    sheet[address] = float(round(value))
                    changed += 1
    book.save(path)
    assert changed > 50
    report = validate_workbook(path)
    assert [f for f in report.findings if f.severity == "error"] == []
