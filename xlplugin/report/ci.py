"""Reports for CI systems: JUnit XML, SARIF 2.1.0 and GitHub workflow commands.

All three render the same Finding list as the text and JSON reports (findings.py):
JUnit has one testsuite per workbook and one testcase per rule × cell (a rule that ran
without a finding is one passing testcase); SARIF places each result at the workbook
file with the Excel row and column as region and `sheet!A1` as logical location;
GitHub annotations are capped at 10 per severity per workbook, then a summary line.
An input that could not be checked is a suite in error, a tool-execution notification
and an ::error line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import posixpath
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import quote
from xml.sax.saxutils import XMLGenerator

from .. import __version__
from ..model import ERROR, INFO, SEVERITY_LABEL, WARNING, Finding, NotChecked, WorkbookReport
from ..text import cell_reference
from .findings import shown, summary_line, write_items

_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}
_GITHUB_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}
GITHUB_CAP = 10  # annotations per severity per workbook (the rule), then a line saying how many more
GITHUB_STEP_CAP = 10  # what GitHub itself shows per step and kind of annotation; the rest stay in the log
_GITHUB_NAME = {"error": "错误注释", "warning": "警告注释", "notice": "信息注释"}
# GitHub code scanning rejects a SARIF run with more results than this (and shows only the first 5,000)
GITHUB_SARIF_RESULTS = 25_000


@functools.lru_cache(maxsize=4096)  # a batch's findings stand in the same few hundred cells
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
def write_junit(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    """<testsuites> with one <testsuite> per workbook, written element by element (the standard
    library's streaming XMLGenerator escapes; a tree of a large batch would not fit in memory).
    An input that could not be checked is a suite whose one case is in error."""
    counts = [_junit_counts(report, show_info) for report in reports]  # the totals come first; the cases one suite at a time
    xml = _XMLWriter(out, encoding="UTF-8", short_empty_elements=True)
    xml.startDocument()
    totals = {
        "tests": str(sum(tests for tests, _ in counts) + len(not_checked)),
        "failures": str(sum(failing for _, failing in counts)),
        "errors": str(len(not_checked)),
    }
    xml.startElement("testsuites", {"name": "xlplugin", **totals})
    for report, (_, failing) in zip(reports, counts):
        found = _junit_cases(report, show_info)
        xml.ignorableWhitespace("\n  ")
        xml.startElement("testsuite", {"name": report.path, "tests": str(len(found)), "failures": str(failing), "errors": "0", "skipped": "0"})
        for name, classname, finding in found:
            xml.ignorableWhitespace("\n    ")
            xml.startElement("testcase", {"name": name, "classname": classname})
            if finding is not None:
                xml.ignorableWhitespace("\n      ")
                xml.startElement("failure", {"type": finding.severity, "message": finding.message})
                xml.characters(_detail(finding))
                xml.endElement("failure")
                xml.ignorableWhitespace("\n    ")
            xml.endElement("testcase")
        if found:
            xml.ignorableWhitespace("\n  ")
        xml.endElement("testsuite")
    for item in not_checked:
        _junit_not_checked(xml, item)
    if reports or not_checked:
        xml.ignorableWhitespace("\n")
    xml.endElement("testsuites")
    xml.endDocument()


class _XMLWriter(XMLGenerator):
    """XMLGenerator that writes U+FFFD for the characters XML 1.0 cannot hold: a cell may contain
    a control character (Excel stores it as _x0001_), and one of them in a message made the whole
    report unreadable to GitLab and Jenkins."""

    def startElement(self, name: str, attrs: dict) -> None:  # noqa: N802 (the SAX API's name)
        super().startElement(name, {key: _ILLEGAL_IN_XML.sub("\ufffd", value) for key, value in attrs.items()})

    def characters(self, content: str) -> None:
        super().characters(_ILLEGAL_IN_XML.sub("\ufffd", content))


_ILLEGAL_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _junit_not_checked(xml: XMLGenerator, item: NotChecked) -> None:
    """An input that could not be checked: a suite of one case, in error (GitLab and Jenkins show it failed)."""
    xml.ignorableWhitespace("\n  ")
    xml.startElement("testsuite", {"name": item.path, "tests": "1", "failures": "0", "errors": "1", "skipped": "0"})
    xml.ignorableWhitespace("\n    ")
    xml.startElement("testcase", {"name": item.status, "classname": f"{item.path}.工作簿"})
    xml.ignorableWhitespace("\n      ")
    xml.startElement("error", {"type": "internal" if item.internal else "unreadable", "message": item.problem})
    xml.characters(f"{item.status}：{item.path}\n{item.problem}")
    xml.endElement("error")
    xml.ignorableWhitespace("\n    ")
    xml.endElement("testcase")
    xml.ignorableWhitespace("\n  ")
    xml.endElement("testsuite")


def _junit_counts(report: WorkbookReport, show_info: bool) -> tuple[int, int]:
    """(test cases, failing ones) of the workbook's suite, as _junit_cases makes them."""
    findings = shown(report, show_info)
    failing = {finding.rule_id for finding in findings}
    return len(findings) + sum(rule_id not in failing for rule_id in report.rules_ran), len(findings)


def _junit_cases(report: WorkbookReport, show_info: bool) -> list[tuple[str, str, Finding | None]]:
    cases: list[tuple[str, str, Finding | None]] = []
    seen: dict[str, int] = {}
    failing = set()
    for finding in shown(report, show_info):
        where = cell_reference(finding.sheet, finding.cell) if finding.cell else (finding.table or "工作簿")
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
    where = cell_reference(finding.sheet, finding.cell) if finding.cell else ""
    lines = [" ".join(part for part in (SEVERITY_LABEL[finding.severity], finding.rule_id, finding.table, where) if part), finding.message]
    if finding.expected is not None:
        lines.append(f"期望值 {finding.expected}；实际值 {finding.actual}；差额 {finding.difference}；允许尾差 {finding.tolerance}")
    if finding.related_cells:
        lines.append("相关单元格：" + "、".join(finding.related_cells))
    return "\n".join(lines)


# -- SARIF ---------------------------------------------------------------------------
def write_sarif(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    """One SARIF 2.1.0 run: the tool and its rules, the invocation (with a notification for each
    input that could not be checked), the workbooks, then one result per line."""
    catalogue = {}
    for report in reports:
        for rule in report.catalogue:
            catalogue.setdefault(rule.id, rule)
    index = {rule_id: number for number, rule_id in enumerate(catalogue)}
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "xlplugin", "version": __version__, "rules": [_sarif_rule(rule) for rule in catalogue.values()]}},
                "invocations": [
                    {
                        "executionSuccessful": not not_checked,
                        "toolExecutionNotifications": [
                            {
                                "level": "error",
                                "message": {"text": f"{item.status}：{item.problem}"},
                                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(item.path)}}}],
                                "descriptor": {"id": "internal-error" if item.internal else "unreadable"},
                            }
                            for item in not_checked
                        ],
                    }
                ],
                "artifacts": [{"location": {"uri": _uri(path)}} for path in [*(r.path for r in reports), *(n.path for n in not_checked)]],
                "results": _RESULTS,
            }
        ],
    }
    # the small part indented as a whole; the results go in where the placeholder stands (a
    # message cannot make this text: its quotes are escaped)
    head, _, tail = json.dumps(document, ensure_ascii=False, indent=2).partition(f'"results": "{_RESULTS}"')
    out.write(head + '"results": [')
    results = (_sarif_result(report, _uri(report.path), finding, index) for report in reports for finding in shown(report, show_info))
    write_items(out, results, " " * 8)
    out.write("]" + tail)


