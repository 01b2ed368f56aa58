"""pandera schemas for every cell and every 科目 row, run once over a whole batch of workbooks.

What a single cell or row must satisfy on its own: amounts are numbers or blank (C-1),
not negative (T1-6 in table 1, C-2 elsewhere), 科目编码 has 3/5/7 digits (H-6), sits
under its parent row (H-6b) with no level left out between them (H-6f), exists in the year's catalogue (H-6c) and carries the
catalogue's name (H-6d for verified entries, H-6e for unverified ones).

The cells of all tables of all workbooks being validated are stacked into one long
frame (one row per amount cell: workbook, table and value, built without a Python step per cell), the
科目 rows into another, and each schema is validated once; pandera's failure cases map
back to the workbook and cell through the frame's index.
"""

from __future__ import annotations

import functools
import math
from itertools import chain
from typing import NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..model import Block, Finding, Inspection, RecognizedTable
from ..specs import ECONOMIC, FUNCTIONAL, Catalog, YearSpec
from ..text import NotANumber, parse_amount
from .checks import Rule, make_finding, money
from .tolerance import operand

SCHEMA_KINDS = {
    "schema_number",
    "schema_nonnegative",
    "schema_code_format",
    "schema_code_parent",
    "schema_code_level",
    "schema_code_known",
    "schema_code_name",
}
CODE_PATTERN = r"^\d{3}(?:\d{2}){0,2}$"


class _CodeRow(NamedTuple):
    """One 科目 row of one workbook, as the code schema and its findings read it."""

    workbook: int
    table: str
    sheet: str
    group: str  # workbook|table id|block: where a parent code is looked for
    catalog: str
    code: str
    label: str
    cell: str


def _is_amount(value: object) -> bool:
    try:
        parse_amount(value)
        return True
    except NotANumber:
        return False


def _negative_in(tables: frozenset[str]):
    def check(frame: pd.DataFrame) -> pd.Series:
        return ~(frame["table_id"].isin(tables) & (frame["value"] < 0))

    return check


@functools.lru_cache(maxsize=32)
def _named_entries(catalogs: tuple[tuple[str, Catalog], ...], confidences: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """("kind|code" of the entries of these confidences, "kind|code|name" for each of their names)."""
    scope = {f"{kind}|{code}" for kind, c in catalogs for code, e in c.entries.items() if e.confidence in confidences}
    names = {f"{kind}|{code}|{n}" for kind, c in catalogs for code, ns in c.names_by_code.items() if f"{kind}|{code}" in scope for n in ns}
    return frozenset(scope), frozenset(names)


def _code_frame(code_rows: list[_CodeRow], parents: list[str], catalogs: dict[str, Catalog], rules: tuple) -> pd.DataFrame:
    """The 科目 rows as the code schema reads them: the code, its catalogue entry ("kind|code"),
    whether it sits under its parent row, whether no level is left out above it, and per name rule the printed "kind|code|label"
    ('' where that rule does not apply: no label, or an entry of another confidence)."""
    codes = [row.code for row in code_rows]
    entries = [f"{row.catalog}|{row.code}" for row in code_rows]
    data = {
        "code": codes,
        "entry": entries,
        "under_parent": [code.startswith(parent) for code, parent in zip(codes, parents)],
        "levels_listed": _levels_listed(code_rows, parents),
    }
    for rule_id, kind, confidences in rules:
        if kind == "schema_code_name":
            scope, _ = _named_entries(tuple(catalogs.items()), confidences)
            data[f"named:{rule_id}"] = [
                f"{entry}|{row.label}" if row.label and entry in scope else "" for entry, row in zip(entries, code_rows)
            ]
    return pd.DataFrame(data)


@functools.lru_cache(maxsize=32)
def _cell_schema(rules: tuple[tuple[str, str, frozenset[str]], ...]) -> pa.DataFrameSchema:
    checks, readable_checks = [], []
    for rule_id, kind, tables in rules:
        if kind == "schema_number":
            readable_checks.append(pa.Check.equal_to(True, name=rule_id, error=rule_id))
        elif kind == "schema_nonnegative":
            checks.append(pa.Check(_negative_in(tables), name=rule_id, error=rule_id))
    return pa.DataFrameSchema({"readable": pa.Column(bool, checks=readable_checks)}, checks=checks)


@functools.lru_cache(maxsize=32)  # one schema per set of catalogues and rules, not one per chunk
def _code_schema(catalogs: tuple[tuple[str, Catalog], ...], rules: tuple[tuple[str, str, frozenset[str]], ...]) -> pa.DataFrameSchema:
    columns: dict[str, list[pa.Check]] = {"code": [], "entry": [], "under_parent": [], "levels_listed": []}
    for rule_id, kind, confidences in rules:
        if kind == "schema_code_format":
            columns["code"].append(pa.Check.str_matches(CODE_PATTERN, name=rule_id, error=rule_id))
        elif kind == "schema_code_parent":
            columns["under_parent"].append(pa.Check.equal_to(True, name=rule_id, error=rule_id))
        elif kind == "schema_code_level":
            columns["levels_listed"].append(pa.Check.equal_to(True, name=rule_id, error=rule_id))
        elif kind == "schema_code_known":
            known = {f"{catalog_kind}|{code}" for catalog_kind, c in catalogs for code in c.entries}
            columns["entry"].append(pa.Check.isin(known, name=rule_id, error=rule_id))
        elif kind == "schema_code_name":
            _, names = _named_entries(catalogs, confidences)
            columns[f"named:{rule_id}"] = [pa.Check.isin(names | {""}, name=rule_id, error=rule_id)]
    return pa.DataFrameSchema({name: pa.Column(checks=checks) for name, checks in columns.items()})


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[str, int]]:
    """(rule id, frame position) of every failing row.

    Each check of the schema runs through pandera's Check API and the failing rows are read
    from its boolean output: `schema.validate(lazy=True)` would also format every failure
    case as text, which for thousands of failing rows takes longer than the checks."""
    if frame.empty:
        return []
    found: list[tuple[str, int]] = []
    for name, column in schema.columns.items():
        for check in column.checks:
            found += _failing(check, check(frame, name).check_output)
    for check in schema.checks:
        found += _failing(check, check(frame).check_output)
    return found


