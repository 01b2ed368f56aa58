"""The neutral data every part shares: a sheet as a grid of values, and a recognised table.

Readers (calamine, openpyxl, an xlwings Book) produce `Sheet`s; the recogniser turns
them into `RecognizedTable`s whose every value keeps the cell it came from.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

# In Inspection.texts, between the heading a note continues (the cell to its left or the row above)
# and the note itself: the rules decide whether the heading's subject is the note's (checks.py).
HEADING_END = "\u2063"

@dataclass
class Sheet:
    """One worksheet's cached values from A1, its merged ranges and its formula cells without a value."""

    name: str
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row0, col0, row1, col1), 0-based, inclusive
    uncached_formulas: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    hidden: bool = False  # hidden in Excel: a working copy there gives way to a table on a shown sheet

    def value(self, row: int, col: int) -> Any:
        if 0 <= row < len(self.rows):
            cells = self.rows[row]
            if 0 <= col < len(cells):
                return cells[col]
        return None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass
class Problem:
    """Something the recogniser could not place, and why (Chinese)."""

    message: str
    cell: str = ""  # A1 on `sheet`, or '' for the whole table
    sheet: str = ""
    kind: str = "row"  # row, column, value (text for an amount), formula (no cached value), other


class Row(NamedTuple):  # a tuple: a batch builds hundreds of thousands of them
    """One recognised row of a block: its key, 科目编码, label, and per amount column its value,
    column letter and the cell as stored (aligned with Block.keys)."""

    excel_row: int
    key: str
    code: str
    label: str
    values: tuple[float, ...]  # NaN = blank or unreadable
    letters: tuple[str, ...]  # column letters, shared by the rows of a block
    raw: tuple[Any, ...]  # the cells as stored (text numbers, "待定" …)

    @property
    def cells(self) -> tuple[str, ...]:
        """A1 addresses (built when asked: most rows are only ever read as numbers)."""
        number = str(self.excel_row)
        return tuple(letter + number for letter in self.letters)


@dataclass
class Block:
    """One side-by-side part of a table: its rows, and their amount columns (`keys`).

    `frame` is indexed by Excel row number and has the columns key, code, label and one
    float column per amount column key (NaN = blank or unreadable); `cells` has the same
    index and holds the A1 address behind every amount; `raw` holds the cells as stored.
    The DataFrames are built on first use: validation reads `rows` directly.
    """

    name: str
    rows: list[Row]
    columns: dict[str, str]  # amount column key → column letter
    label_column: str = ""  # letter of the first label/code column ('' when the block has none)

    @property
    def keys(self) -> list[str]:
        return list(self.columns)

    def label_cell(self, excel_row: int) -> str:
        """Where a row's label (or, without label columns, its first amount) stands."""
        letter = self.label_column or next(iter(self.columns.values()), "A")
        return f"{letter}{excel_row}"

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        data = {"key": [r.key for r in self.rows], "code": [r.code for r in self.rows], "label": [r.label for r in self.rows]}
        for i, key in enumerate(self.keys):
            data[key] = np.array([r.values[i] for r in self.rows], dtype="float64")
        return pd.DataFrame(data, index=self._index)

    @functools.cached_property
    def cells(self) -> pd.DataFrame:
        return pd.DataFrame({key: [r.cells[i] for r in self.rows] for i, key in enumerate(self.keys)}, index=self._index)

    @functools.cached_property
    def raw(self) -> pd.DataFrame:
        return pd.DataFrame({key: [r.raw[i] for r in self.rows] for i, key in enumerate(self.keys)}, index=self._index, dtype=object)

    @property
    def _index(self) -> pd.Index:
        return pd.Index([r.excel_row for r in self.rows], name="row", dtype="int64")


@dataclass
class RecognizedTable:
    name: str
    id: str
    sheet: str
    title: str
    title_cell: str
    range: str
    unit: str  # 万元 or 元
    unit_stated: bool
    unit_name: str  # 编制单位 / the title's prefix, when the table says it
    header_rows: list[int]  # Excel row numbers
    blocks: dict[str, Block]
    notes: list[str] = field(default_factory=list)  # 注：/说明： lines under the table
    problems: list[Problem] = field(default_factory=list)

    def address(self, row_key: str, column_key: str, block: str | None = None) -> str:
        """A1 address of the value at (row key, column key); KeyError when the table has none."""
        return self._find(row_key, column_key, block)[1]

    def value(self, row_key: str, column_key: str, block: str | None = None) -> float | None:
        """The amount at (row key, column key); None when blank or unreadable."""
        number = self._find(row_key, column_key, block)[0]
        return None if number != number else float(number)  # NaN → None

    def _find(self, row_key: str, column_key: str, block: str | None) -> tuple[float, str]:
        for name, part in self.blocks.items():
            if block not in (None, name) or column_key not in part.columns:
                continue
            i = part.keys.index(column_key)
            for row in part.rows:
                if row.key == row_key:
                    return row.values[i], row.cells[i]
        raise KeyError(f"{self.name}: ({row_key}, {column_key})")

    @property
    def row_count(self) -> int:
        return sum(len(b.rows) for b in self.blocks.values())


@dataclass
class Inspection:
    """What was recognised in one workbook."""

    path: str
    reader: str
    tables: dict[str, RecognizedTable | None]
    missing: dict[str, str]  # canonical name → why it was not found
    sheets: list[str]
    problems: list[Problem] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # sentences anywhere in the workbook that may note an empty table (HEADING_END)


ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
SEVERITY_LABEL = {ERROR: "错误（强制）", WARNING: "提示", INFO: "信息"}


@dataclass
class Finding:
    """One thing a rule found, at one cell; every report is a rendering of a list of these."""

    rule_id: str
    severity: str  # error (强制, must be fixed), warning (提示, must be explained), info
    table: str  # canonical table name ('' for the workbook)
    sheet: str
    cell: str  # A1 on `sheet` ('' when the finding has no cell, e.g. a missing table)
    message: str
    related_cells: list[str] = field(default_factory=list)  # every cell the rule read, as sheet!A1
    expected: float | None = None
    actual: float | None = None
    difference: float | None = None
    tolerance: float | None = None

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "table": self.table,
            "sheet": self.sheet,
            "cell": self.cell,
            "related_cells": self.related_cells,
            "expected": self.expected,
            "actual": self.actual,
            "difference": self.difference,
            "tolerance": self.tolerance,
            "message": self.message,
        }


@dataclass
class WorkbookReport:
    """The validation of one workbook."""

    path: str
    unit: str
    year: int
    inspection: Inspection
    findings: list[Finding]
    rules_ran: list[str]  # ids of the rules that had something to check
    catalogue: tuple = ()  # the rules used (rules/checks.py Rule), for reports that describe them
    strict: bool = False  # --strict: a warning fails the workbook too

    @property
    def rules_run(self) -> int:
        return len(self.rules_ran)

    def fails(self) -> bool:
        """The workbook does not pass: it has an error, or (strict) a warning."""
        return bool(self.count(ERROR) or (self.strict and self.count(WARNING)))

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


@dataclass(frozen=True)
class NotChecked:
    """An input of a batch that has no report: the file cannot be read, or (internal) a bug
    stopped its check.  Every report format lists these too, so that no unit is left out."""

    path: str
    problem: str  # what the user reads, without the path
    number: int  # its place among the inputs (1, 2, …), as the summary table numbers them
    internal: bool = False

    @property
    def status(self) -> str:
        return "未能检查" if self.internal else "无法读取"
