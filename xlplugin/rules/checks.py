"""The kinds of rule the catalogue (data/<year>/rules.toml) uses, one small function each.

A kind function takes a rule and the workbook's facts and returns the findings; it
raises TableMissing (via Facts) when a table it needs is absent, and returns None when
the workbook holds nothing the rule could check (then the rule did not run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..model import ERROR, HEADING_END, INFO, Finding
from .facts import FactRow, Facts, TableMissing, Unavailable, parse_reference
from .tolerance import Comparison, Operand, adds_up_exactly, compare, exceeds


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    kind: str
    message: str
    source: str
    params: dict = field(default_factory=dict, compare=False)
    title: str = ""  # what the rule checks, in a line (optional in a user's rules file)


def money(value: float) -> str:
    """Two decimals, or three where a tolerance of n × 0.005 needs them (0.015)."""
    if abs(round(value, 2) - value) > 1e-9:
        return f"{value:,.3f}"
    return f"{value:,.2f}"


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def make_finding(
    rule: Rule,
    table: str,
    sheet: str,
    cell: str,
    comparison: Comparison | None = None,
    read: Iterable[Operand] = (),
    severity: str | None = None,
    **fields: object,
) -> Finding:
    fields["table"] = table  # `fields` is this call's own dict: no copy (a batch makes thousands of findings)
    if comparison is not None:
        fields.update(
            actual=money(comparison.actual),
            expected=money(comparison.expected),
            difference=money(comparison.difference),
            tolerance=money(comparison.tolerance),
        )
    try:
        message = rule.message.format_map(fields)
    except KeyError:  # a placeholder with no value here stays as written
        message = rule.message.format_map(_Fields(fields))
    if severity == INFO:
        message = f"尾差（在允许范围内，不必修改）：{message}"
    related = list(dict.fromkeys(o.ref for o in read)) if read else []
    if comparison is None:
        return Finding(rule.id, severity or rule.severity, table, sheet, cell, message, related)
    return Finding(
        rule.id,
        severity or rule.severity,
        table,
        sheet,
        cell,
        message,
        related,
        comparison.expected,
        comparison.actual,
        comparison.difference,
        comparison.tolerance,
    )


def _equation(rule: Rule, table: str, total: Operand, addends: list[Operand], **fields) -> Finding | None:
    """A finding when total ≠ Σ addends: the rule's severity if broken, info if only a 尾差."""
    result = compare([total], addends)
    if result.exact:
        return None
    severity = None if result.broken else INFO
    return make_finding(rule, table, total.sheet, total.cell, result, [total, *addends], severity, **fields)


def _table_of(facts: Facts, reference: str) -> str:
    return facts.name_of[parse_reference(reference).table]


def rule_checks(rule: Rule) -> list[dict]:
    return rule.params.get("checks") or [rule.params]


# -- kinds ---------------------------------------------------------------------------
def check_sum(rule: Rule, facts: Facts) -> list[Finding] | None:
    """total = Σ ±parts, for each check of the rule."""
    findings: list[Finding] = []
    ran = False
    for check in rule_checks(rule):
        try:
            totals = facts.resolve(check["total"])
            parts = [o for ref in check["parts"] for o in facts.resolve(ref)]
        except Unavailable:
            continue
        if not totals:
            continue
        ran = True
        row = check.get("row") or parse_reference(check["total"]).key
        labels = "＋".join(parse_reference(p).key for p in check["parts"])
        extra = {k: v for k, v in check.items() if k not in ("total", "parts", "row")}
        found = _equation(rule, _table_of(facts, check["total"]), totals[0], parts, row=row, parts=labels, **extra)
        if found:
            findings.append(found)
    return findings if ran else None


