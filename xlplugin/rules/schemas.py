"""pandera schemas per table block, built from the table specs and the rule catalogue.

What a single cell or row must satisfy on its own: amounts are numbers or blank (C-1),
not negative (T1-6, C-2), 科目编码 has 3/5/7 digits (H-6), sits under its parent row
(H-6b), exists in the year's catalogue (H-6c) and carries the catalogue's name (H-6d
for verified entries, H-6e for unverified ones).  pandera reports failure cases by the
frame's index — the Excel row — which maps back to the cell.
"""

from __future__ import annotations

import functools

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..model import Block, Finding, RecognizedTable
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


def _is_amount(value: object) -> bool:
    try:
        parse_amount(value)
        return True
    except NotANumber:
        return False


def _parent_ok(codes: pd.Series) -> pd.Series:
    """Each 款/项 code starts with the nearest code above it that is shorter."""
    result, stack = [], []
    for code in codes:
        while stack and len(stack[-1]) >= len(code):
            stack.pop()
        result.append(not stack or code.startswith(stack[-1]))
        stack.append(code)
    return pd.Series(result, index=codes.index)


def _nearest_parent(codes: list[str], position: int) -> str:
    code = codes[position]
    for earlier in reversed(codes[:position]):
        if len(earlier) < len(code):
            return earlier
    return ""


def _name_matches(catalog: Catalog, confidences: frozenset[str]):
    def check(frame: pd.DataFrame) -> pd.Series:
        ok = []
        for code, label in zip(frame["code"], frame["label"]):
            entry = catalog.entries.get(code)
            if entry is None or entry.confidence not in confidences or not label:
                ok.append(True)
            else:
                ok.append(label in {normalize_label(n) for n in (entry.name, *entry.aliases)})
        return pd.Series(ok, index=frame.index)

    return check


@functools.lru_cache(maxsize=256)
def _amount_schemas(columns: tuple[str, ...], number_rule: str, negative_rule: str) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema]:
    raw = pa.DataFrameSchema(
        {c: pa.Column(object, nullable=True, checks=[pa.Check(_is_amount, element_wise=True, name=number_rule, error=number_rule)]) for c in columns}
        if number_rule
        else {}
    )
    numbers = pa.DataFrameSchema(
        {c: pa.Column(float, nullable=True, checks=[pa.Check.ge(0, name=negative_rule, error=negative_rule)]) for c in columns} if negative_rule else {}
    )
    return raw, numbers


@functools.lru_cache(maxsize=64)
def _code_schema(catalog: Catalog, rules: tuple[tuple[str, str, frozenset[str]], ...]) -> pa.DataFrameSchema:
    column_checks, frame_checks = [], []
    for rule_id, kind, confidences in rules:
        if kind == "schema_code_format":
            column_checks.append(pa.Check.str_matches(CODE_PATTERN, name=rule_id, error=rule_id))
        elif kind == "schema_code_parent":
            column_checks.append(pa.Check(_parent_ok, name=rule_id, error=rule_id))
        elif kind == "schema_code_known":
            column_checks.append(pa.Check.isin(sorted(catalog.entries), name=rule_id, error=rule_id))
        elif kind == "schema_code_name":
            frame_checks.append(pa.Check(_name_matches(catalog, confidences), name=rule_id, error=rule_id))
    return pa.DataFrameSchema({"code": pa.Column(str, checks=column_checks)}, checks=frame_checks)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or not (schema.columns or schema.checks):
        return pd.DataFrame(columns=["check", "column", "index", "failure_case"])
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        return cases[cases["check"].isin(_rule_ids(schema))]  # dtype coercion notes are not findings
    return pd.DataFrame(columns=["check", "column", "index", "failure_case"])


def _rule_ids(schema: pa.DataFrameSchema) -> set[str]:
    checks = list(schema.checks) + [c for column in schema.columns.values() for c in column.checks]
    return {c.error for c in checks}


def schema_findings(table: RecognizedTable, spec: YearSpec, rules: list[Rule]) -> tuple[list[Finding], set[str]]:
    """Findings of the schema rules on one table, and the ids of the rules that ran."""
    by_id = {r.id: r for r in rules}
    number = next((r.id for r in rules if r.kind == "schema_number"), "")
    negative = next((r.id for r in rules if r.kind == "schema_nonnegative" and table.id in r.params.get("tables", [])), "")
    code_rules = tuple(
        (r.id, r.kind, frozenset(r.params.get("confidence", [])))
        for r in rules
        if r.kind.startswith("schema_code")
    )
    table_spec = spec.table(table.name)
    findings: list[Finding] = []
    ran: set[str] = {i for i in (number, negative) if i}
    for name, block in table.blocks.items():
        columns = tuple(block.columns)
        raw_schema, number_schema = _amount_schemas(columns, number, negative)
        for case in _failures(raw_schema, block.raw).itertuples():
            findings.append(_amount_finding(by_id[case.check], table, block, int(case.index), case.column, value=case.failure_case))
        for case in _failures(number_schema, block.frame[list(columns)]).itertuples():
            findings.append(_amount_finding(by_id[case.check], table, block, int(case.index), case.column))
        block_spec = next(b for b in table_spec.blocks if name.startswith(b.name))
        if not block_spec.coded or not code_rules:
            continue
        catalog = spec.catalogs[block_spec.coded]
        ran |= {r[0] for r in code_rules}
        coded = block.frame.loc[block.frame["code"] != "", ["code", "label"]]
        codes = coded["code"].tolist()
        for case in _failures(_code_schema(catalog, code_rules), coded).itertuples():
            row = int(case.index)
            code, label = coded.at[row, "code"], coded.at[row, "label"]
            entry = catalog.entries.get(code)
            parent = _nearest_parent(codes, codes.index(code))
            findings.append(
                make_finding(
                    by_id[case.check],
                    table.name,
                    table.sheet,
                    block.label_cell(row),
                    code=code,
                    name=label,
                    catalog_name=entry.name if entry else "",
                    catalog=_catalog_label(catalog),
                    year=spec.year,
                    parent=parent,
                    expected_prefix=parent,
                )
            )
    return findings, ran


def _catalog_label(catalog: Catalog) -> str:
    return {FUNCTIONAL: "支出功能分类", ECONOMIC: "部门预算支出经济分类"}.get(catalog.kind, catalog.kind)


def _amount_finding(rule: Rule, table: RecognizedTable, block: Block, row: int, column: str, value: object = None) -> Finding:
    cell = block.cells.at[row, column]
    key = block.frame.at[row, "key"]
    code, label = block.frame.at[row, "code"], block.frame.at[row, "label"]
    name = f"{code} {label}" if code else (label or key)
    number = block.frame.at[row, column]
    actual = money(number) if number == number else ""
    finding = make_finding(rule, table.name, table.sheet, cell, None, [operand(number, table.sheet, cell)], row=name, column=column, value=value, actual=actual)
    if number == number:
        finding.actual = float(number)
    return finding
