"""What the marks in a workbook say, decided once for every writer (openpyxl copy, xlwings Book).

From a validation report: which cells get which fill and note, and the rows of the
审核结果 sheet.  The writers only put these into a workbook; they compute nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import ERROR, INFO, SEVERITY_LABEL, WARNING, Finding, WorkbookReport
from .rules.checks import money

RESULT_SHEET = "审核结果"  # or 审核结果1, 审核结果2 … beside a sheet of the user's with that name
RESULT_TITLE = "xlplugin 审核结果"  # the first line of our result sheet: a sheet is removed only when it says so
UNDO_SHEET = "_xlplugin_undo"  # very hidden: what a mark replaced, so that `clear` works on a file that travelled
NOTE_AUTHOR = "xlplugin"
NOTE_HEADER = "【xlplugin 审核】"
USER_NOTE_HEADER = "——原批注——"
FILLS = {ERROR: "FFC7CE", WARNING: "FFEB9C"}
RELATED_FILLS = {ERROR: "FDE9EC", WARNING: "FFF6D9"}  # lighter: the other side of a broken equation
COLUMNS = ["序号", "级别", "规则", "表", "单元格", "说明", "期望值", "实际值", "差额"]
LINK_COLUMN = COLUMNS.index("单元格")
MESSAGE_COLUMN = COLUMNS.index("说明")  # wraps on the 审核结果 sheet
RESULT_WIDTHS = [6, 12, 7, 30, 34, 90, 14, 14, 12]  # of COLUMNS on the 审核结果 sheet
UNDO_TEXT_LIMIT = 30_000  # characters of cell addresses per undo cell (Excel keeps 32,767 per cell)


_SOLID_RGB = re.compile(r'patternType="solid".*?rgb="[0-9A-Fa-f]{2}([0-9A-Fa-f]{6})"', re.S)


def stored_fill_rgb(stored: object) -> str | None:
    """RRGGBB of the solid fill an undo row recorded, None for no (or a non-solid) fill.

    The openpyxl writer records the fill's XML, the xlwings writer rgb:RRGGBB, none or unknown."""
    text = str(stored or "")
    if text.startswith("rgb:"):
        return text[4:]
    found = _SOLID_RGB.search(text) if text.startswith("<") else None
    return found.group(1) if found else None


@dataclass
class CellMark:
    sheet: str
    cell: str
    severity: str
    related: bool  # marked only because a finding elsewhere read it
    notes: list[str] = field(default_factory=list)

    @property
    def fill(self) -> str:
        return (RELATED_FILLS if self.related else FILLS)[self.severity]

    @property
    def note(self) -> str:
        return "\n\n".join([NOTE_HEADER, *self.notes]) if self.notes else ""


@dataclass
class ResultRow:
    values: list[object]
    link: tuple[str, str] | None = None  # (sheet, cell) the 单元格 column jumps to


@dataclass
class MarkPlan:
    cells: dict[tuple[str, str], CellMark]
    head: list[list[object]]  # lines above the findings list: title, counts, tables not checked
    rows: list[ResultRow]  # the findings list (header row first)

    @property
    def header_row(self) -> int:
        """0-based row of the findings list's header on the 审核结果 sheet."""
        return len(self.head)


def sheet_reference(sheet: str, cell: str) -> str:
    """'Sheet'!A1 as a formula or a link writes it (a quote in the name is doubled)."""
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!{cell}"


def result_sheet_name(names: list[str]) -> str:
    """The name our result sheet takes beside the sheets `names`: 审核结果, or 审核结果1 … when a
    sheet of the user's is called so (Excel compares sheet names ignoring case)."""
    taken = {name.casefold() for name in names}
    name, number = RESULT_SHEET, 0
    while name.casefold() in taken:
        number += 1
        name = f"{RESULT_SHEET}{number}"
    return name


def may_be_result_sheet(name: str) -> bool:
    """A name our result sheet may have (result_sheet_name); whether it is ours, its first line says."""
    return _RESULT_NAME.fullmatch(name) is not None


def is_result_title(value: object) -> bool:
    return str(value or "").startswith(RESULT_TITLE)


_RESULT_NAME = re.compile(re.escape(RESULT_SHEET) + r"\d*")


def user_note(text: str) -> str:
    """The user's part of a note: all of it when xlplugin did not write it; of a note of ours, the
    lines the user added to it (a reply under a finding), "" when it is as xlplugin wrote it.
    The original note quoted below ours (USER_NOTE_HEADER) is left out: the undo sheet keeps it."""
    if not text.startswith(NOTE_HEADER):
        return text
    ours = text[len(NOTE_HEADER) :].partition(f"\n\n{USER_NOTE_HEADER}\n")[0]
    return "\n".join(line for line in ours.splitlines() if line.strip() and not _OUR_LINE.match(line))


_AMOUNTS_LINE = "期望值 {expected}；实际值 {actual}；差额 {difference}；允许尾差 {tolerance}"  # a note's second line (note_text)
_OUR_LINE = re.compile("|".join(re.escape(f"[{label}] ") for label in SEVERITY_LABEL.values()) + "|" + re.escape(_AMOUNTS_LINE.split("{")[0]))


def restored_note(original: str | None, current: str | None) -> str | None:
    """The note a cell gets back on clear: the note it had before the marks (`original`, None for
    none) with what the user wrote since in the note now there (`current`) kept, not lost."""
    later = user_note(current) if current else ""
    if not later or later == original:
        return original
    if original is None or original in later:
        return later
    return f"{original}\n\n{later}"