def check_row_sum(rule: Rule, facts: Facts) -> list[Finding] | None:
    """Within every row: total column = Σ ±part columns."""
    findings: list[Finding] = []
    ran = False
    for table_id in rule.params.get("tables") or [rule.params["table"]]:
        try:
            rows = facts.rows(table_id, rule.params.get("block"))
        except TableMissing:
            continue
        for row in rows:
            total = row.operand(rule.params["total"])
            if total is None:
                continue
            parts = []
            for name in rule.params["parts"]:
                part = row.operand(name.lstrip("-"), -1 if name.startswith("-") else 1)
                if part is not None:
                    parts.append(part)
            ran = True
            if total.half == 0 and all(p.half == 0 for p in parts):
                continue  # an empty row
            found = _equation(rule, row.table.name, total, parts, row=row.name)
            if found:
                findings.append(found)
    return findings if ran else None


def check_hierarchy(rule: Rule, facts: Facts) -> list[Finding] | None:
    """合计 = Σ类 (the rule's total_row), 类 = Σ款, 款 = Σ项 (by code prefix), per amount column."""
    findings: list[Finding] = []
    ran = False
    for table_id in rule.params["tables"]:
        try:
            rows = facts.rows(table_id)
        except TableMissing:
            continue
        table = facts.table(table_id)
        columns = list(dict.fromkeys(c for b in table.blocks.values() for c in b.columns))
        coded = {r.code: r for r in rows if r.code and r.code.isdigit()}
        total_key = rule.params.get("total_row")  # the code-less row that adds up the 类 rows, if any
        total = next((r for r in rows if total_key and r.key == total_key and not r.code), None)
        groups: list[tuple[FactRow, list[FactRow]]] = []
        if total is not None:
            groups.append((total, [r for c, r in coded.items() if len(c) == 3]))
        children: dict[str, list[FactRow]] = {}
        for code, row in coded.items():
            if len(code) > 3:
                children.setdefault(code[:-2], []).append(row)
        groups += [(coded[code], rows_under) for code, rows_under in children.items() if code in coded]
        for parent, parts_of in groups:
            if not parts_of:
                continue
            for column in columns:
                head = parent.amounts.get(column)
                if head is None:
                    continue
                ran = True
                cells = [c.amounts.get(column) for c in parts_of]
                if adds_up_exactly(head[0], [found[0] for found in cells if found is not None]):
                    continue  # most 类/款 add up exactly: no Operand needed
                parts = [o for o in (c.operand(column) for c in parts_of) if o is not None]
                found = _equation(rule, table.name, parent.operand(column), parts, row=parent.name, column=column)
                if found:
                    findings.append(found)
    return findings if ran else None


def check_match_rows(rule: Rule, facts: Facts) -> list[Finding] | None:
    """Each row of one table against the row of another table with the same code (or label)."""
    left_spec, right_spec = rule.params["left"], rule.params["right"]
    try:
        left_rows = facts.rows(left_spec["table"], left_spec.get("block"))
        right_rows = facts.rows(right_spec["table"], right_spec.get("block"))
    except TableMissing:
        return None
    wanted = left_spec.get("rows", "all")
    if wanted == "类":
        left_rows = [r for r in left_rows if len(r.code) == 3]
        right_rows = [r for r in right_rows if len(r.code) == 3]
    right_by = {(r.code or r.key): r for r in right_rows}
    left_by = {(r.code or r.key): r for r in left_rows}
    less_or_equal = rule.params.get("op", "=") == "<="
    findings: list[Finding] = []
    for left_column, right_column in rule.params["columns"]:
        for key in list(left_by) + [k for k in right_by if k not in left_by]:
            left, right = left_by.get(key), right_by.get(key)
            a = left.operand(left_column) if left else None
            b = right.operand(right_column) if right else None
            if a is None and b is None:
                continue
            here = a or b
            row = left or right
            name = row.name
            if less_or_equal:
                if a is None or b is None and a.half == 0:
                    continue
                result = exceeds([a], [b] if b else [])
                if result:
                    findings.append(make_finding(rule, row.table.name, here.sheet, here.cell, result, [o for o in (a, b) if o], row=name, column=left_column))
                continue
            result = compare([a] if a else [], [b] if b else [])
            if result.exact:
                continue
            if a is None:  # only the other table has the row: point at it
                result = compare([b], [])
            table = (left or right).table.name
            findings.append(
                make_finding(rule, table, here.sheet, here.cell, result, [o for o in (a, b) if o], None if result.broken else INFO, row=name, column=left_column)
            )
    return findings


