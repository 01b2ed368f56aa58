"""A self-contained HTML report: no network, readable offline, filters by severity, table and rule.

The page opens with one line per workbook (in the order given, numbered as the summary table; a
checkbox keeps only the failing ones; a workbook's name links to its findings), then each
workbook's tables folded, then the findings.  The findings are embedded as JSON (written one
workbook at a time: see report/__init__.py) and drawn by a small inline script, so one file
holds everything; the page is static text plus that script.  The script draws the rows
that pass the filters 500 at a time (a button draws more), so that a report of a
thousand workbooks opens in seconds.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import quote

from .. import __version__
from ..model import ERROR, INFO, SEVERITY_LABEL, WARNING, NotChecked, WorkbookReport
from ..text import printable
from .findings import shown, verdict_of

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xlplugin 审核报告</title>
<style>
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222}
h1{font-size:22px} h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f2f2f2} td.num{text-align:right;white-space:nowrap}
tr.error td.sev{background:#FFC7CE} tr.warning td.sev{background:#FFEB9C} tr.info td.sev{background:#e8f0fe}
.ok{color:#2e7d32}.bad{color:#c62828}.filters label{margin-right:16px}
.filters select{font-size:13px} #count{margin-left:12px;color:#555}
details{margin:6px 0} summary{cursor:pointer;font-weight:bold} #overview.failing tr.pass{display:none}
</style></head><body>
<h1>xlplugin 审核报告</h1>
<p>xlplugin __VERSION__ · __COUNT__ 个工作簿 · 错误 __ERRORS__ 个 · 提示 __WARNINGS__ 个__NOT_CHECKED__</p>
<h2>各工作簿结论</h2>
<p class="filters"><label><input type="checkbox" id="only-failing"> 只看未通过和未能检查的</label></p>
<table id="overview"><thead><tr><th>序号</th><th>工作簿</th><th>单位</th><th>错误</th><th>提示</th><th>结论</th></tr></thead><tbody>
__OVERVIEW__
</tbody></table>
<h2>各工作簿分表情况</h2>
__SUMMARY__
<h2 id="list">问题清单</h2>
<div class="filters">
<label>工作簿 <select id="f-workbook"><option value="">全部</option></select></label>
<label>级别 <select id="f-severity"><option value="">全部</option></select></label>
<label>表 <select id="f-table"><option value="">全部</option></select></label>
<label>规则 <select id="f-rule"><option value="">全部</option></select></label>
<span id="count"></span>
</div>
<table id="findings"><thead><tr><th>工作簿</th><th>级别</th><th>规则</th><th>表</th><th>单元格</th><th>说明</th>
<th>期望值</th><th>实际值</th><th>差额</th><th>允许尾差</th></tr></thead><tbody></tbody></table>
<button id="more" type="button" style="display:none">再显示 500 条</button>
<script type="application/json" id="data">__DATA__</script>
<script>
(function(){
  var data = JSON.parse(document.getElementById("data").textContent);
  var labels = {error: "错误（强制）", warning: "提示", info: "信息"};
  var filters = {workbook: "f-workbook", severity: "f-severity", table: "f-table", rule_id: "f-rule"};
  // the option of findings with no table (a workbook as a whole): "" is 全部
  var NONE = "-", WHOLE = "（工作簿整体）";
  function value(f, key) { return f[key] === "" ? NONE : f[key]; }
  function options(key, id) {
    var seen = {}, select = document.getElementById(id);
    data.forEach(function (f) {
      var v = value(f, key);
      if (!seen[v]) { seen[v] = 1; var o = document.createElement("option");
        o.value = v; o.textContent = key === "severity" ? labels[v] : v === NONE ? WHOLE : v; select.appendChild(o); }
    });
    select.addEventListener("change", function () { toHash(); draw(); });
  }
  function money(v) { return v === null || v === undefined ? "" : v.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 3}); }
  // rows are drawn a page at a time: a batch of a thousand workbooks can list a hundred thousand findings
  var PAGE = 500, matching = [], drawn = 0;
  function draw() {
    matching = data.filter(function (f) {
      for (var key in filters) { var v = document.getElementById(filters[key]).value; if (v && value(f, key) !== v) return false; }
      return true;
    });
    document.querySelector("#findings tbody").innerHTML = ""; drawn = 0; more();
  }
  function more() {
    var body = document.querySelector("#findings tbody"), rows = document.createDocumentFragment();
    matching.slice(drawn, drawn + PAGE).forEach(function (f) {
      var tr = document.createElement("tr"); tr.className = f.severity;
      [f.workbook, labels[f.severity], f.rule_id, f.table, f.cell ? f.sheet + "!" + f.cell : "", f.message,
       money(f.expected), money(f.actual), money(f.difference), money(f.tolerance)].forEach(function (text, i) {
        var td = document.createElement("td"); td.textContent = text;
        if (i === 1) td.className = "sev"; if (i >= 6) td.className = "num"; tr.appendChild(td); });
      rows.appendChild(tr);
    });
    body.appendChild(rows); drawn = Math.min(drawn + PAGE, matching.length);
    var rest = matching.length - drawn;
    document.getElementById("count").textContent = "显示 " + drawn + " / " + data.length + " 条" +
      (rest ? "，符合条件的还有 " + rest + " 条" : "");
    document.getElementById("more").style.display = rest ? "" : "none";
  }
  document.getElementById("more").addEventListener("click", more);
  for (var key in filters) options(key, filters[key]);
  // a link presets the filters: report.html#severity=error&table=…; a workbook in the overview links to its findings
  function fromHash() {
    var preset = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var kv = pair.split("="), key = decodeURIComponent(kv[0] || ""), id = filters[key === "rule" ? "rule_id" : key];
      if (id) preset[id] = decodeURIComponent(kv[1] || "");
    });
    for (var key in filters) document.getElementById(filters[key]).value = preset[filters[key]] || "";
  }
  // the filters chosen by hand go into the address, so that a link to other filters changes it
  function toHash() {
    var pairs = [];
    for (var key in filters) { var v = document.getElementById(filters[key]).value;
      if (v) pairs.push((key === "rule_id" ? "rule" : key) + "=" + encodeURIComponent(v)); }
    history.replaceState(null, "", pairs.length ? "#" + pairs.join("&") : location.pathname + location.search);
  }
  window.addEventListener("hashchange", function () {
    fromHash(); draw(); document.getElementById("list").scrollIntoView();
  });
  document.getElementById("only-failing").addEventListener("change", function () {
    document.getElementById("overview").className = this.checked ? "failing" : "";
  });
  fromHash();
  draw();
})();
</script>
</body></html>
"""


