"""`xlplugin validate` as CI pipelines and people use it: exit codes, the JSON contract, text, options."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import ONE_ERROR, SAMPLE, TEMPLATE, run_cli, sample_with

from xlplugin.specs import DATA_DIR, load_year

NAMES = load_year(2024).table_names
FINDING_KEYS = {"rule_id", "severity", "table", "sheet", "cell", "related_cells", "expected", "actual", "difference", "tolerance", "message"}


def _broken(tmp_path: Path) -> Path:
    return sample_with(tmp_path / "有错.xlsx", ONE_ERROR)


def test_the_sample_passes_with_exit_0():
    result = run_cli("validate", str(SAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"合计：{SAMPLE} — 错误 0 个，提示 0 个")
    assert "通过" in result.stdout


def test_json_has_exactly_the_contract_shape(tmp_path):
    result = run_cli("validate", str(_broken(tmp_path)), str(SAMPLE), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert set(data) == {"workbooks", "not_checked"} and data["not_checked"] == []
    broken, sample = data["workbooks"]
    for workbook in (broken, sample):
        assert set(workbook) == {"path", "unit", "year", "tables", "findings", "summary"}
        assert workbook["unit"] == "乌鲁木齐市水磨沟区人力资源和社会保障局" and workbook["year"] == 2024
        assert list(workbook["tables"]) == NAMES
        assert all(set(t) == {"sheet", "range"} for t in workbook["tables"].values())
        assert set(workbook["summary"]) == {"errors", "warnings", "infos", "rules_run"}
    assert sample["findings"] == [] and sample["summary"]["errors"] == 0 and sample["summary"]["infos"] == 7
    assert broken["summary"]["errors"] == len([f for f in broken["findings"] if f["severity"] == "error"]) > 0
    h4 = next(f for f in broken["findings"] if f["rule_id"] == "H-4")
    assert set(h4) == FINDING_KEYS
    assert h4["table"] == "一般公共预算财政拨款支出决算表" and h4["cell"] == "C10"
    assert h4["actual"] == 493.92 and h4["expected"] == 494.92 and h4["difference"] == -1.0 and h4["tolerance"] == 0.01
    assert "一般公共预算财政拨款支出决算表!D10" in h4["related_cells"]
    assert "493.92" in h4["message"] and "494.92" in h4["message"] and "-1.00" in h4["message"] and "0.01" in h4["message"]


def test_text_groups_by_table_with_errors_first(tmp_path):
    path = _broken(tmp_path)
    book = openpyxl.load_workbook(path)
    book["一般公共预算财政拨款支出决算表"]["E11"] = -1.0  # a warning (C-2) in the same table
    book.save(path)
    out = run_cli("validate", str(path)).stdout
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("【一般公共预算财政拨款支出决算表】")))
    group = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        group.append(line)
    severities = [line.split()[0] for line in group]
    assert severities == sorted(severities, key=lambda s: 0 if s.startswith("错误") else 1)
    assert any(line.startswith("  错误（强制） H-4 C10 ") for line in group)
    assert any(line.startswith("  提示 C-2 E11 ") for line in group)
    assert lines[-1].startswith(f"合计：{path} — 错误 ") and lines[-1].endswith("未通过")


def test_strict_counts_warnings(tmp_path):
    path = tmp_path / "空表无说明.xlsx"
    shutil.copy(TEMPLATE, path)
    assert run_cli("validate", str(path)).returncode == 0
    assert run_cli("validate", str(path), "--strict").returncode == 1


def test_show_info_lists_the_rounding_differences():
    hidden = run_cli("validate", str(SAMPLE), "--format", "json")
    shown = run_cli("validate", str(SAMPLE), "--format", "json", "--show-info")
    assert json.loads(hidden.stdout)["workbooks"][0]["findings"] == []
    infos = json.loads(shown.stdout)["workbooks"][0]["findings"]
    assert {f["rule_id"] for f in infos} >= {"T1-2", "H-3", "T4-2"} and {f["severity"] for f in infos} == {"info"}
    t12 = next(f for f in infos if f["rule_id"] == "T1-2")
    assert (t12["actual"], t12["expected"], t12["difference"], t12["tolerance"]) == (13580.78, 13580.77, 0.01, 0.02)


def test_an_unreadable_input_is_exit_2_and_the_others_are_still_validated(tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_text("不是工作簿", encoding="utf-8")
    result = run_cli("validate", str(bad), str(SAMPLE), "--format", "json")
    assert result.returncode == 2
    assert str(bad) in result.stderr and "not a workbook" in result.stderr
    assert [w["path"] for w in json.loads(result.stdout)["workbooks"]] == [str(SAMPLE)]


def test_output_file_is_written_and_the_workbook_is_not(tmp_path):
    path = _broken(tmp_path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    report = tmp_path / "报告" / "result.json"
    result = run_cli("validate", str(path), "--format", "json", "-o", str(report))
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(report.read_text(encoding="utf-8"))["workbooks"][0]["summary"]["errors"] > 0
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in report.parent.iterdir()) == ["result.json"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="Linux's /dev/full and RLIMIT_FSIZE stand in for a full disk")
def test_a_report_that_cannot_be_written_is_said_with_exit_code_2(tmp_path):
    """A full disk is not a traceback with exit code 1 (which CI reads as "errors found"), and the
    report written last time stays as it was."""
    command = [sys.executable, "-m", "xlplugin.cli", "validate", str(SAMPLE)]
    with open("/dev/full", "w") as full:  # every write fails: No space left on device
        inspect = [sys.executable, "-m", "xlplugin.cli", "inspect", str(SAMPLE)]
        for arguments in ([*command, "--format", "text"], [*command, "--format", "sarif"], inspect):
            result = subprocess.run(arguments, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith("xlplugin: 错误：标准输出（stdout）: 无法写入（cannot write）：磁盘已满（") and "Traceback" not in result.stderr
    report = tmp_path / "报告.html"
    report.write_text("上次的报告", encoding="utf-8")

    def small_disk() -> None:  # files may not grow past 4 KiB: the page is larger
        import resource  # POSIX only, like /dev/full

        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    result = subprocess.run([*command, "--format", "html", "-o", str(report)], capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"xlplugin: 错误：{report}: 无法写入（cannot write）：文件超过了允许的大小（") and "Traceback" not in result.stderr
    assert report.read_text(encoding="utf-8") == "上次的报告"
    assert [p.name for p in tmp_path.iterdir()] == [report.name]  # no half-written temporary left


def test_a_place_that_cannot_be_written_is_said_in_chinese(tmp_path):
    """The system says "File exists" when a folder on the way is a file: the user reads what is
    wrong in Chinese, the system's words in brackets."""
    blocker = tmp_path / "报告"
    blocker.write_text("一个文件，不是文件夹", encoding="utf-8")
    result = run_cli("validate", str(SAMPLE), "--format", "json", "-o", str(blocker / "结果.json"))
    assert result.returncode == 2
    assert result.stderr == f"xlplugin: 错误：{blocker / '结果.json'}: 无法写入（cannot write）：路径中有同名的文件，不能当作文件夹（File exists）\n"
    result = run_cli("validate", str(SAMPLE), "--annotate-dir", str(blocker / "标注"))
    assert result.returncode == 2
    assert f"{blocker / '标注' / SAMPLE.name}: 无法写入（cannot write）：路径中有一级是文件，不是文件夹（Not a directory）" in result.stderr


