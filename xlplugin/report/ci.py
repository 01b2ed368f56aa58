"""Reports for CI systems: JUnit XML, SARIF 2.1.0 and GitHub workflow commands.

All three render the same Finding list as the text and JSON reports (findings.py):
JUnit has one testsuite per workbook and one testcase per rule × cell (a rule that ran
without a finding is one passing testcase); SARIF places each result at the workbook
file with the Excel row and column as region and `sheet!A1` as logical location;
GitHub annotations are capped at 10 per severity per workbook, then a summary line.
"""

from __future__ import annotations

import hashlib
import re
from xml.etree import ElementTree

from .. import __version__
from ..model import ERROR, INFO, SEVERITY_LABEL, WARNING, Finding, WorkbookReport
from .findings import shown, summary_line

_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}
_GITHUB_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}
GITHUB_CAP = 10


def cell_position(cell: str) -> tuple[int, int]:
    """A1 → (row, column), 1-based; (1, 1) when there is no cell."""
    match = re.fullmatch(r"([A-Z]+)(\d+)", cell or "")
    if not match:
        return 1, 1
    column = 0
    for char in match.group(1):
        column = column * 26 + ord(char) - 64
    return int(match.group(2)), column


# -- JUnit ---------------------------------------------------------------------------
def reports_junit(reports: list[WorkbookReport], show_info: bool = False) -> str:
    root = ElementTree.Element("testsuites", name="xlplugin")
    totals = {"tests": 0, "failures": 0}
    for report in reports:
        suite = ElementTree.SubElement(root, "testsuite", name=report.path)
        cases = _junit_cases(report, show_info)
        failures = 0
        for name, classname, finding in cases:
            case = ElementTree.SubElement(suite, "testcase", name=name, classname=classname)
            if finding is not None:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", type=finding.severity, message=finding.message)
                failure.text = _detail(finding)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        totals["tests"] += len(cases)
        totals["failures"] += failures
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


def _junit_cases(report: WorkbookReport, show_info: bool) -> list[tuple[str, str, Finding | None]]:
    cases: list[tuple[str, str, Finding | None]] = []
    seen: dict[str, int] = {}
    failing = set()
    for finding in shown(report, show_info):
        where = f"{finding.sheet}!{finding.cell}" if finding.cell else (finding.table or "工作簿")
        name = f"{finding.rule_id} {where}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        cases.append((name, f"{report.path}.{finding.table or '工作簿'}", finding))
        failing.add(finding.rule_id)
    for rule_id in report.rules_ran:
        if rule_id not in failing:
            cases.append((f"{rule_id} 通过", f"{report.path}.规则", None))
    return cases


def _detail(finding: Finding) -> str:
    lines = [f"{SEVERITY_LABEL[finding.severity]} {finding.rule_id} {finding.table} {finding.sheet}!{finding.cell}", finding.message]
    if finding.expected is not None:
        lines.append(f"期望值 {finding.expected}；实际值 {finding.actual}；差额 {finding.difference}；允许尾差 {finding.tolerance}")
    if finding.related_cells:
        lines.append("相关单元格：" + "、".join(finding.related_cells))
    return "\n".join(lines)


# -- SARIF ---------------------------------------------------------------------------
def reports_sarif(reports: list[WorkbookReport], show_info: bool = False) -> dict:
    catalogue = {}
    for report in reports:
        for rule in report.catalogue:
            catalogue.setdefault(rule.id, rule)
    rule_ids = list(catalogue)
    results = []
    for report in reports:
        for finding in shown(report, show_info):
            row, column = cell_position(finding.cell)
            where = f"{finding.sheet}!{finding.cell}" if finding.cell else finding.table
            location = {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(report.path)},
                    "region": {"startLine": row, "startColumn": column},
                },
                "logicalLocations": [{"fullyQualifiedName": where or report.path, "kind": "element"}],
            }
            result = {
                "ruleId": finding.rule_id,
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": [location],
                "partialFingerprints": {"xlpluginFinding/v1": _fingerprint(report, finding)},
                "properties": {
                    "table": finding.table,
                    "expected": finding.expected,
                    "actual": finding.actual,
                    "difference": finding.difference,
                    "tolerance": finding.tolerance,
                    "relatedCells": finding.related_cells,
                },
            }
            if finding.rule_id in catalogue:
                result["ruleIndex"] = rule_ids.index(finding.rule_id)
            results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "xlplugin",
                        "version": __version__,
                        "rules": [_sarif_rule(catalogue[i]) for i in rule_ids],
                    }
                },
                "artifacts": [{"location": {"uri": _uri(r.path)}} for r in reports],
                "results": results,
            }
        ],
    }


def _sarif_rule(rule) -> dict:
    description = re.sub(r"\{[a-z_]+\}", "…", rule.message)
    return {
        "id": rule.id,
        "name": rule.kind,
        "shortDescription": {"text": description},
        "fullDescription": {"text": f"{description}（出处：{rule.source}）"},
        "help": {"text": f"出处：{rule.source}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
    }


def _fingerprint(report: WorkbookReport, finding: Finding) -> str:
    """Stable across runs: the same rule at the same cell of the same table of the same file."""
    key = "|".join([report.path, finding.rule_id, finding.table, finding.sheet, finding.cell])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _uri(path: str) -> str:
    return path.replace("\\", "/")


# -- GitHub workflow commands ----------------------------------------------------------
def reports_github(reports: list[WorkbookReport], show_info: bool = False) -> str:
    lines = []
    for report in reports:
        counts: dict[str, int] = {}
        for finding in shown(report, show_info):
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
            if counts[finding.severity] > GITHUB_CAP:
                continue
            row, column = cell_position(finding.cell)
            title = f"{finding.rule_id} {finding.table} {finding.sheet}!{finding.cell}".strip()
            props = f"file={_property(report.path)},line={row},col={column},title={_property(title)}"
            lines.append(f"::{_GITHUB_LEVEL[finding.severity]} {props}::{_data(finding.message)}")
        for severity, count in counts.items():
            if count > GITHUB_CAP:
                lines.append(f"（另有 {count - GITHUB_CAP} 个{SEVERITY_LABEL[severity]}未逐条列出，见完整报告）")
        lines.append(summary_line(report, show_info))
    return "\n".join(lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
