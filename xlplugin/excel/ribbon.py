"""The 决算校验 ribbon tab's buttons, as Python entry points.

Every button of the add-in calls one VBA sub, which runs
`xlplugin.excel.ribbon.on_ribbon(<button id>)` through xlwings' RunPython; the server
calls the same handlers on `xw.Book(json=...)`.  A handler never lets a traceback reach
the user: every outcome, failures included, is a Chinese message box saying what
happened and what to do; details of a failure go to ~/.xlplugin/xlplugin.log.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..io.readers import WorkbookReadError
from ..specs import DEFAULT_YEAR as YEAR
from .book import clear_book, insert_template, validate_book

TITLE = "决算校验"
LOG_FILE = Path.home() / ".xlplugin" / "xlplugin.log"
SUPPORT = "问题反馈：请联系本级财政局预算（决算）管理科室，或在 xlplugin 项目的问题跟踪中提交，并附上“审核结果”页截图和日志文件"


def validate(book: Any) -> str:
    report = validate_book(book, year=YEAR)
    errors, warnings = report.count("error"), report.count("warning")
    if len(report.inspection.missing) == len(report.inspection.tables):
        return (
            "没有在本工作簿中识别出任何一张决算表。\n请确认各表标题是标准表名（如“收入支出决算总表”，前面可带单位名称和年度），"
            "标题下方是表头；可先点“新建模板”查看标准格式。"
        )
    missing = "、".join(report.inspection.missing) or "无"
    verdict = "未发现错误。" if not errors else "请按批注逐项改正错误（浅红色单元格）。"
    return (
        f"校验完成：错误 {errors} 个，提示 {warnings} 个。{verdict}\n"
        f"问题单元格已着色并加批注，全部问题列在第一页“审核结果”中，点单元格地址可跳转。\n"
        f"未找到（未校验）的表：{missing}。改正后再点“校验”会替换旧标注；点“清除标记”可恢复原样。"
    )


def clear(book: Any) -> str:
    if clear_book(book):
        return "已清除 xlplugin 的标注：单元格底色和批注已恢复，“审核结果”页已删除。"
    return "本工作簿中没有 xlplugin 的标注，无需清除。"


def template(book: Any) -> str:
    from ..io.template import template_layouts
    from ..specs import load_year

    target = _new_book(book)
    added = insert_template(target, template_layouts(load_year(YEAR)))
    where = "新工作簿" if target is not book else "当前工作簿"
    return f"已在{where}中插入 {YEAR} 年度九张表模板（{len(added)} 个工作表）。请在“编制单位”行填写单位名称后录入数据。"


def about(book: Any) -> str:
    from ..rules.validate import load_rules

    rules = load_rules(YEAR)
    return (
        f"xlplugin {__version__} — 部门决算公开工作簿检查\n"
        f"规则：{YEAR} 年度，共 {len(rules)} 条（表内、表间勾稽，科目编码与名称，空表说明），"
        "来源为财政部部门决算公开格式与审核公式、各地公开模板，每条规则的出处见审核批注中的规则编号。\n"
        f"科目目录：{YEAR} 年政府收支分类科目（可替换为本地正式目录）。\n{SUPPORT}。"
    )


HANDLERS: dict[str, Callable[[Any], str]] = {
    "btnValidate": validate,
    "btnClear": clear,
    "btnTemplate": template,
    "btnAbout": about,
}


def on_ribbon(control_id: str, book: Any = None) -> str:
    """Run the button's handler on the calling workbook and show its message; returns the message."""
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    handler = HANDLERS.get(control_id)
    if handler is None:
        message = f"未知的按钮“{control_id}”。请重新安装 xlplugin 加载项。"
        mode = "critical"
    else:
        try:
            message, mode = handler(book), "info"
        except WorkbookReadError as error:  # the workbook, not the program: say what to change
            message, mode = f"操作未完成：{error.problem}。工作簿中的数据没有被修改。", "critical"
        except Exception:  # the user gets a message box, never a traceback
            _log_failure(control_id)
            message = (
                f"操作未完成：处理工作簿时出错（{control_id}）。工作簿中的数据没有被修改。\n"
                f"请保存后重试；如仍出错，请把日志文件 {LOG_FILE} 发给技术支持。\n{SUPPORT}。"
            )
            mode = "critical"
    _alert(book, message, mode)
    return message


def _alert(book: Any, message: str, mode: str) -> None:
    try:
        book.app.alert(message, title=TITLE, buttons="ok", mode=mode)
    except Exception:  # no way to show a box (e.g. a client without alerts): the message was still returned
        _log_failure("alert")


def _new_book(book: Any) -> Any:
    """Where the template goes: the current workbook when it is blank (the add-in opens a blank one when
    none is open) or remote (Office.js, server); otherwise a new workbook on the desktop."""
    if book.app.engine.name == "remote" or _is_blank(book):
        return book
    return book.app.books.add()


def _is_blank(book: Any) -> bool:
    return all(_blank(sheet) for sheet in book.sheets)


def _blank(sheet: Any) -> bool:
    used = sheet.used_range
    last = used.last_cell  # a used range past A1 is not blank: no need to read its values
    return (last.row, last.column) == (1, 1) and used.value in (None, "")


def _log_failure(what: str) -> None:
    """Append the failure's traceback to the log file (for support, not for the message box)."""
    try:
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        with LOG_FILE.open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} xlplugin {__version__}: {what} failed\n{traceback.format_exc()}\n")
    except OSError:
        pass