def write_html(reports: list[WorkbookReport], out: TextIO, show_info: bool = False, not_checked: Sequence[NotChecked] = ()) -> None:
    top, rest = _PAGE.split("__OVERVIEW__")
    middle, rest = rest.split("__SUMMARY__")
    lower, bottom = rest.split("__DATA__")
    out.write(
        top.replace("__VERSION__", html.escape(__version__))
        .replace("__COUNT__", str(len(reports) + len(not_checked)))
        .replace("__ERRORS__", str(sum(r.count(ERROR) for r in reports)))
        .replace("__WARNINGS__", str(sum(r.count(WARNING) for r in reports)))
        .replace("__NOT_CHECKED__", f' · <span class="bad">未能检查 {len(not_checked)} 个</span>' if not_checked else "")
    )
    for number, item in _in_input_order(reports, not_checked):
        if isinstance(item, NotChecked):
            out.write(
                f'<tr class="fail"><td class="num">{number}</td><td>{_shown(item.path)}</td><td></td><td></td><td></td>'
                f'<td><span class="bad">{item.status}</span>：{_shown(item.problem)}</td></tr>\n'
            )
        else:
            out.write(_overview_row(number, item, show_info))
    out.write(middle)
    for number, report in enumerate(reports):
        out.write(("\n" if number else "") + _summary(report, show_info, opened=len(reports) == 1))
    out.write(lower + "[")
    separator = ""
    for report in reports:  # one workbook's rows at a time: one call of the json module's C encoder each
        rows = [{"workbook": report.path, **finding.as_dict()} for finding in shown(report, show_info)]
        if rows:  # no "<" inside the <script> element: "</script>" would end it, "<!--<script>" hide its end
            out.write(separator + _script_safe(json.dumps(rows, ensure_ascii=False)[1:-1]))
            separator = ","
    out.write("]" + bottom)


