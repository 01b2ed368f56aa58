"""What the rules read: the recognised tables of one workbook, addressed by reference.

A reference "T4|支出/本年支出合计|一般公共预算财政拨款" names table id | [block/]row key |
column key; the row part "@类" stands for every 类 row (3-digit code) of the block.
A row that the workbook's layout omits reads as nothing (no cell), which the rules
treat as blank; a missing column or table makes the check skip (G-1 reports tables).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from ..model import Inspection, RecognizedTable, Row
from ..specs import YearSpec
from .tolerance import UNKNOWN, Operand, operand, table_half_width

CLASS_ROWS = "@类"  # the row part that stands for every 类 row of the block


class Reference(NamedTuple):
    sign: int  # -1 for a reference written "-T4|…": the cell counts negatively
    table: str
    block: str  # '' for every block
    key: str
    column: str


@functools.lru_cache(maxsize=1024)
def parse_reference(reference: str) -> Reference:
    """"-T4|支出/本年支出合计|一般公共预算财政拨款" → Reference(-1, "T4", "支出", "本年支出合计", …)."""
    table, row_part, column = reference.lstrip("-").split("|")
    block, _, key = row_part.rpartition("/")
    return Reference(-1 if reference.startswith("-") else 1, table, block, key, column)


class Unavailable(Exception):
    """A rule needs something this workbook does not have; the check is skipped."""


class TableMissing(Unavailable):
    """A rule needs a table the workbook does not have (G-1 reports it)."""


class ColumnMissing(Unavailable):
    """The table's layout has no such column (e.g. the expense-only 国有资本经营 table)."""


@dataclass
class FactRow:
    """One row of one block, as the rules see it."""

    table: RecognizedTable
    block: str
    excel_row: int
    key: str
    code: str
    label: str
    amounts: dict[str, tuple[float, str]]  # column key → (value, A1 address)
    half: float  # half-width of a printed value of this table

    def operand(self, column: str, sign: int = 1) -> Operand | None:
        found = self.amounts.get(column)
        return None if found is None else operand(found[0], self.table.sheet, found[1], sign, self.half)

    @property
    def name(self) -> str:
        return f"{self.code} {self.label}".strip() if self.code else (self.label or self.key)


def _amounts(row: Row, unknown: set[str]) -> list[tuple[float, str]]:
    """(value, A1) of a row's amount cells; UNKNOWN for a cell in `unknown`."""
    pairs = list(zip(row.values, row.cells))
    if unknown:
        pairs = [(UNKNOWN if cell in unknown else value, cell) for value, cell in pairs]
    return pairs


class Facts:
    def __init__(self, inspection: Inspection, spec: YearSpec):
        self.inspection = inspection
        self.spec = spec
        self.by_id: dict[str, RecognizedTable | None] = {t.id: inspection.tables.get(t.name) for t in spec.tables}
        self.name_of = {t.id: t.name for t in spec.tables}
        self._rows: dict[str, list[tuple[str, list[FactRow]]]] = {}

    def table(self, table_id: str) -> RecognizedTable:
        table = self.by_id.get(table_id)
        if table is None:
            raise TableMissing(table_id)
        return table

    def rows(self, table_id: str, block: str | None = None) -> list[FactRow]:
        return [row for name, rows in self._blocks(table_id) for row in rows if block is None or name.startswith(block)]

    def _blocks(self, table_id: str) -> list[tuple[str, list[FactRow]]]:
        """Every block's rows as plain Python objects, built once per table."""
        if table_id not in self._rows:
            table = self.table(table_id)
            half = table_half_width(table)
            # text where an amount belongs (C-1, an error of its own); a formula without a cached value
            # stays a blank, as C-3 says, so that its sums are still checked
            unknown = {p.cell for p in table.problems if p.kind == "value" and p.sheet == table.sheet}
            blocks = []
            for name, part in table.blocks.items():
                keys = part.keys
                rows = [
                    FactRow(table, name, r.excel_row, r.key, r.code, r.label, dict(zip(keys, _amounts(r, unknown))), half)
                    for r in part.rows
                ]
                blocks.append((name, rows))
            self._rows[table_id] = blocks
        return self._rows[table_id]

    def resolve(self, reference: str) -> list[Operand]:
        """The cells a reference names (raises TableMissing)."""
        sign, table_id, block, key, column = parse_reference(reference)
        table = self.table(table_id)
        if not any(column in part.columns for name, part in table.blocks.items() if name.startswith(block)):
            raise ColumnMissing(reference)
        rows = self.rows(table_id, block or None)
        if key == CLASS_ROWS:
            chosen = [r for r in rows if len(r.code) == 3]
        else:
            chosen = [r for r in rows if r.key == key][:1]
        return [o for o in (r.operand(column, sign) for r in chosen) if o is not None]
