"""Renderings of validation findings: JSON for scripts (its shape is a contract), text for people."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TextIO

from ..model import ERROR, INFO, SEVERITY_LABEL, SEVERITY_ORDER, WARNING, Finding, NotChecked, WorkbookReport
from ..text import printable


def shown(report: WorkbookReport, show_info: bool) -> list[Finding]:
    return [f for f in report.findings if show_info or f.severity != INFO]


def summary(report: WorkbookReport) -> dict:
    return {
        "errors": report.count(ERROR),
        "warnings": report.count(WARNING),
        "infos": report.count(INFO),
        "rules_run": report.rules_run,
    }


def workbook_json(report: WorkbookReport, show_info: bool = False) -> dict:
    """{path, unit, year, tables, findings, summary} — keep these keys (the server answers with it)."""
    return {**_head(report), "findings": [f.as_dict() for f in shown(report, show_info)], "summary": summary(report)}


def _head(report: WorkbookReport) -> dict:
    return {
        "path": report.path,
        "unit": report.unit,
        "year": report.year,
        "tables": {name: None if t is None else {"sheet": t.sheet, "range": t.range} for name, t in report.inspection.tables.items()},
    }


def write_json(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    """{"workbooks": [workbook_json(…), …], "not_checked": [{path, status, problem}, …]}, one finding per line."""
    out.write('{"workbooks": [')
    for number, report in enumerate(reports):
        head = _dumps(_head(report))
        out.write(f'{"," if number else ""}\n  {head[:-1]}, "findings": [')
        write_items(out, (f.as_dict() for f in shown(report, show_info)), "    ")
        out.write(f'], "summary": {_dumps(summary(report))}}}')
    out.write('\n], "not_checked": [' if reports else '], "not_checked": [')
    write_items(out, ({"path": n.path, "status": n.status, "problem": n.problem} for n in not_checked), "  ")
    out.write("]}")


def write_items(out: TextIO, items: Iterable[object], indent: str) -> None:
    """The items of a JSON array (without its brackets), one per line, then the closing bracket's indent."""
    wrote = False
    for item in items:
        out.write(f'{"," if wrote else ""}\n{indent}{_dumps(item)}')
        wrote = True
    if wrote:
        out.write("\n" + indent[:-2])


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_text(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    for number, report in enumerate(reports):
        out.write(("\n\n" if number else "") + _workbook_text(report, show_info))
    if not_checked:
        lines = [f"未能检查的文件（{len(not_checked)} 个）："] + [f"  {n.status}：{n.path}：{n.problem}" for n in not_checked]
        out.write(("\n\n" if reports else "") + "\n".join(map(printable, lines)))


def _workbook_text(report: WorkbookReport, show_info: bool) -> str:
    lines = [f"工作簿：{report.path}（{report.unit or '单位未注明'}，{report.year} 年度）"]
    findings = shown(report, show_info)
    names = list(report.inspection.tables)
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.table, []).append(finding)
    for name in sorted(groups, key=lambda n: names.index(n) if n in names else len(names)):
        table = report.inspection.tables.get(name)
        where = f"（工作表「{table.sheet}」{table.range}）" if table else ""
        lines.append(f"【{name or '工作簿'}】{where}")
        for finding in sorted(groups[name], key=lambda f: SEVERITY_ORDER[f.severity]):
            cell = f"{finding.cell} " if finding.cell else ""
            lines.append(f"  {SEVERITY_LABEL[finding.severity]} {finding.rule_id} {cell}{finding.message}")
    lines.append(summary_line(report, show_info))
    return "\n".join(map(printable, lines))  # a file name or cell with a newline must not start a line


def verdict_of(report: WorkbookReport) -> str:
    """未通过 with an error (or, --strict, a warning); 通过 otherwise, saying so when there are
    warnings to explain."""
    errors, warnings = report.count(ERROR), report.count(WARNING)
    if errors:
        return "未通过"
    if warnings:
        return "未通过（有提示，--strict）" if report.strict else "通过（有提示）"
    return "通过"


def summary_line(report: WorkbookReport, show_info: bool = False) -> str:
    counts = summary(report)
    verdict = verdict_of(report)
    infos = f"尾差信息 {counts['infos']} 条" + ("" if show_info or not counts["infos"] else "（加 --show-info 查看）")
    return printable(
        f"合计：{report.path} — 错误 {counts['errors']} 个，提示 {counts['warnings']} 个，{infos}，"
        f"执行规则 {counts['rules_run']} 条：{verdict}"
    )