def test_ctrl_c_while_the_report_is_written_keeps_the_old_one_and_exits_130(tmp_path, monkeypatch):
    """A large batch's report takes seconds to write: Ctrl+C then is not "Aborted!" with exit code 1
    ("errors found" to CI), and the report written there before stays whole."""
    from click.testing import CliRunner

    import xlplugin.report
    from xlplugin.cli import main

    def interrupted(reports, fmt, out, show_info=False, not_checked=()):
        out.write('{"workbooks": [')
        raise KeyboardInterrupt

    monkeypatch.setattr(xlplugin.report, "write", interrupted)
    report = tmp_path / "结果.json"
    report.write_text("上次的报告", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(SAMPLE), "--format", "json", "-o", str(report)])
    assert result.exit_code == 130, result.output
    assert "已中断（interrupted）：报告没有写完" in result.output and "Aborted!" not in result.output
    assert report.read_text(encoding="utf-8") == "上次的报告" and [p.name for p in tmp_path.iterdir()] == [report.name]


def test_ctrl_c_while_the_summary_is_written_keeps_the_old_report_too(tmp_path, monkeypatch):
    """-o had been replaced before the --summary table was written: Ctrl+C then left a new report
    beside the old summary, under a message saying that both were as they had been."""
    from click.testing import CliRunner

    import xlplugin.report.summary
    from xlplugin.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    report, summary = tmp_path / "结果.json", tmp_path / "汇总.xlsx"
    command = ["validate", str(SAMPLE), "--format", "json", "-o", str(report), "--summary", str(summary)]
    assert CliRunner().invoke(main, command).exit_code == 0  # last time's summary, then last time's report
    last = summary.read_bytes()
    report.write_text("上次的报告", encoding="utf-8")
    monkeypatch.setattr(xlplugin.report.summary, "_xlsx", interrupted)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 130 and "保持原样" in result.output, result.output
    assert report.read_text(encoding="utf-8") == "上次的报告" and summary.read_bytes() == last
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([report.name, summary.name])


