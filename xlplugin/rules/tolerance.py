"""Rounding-aware comparison: interval arithmetic in the sense of XBRL Calculations 1.1.

Each printed amount is rounded on its own from 元 to two decimals, so a printed value v
stands for the interval [v − ½·10⁻ᵈ, v + ½·10⁻ᵈ].  An equation between printed cells is
inconsistent only when the interval of one side and that of the other do not meet, i.e.
when |difference| exceeds the sum of the half-widths of every printed cell involved:
(n + 1) × 0.005 for a total and n printed parts.  A blank cell is an exact zero.
(Arelle implements the same in ValidateXbrlCalcs.py; EBA calls it interval arithmetic.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import RecognizedTable

DECIMALS = 2  # 万元 tables print two decimals; so do most 元 tables (分)
HALF = 0.5 * 10**-DECIMALS
_EPSILON = 1e-9


@dataclass(frozen=True)
class Operand:
    """One cell read by a rule: its value (blank = 0), half-width, sign and where it is."""

    value: float
    half: float
    sheet: str
    cell: str
    sign: int = 1

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.cell}"

    @property
    def unknown(self) -> bool:
        """The cell holds text where an amount belongs (C-1): any amount at all."""
        return self.half == math.inf


UNKNOWN = math.inf  # the value of a cell that holds text where an amount belongs (C-1)


def operand(value: float | None, sheet: str, cell: str, sign: int = 1, half: float = HALF) -> Operand:
    if _blank(value):
        return Operand(0.0, 0.0, sheet, cell, sign)
    if value == UNKNOWN:  # any amount at all: an equation with it cannot be judged
        return Operand(0.0, math.inf, sheet, cell, sign)
    return Operand(float(value), half, sheet, cell, sign)


def _blank(value: float | None) -> bool:
    """None or NaN: a blank cell, read as an exact zero."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def half_width(unit: str, values: list[float]) -> float:
    """½·10⁻ᵈ for a table: d = 2, except a 元 table printed in whole 元 (d = 0)."""
    printed = [v for v in values if v == v]  # not NaN
    if unit == "元" and printed and all(float(v).is_integer() for v in printed):
        return 0.5
    return HALF


def table_half_width(table: RecognizedTable) -> float:
    """half_width of a recognised table (its values are read only for a 元 table)."""
    if table.unit != "元":
        return HALF
    return half_width(table.unit, [v for block in table.blocks.values() for row in block.rows for v in row.values])


@dataclass(frozen=True)
class Comparison:
    expected: float
    actual: float
    difference: float  # actual − expected
    tolerance: float

    @property
    def broken(self) -> bool:
        return abs(self.difference) > self.tolerance + _EPSILON

    @property
    def exact(self) -> bool:
        return abs(self.difference) <= _EPSILON


def compare(actual: list[Operand], expected: list[Operand]) -> Comparison:
    """Σ actual against Σ expected (signed), with the interval tolerance of every cell read; no
    difference where a cell holds text, not a number (C-1 names that cell: the sums it is part of
    would only repeat the same fault at other cells, computed as if it were 0)."""
    if any(o.unknown for o in actual) or any(o.unknown for o in expected):
        return Comparison(0.0, 0.0, 0.0, math.inf)
    left = sum(o.sign * o.value for o in actual)
    right = sum(o.sign * o.value for o in expected)
    tolerance = sum(o.half for o in actual) + sum(o.half for o in expected)
    return Comparison(round(right, 6), round(left, 6), round(left - right, 6), round(tolerance, 6))


def adds_up_exactly(total: float | None, parts: list[float | None]) -> bool:
    """compare([total], parts).exact for plain cell values (None or NaN = blank), without
    building Operands: the same sums in the same order.  Most equations of a workbook hold
    exactly, and a rule can skip them before it reads any cell as an Operand."""
    left = 0.0 if _blank(total) else float(total)
    right = sum(0.0 if _blank(v) else float(v) for v in parts)
    return abs(round(left - right, 6)) <= _EPSILON


def exceeds(left: list[Operand], right: list[Operand]) -> Comparison | None:
    """The comparison when Σ left is certainly greater than Σ right, else None."""
    result = compare(left, right)
    return result if result.difference > result.tolerance + _EPSILON else None