def _script_safe(text: str) -> str:
    """JSON text with <, > and & as JSON escapes (the same text when parsed).  str.replace, not
    str.translate: on Chinese text translate took 3.35 s for a 53 MB page, replace 0.08 s."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _in_input_order(reports: list[WorkbookReport], not_checked: Sequence[NotChecked]) -> list[tuple[int, WorkbookReport | NotChecked]]:
    """(number, input) in the order given, numbered as the summary table numbers them: the inputs
    not checked know their place and the reports fill the others."""
    total = len(reports) + len(not_checked)
    places = {item.number: item for item in not_checked}
    rest = iter(reports)
    return [(number, places[number] if number in places else next(rest)) for number in range(1, total + 1)]


def _overview_row(number: int, report: WorkbookReport, show_info: bool) -> str:
    """One workbook in the overview; its name links to its findings (the list's workbook filter)."""
    errors, warnings = report.count(ERROR), report.count(WARNING)
    path = _shown(report.path)
    if shown(report, show_info):
        path = f'<a href="#workbook={html.escape(quote(report.path, safe=""))}">{path}</a>'
    verdict = _verdict(report)
    return (
        f'<tr class="{"fail" if report.fails() else "pass"}"><td class="num">{number}</td><td>{path}</td><td>{_shown(report.unit or "—")}</td>'
        f'<td class="num">{errors}</td><td class="num">{warnings}</td><td>{verdict}</td></tr>\n'
    )


def _shown(text: str) -> str:
    """Text from a file name or a cell, as the page shows it: escaped, control characters visible."""
    return html.escape(printable(text))


def _verdict(report: WorkbookReport) -> str:
    return f'<span class="{"bad" if report.fails() else "ok"}">{verdict_of(report)}</span>'


def _summary(report: WorkbookReport, show_info: bool, opened: bool) -> str:
    errors, warnings = report.count(ERROR), report.count(WARNING)
    verdict = _verdict(report)
    head = f"<details{' open' if opened else ''}><summary>{_shown(report.path)}（{_shown(report.unit or '单位未注明')}，{report.year} 年度）{verdict}</summary>"
    lines = ["<table><thead><tr><th>表</th><th>工作表 / 范围</th><th>错误</th><th>提示</th>"
             + ("<th>信息</th>" if show_info else "") + "</tr></thead><tbody>"]
    for name, table in report.inspection.tables.items():
        found = [f for f in report.findings if f.table == name]
        where = f"{_shown(table.sheet)} {table.range}" if table else "未找到（未校验）"
        cells = [sum(f.severity == ERROR for f in found), sum(f.severity == WARNING for f in found)]
        if show_info:
            cells.append(sum(f.severity == INFO for f in found))
        lines.append(f"<tr><td>{html.escape(name)}</td><td>{where}</td>" + "".join(f'<td class="num">{n}</td>' for n in cells) + "</tr>")
    lines.append("</tbody></table>")
    rules = f"<p>执行规则 {report.rules_run} 条；错误 {errors} 个，提示 {warnings} 个（{SEVERITY_LABEL[ERROR]}须改正，提示须核实或说明）。</p>"
    return head + "\n".join(lines) + rules + "</details>"