def check_not_greater(rule: Rule, facts: Facts) -> list[Finding] | None:
    """Σ left ≤ Σ right (a plausibility rule: certainly greater is a finding)."""
    findings: list[Finding] = []
    ran = False
    for check in rule_checks(rule):
        try:
            left = [o for ref in check["left"] for o in facts.resolve(ref)]
            right = [o for ref in check["right"] for o in facts.resolve(ref)]
        except Unavailable:
            continue
        if not right and not left:
            continue
        ran = True
        result = exceeds(left, right)
        if result and left:
            extra = {k: v for k, v in check.items() if k not in ("left", "right")}
            findings.append(
                make_finding(rule, _table_of(facts, check["left"][0]), left[0].sheet, left[0].cell, result, left + right,
                             left=money(result.actual), right=money(result.expected), **extra)
            )
    return findings if ran else None


def check_zero_together(rule: Rule, facts: Facts) -> list[Finding] | None:
    """三公 合计 is zero exactly when the related 经济分类 items are all zero."""
    try:
        totals = facts.resolve(rule.params["total"])
        items = [o for ref in rule.params["items"] for o in facts.resolve(ref)]
    except Unavailable:
        return None
    if not totals:
        return None
    total = totals[0]
    if any(o.unknown for o in (total, *items)):  # text where an amount belongs (C-1): cannot tell
        return []
    total_zero = abs(total.value) <= total.half
    nonzero = [o for o in items if abs(o.value) > o.half]
    if total_zero and nonzero:
        detail = f"“三公”经费决算合计为 0，但基本支出中 {nonzero[0].cell} 等单元格有金额 {money(nonzero[0].value)}"
    elif not total_zero and items and not nonzero:
        detail = f"“三公”经费决算合计 {money(total.value)} 不为 0，但基本支出中因公出国（境）、公务接待、公务用车各项均为 0（如全部在项目支出中列支，请在说明中注明）"
    else:
        return []
    return [make_finding(rule, _table_of(facts, rule.params["total"]), total.sheet, total.cell, None, [total, *items], message_detail=detail)]


_SENTENCE_END = re.compile("[。！？!?]")  # not a line break: a heading line names the subject of the lines below it


def check_empty_note(rule: Rule, facts: Facts) -> list[Finding] | None:
    """An all-blank fund / SOE / 三公 table must carry a note (under it or in the 说明)."""
    findings: list[Finding] = []
    ran = False
    keywords = rule.params["keywords"]
    note = re.compile(rule.params["note_pattern"])
    for table_id in rule.params["tables"]:
        table = facts.by_id.get(table_id)
        if table is None:
            continue
        ran = True
        values = [v for b in table.blocks.values() for row in b.rows for v in row.values]
        if any(v == v and abs(v) > 0 for v in values):  # v == v: not NaN
            continue
        # elsewhere (the 说明), the sentence that names the table's subject must say so: one long
        # 说明 cell names 政府性基金 in one sentence and says 无因公出国 in another
        texts = [_with_heading(text, keywords[table_id], rule.params.get("subjects", [])) for text in facts.inspection.texts]
        sentences = [part for text in texts for part in _SENTENCE_END.split(text) if keywords[table_id] in part]
        if any(note.search(text) for text in [*table.notes, *sentences]):
            continue
        findings.append(make_finding(rule, table.name, table.sheet, table.title_cell))
    return findings if ran else None


def _with_heading(text: str, keyword: str, subjects: list[str]) -> str:
    """A note with the heading it continues (HEADING_END): 「七、政府性基金…决算表」 above 「本单位未发生
    此类收支。」 notes table 7.  Not when the note names another table's subject itself: 「本单位无国有
    资本经营预算收支」 below the same heading notes table 8 only."""
    heading, joined, note = text.partition(HEADING_END)
    if joined and any(subject in note for subject in subjects if subject != keyword):
        return note
    return f"{heading}：{note}" if joined else text