def _failing(check: pa.Check, output: pd.Series) -> list[tuple[str, int]]:
    return [(check.error, int(position)) for position in np.flatnonzero(~output.to_numpy(dtype=bool))]


def schema_findings(inspections: list[Inspection], spec: YearSpec, rules: list[Rule]) -> tuple[list[list[Finding]], list[set[str]]]:
    """Per workbook, the schema rules' findings and the ids of those that ran."""
    by_id = {r.id: r for r in rules}
    cell_rules = tuple(
        (r.id, r.kind, frozenset(r.params.get("tables", [])))
        for r in rules
        if r.kind in ("schema_number", "schema_nonnegative")
    )
    code_rules = tuple((r.id, r.kind, frozenset(r.params.get("confidence", []))) for r in rules if r.kind.startswith("schema_code"))
    cells = _CellStack(inspections)
    code_rows = _code_rows(inspections, spec)
    parents = _parents(code_rows)
    codes = _code_frame(code_rows, parents, spec.catalogs, code_rules)
    findings: list[list[Finding]] = [[] for _ in inspections]
    ran: list[set[str]] = [set() for _ in inspections]
    for number, inspection in enumerate(inspections):
        tables = [t for t in inspection.tables.values() if t is not None]
        if tables:
            ran[number] |= {r[0] for r in cell_rules if r[1] == "schema_number" or any(t.id in r[2] for t in tables)}
        if any(b.coded for t in tables for b in spec.table(t.name).blocks):
            ran[number] |= {r[0] for r in code_rules}
    for rule_id, position in _failures(_cell_schema(cell_rules), cells.frame):
        number, finding = cells.finding(by_id[rule_id], position)
        findings[number].append(finding)
    for rule_id, position in _failures(_code_schema(tuple(spec.catalogs.items()), code_rules), codes):
        row = code_rows[position]
        findings[row.workbook].append(_code_finding(by_id[rule_id], row, parents[position], spec))
    return findings, ran