OUR_FILLS = frozenset(FILLS.values()) | frozenset(RELATED_FILLS.values())


def still_marked(fill_rgb: str | None, note: str | None) -> bool:
    """Does a cell carry a mark of ours: one of our fills, or a note that starts as ours?  Where
    an undo row's cell does not, the user moved it (inserted or deleted rows or columns, cut and
    pasted, renamed the sheet) after marking, and what that row recorded belongs elsewhere."""
    return (fill_rgb or "").upper() in OUR_FILLS or (note or "").startswith(NOTE_HEADER)


def stray_note(text: str) -> str | None:
    """A note of ours found away from the cells the undo sheet names (its cell was moved): what
    the cell gets back, the original note we quoted under ours and the lines the user added."""
    quoted = text.partition(f"\n\n{USER_NOTE_HEADER}\n")[2] or None
    return restored_note(quoted, text)


@dataclass
class Cleared:
    """What `clear` could not put back as the undo sheet recorded it."""

    moved: list[str] = field(default_factory=list)  # 'sheet'!A1 recorded, where no mark of ours is now
    swept: list[str] = field(default_factory=list)  # cells elsewhere whose note of ours was taken off

    def warning(self) -> str:
        """What the user reads ('' when every mark was where it was recorded)."""
        if not self.moved:
            return ""
        shown = "、".join(self.moved[:10]) + (f" 等 {len(self.moved)} 处" if len(self.moved) > 10 else "")
        found = f"在其他单元格找到的 {len(self.swept)} 条 xlplugin 批注已去掉（原有批注保留），这些单元格的底色已清除；" if self.swept else ""
        return (
            f"注意：有 {len(self.moved)} 处标注已不在标注时的单元格（标注后插入或删除了行列、剪切移动了单元格或改了工作表名）。"
            f"这些位置没有按记录恢复，以免改动别的单元格：{shown}。{found}"
            "没有批注的浅色底色（相关单元格）无法自动找到，请在这些位置附近检查并手动清除。"
        )


def undo_runs(cells: list[str], limit: int = UNDO_TEXT_LIMIT) -> list[list[str]]:
    """The addresses in runs whose space-joined text (one undo cell) stays within `limit` characters."""
    runs, current, size = [], [], 0
    for address in cells:
        if current and size + len(address) + 1 > limit:
            runs.append(current)
            current, size = [], 0
        current.append(address)
        size += len(address) + 1
    return runs + [current] if current else runs


def note_text(finding: Finding) -> str:
    """A finding in a note: every line starts as _OUR_LINE says, so that user_note can tell a
    line the user added (a line break in a cell's text quoted by the message becomes a space)."""
    message = " ".join(finding.message.splitlines())
    lines = [f"[{SEVERITY_LABEL[finding.severity]}] {finding.rule_id} {message}"]
    if finding.expected is not None:
        lines.append(
            _AMOUNTS_LINE.format(
                expected=money(finding.expected), actual=money(finding.actual), difference=money(finding.difference), tolerance=money(finding.tolerance)
            )
        )
    return "\n".join(lines)


def plan_marks(report: WorkbookReport) -> MarkPlan:
    findings = [f for f in report.findings if f.severity != INFO]
    cells: dict[tuple[str, str], CellMark] = {}
    rank = {ERROR: 0, WARNING: 1}
    for finding in findings:
        if not finding.cell:
            continue
        key = (finding.sheet, finding.cell)
        mark = cells.get(key)
        if mark is None:
            mark = cells[key] = CellMark(finding.sheet, finding.cell, finding.severity, False)
        elif rank[finding.severity] < rank[mark.severity]:
            mark.severity = finding.severity
        mark.notes.append(note_text(finding))
    for finding in findings:
        for ref in finding.related_cells:
            sheet, _, cell = ref.rpartition("!")
            key = (sheet, cell)
            if key in cells:
                if cells[key].related and rank[finding.severity] < rank[cells[key].severity]:
                    cells[key].severity = finding.severity
                continue
            cells[key] = CellMark(sheet, cell, finding.severity, True)
    return MarkPlan(cells, _head(report, findings), _rows(findings))


def _head(report: WorkbookReport, findings: list[Finding]) -> list[list[object]]:
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity == WARNING]
    head: list[list[object]] = [
        [f"{RESULT_TITLE}：{report.unit or report.path}（{report.year} 年度规则，执行 {report.rules_run} 条）"],
        [f"错误（强制，必须改正）{len(errors)} 个：{_per_table(errors)}"],
        [f"提示（须核实或说明）{len(warnings)} 个：{_per_table(warnings)}"],
    ]
    for name, reason in report.inspection.missing.items():
        head.append([f"未找到（未校验）：{name} — {reason}"])
    head.append([])
    return head


def _per_table(findings: list[Finding]) -> str:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.table or "工作簿"] = counts.get(finding.table or "工作簿", 0) + 1
    return "；".join(f"{name} {n}" for name, n in counts.items()) or "无"


def _rows(findings: list[Finding]) -> list[ResultRow]:
    rows = [ResultRow(list(COLUMNS))]
    for number, finding in enumerate(findings, start=1):
        where = f"{finding.sheet}!{finding.cell}" if finding.cell else ""
        rows.append(
            ResultRow(
                [
                    number,
                    SEVERITY_LABEL[finding.severity],
                    finding.rule_id,
                    finding.table,
                    where,
                    finding.message,
                    finding.expected,
                    finding.actual,
                    finding.difference,
                ],
                (finding.sheet, finding.cell) if finding.cell else None,
            )
        )
    return rows