def check_code_scope(rule: Rule, facts: Facts) -> list[Finding] | None:
    """科目 that do not belong in a table (T5 only 一般公共预算, T8 only 223 …)."""
    findings: list[Finding] = []
    ran = False
    for check in rule.params["checks"]:
        try:
            table = facts.table(check["table"])
        except TableMissing:
            continue
        ran = True
        for block in table.blocks.values():
            for row in block.rows:
                if not row.code:
                    continue
                if "only" in check and not row.code.startswith(tuple(check["only"])):
                    scope = f"只应列 {'、'.join(check['only'])} 类科目"
                elif "never" in check and row.code.startswith(tuple(check["never"])):
                    scope = f"不应列 {'、'.join(check['never'])} 类科目"
                else:
                    continue
                cell = block.label_cell(row.excel_row)
                findings.append(make_finding(rule, table.name, table.sheet, cell, code=row.code, name=row.label, scope=scope))
    return findings if ran else None


def check_columns_present(rule: Rule, facts: Facts) -> list[Finding] | None:
    """Columns a table must print once it prints any of a check's `when_any` columns (三公:
    公务用车购置及运行费 split into 购置费 and 运行费).  The finding stands on the header cell of
    the check's `at` column, or of the first of `when_any` that is printed.  A table with a column
    whose header was not understood is not judged: the column may be the one missing, in words
    of its own (R-2 says so)."""
    findings: list[Finding] = []
    ran = False
    for check in rule_checks(rule):
        table = facts.by_id.get(check["table"])
        if table is None or any(problem.kind == "column" for problem in table.problems):
            continue
        printed = {key: letter for block in table.blocks.values() for key, letter in block.columns.items()}
        shown = [key for key in [*check.get("at", []), *check["when_any"]] if key in printed]
        if not shown:
            continue
        ran = True
        missing = [key for key in check["columns"] if key not in printed]
        if missing:
            cell = f"{printed[shown[0]]}{table.header_rows[-1]}"
            names = "」「".join(key.rpartition(".")[2] for key in missing)
            extra = {k: v for k, v in check.items() if k not in ("table", "when_any", "columns", "at")}
            findings.append(make_finding(rule, table.name, table.sheet, cell, missing=names, **extra))
    return findings if ran else None


def check_missing_table(rule: Rule, facts: Facts) -> list[Finding] | None:
    findings = []
    for name, reason in facts.inspection.missing.items():
        findings.append(make_finding(rule, name, "", "", reason=reason))
    if len(facts.inspection.missing) == len(facts.spec.tables):
        findings.append(
            Finding(
                rule_id=rule.id,
                severity=ERROR,
                table="",
                sheet="",
                cell="",
                message="工作簿中没有识别出任何一张表。请确认各表标题是标准表名（如“收入支出决算总表”，前面可带单位名称和年度），"
                "标题下方是表头（项目/科目编码/科目名称/金额…），再重新检查。",
            )
        )
    return findings


def check_unplaced(rule: Rule, facts: Facts) -> list[Finding] | None:
    """What the recogniser could not place (rows, columns, formulas without a value)."""
    kinds = set(rule.params["problems"])
    findings = []
    for table in facts.inspection.tables.values():
        if table is None:
            continue
        for problem in table.problems:
            if problem.kind in kinds:
                findings.append(make_finding(rule, table.name, problem.sheet or table.sheet, problem.cell, problem=problem.message))
    for problem in facts.inspection.problems:
        if problem.kind in kinds:
            findings.append(make_finding(rule, "", problem.sheet, problem.cell, problem=problem.message))
    return findings


KINDS: dict[str, Callable[[Rule, Facts], list[Finding] | None]] = {
    "sum": check_sum,
    "row_sum": check_row_sum,
    "hierarchy": check_hierarchy,
    "match_rows": check_match_rows,
    "not_greater": check_not_greater,
    "zero_together": check_zero_together,
    "empty_note": check_empty_note,
    "code_scope": check_code_scope,
    "columns_present": check_columns_present,
    "missing_table": check_missing_table,
    "unplaced": check_unplaced,
}