_RESULTS = "xlplugin:results"


def sarif_caveat(reports: list[WorkbookReport], show_info: bool = False) -> str:
    """What the user should know before uploading this SARIF report to GitHub ('' if nothing)."""
    count = sum(len(shown(report, show_info)) for report in reports)
    if count <= GITHUB_SARIF_RESULTS:
        return ""
    return (
        f"SARIF 报告有 {count:,} 条结果，超过 GitHub 代码扫描一次上传可接受的 {GITHUB_SARIF_RESULTS:,} 条，上传会被拒绝"
        "（GitHub 也只显示前 5,000 条）；请按文件夹分批校验、分别上传，或用 --format html 或 junit 查看全部结果（too many results for GitHub）"
    )


def _sarif_result(report: WorkbookReport, uri: str, finding: Finding, index: dict[str, int]) -> dict:
    row, column = cell_position(finding.cell)
    where = cell_reference(finding.sheet, finding.cell) if finding.cell else finding.table
    fingerprint = _fingerprint(report, finding)
    result = {
        "ruleId": finding.rule_id,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.message}（{where}）" if finding.cell else finding.message},  # a viewer shows "line N" of a zip
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": row, "startColumn": column}},
                "logicalLocations": [{"fullyQualifiedName": where or report.path, "kind": "element"}],
            }
        ],
        # primaryLocationLineHash too: it is what GitHub tracks alerts by, and without it upload-sarif
        # hashes "line N" of the workbook file, a zip whose bytes change with every save
        "partialFingerprints": {"xlpluginFinding/v1": fingerprint, "primaryLocationLineHash": fingerprint},
        "properties": {
            "table": finding.table,
            "expected": finding.expected,
            "actual": finding.actual,
            "difference": finding.difference,
            "tolerance": finding.tolerance,
            "relatedCells": finding.related_cells,
        },
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    return result


