"""The upload page at / : choose a workbook, see the findings, download the annotated copy and reports.

One static page, no external assets: it posts the chosen file to the API each time it needs
something (the server keeps nothing), so it works on an intranet without the internet.
"""

UPLOAD_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>部门决算公开 九张表校验</title>
<style>
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px} .bar{margin:12px 0} button{font-size:14px;padding:4px 12px;margin-right:8px}
table{border-collapse:collapse;font-size:13px;margin-top:12px} th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2} tr.error td.sev{background:#FFC7CE} tr.warning td.sev{background:#FFEB9C}
#status{margin:10px 0;font-weight:bold} .muted{color:#666;font-size:13px}
</style></head><body>
<h1>部门决算公开 九张表校验</h1>
<p class="muted">选择本单位的决算公开工作簿（.xlsx / .xlsm），检查九张表的表内、表间勾稽关系、科目编码和空表说明。文件只在本次检查中使用，处理完即删除。</p>
<div class="bar">
  <input type="file" id="file" accept=".xlsx,.xlsm">
  <button id="check">校验</button>
  <label class="muted">访问令牌（如服务器要求）<input type="password" id="token" size="12"></label>
</div>
<div class="bar">
  <button id="annotated" disabled>下载标注文件</button>
  <button id="html" disabled>下载 HTML 报告</button>
  <button id="json" disabled>下载 JSON 报告</button>
  <a href="template.xlsx" id="template">下载九张表空白模板</a>
</div>
<div id="status"></div>
<table id="findings" hidden><thead><tr><th>序号</th><th>级别</th><th>规则</th><th>表</th><th>单元格</th><th>说明</th>
<th>期望值</th><th>实际值</th><th>差额</th></tr></thead><tbody></tbody></table>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var labels = {error: "错误（强制）", warning: "提示", info: "信息"};
  $("token").value = localStorage.getItem("xlplugin-token") || "";
  function headers() {
    var t = $("token").value;
    if (/[^!-~]/.test(t)) throw new Error("访问令牌只能由英文字母、数字和英文标点组成，请检查（non-ASCII token）");
    localStorage.setItem("xlplugin-token", t);
    return t ? {"X-Token": t} : {};
  }
  function form() { var f = new FormData(); f.append("file", $("file").files[0]); return f; }
  function failed(response) {
    return response.json().then(function (body) { throw new Error(body.detail || response.statusText); },
                                function () { throw new Error(response.statusText); });
  }
  function money(v) { return v === null || v === undefined ? "" : v.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 3}); }
  // The server names each download (the suffix of an annotated copy follows its content: .xlsx or .xlsm).
  function savedName(response) {
    var named = /filename\\*=UTF-8''([^;]+)/i.exec(response.headers.get("Content-Disposition") || "");
    return named ? decodeURIComponent(named[1]) : "下载";
  }
  // Fetched with the token (a plain link cannot send it), then saved from memory.
  function download(path, withFile) {
    $("status").textContent = "正在生成……";
    Promise.resolve().then(function () {
      var request = withFile ? {method: "POST", body: form(), headers: headers()} : {headers: headers()};
      return fetch(path, request);
    }).then(function (r) {
      if (!r.ok) return failed(r);
      return r.blob().then(function (blob) {
        var name = savedName(r), a = document.createElement("a");
        a.href = URL.createObjectURL(blob); a.download = name;
        document.body.appendChild(a); a.click(); a.remove(); $("status").textContent = "已下载：" + name;
      });
    }).catch(function (e) { $("status").textContent = "出错：" + e.message; });
  }
  function forget() {  // another file chosen (or none): the findings on screen were of the last one
    document.querySelector("#findings tbody").innerHTML = "";
    $("findings").hidden = true;
    $("status").textContent = "";
    ["annotated", "html", "json"].forEach(function (id) { $(id).disabled = true; });
  }
  $("file").addEventListener("change", forget);
  $("check").addEventListener("click", function () {
    if (!$("file").files.length) { $("status").textContent = "请先选择工作簿。"; return; }
    forget();
    $("status").textContent = "正在校验……";
    Promise.resolve().then(function () {
      return fetch("api/validate", {method: "POST", body: form(), headers: headers()});
    }).then(function (r) {
      if (!r.ok) return failed(r);
      return r.json().then(function (report) {
        var s = report.summary, body = document.querySelector("#findings tbody");
        report.findings.forEach(function (f, i) {
          var tr = document.createElement("tr"); tr.className = f.severity;
          [i + 1, labels[f.severity], f.rule_id, f.table, f.cell ? f.sheet + "!" + f.cell : "", f.message,
           money(f.expected), money(f.actual), money(f.difference)].forEach(function (text, j) {
            var td = document.createElement("td"); td.textContent = text; if (j === 1) td.className = "sev"; tr.appendChild(td); });
          body.appendChild(tr);
        });
        $("findings").hidden = false;
        $("status").textContent = "校验完成：错误 " + s.errors + " 个，提示 " + s.warnings + " 个" + (s.errors ? "，未通过。" : "，通过。");
        ["annotated", "html", "json"].forEach(function (id) { $(id).disabled = false; });
      });
    }).catch(function (e) { $("status").textContent = "出错：" + e.message; });
  });
  $("annotated").addEventListener("click", function () { download("api/annotate", true); });
  $("html").addEventListener("click", function () { download("api/report?format=html", true); });
  $("json").addEventListener("click", function () { download("api/report?format=json", true); });
  $("template").addEventListener("click", function (event) { event.preventDefault(); download("template.xlsx", false); });
})();
</script>
</body></html>
"""