def test_a_users_rules_file_can_relevel_a_rule(tmp_path):
    text = (DATA_DIR / "2024" / "rules.toml").read_text(encoding="utf-8")
    relaxed = re.sub(r'(id = "H-4"\n(?:title = .*\n)?)severity = "error"', r'\1severity = "warning"', text)
    assert relaxed != text
    rules = tmp_path / "rules.toml"
    rules.write_text(relaxed, encoding="utf-8")
    path = _broken(tmp_path)
    default = json.loads(run_cli("validate", str(path), "--format", "json").stdout)["workbooks"][0]["findings"]
    custom = run_cli("validate", str(path), "--format", "json", "--rules", str(rules))
    found = json.loads(custom.stdout)["workbooks"][0]["findings"]
    assert next(f for f in default if f["rule_id"] == "H-4")["severity"] == "error"
    assert next(f for f in found if f["rule_id"] == "H-4")["severity"] == "warning"


def test_a_message_placeholder_without_a_value_stays_as_written(tmp_path):
    """A user's rules file may name a placeholder the check does not fill: the message keeps it
    as written ({备注}) instead of failing the run."""
    text = (DATA_DIR / "2024" / "rules.toml").read_text(encoding="utf-8")
    start = text.index('id = "H-4"')
    message = text.index("message = ", start)
    changed = text[:message] + 'message = "{table} 第 {row} 行 {备注}：' + text[message + len('message = "') :]
    rules = tmp_path / "rules.toml"
    rules.write_text(changed, encoding="utf-8")
    result = run_cli("validate", str(_broken(tmp_path)), "--format", "json", "--rules", str(rules))
    found = json.loads(result.stdout)["workbooks"][0]["findings"]
    message = next(f for f in found if f["rule_id"] == "H-4")["message"]
    assert "{备注}" in message and "{table}" not in message and "{row}" not in message


def test_a_bad_rules_file_is_named(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "Z-1"\nseverity = "fatal"\nkind = "sum"\nmessage = "x"\nsource = "y"\n', encoding="utf-8")
    result = run_cli("validate", str(SAMPLE), "--rules", str(rules))
    assert result.returncode == 2 and str(rules) in result.stderr and "Z-1" in result.stderr


def test_a_workbook_without_any_table_gets_an_error_per_table_and_a_hint(tmp_path):
    path = tmp_path / "空白.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "本单位 2024 年度部门决算"
    book.save(path)
    result = run_cli("validate", str(path), "--format", "json")
    assert result.returncode == 1
    findings = json.loads(result.stdout)["workbooks"][0]["findings"]
    assert sorted(f["table"] for f in findings if f["rule_id"] == "G-1" and f["table"]) == sorted(NAMES)
    assert any("没有识别出任何一张表" in f["message"] for f in findings)