def _sarif_rule(rule) -> dict:
    """A rule's metadata: its title (or, in a user's rules file without one, its message with the
    blanks shown as …), and the message template and source in full."""
    template = re.sub(r"\{[a-z_]+\}", "…", rule.message)
    title = rule.title or template
    return {
        "id": rule.id,
        "name": f"{rule.kind}/{rule.id}",
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title}。提示语：{template}（出处：{rule.source}）" if rule.title else f"{title}（出处：{rule.source}）"},
        "help": {"text": f"出处：{rule.source}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
    }


def _fingerprint(report: WorkbookReport, finding: Finding) -> str:
    """Stable across runs and edits of the amounts: the same rule at the same cell of the same
    table of the same file, over the same cells (two equations of one rule may end at one cell)."""
    key = "|".join([_normal(report.path), finding.rule_id, finding.table, finding.sheet, finding.cell, *sorted(finding.related_cells)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _uri(path: str) -> str:
    """The workbook's path as SARIF requires, a URI reference: percent-encoded (a space, a %, 中文),
    relative as given, or a file: URI when absolute (C:\\ would otherwise read as a scheme)."""
    if os.path.isabs(path):
        return Path(os.path.abspath(path)).as_uri()
    return quote(_normal(path), safe="/")


def _normal(path: str) -> str:
    """One spelling of a path (./决算/甲.xlsx, 决算\\甲.xlsx and 决算/甲.xlsx are one file)."""
    return posixpath.normpath(path.replace("\\", "/"))


# -- GitHub workflow commands ----------------------------------------------------------
def write_github(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    given: Counter[str] = Counter()  # annotations written, per level
    out.write("\n".join(_github_lines(reports, show_info, not_checked, given)))
    if any(count > GITHUB_STEP_CAP for count in given.values()):
        counts = "、".join(f"{_GITHUB_NAME[level]} {count} 条" for level, count in given.items())
        out.write(
            f"\n（GitHub 每个步骤每种注释最多显示 {GITHUB_STEP_CAP} 条，其余只在本日志中；本步骤输出了{counts}。"
            "全部问题请看 --format html 或 sarif 报告）"
        )


def _github_lines(reports: list[WorkbookReport], show_info: bool, not_checked: Sequence[NotChecked], given: Counter[str]) -> Iterator[str]:
    """The lines of write_github, counting in `given` the annotations among them."""
    for item in not_checked:  # first the inputs not checked: the run cannot pass while a unit is left out
        given["error"] += 1
        yield f"::error file={_property(item.path)},title={_property(item.status)}::{_data(item.problem)}"
    for report in reports:
        counts: Counter[str] = Counter()
        for finding in shown(report, show_info):
            counts[finding.severity] += 1
            if counts[finding.severity] > GITHUB_CAP:
                continue
            level = _GITHUB_LEVEL[finding.severity]
            given[level] += 1
            row, column = cell_position(finding.cell)
            place = cell_reference(finding.sheet, finding.cell) if finding.cell else ""
            table = "" if place and finding.sheet == finding.table else finding.table  # a sheet named as its table: once
            title = " ".join(part for part in (finding.rule_id, table, place) if part)
            props = f"file={_property(_normal(report.path))},line={row},col={column},title={_property(title)}"
            yield f"::{level} {props}::{_data(finding.message)}"
        for severity, count in counts.items():
            if count > GITHUB_CAP:
                yield f"（另有 {count - GITHUB_CAP} 个{SEVERITY_LABEL[severity]}未逐条列出，见完整报告）"
        yield summary_line(report, show_info)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