class _CellStack:
    """Every amount cell of every workbook, one frame row each (columns workbook, table_id,
    value, readable), built from the blocks' rows without a Python step per cell; a frame
    position leads back to its block, row and column only for the cells that fail."""

    def __init__(self, inspections: list[Inspection]):
        values: list[float] = []
        raws: list[object] = []
        self.blocks: list[tuple[int, int, RecognizedTable, Block]] = []  # (first position, workbook, table, block)
        sizes, table_ids, numbers = [], [], []
        for number, inspection in enumerate(inspections):
            for table in inspection.tables.values():
                if table is None:
                    continue
                for block in table.blocks.values():
                    self.blocks.append((len(values), number, table, block))
                    values.extend(chain.from_iterable(r.values for r in block.rows))
                    raws.extend(chain.from_iterable(r.raw for r in block.rows))
                    sizes.append(len(values) - self.blocks[-1][0])
                    table_ids.append(table.id)
                    numbers.append(number)
        value = np.array(values, dtype="float64")
        readable = np.ones(len(values), dtype=bool)
        for position in np.flatnonzero(np.isnan(value)):  # blank, or text where an amount belongs (C-1)
            raw = raws[position]
            if raw is not None and not _is_amount(raw):
                readable[position] = False
        self.starts = np.array([b[0] for b in self.blocks], dtype="int64")
        self.frame = pd.DataFrame(
            {
                "workbook": np.repeat(np.array(numbers, dtype="int64"), sizes),
                "table_id": np.repeat(np.array(table_ids, dtype=object), sizes),
                "value": value,
                "readable": readable,
            }
        )

    def finding(self, rule: Rule, position: int) -> tuple[int, Finding]:
        start, number, table, block = self.blocks[int(np.searchsorted(self.starts, position, side="right")) - 1]
        row_index, column_index = divmod(position - start, len(block.columns))
        row = block.rows[row_index]
        number_value = row.values[column_index]
        label = f"{row.code} {row.label}" if row.code else (row.label or row.key)
        cell = row.cells[column_index]
        printed = not math.isnan(number_value)
        finding = make_finding(
            rule,
            table.name,
            table.sheet,
            cell,
            None,
            [operand(number_value, table.sheet, cell)],
            row=label,
            column=block.keys[column_index],
            value=row.raw[column_index],
            actual=money(number_value) if printed else "",
        )
        if printed:
            finding.actual = float(number_value)
        return number, finding


def _code_rows(inspections: list[Inspection], spec: YearSpec) -> list[_CodeRow]:
    """Every 科目 row of every workbook."""
    codes: list[_CodeRow] = []
    for number, inspection in enumerate(inspections):
        for table in inspection.tables.values():
            if table is None:
                continue
            table_spec = spec.table(table.name)
            for name, block in table.blocks.items():
                coded = next(b.coded for b in table_spec.blocks if name.startswith(b.name))
                if not coded:
                    continue
                group = f"{number}|{table.id}|{name}"
                codes.extend(
                    _CodeRow(number, table.name, table.sheet, group, coded, row.code, row.label, block.label_cell(row.excel_row))
                    for row in block.rows
                    if row.code
                )
    return codes


def _parents(code_rows: list[_CodeRow]) -> list[str]:
    """For every 科目 row, the nearest shorter code above it in its block ('' for none)."""
    parents, stack, current = [], [], None
    for row in code_rows:
        group, code = row.group, row.code
        if group != current:
            stack, current = [], group
        while stack and len(stack[-1]) >= len(code):
            stack.pop()
        parents.append(stack[-1] if stack else "")
        stack.append(code)
    return parents


def _levels_listed(code_rows: list[_CodeRow], parents: list[str]) -> list[bool]:
    """False for the first row under a 类 or 款 that its table does not list: a 项 right under its
    类 (the 款 row deleted), or a 款 with no 类 row.  The parent may stand in another block of the
    table (the central 基本支出 table continues 302's list from its second block into its third).
    Only the first such row of each missing parent, so that one missing row is one finding; a row
    listed under another parent is H-6b's."""
    listed: dict[tuple[int, str, str], set[str]] = {}
    for row in code_rows:
        listed.setdefault((row.workbook, row.table, row.catalog), set()).add(row.code)
    found, reported = [], set()
    for row, parent in zip(code_rows, parents):
        code = row.code
        direct = code[:-2]
        table = (row.workbook, row.table, row.catalog)
        missing = len(code) in (5, 7) and code.isdigit() and code.startswith(parent) and direct not in listed[table]
        if missing:
            missing = (table, direct) not in reported
            reported.add((table, direct))
        found.append(not missing)
    return found


_CATALOG_NAMES = {FUNCTIONAL: "支出功能分类", ECONOMIC: "部门预算支出经济分类"}


def _code_finding(rule: Rule, row: _CodeRow, parent: str, spec: YearSpec) -> Finding:
    catalog = spec.catalogs[row.catalog]
    entry = catalog.entries.get(row.code)
    return make_finding(
        rule,
        row.table,
        row.sheet,
        row.cell,
        code=row.code,
        name=row.label,
        catalog_name=entry.name if entry else "",
        catalog=_CATALOG_NAMES.get(catalog.kind, catalog.kind),
        year=spec.year,
        parent=parent,
        expected_prefix=parent,
        direct_parent=row.code[:-2],
    )
