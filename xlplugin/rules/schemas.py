"""pandera schemas for every cell and every 科目 row, run once over a whole batch of workbooks.

What a single cell or row must satisfy on its own: amounts are numbers or blank (C-1),
not negative (T1-6 in table 1, C-2 elsewhere), 科目编码 has 3/5/7 digits (H-6), sits
under its parent row (H-6b), exists in the year's catalogue (H-6c) and carries the
catalogue's name (H-6d for verified entries, H-6e for unverified ones).

The cells of all tables of all workbooks being validated are stacked into one long
frame (one row per amount cell, keyed by workbook, table, block and Excel row), the
科目 rows into another, and each schema is validated once; pandera's failure cases map
back to the workbook and cell through the frame's index.
"""

from __future__ import annotations

import functools
import math

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..model import Finding, Inspection
from ..specs import ECONOMIC, FUNCTIONAL, Catalog, YearSpec
from ..text import NotANumber, normalize_label, parse_amount
from .checks import Rule, make_finding, money
from .tolerance import operand

SCHEMA_KINDS = {
    "schema_number",
    "schema_nonnegative",
    "schema_code_format",
    "schema_code_parent",
    "schema_code_known",
    "schema_code_name",
}
CODE_PATTERN = r"^\d{3}(?:\d{2}){0,2}$"
_CELL_COLUMNS = ["workbook", "table", "table_id", "sheet", "row", "name", "column", "cell", "raw", "value"]
_CODE_COLUMNS = ["workbook", "table", "sheet", "group", "catalog", "code", "label", "cell"]


def _is_amount(value: object) -> bool:
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        parse_amount(value)
        return True
    except NotANumber:
        return False


def _negative_in(tables: frozenset[str]):
    def check(frame: pd.DataFrame) -> pd.Series:
        return ~(frame["table_id"].isin(tables) & (frame["value"] < 0))

    return check


def _parent_ok(frame: pd.DataFrame) -> pd.Series:
    """Each 款/项 code starts with the nearest shorter code above it in the same block."""
    parents = _parents(list(frame[_CODE_COLUMNS].itertuples(index=False, name=None)))
    return pd.Series([code.startswith(parent) for code, parent in zip(frame["code"].tolist(), parents)], index=frame.index)


def _known(catalogs: dict[str, Catalog]):
    def check(frame: pd.DataFrame) -> pd.Series:
        pairs = zip(frame["catalog"].tolist(), frame["code"].tolist())
        return pd.Series([code in catalogs[kind].entries for kind, code in pairs], index=frame.index)

    return check


def _name_matches(catalogs: dict[str, Catalog], confidences: frozenset[str]):
    def check(frame: pd.DataFrame) -> pd.Series:
        ok = []
        for kind, code, label in zip(frame["catalog"].tolist(), frame["code"].tolist(), frame["label"].tolist()):
            entry = catalogs[kind].entries.get(code)
            if entry is None or entry.confidence not in confidences or not label:
                ok.append(True)
            else:
                ok.append(label in {normalize_label(n) for n in (entry.name, *entry.aliases)})
        return pd.Series(ok, index=frame.index)

    return check


@functools.lru_cache(maxsize=32)
def _cell_schema(rules: tuple[tuple[str, str, frozenset[str]], ...]) -> pa.DataFrameSchema:
    checks, raw_checks = [], []
    for rule_id, kind, tables in rules:
        if kind == "schema_number":
            raw_checks.append(pa.Check(_is_amount, element_wise=True, name=rule_id, error=rule_id))
        elif kind == "schema_nonnegative":
            checks.append(pa.Check(_negative_in(tables), name=rule_id, error=rule_id))
    return pa.DataFrameSchema({"raw": pa.Column(object, nullable=True, checks=raw_checks)}, checks=checks)


def _code_schema(catalogs: dict[str, Catalog], rules: tuple[tuple[str, str, frozenset[str]], ...]) -> pa.DataFrameSchema:
    column_checks, frame_checks = [], []
    for rule_id, kind, confidences in rules:
        if kind == "schema_code_format":
            column_checks.append(pa.Check.str_matches(CODE_PATTERN, name=rule_id, error=rule_id))
        elif kind == "schema_code_parent":
            frame_checks.append(pa.Check(_parent_ok, name=rule_id, error=rule_id))
        elif kind == "schema_code_known":
            frame_checks.append(pa.Check(_known(catalogs), name=rule_id, error=rule_id))
        elif kind == "schema_code_name":
            frame_checks.append(pa.Check(_name_matches(catalogs, confidences), name=rule_id, error=rule_id))
    return pa.DataFrameSchema({"code": pa.Column(str, checks=column_checks)}, checks=frame_checks)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[str, int]]:
    """(rule id, frame position) of every failing row; dtype notes are not findings."""
    if frame.empty:
        return []
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        ids = {c.error for c in [*schema.checks, *(c for col in schema.columns.values() for c in col.checks)]}
        cases = errors.failure_cases
        cases = cases[cases["check"].isin(ids) & cases["index"].notna()]
        return list(dict.fromkeys(zip(cases["check"], cases["index"].astype(int))))
    return []


def schema_findings(inspections: list[Inspection], spec: YearSpec, rules: list[Rule]) -> tuple[list[list[Finding]], list[set[str]]]:
    """Per workbook, the schema rules' findings and the ids of those that ran."""
    by_id = {r.id: r for r in rules}
    cell_rules = tuple(
        (r.id, r.kind, frozenset(r.params.get("tables", [])))
        for r in rules
        if r.kind in ("schema_number", "schema_nonnegative")
    )
    code_rules = tuple((r.id, r.kind, frozenset(r.params.get("confidence", []))) for r in rules if r.kind.startswith("schema_code"))
    cell_rows, code_rows = _stack(inspections, spec)
    cells = pd.DataFrame(cell_rows, columns=_CELL_COLUMNS)
    cells["raw"] = cells["raw"].astype(object)
    codes = pd.DataFrame(code_rows, columns=_CODE_COLUMNS)
    findings: list[list[Finding]] = [[] for _ in inspections]
    ran: list[set[str]] = [set() for _ in inspections]
    for number, inspection in enumerate(inspections):
        tables = [t for t in inspection.tables.values() if t is not None]
        if tables:
            ran[number] |= {r[0] for r in cell_rules if r[1] == "schema_number" or any(t.id in r[2] for t in tables)}
        if any(b.coded for t in tables for b in spec.table(t.name).blocks):
            ran[number] |= {r[0] for r in code_rules}
    for rule_id, position in _failures(_cell_schema(cell_rules), cells):
        row = dict(zip(_CELL_COLUMNS, cell_rows[position]))
        findings[row["workbook"]].append(_cell_finding(by_id[rule_id], row))
    parents = _parents(code_rows)
    for rule_id, position in _failures(_code_schema(spec.catalogs, code_rules), codes):
        row = dict(zip(_CODE_COLUMNS, code_rows[position]))
        findings[row["workbook"]].append(_code_finding(by_id[rule_id], row, parents[position], spec))
    return findings, ran


def _stack(inspections: list[Inspection], spec: YearSpec) -> tuple[list[tuple], list[tuple]]:
    """One tuple per amount cell (_CELL_COLUMNS) and one per 科目 row (_CODE_COLUMNS), all workbooks."""
    cells: list[tuple] = []
    codes: list[tuple] = []
    for number, inspection in enumerate(inspections):
        for table in inspection.tables.values():
            if table is None:
                continue
            table_spec = spec.table(table.name)
            for name, block in table.blocks.items():
                coded = next(b.coded for b in table_spec.blocks if name.startswith(b.name))
                group = f"{number}|{table.id}|{name}"
                for row in block.rows:
                    label = f"{row.code} {row.label}" if row.code else (row.label or row.key)
                    for column, value, cell, raw in zip(block.keys, row.values, row.cells, row.raw):
                        cells.append((number, table.name, table.id, table.sheet, row.excel_row, label, column, cell, raw, value))
                    if coded and row.code:
                        codes.append((number, table.name, table.sheet, group, coded, row.code, row.label, block.label_cell(row.excel_row)))
    return cells, codes


def _parents(code_rows: list[tuple]) -> list[str]:
    """For every 科目 row, the nearest shorter code above it in its block ('' for none)."""
    group_at, code_at = _CODE_COLUMNS.index("group"), _CODE_COLUMNS.index("code")
    parents, stack, current = [], [], None
    for row in code_rows:
        group, code = row[group_at], row[code_at]
        if group != current:
            stack, current = [], group
        while stack and len(stack[-1]) >= len(code):
            stack.pop()
        parents.append(stack[-1] if stack else "")
        stack.append(code)
    return parents


def _cell_finding(rule: Rule, row: dict) -> Finding:
    number = row["value"]
    printed = not math.isnan(number)
    finding = make_finding(
        rule,
        row["table"],
        row["sheet"],
        row["cell"],
        None,
        [operand(number, row["sheet"], row["cell"])],
        row=row["name"],
        column=row["column"],
        value=row["raw"],
        actual=money(number) if printed else "",
    )
    if printed:
        finding.actual = float(number)
    return finding


def _code_finding(rule: Rule, row: dict, parent: str, spec: YearSpec) -> Finding:
    catalog = spec.catalogs[row["catalog"]]
    entry = catalog.entries.get(row["code"])
    return make_finding(
        rule,
        row["table"],
        row["sheet"],
        row["cell"],
        code=row["code"],
        name=row["label"],
        catalog_name=entry.name if entry else "",
        catalog={FUNCTIONAL: "支出功能分类", ECONOMIC: "部门预算支出经济分类"}.get(catalog.kind, catalog.kind),
        year=spec.year,
        parent=parent,
        expected_prefix=parent,
    )
