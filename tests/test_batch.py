"""Batch runs: folders and globs, all cores, a Dask cluster, one summary and one combined report."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import layouts
import openpyxl
import pytest
from conftest import ONE_ERROR, SAMPLE, binary_workbook, opendocument_spreadsheet, run_cli, sample_with

from xlplugin.batch import Options, expand_inputs, pool_size, run_many, summary_table
from xlplugin.marks import RESULT_SHEET
from xlplugin.workbook import validate_workbook


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A 财政局's inbox: units' workbooks in sub-folders, one broken, one unreadable, noise files."""
    root = tmp_path_factory.mktemp("inbox")
    (root / "区直" / "人社").mkdir(parents=True)
    (root / "街道").mkdir()
    shutil.copy(SAMPLE, root / "区直" / "人社" / "人社局.xlsx")
    sample_with(root / "区直" / "财政局.xlsx", ONE_ERROR)
    layouts.build("shanghai", root / "街道" / "某街道.xlsx")
    layouts.build("yuan", root / "街道" / "卫生院.xlsm")
    (root / "街道" / "损坏.xlsx").write_text("不是工作簿", encoding="utf-8")
    (root / "街道" / "~$某街道.xlsx").write_bytes(b"lock file")  # Excel's lock file: not a workbook to check
    (root / "说明.docx").write_bytes(b"")
    return root


def test_a_folder_is_searched_recursively(folder):
    found = [Path(p).relative_to(folder).as_posix() for p in expand_inputs([str(folder)])]
    assert found == ["区直/人社/人社局.xlsx", "区直/财政局.xlsx", "街道/卫生院.xlsm", "街道/损坏.xlsx", "街道/某街道.xlsx"]
    assert expand_inputs([str(folder / "**" / "*.xlsm")]) == [str(folder / "街道" / "卫生院.xlsm")]


def test_a_folder_or_pattern_that_finds_nothing_beside_others_is_pointed_out(folder, tmp_path):
    """A mistyped pattern next to other inputs must not leave its units out without a word."""
    empty = tmp_path / "空文件夹"
    empty.mkdir()
    typo = str(folder / "街道" / "*.xslx")
    result = run_cli("validate", str(folder / "区直" / "人社"), str(empty), typo)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"xlplugin: 提示：「{empty}」中没有找到工作簿（no workbooks found）", f"xlplugin: 提示：「{typo}」中没有找到工作簿（no workbooks found）"]


def test_the_batch_goes_on_past_a_bad_file_and_sums_up(folder):
    result = run_cli("validate", str(folder), "--jobs", "2")
    assert result.returncode == 2
    assert "损坏.xlsx: 不是 Excel 工作簿" in result.stderr
    table = result.stdout.strip().splitlines()[-7:]
    assert table[0] == "序号\t工作簿\t单位\t错误\t提示\t状态"
    rows = {Path(line.split("\t")[1]).name: line.split("\t") for line in table[1:-1]}
    assert rows["财政局.xlsx"][3:] == ["2", "1", "未通过"]
    assert rows["人社局.xlsx"][2:] == ["乌鲁木齐市水磨沟区人力资源和社会保障局", "0", "0", "通过"]
    assert rows["损坏.xlsx"][5].startswith("无法读取：不是 Excel 工作簿")
    assert rows["卫生院.xlsm"][5] == "通过"
    assert table[-1] == "共 5 个工作簿：通过 3 个，未通过 1 个，无法读取 1 个"


def test_the_summary_table_is_written_for_excel_and_wps(folder, tmp_path):
    """The reviewer's list of units, to sort, filter and pass on: .xlsx, or .csv that Excel opens in Chinese."""
    import csv

    table = tmp_path / "汇总" / "审核汇总.xlsx"
    result = run_cli("validate", str(folder), "--summary", str(table))
    assert result.returncode == 2 and f"已写出汇总表：{table}" in result.stderr
    printed = result.stdout.strip().splitlines()[-7:]
    sheet = openpyxl.load_workbook(table).active
    values = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0] == printed[0].split("\t") and values[-1][0] == printed[-1] == "共 5 个工作簿：通过 3 个，未通过 1 个，无法读取 1 个"
    assert [[str(v) for v in row] for row in values[1:6]] == [line.split("\t") for line in printed[1:6]]
    assert next(row for row in values if str(row[1]).endswith("财政局.xlsx"))[3:5] == [2, 1]  # numbers, to sort by
    assert sheet.auto_filter.ref == "A1:F6"
    plain = tmp_path / "审核汇总.csv"
    assert run_cli("validate", str(folder), "--summary", str(plain)).returncode == 2
    assert plain.read_bytes().startswith("\ufeff序号,工作簿".encode("utf-8"))  # the BOM: Excel then reads UTF-8
    with plain.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream))[1:6] == [line.split("\t") for line in printed[1:6]]
    wrong = run_cli("validate", str(folder), "--summary", str(tmp_path / "汇总.txt"))
    assert wrong.returncode == 2 and "--summary 只能写入 .xlsx 或 .csv 文件" in wrong.stderr


def _json(folder: Path, *extra: str) -> dict:
    result = run_cli("validate", str(folder), "--format", "json", *extra)
    assert result.returncode == 2
    assert "共 5 个工作簿" in result.stderr  # the summary goes to stderr when stdout is the report
    return json.loads(result.stdout)


def test_all_cores_give_the_same_combined_report_as_one_process(folder):
    one = _json(folder, "--jobs", "1")
    many = _json(folder, "--jobs", "2")
    assert one == many
    assert [Path(w["path"]).name for w in one["workbooks"]] == ["人社局.xlsx", "财政局.xlsx", "卫生院.xlsm", "某街道.xlsx"]


def test_annotate_dir_in_a_batch(folder, tmp_path):
    out = tmp_path / "标注"
    result = run_cli("validate", str(folder / "区直"), "--annotate-dir", str(out), "--jobs", "2")
    assert result.returncode == 1
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx")) == ["人社/人社局.xlsx", "财政局.xlsx"]


def test_annotated_copies_of_files_named_alike_do_not_overwrite_each_other(tmp_path):
    """Units often name their files alike: each copy keeps its sub-folder inside --annotate-dir; a
    second run with that folder inside the inputs (found by the folder or by a pattern) does not
    check the copies of the first, nor the summary table kept beside the workbooks."""
    inbox = tmp_path / "各单位"
    (inbox / "甲单位").mkdir(parents=True)
    (inbox / "乙单位").mkdir()
    shutil.copy(SAMPLE, inbox / "甲单位" / "2024年决算公开.xlsx")
    sample_with(inbox / "乙单位" / "2024年决算公开.xlsx", ONE_ERROR)
    out = inbox / "标注"
    for inputs in (inbox, inbox, inbox / "**" / "*.xlsx"):
        result = run_cli("validate", str(inputs), "--annotate-dir", str(out), "--summary", str(inbox / "审核汇总.xlsx"), "--jobs", "2")
        assert result.returncode == 1, result.stdout
        assert result.stdout.strip().splitlines()[-1] == "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"
    copies = {p.relative_to(out).as_posix(): p for p in out.rglob("*.xlsx")}
    assert sorted(copies) == ["乙单位/2024年决算公开.xlsx", "甲单位/2024年决算公开.xlsx"]
    summaries = {name: str(openpyxl.load_workbook(p)[RESULT_SHEET]["A2"].value) for name, p in copies.items()}
    assert summaries["甲单位/2024年决算公开.xlsx"].startswith("错误（强制，必须改正）0 个")
    assert summaries["乙单位/2024年决算公开.xlsx"].startswith("错误（强制，必须改正）2 个")


def test_no_report_or_summary_is_written_over_a_units_workbook(tmp_path):
    """-o or --summary naming a workbook (a slip of the tab key) is refused before any work, and the
    workbook is left as it was; a summary table of an earlier run may be replaced."""
    inbox = tmp_path / "各单位"
    inbox.mkdir()
    unit = sample_with(inbox / "乙单位.xlsx", ONE_ERROR)
    shutil.copy(SAMPLE, inbox / "甲单位.xlsx")
    before = unit.read_bytes()
    for option in (["--summary", str(unit)], ["-o", str(unit), "--format", "json"], ["-o", str(tmp_path / "新报告.xlsx")]):
        result = run_cli("validate", str(inbox), *option)
        assert result.returncode == 2, option
        assert "would overwrite a workbook" in result.stderr and result.stdout == ""
    no_suffix = tmp_path / "乙单位工作簿"  # a file given by name is read whatever its suffix
    shutil.copy(unit, no_suffix)
    result = run_cli("validate", str(no_suffix), "-o", str(no_suffix))
    assert result.returncode == 2 and f"{no_suffix}: -o 不能写到要校验的文件上（would overwrite an input）" in result.stderr
    assert unit.read_bytes() == no_suffix.read_bytes() == before
    assert not (tmp_path / "新报告.xlsx").exists()
    summary = inbox / "汇总.xlsx"
    for _ in range(2):
        result = run_cli("validate", str(inbox), "--summary", str(summary))
        assert result.returncode == 1 and result.stdout.strip().splitlines()[-1] == "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"


def test_what_a_search_finds_leaves_out_lock_files_and_earlier_summaries(tmp_path):
    """Excel's ~$ lock file beside a workbook someone has open is no unit: a search passes over it,
    and one named by the shell's *.xlsx is skipped with a word.  The summary table of an earlier run
    under another name is not checked as a unit either (with one word), found by a folder, by a
    pattern (whose folders are searched) or named.  A file reached twice is checked once."""
    inbox = tmp_path / "各单位"
    (inbox / "街道").mkdir(parents=True)
    shutil.copy(SAMPLE, inbox / "甲单位.xlsx")
    sample_with(inbox / "街道" / "乙单位.xlsx", ONE_ERROR)
    lock = inbox / "~$甲单位.xlsx"
    lock.write_bytes(b"\x08zhangsan" + b" " * 100)
    result = run_cli("validate", str(inbox / "甲单位.xlsx"), str(lock))  # as a shell expands *甲单位.xlsx
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"xlplugin: 提示：跳过 {lock}：Excel 或 WPS 的锁定文件（有人正打开对应的工作簿），不是工作簿\n"
    earlier = tmp_path / "上次汇总.xlsx"
    assert run_cli("validate", str(inbox), "--summary", str(earlier)).returncode == 1
    old = inbox / "汇总（旧）.xlsx"
    shutil.copy(earlier, old)
    word = f"xlplugin: 提示：跳过 {old}：xlplugin 写出的汇总表，不是单位的工作簿"
    units = [str(inbox / "甲单位.xlsx"), str(inbox / "街道" / "乙单位.xlsx")]
    shell = sorted(str(p) for p in inbox.glob("*.xlsx"))  # as a shell expands *.xlsx: the old summary named too
    for arguments in ([str(inbox)], [str(inbox / "**")], [*shell, str(inbox / "街道")], [str(inbox), units[0]]):
        result = run_cli("validate", *arguments)
        assert result.returncode == 1, (arguments, result.stderr)
        assert result.stderr.splitlines().count(word) == 1, arguments  # once, though ** matches every folder
        assert [line.split("\t")[1] for line in result.stdout.splitlines()[-3:-1]] == units, arguments
        assert result.stdout.strip().splitlines()[-1] == "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"
    assert run_cli("validate", str(old)).returncode == 2  # nothing else to check: said so


def test_a_shells_list_may_name_the_summary_table_it_writes(tmp_path):
    """`validate *.xlsx --summary 汇总.xlsx` run twice: the second time the shell names the summary
    of the first among the inputs; it is replaced, not checked as a unit, nor refused as an input."""
    inbox = tmp_path / "各单位"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / "甲单位.xlsx")
    sample_with(inbox / "乙单位.xlsx", ONE_ERROR)
    for run in range(2):
        shell = sorted(str(p) for p in inbox.glob("*.xlsx"))
        result = run_cli("validate", *shell, "--summary", str(inbox / "汇总.xlsx"))
        assert result.returncode == 1, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"
        assert ("（本次更新它）" in result.stderr) == (run == 1)
    assert len(openpyxl.load_workbook(inbox / "汇总.xlsx").active["A"]) == 5  # header, two units, blank, totals


def test_a_scheduler_that_cannot_be_used_is_said_in_one_line(folder, tmp_path, monkeypatch):
    """Not installed, a mistyped address, nothing listening: one line and exit code 2, no traceback
    (and not exit code 1, "errors found" to CI)."""
    import os
    import socket
    import subprocess
    import sys

    from click.testing import CliRunner

    import xlplugin.batch
    from xlplugin.cli import main

    mistyped = run_cli("validate", str(folder), "--scheduler", "10.0.0.5")
    assert mistyped.returncode == 2 and "Traceback" not in mistyped.stderr
    assert mistyped.stderr.strip() == "xlplugin: 错误：无法连接 Dask 集群 10.0.0.5（cannot reach the scheduler）：missing port number in address '10.0.0.5'"
    hidden = tmp_path / "without_dask" / "dask"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("No module named dask")\n', encoding="utf-8")
    command = [sys.executable, "-m", "xlplugin.cli", "validate", str(folder), "--scheduler", "tcp://127.0.0.1:8786"]
    bare = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(hidden.parent)})
    assert bare.returncode == 2 and 'pip install "xlplugin[cluster]"' in bare.stderr and "Traceback" not in bare.stderr
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(xlplugin.batch, "SCHEDULER_TIMEOUT", 1)
    unreachable = CliRunner().invoke(main, ["validate", str(folder), "--scheduler", address])
    assert unreachable.exit_code == 2, unreachable.output
    assert f"xlplugin: 错误：无法连接 Dask 集群 {address}（cannot reach the scheduler）：" in unreachable.output


def test_workers_started_as_windows_starts_them_give_the_same_report(folder, tmp_path):
    """Windows has no fork: each worker process is spawned and imports everything afresh, so what a
    chunk needs must travel with it.  Linux forks by default, so CI would not see a break there."""
    import subprocess
    import sys

    code = (
        "import multiprocessing, sys\n"
        "multiprocessing.set_start_method('spawn')\n"
        "from xlplugin.cli import main\n"
        "sys.argv = ['xlplugin', *sys.argv[1:]]\n"
        "main()\n"
    )
    out = tmp_path / "标注"
    arguments = ["validate", str(folder), "--format", "json", "--jobs", "2", "--annotate-dir", str(out)]
    spawned = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, timeout=300)
    assert spawned.returncode == 2, spawned.stderr
    assert json.loads(spawned.stdout) == _json(folder, "--jobs", "2")
    assert len(list(out.rglob("*.xls*"))) == 4  # the readable ones, annotated by the spawned workers


def _collector_probe(report, source, target, options):
    """Stands for batch._annotate in forked workers: notes whether the cycle collector is on."""
    import gc

    with open(options.annotate_to + ".probe", "a", encoding="utf-8") as note:
        note.write(f"{gc.isenabled()}\n")
    return None, ""


def test_worker_processes_annotate_with_the_collector_on(folder, tmp_path, monkeypatch):
    """The workers are forked while the command has the collector paused: without it, a worker
    never freed the cycles of openpyxl's workbooks, and --annotate-dir grew it by about 0.2 MB a
    workbook (460 MB each after 1,500 workbooks, against 112 without annotating)."""
    import xlplugin.batch as batch

    monkeypatch.setattr(batch, "_annotate", _collector_probe)  # the forked workers inherit it
    out = tmp_path / "标注"
    run_many(expand_inputs([str(folder)]), Options(annotate_to=str(out), annotate_dir=True), jobs=2)
    assert Path(str(out) + ".probe").read_text(encoding="utf-8").split() == ["True"] * 4


def test_on_a_dask_cluster(folder):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        on_cluster = _json(folder, "--scheduler", cluster.scheduler_address)
    assert on_cluster == _json(folder, "--jobs", "1")


def test_on_a_dask_cluster_relative_paths_mean_the_callers_folder(tmp_path, monkeypatch):
    """A worker runs in a folder of its own (on another machine, the same shared paths): a relative
    input, --annotate-dir and --rules are the caller's, as on this machine's cores."""
    distributed = pytest.importorskip("distributed")
    work, elsewhere = tmp_path / "审核", tmp_path / "worker"
    (work / "各单位").mkdir(parents=True)
    elsewhere.mkdir()
    sample_with(work / "各单位" / "甲.xlsx", ONE_ERROR)
    shutil.copy(SAMPLE, work / "各单位" / "乙.xlsx")
    rules = (Path(__file__).parent.parent / "xlplugin" / "data" / "2024" / "rules.toml").read_text(encoding="utf-8")
    at = rules.index('id = "X-8"')
    (work / "规则.toml").write_text(rules[:at] + rules[at:].replace('severity = "warning"', 'severity = "error"', 1), encoding="utf-8")
    arguments = ["validate", "各单位", "--format", "json", "--rules", "规则.toml", "--annotate-dir", "标注"]
    here = run_cli(*arguments, "--jobs", "1", cwd=work)
    assert here.returncode == 1, here.stderr
    shutil.rmtree(work / "标注")
    monkeypatch.chdir(elsewhere)  # the workers start here
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        monkeypatch.undo()
        there = run_cli(*arguments, "--scheduler", cluster.scheduler_address, cwd=work)
    assert there.returncode == 1, there.stderr
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert "X-8" in {f["rule_id"] for w in json.loads(there.stdout)["workbooks"] for f in w["findings"] if f["severity"] == "error"}
    assert sorted(p.name for p in (work / "标注").glob("*.xlsx")) == ["乙.xlsx", "甲.xlsx"] and not list(elsewhere.rglob("*.xlsx"))
    written = sorted(line for line in there.stderr.splitlines() if line.startswith("已写出标注文件："))
    assert written == sorted(line for line in here.stderr.splitlines() if line.startswith("已写出标注文件：")) == [
        "已写出标注文件：标注/乙.xlsx", "已写出标注文件：标注/甲.xlsx"]  # as the command named them, on either path


def test_on_dask_a_workbook_that_kills_every_worker_takes_only_itself(folder):
    """Dask restarts a died worker and retries its task elsewhere; a workbook that kills every
    worker ends in KilledWorker: its chunk then runs as one task per workbook."""
    distributed = pytest.importorskip("distributed")
    from faults import AbortOn

    paths = expand_inputs([str(folder)])
    normal = {Path(o.path).name: o for o in run_many(paths, Options(), jobs=1)}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            client.register_plugin(AbortOn("财政局.xlsx"))
            outcomes = run_many(paths, Options(), scheduler=cluster.scheduler_address)
    _only_that_one_died(outcomes, paths, normal, "财政局.xlsx")


def test_nothing_to_check_is_a_clear_error(tmp_path):
    result = run_cli("validate", str(tmp_path / "*.xlsx"))
    assert result.returncode == 2 and "没有找到要校验的工作簿" in result.stderr


def _only_that_one_died(outcomes: list, paths: list[str], normal: dict, name: str) -> None:
    """The batch went on: `name` is reported as not checked, every other workbook as without the fault."""
    got = {Path(o.path).name: o for o in outcomes}
    assert [o.path for o in outcomes] == paths
    assert got[name].report is None and got[name].internal
    assert "处理此文件的进程意外退出（worker crashed）" in got[name].error
    for other, outcome in got.items():
        if other != name:
            assert (outcome.error, outcome.report and _findings(outcome)) == (normal[other].error, normal[other].report and _findings(normal[other]))


def _findings(outcome) -> list[tuple[str, str, str, str]]:
    return [(f.rule_id, f.sheet, f.cell, f.message) for f in outcome.report.findings]


def test_a_bug_met_on_one_workbook_does_not_stop_the_batch(folder, tmp_path, monkeypatch):
    """Fault injection: no input is known to break the engine (each one found was fixed), so a
    recognition bug, a validation bug and an annotation bug are put on one workbook each."""
    import xlplugin.marks
    import xlplugin.rules.validate
    import xlplugin.tables.recognize

    paths = expand_inputs([str(folder)])
    options = Options(annotate_to=str(tmp_path / "标注"), annotate_dir=True)
    normal = {Path(o.path).name: o for o in run_many(paths, options, jobs=1)}
    recognize, validate, plan = xlplugin.tables.recognize.recognize, xlplugin.rules.validate.validate_inspections, xlplugin.marks.plan_marks

    def recognize_bug(sheets, spec, path="", reader=""):
        if path.endswith("某街道.xlsx"):
            raise KeyError("某个表头")
        return recognize(sheets, spec, path, reader)

    def validate_bug(inspections, spec, rules, screened=None):
        if any(i.path.endswith("财政局.xlsx") for i in inspections):
            raise ZeroDivisionError("division by zero")
        return validate(inspections, spec, rules, screened)

    def plan_bug(report):
        if report.path.endswith("卫生院.xlsm"):
            raise IndexError("list index out of range")
        return plan(report)

    monkeypatch.setattr(xlplugin.tables.recognize, "recognize", recognize_bug)
    monkeypatch.setattr(xlplugin.rules.validate, "validate_inspections", validate_bug)
    monkeypatch.setattr(xlplugin.marks, "plan_marks", plan_bug)
    outcomes = run_many(paths, Options(annotate_to=str(tmp_path / "再标注"), annotate_dir=True), jobs=1)
    got = {Path(o.path).name: o for o in outcomes}
    for name, error in (("某街道.xlsx", "KeyError: '某个表头'"), ("财政局.xlsx", "ZeroDivisionError: division by zero")):
        assert got[name].report is None and got[name].internal
        assert got[name].error.startswith(f"{got[name].path}: 程序内部错误（internal error），本文件未能检查")
        assert error in got[name].error and ".py:" in got[name].error  # the place, for the developers
    assert got["卫生院.xlsm"].annotated == "" and "IndexError" in got["卫生院.xlsm"].error
    assert _findings(got["卫生院.xlsm"]) == _findings(normal["卫生院.xlsm"])  # its findings stand
    assert _findings(got["人社局.xlsx"]) == _findings(normal["人社局.xlsx"])  # validated alone after the chunk failed
    assert got["人社局.xlsx"].annotated and not got["人社局.xlsx"].error
    assert "不是 Excel 工作簿" in got["损坏.xlsx"].error and not got["损坏.xlsx"].internal
    table = summary_table(outcomes).splitlines()
    rows = {Path(line.split("\t")[1]).name: line.split("\t") for line in table[1:-1]}
    assert rows["某街道.xlsx"][5].startswith("未能检查：程序内部错误")
    assert rows["损坏.xlsx"][5].startswith("无法读取：不是 Excel 工作簿")
    assert table[-1] == "共 5 个工作簿：通过 2 个，未通过 0 个，无法读取 1 个，程序内部错误未能检查 2 个"


def test_a_panic_in_the_native_reader_takes_only_its_workbook(folder, monkeypatch):
    """python-calamine is Rust: pyo3 raises a panic as PanicException, a BaseException that passes
    every `except Exception`; met on one workbook, it stopped the whole batch.  No file is known
    to cause one (19 kinds of damaged sheet XML each gave an ordinary error), so it is injected."""
    import xlplugin.io.readers

    class PanicException(BaseException):  # as pyo3 defines it
        pass

    paths = expand_inputs([str(folder)])
    normal = {Path(o.path).name: o for o in run_many(paths, Options(), jobs=1)}
    read = xlplugin.io.readers.read_workbook

    def panics_on_one(path, reader="calamine"):
        if str(path).endswith("某街道.xlsx"):
            raise PanicException("called `Option::unwrap()` on a `None` value")
        return read(path, reader)

    monkeypatch.setattr(xlplugin.io.readers, "read_workbook", panics_on_one)
    got = {Path(o.path).name: o for o in run_many(paths, Options(), jobs=1)}
    assert got["某街道.xlsx"].report is None and got["某街道.xlsx"].internal
    assert "PanicException: called `Option::unwrap()` on a `None` value" in got["某街道.xlsx"].error
    for name in ("人社局.xlsx", "财政局.xlsx", "卫生院.xlsm"):
        assert _findings(got[name]) == _findings(normal[name])

    def interrupted(path, reader="calamine"):
        raise KeyboardInterrupt

    monkeypatch.setattr(xlplugin.io.readers, "read_workbook", interrupted)
    with pytest.raises(KeyboardInterrupt):  # Ctrl+C still stops the batch
        run_many(paths, Options(), jobs=1)


def test_a_worker_process_that_dies_takes_only_its_workbook_with_it(folder, monkeypatch):
    """Fault injection: a native crash (os.abort, as python-calamine aborts when it cannot allocate)
    on one workbook, inside a worker process (forked, so the injected fault is there too)."""
    import faulthandler
    import os

    import xlplugin.tables.recognize

    paths = expand_inputs([str(folder)])
    normal = {Path(o.path).name: o for o in run_many(paths, Options(), jobs=1)}
    recognize = xlplugin.tables.recognize.recognize

    def abort_on_one(sheets, spec, path="", reader=""):
        if path.endswith("财政局.xlsx"):
            faulthandler.disable()  # pytest's traceback dump on SIGABRT would only be noise here
            os.abort()
        return recognize(sheets, spec, path, reader)

    monkeypatch.setattr(xlplugin.tables.recognize, "recognize", abort_on_one)
    outcomes = run_many(paths, Options(), jobs=2)
    _only_that_one_died(outcomes, paths, normal, "财政局.xlsx")
    assert summary_table(outcomes).splitlines()[-1] == "共 5 个工作簿：通过 3 个，未通过 0 个，无法读取 1 个，程序内部错误未能检查 1 个"


def test_a_pool_never_asks_windows_for_more_processes_than_it_allows():
    """ProcessPoolExecutor refuses more than 61 workers on Windows (a 64-core server, or --jobs 100)."""
    from concurrent.futures import process

    assert pool_size(100, 500, "win32", cores=128) == process._MAX_WINDOWS_WORKERS == 61
    assert pool_size(100, 500, "linux", cores=128) == 100
    assert pool_size(100, 500, "linux", cores=2) == 2  # --jobs 100 on 2 cores: 2 processes, not 77
    assert pool_size(8, 3, "win32", cores=8) == 3 and pool_size(0, 0, "linux") == 1


def test_old_formats_in_a_folder_are_listed_as_unreadable_not_left_out(tmp_path):
    """A unit that sent .xls, WPS .et, .xlsb or .ods is in the summary with the way out, not silently skipped."""
    import xlwt

    shutil.copy(SAMPLE, tmp_path / "甲单位.xlsx")
    book = xlwt.Workbook()
    book.add_sheet("收入支出决算总表").write(0, 0, "收入支出决算总表")
    book.save(str(tmp_path / "乙单位.xls"))
    shutil.copy(tmp_path / "乙单位.xls", tmp_path / "丙单位.et")
    binary_workbook(tmp_path / "丁单位.xlsb")
    opendocument_spreadsheet(tmp_path / "戊单位.ods")
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 2
    rows = {Path(line.split("\t")[1]).name: line.split("\t")[5] for line in result.stdout.strip().splitlines()[-6:-1]}
    assert len(rows) == 5
    assert rows["甲单位.xlsx"] == "通过"
    assert rows["乙单位.xls"].startswith("无法读取：旧版 .xls 格式不受支持（legacy .xls），请在 Excel 或 WPS 中另存为 .xlsx")
    assert rows["丙单位.et"].startswith("无法读取：WPS 表格 .et 格式不受支持（WPS .et），请在 WPS 中另存为 .xlsx")
    assert rows["丁单位.xlsb"].startswith("无法读取：Excel 二进制工作簿 .xlsb 格式不受支持（.xlsb）")
    assert rows["戊单位.ods"].startswith("无法读取：OpenDocument 表格 .ods 格式不受支持（.ods）")


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_batch_soon_with_exit_130(tmp_path, presses):
    """Ctrl+C in a terminal reaches every process of the batch: the command drops the chunks not
    started, each worker stops at its next workbook (not at the end of the chunks it holds), the
    command says it was interrupted (no traceback) and exits 130, not 1 (1 means "errors found" to
    a CI pipeline), and no worker process is left behind.  A second Ctrl+C while it stops changes
    nothing (it once hung the command for good)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    inbox, out = tmp_path / "各单位", tmp_path / "标注"
    inbox.mkdir()
    for i in range(300):
        shutil.copy(SAMPLE, inbox / f"单位{i:03d}.xlsx")
    command = [sys.executable, "-m", "xlplugin.cli", "validate", str(inbox), "--jobs", "2", "--annotate-dir", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and any(out.glob("*.xlsx"))) and time.monotonic() < deadline:  # a copy, not the folder's mark
        time.sleep(0.01)
    for _ in range(presses):
        os.killpg(process.pid, signal.SIGINT)  # as a terminal sends Ctrl+C: to the whole process group
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (130, -signal.SIGINT), stderr  # a press while Python ends its exit: its default, as a shell's 130
    assert "已中断（interrupted）" in stderr and "Traceback" not in stderr and "Exception ignored" not in stderr
    assert len(list(out.glob("*.xlsx"))) < 38  # chunks of 38 here: not even the chunks in hand were finished
    time.sleep(0.5)
    assert _running_in_group(process.pid) == []  # no process of the batch is left


def test_a_second_ctrl_c_ends_a_batch_whose_worker_does_not_stop(tmp_path):
    """A worker stuck in one workbook (a slow share, a huge file) does not reach its next one: the
    first Ctrl+C then waits for it, and the second ends the command at once, workers and all."""
    import os
    import signal
    import subprocess
    import sys
    import time

    inbox = tmp_path / "各单位"
    inbox.mkdir()
    for i in range(40):
        shutil.copy(SAMPLE, inbox / f"单位{i:02d}.xlsx")
    started = tmp_path / "卡住了"
    code = (  # the workers are forked from this process (fork: Python 3.14 starts them otherwise): they read 单位05.xlsx for ever
        "import multiprocessing, sys, time, xlplugin.io.readers as readers\n"
        "multiprocessing.set_start_method('fork')\n"
        "read = readers.read_workbook\n"
        "def stuck(path, reader='calamine'):\n"
        "    if str(path).endswith('单位05.xlsx'):\n"
        f"        open({str(started)!r}, 'w').close()\n"
        "        time.sleep(3600)\n"
        "    return read(path, reader)\n"
        "readers.read_workbook = stuck\n"
        "from xlplugin.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, "validate", str(inbox), "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(1)
    assert process.poll() is None  # waiting for the stuck worker
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "再按一次 Ctrl+C 立即结束" in stderr and "已立即结束（killed）" in stderr and "Traceback" not in stderr
    time.sleep(0.5)
    assert _running_in_group(process.pid) == []  # the stuck worker went too


def _running_in_group(group: int) -> list[int]:
    """The processes of a process group that still run (a killed one may stay a zombie until
    init reaps it, which a container's first process may never do)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            running.append(int(stat.parent.name))
    return running


def test_ctrl_c_before_the_batch_starts_exits_130_too(monkeypatch):
    """While the command still imports and looks for the inputs, Ctrl+C is not click's "Aborted!"
    with exit code 1."""
    from click.testing import CliRunner

    from xlplugin import batch
    from xlplugin.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "expand_inputs", interrupted)
    result = CliRunner().invoke(main, ["validate", str(SAMPLE)])
    assert result.exit_code == 130 and result.output.strip() == "xlplugin: 已中断（interrupted）"


def test_a_missing_input_is_named_as_the_user_typed_it(tmp_path):
    """`nosuchdir/` beside a workbook: the summary names it once, as typed, with the reason."""
    result = run_cli("validate", "没有这个文件夹/", str(SAMPLE), cwd=tmp_path)
    assert result.returncode == 2
    assert "xlplugin: 错误：没有这个文件夹/: 文件不存在（file not found）" in result.stderr.splitlines()
    assert result.stdout.splitlines()[-3].split("\t") == ["1", "没有这个文件夹/", "", "", "", "无法读取：文件不存在（file not found）"]


def test_a_file_name_with_control_characters_cannot_forge_lines(tmp_path):
    """A name with a newline, a tab or \\x01 (a unit's file, or one a pull request adds) is shown
    with escapes: in a CI log a raw newline would start a workflow command of its own (::error),
    a tab breaks the summary table, and a worksheet refuses \\x01 (the summary .xlsx crashed)."""
    inbox = tmp_path / "各单位"
    inbox.mkdir()
    forged = inbox / "甲\n::error title=伪造::伪造\t\x01.xlsx"
    sample_with(forged, ONE_ERROR)
    shutil.copy(SAMPLE, inbox / "乙.xlsx")
    shown = str(forged).replace("\n", "\\n").replace("\t", "\\t").replace("\x01", "\\x01")
    ran = validate_workbook(forged).rules_run
    for fmt in ("text", "github"):
        result = run_cli("validate", str(inbox), "--format", fmt, "--summary", str(tmp_path / "汇总.xlsx"))
        assert result.returncode == 1, result.stderr
        lines = (result.stdout + result.stderr).splitlines()
        assert not any(line.startswith("::error title=伪造") for line in lines), fmt
        assert f"合计：{shown} — 错误 2 个，提示 1 个，尾差信息 7 条（加 --show-info 查看），执行规则 {ran} 条：未通过" in lines
        assert [line.split("\t")[1] for line in lines if line.startswith(("1\t", "2\t"))] == [str(inbox / "乙.xlsx"), shown]
    rows = list(openpyxl.load_workbook(tmp_path / "汇总.xlsx").active.iter_rows(min_row=2, max_row=3, values_only=True))
    assert [row[1] for row in rows] == [str(inbox / "乙.xlsx"), shown]


def test_a_search_follows_linked_folders_and_reports_broken_links(tmp_path):
    """A folder search goes into linked folders (each real folder once, though a link points back
    up), names a file by its own path rather than a link's, and lists a broken link as unreadable
    instead of passing over it without a word."""
    inbox = tmp_path / "各单位"
    (inbox / "区直").mkdir(parents=True)
    (tmp_path / "街道").mkdir()
    shutil.copy(SAMPLE, inbox / "区直" / "甲.xlsx")
    sample_with(tmp_path / "街道" / "乙.xlsx", ONE_ERROR)
    (inbox / "街道").symlink_to(tmp_path / "街道", target_is_directory=True)  # kept elsewhere, linked in
    (inbox / "区直" / "上级").symlink_to(inbox, target_is_directory=True)  # a loop
    (inbox / "甲的链接.xlsx").symlink_to(inbox / "区直" / "甲.xlsx")
    (inbox / "丙.xlsx").symlink_to(tmp_path / "已删除.xlsx")
    (inbox / "街道2").mkdir()
    shutil.copy(SAMPLE, inbox / "街道2" / "丁.xlsx")
    (inbox / "区直" / "捷径").symlink_to(inbox / "街道2", target_is_directory=True)  # met first, walked after the real folders
    found = expand_inputs([str(inbox)])
    assert found == [str(inbox / "丙.xlsx"), str(inbox / "区直" / "甲.xlsx"), str(inbox / "街道" / "乙.xlsx"), str(inbox / "街道2" / "丁.xlsx")]
    result = run_cli("validate", str(inbox))
    assert result.returncode == 2
    assert result.stdout.strip().splitlines()[-5:] == [
        f"1\t{inbox / '丙.xlsx'}\t\t\t\t无法读取：这是一个链接，它指向的文件不存在（broken link）",
        f"2\t{inbox / '区直' / '甲.xlsx'}\t乌鲁木齐市水磨沟区人力资源和社会保障局\t0\t0\t通过",
        f"3\t{inbox / '街道' / '乙.xlsx'}\t乌鲁木齐市水磨沟区人力资源和社会保障局\t2\t1\t未通过",
        f"4\t{inbox / '街道2' / '丁.xlsx'}\t乌鲁木齐市水磨沟区人力资源和社会保障局\t0\t0\t通过",
        "共 4 个工作簿：通过 2 个，未通过 1 个，无法读取 1 个",
    ]


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_a_workbook_saved_under_an_old_extension_is_read_by_its_content(tmp_path, reader):
    """An .xlsx named 单位.xls (renamed by hand, or by a mail system) is a package all the same:
    both readers took the name's word for it and failed with an English parser error."""
    renamed = tmp_path / "单位.xls"
    shutil.copy(sample_with(tmp_path / "单位.xlsx", ONE_ERROR), renamed)
    result = run_cli("validate", str(renamed), "--reader", reader, "--format", "json", "--annotate", str(tmp_path / "标注.xls"))
    assert result.returncode == 1, result.stderr
    found = json.loads(result.stdout)["workbooks"][0]["findings"]
    assert sorted(f["rule_id"] for f in found if f["severity"] != "info") == ["H-1", "H-4", "X-8"]
    assert openpyxl.load_workbook(io.BytesIO((tmp_path / "标注.xls").read_bytes())).sheetnames[0] == RESULT_SHEET


def test_annotated_copies_in_the_inbox_are_no_units_on_a_later_run(tmp_path):
    """--annotate-dir inside the inbox marks its folder: later runs over the inbox (any options,
    a pattern too) leave the copies out; named directly, the copies are checked."""
    inbox = tmp_path / "各单位"
    (inbox / "甲").mkdir(parents=True)
    (inbox / "乙").mkdir()
    shutil.copy(SAMPLE, inbox / "甲" / "决算.xlsx")
    sample_with(inbox / "乙" / "决算.xlsx", ONE_ERROR)
    assert run_cli("validate", str(inbox), "--annotate-dir", str(inbox / "标注")).returncode == 1
    assert len(list((inbox / "标注").rglob("*.xlsx"))) == 2
    two = "共 2 个工作簿：通过 1 个，未通过 1 个，无法读取 0 个"
    for given in (str(inbox), str(inbox / "**" / "*.xlsx"), str(inbox / "*" / "*.xlsx"), str(inbox / "*")):
        later = run_cli("validate", given, "--summary", str(tmp_path / "汇总.csv"))
        assert later.stdout.strip().splitlines()[-1] == two, given
    assert run_cli("validate", str(inbox / "标注")).stdout.strip().splitlines()[-1] == two


def test_annotate_dir_cannot_be_the_inbox_itself(tmp_path):
    inbox = tmp_path / "各单位"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / "决算.xlsx")
    result = run_cli("validate", str(inbox), "--annotate-dir", str(inbox))
    assert result.returncode == 2 and "--annotate-dir 不能是要检查的文件夹" in result.stderr
    assert [p.name for p in inbox.iterdir()] == ["决算.xlsx"]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_folder_that_cannot_be_opened_is_reported_not_left_out():
    """A sub-folder the reviewer may not read: its units are not silently missing from the batch."""
    import stat
    import subprocess
    import sys
    import tempfile

    as_user: list[str] = []
    if os.geteuid() == 0:  # root reads every folder: run the command as nobody
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root")
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    top = Path(tempfile.mkdtemp(prefix="xlplugin-closed-"))
    try:
        top.chmod(0o755)
        inbox = top / "各单位"
        (inbox / "甲").mkdir(parents=True)
        (inbox / "乙").mkdir()
        shutil.copy(SAMPLE, inbox / "甲" / "决算.xlsx")
        shutil.copy(SAMPLE, inbox / "乙" / "决算.xlsx")
        for path in (inbox, inbox / "甲", inbox / "甲" / "决算.xlsx"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (inbox / "乙").chmod(0)
        result = subprocess.run([*as_user, sys.executable, "-m", "xlplugin.cli", "validate", str(inbox)], capture_output=True, text=True, timeout=120, cwd=top)
        assert result.returncode == 2, result.stderr
        assert f"{inbox / '乙'}: 无法打开文件夹（cannot open folder）" in result.stderr
        assert result.stdout.strip().splitlines()[-1] == "共 2 个工作簿：通过 1 个，未通过 0 个，无法读取 1 个"
    finally:
        (top / "各单位" / "乙").chmod(stat.S_IRWXU)
        shutil.rmtree(top)


@pytest.fixture
def quick_scheduler_timeout(monkeypatch):
    import xlplugin.batch

    monkeypatch.setattr(xlplugin.batch, "SCHEDULER_TIMEOUT", 2)


def test_a_port_that_is_no_scheduler_is_said_in_one_line(folder):
    """The dashboard's port (8787 for 8786) keeps the handshake waiting; a service that speaks
    first (ssh) sends bytes Dask reads as a message of exabytes: both a SchedulerError in seconds.
    In a process of its own: the client left waiting would trouble the clusters of later tests."""
    import socket
    import subprocess
    import sys
    import threading
    import time

    pytest.importorskip("distributed")
    code = (
        "import sys, xlplugin.batch as batch\n"
        "batch.SCHEDULER_TIMEOUT = 2\n"
        "try:\n"
        "    batch.run_many(sys.argv[2:], batch.Options(), scheduler=sys.argv[1])\n"
        "except batch.SchedulerError as error:\n"
        "    print(error)\n"
        "    sys.exit(3)\n"
    )
    for greeting in (b"", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        held = []

        def serve(server=server, greeting=greeting, held=held) -> None:
            with contextlib.suppress(OSError):
                while True:
                    connection, _ = server.accept()
                    held.append(connection)
                    if greeting:
                        connection.sendall(greeting)

        threading.Thread(target=serve, daemon=True).start()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        start = time.monotonic()
        result = subprocess.run([sys.executable, "-c", code, address, *expand_inputs([str(folder)])], capture_output=True, text=True, timeout=120)
        assert result.returncode == 3, result.stderr
        assert result.stdout.startswith(f"无法连接 Dask 集群 {address}（cannot reach the scheduler）：")
        assert time.monotonic() - start < 30
        server.close()
        for connection in held:
            connection.close()


def test_a_scheduler_without_workers_or_one_that_goes_away(folder, quick_scheduler_timeout):
    from xlplugin.batch import SchedulerError

    distributed = pytest.importorskip("distributed")
    paths = expand_inputs([str(folder)])
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        with pytest.raises(SchedulerError, match="上没有可用的 worker"):
            run_many(paths, Options(), scheduler=cluster.scheduler_address)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)

    def lost(done: int, total: int) -> None:  # the scheduler goes after the first chunk's results
        cluster.close()

    with pytest.raises(SchedulerError, match="的连接中断（scheduler lost）"):
        run_many(paths * 20, Options(), scheduler=cluster.scheduler_address, progress=lost)


def test_a_pattern_with_double_star_visits_each_folder_once(tmp_path):
    """Links pointing back up: glob's ** followed them ~40 levels deep, and with two of them ran
    for ever.  A file is named by its own folders."""
    import time

    inbox = tmp_path / "单位"
    (inbox / "a").mkdir(parents=True)
    (inbox / "b").mkdir()
    shutil.copy(SAMPLE, inbox / "a" / "甲.xlsx")
    shutil.copy(SAMPLE, inbox / "b" / "乙.xlsx")
    (inbox / "a" / "回到上级").symlink_to(inbox, target_is_directory=True)
    (inbox / "b" / "到a").symlink_to(inbox / "a", target_is_directory=True)
    start = time.monotonic()
    for pattern in (str(inbox / "**" / "*.xlsx"), str(inbox / "**")):
        assert expand_inputs([pattern]) == [str(inbox / "a" / "甲.xlsx"), str(inbox / "b" / "乙.xlsx")], pattern
    assert expand_inputs([str(inbox / "**" / "乙.xlsx")]) == [str(inbox / "b" / "乙.xlsx")]
    assert expand_inputs([str(tmp_path / "**" / "a" / "*.xlsx")]) == [str(inbox / "a" / "甲.xlsx")]
    assert time.monotonic() - start < 10


def test_ctrl_c_while_the_workers_start_stops_the_batch():
    """Ctrl+C in the split second the worker pool starts had been ignored, and the batch ran to its end."""
    import multiprocessing
    import signal
    from concurrent.futures import ProcessPoolExecutor

    from xlplugin.batch import _CtrlC, _worker_start

    stop = multiprocessing.get_context().Event()
    pool = ProcessPoolExecutor(max_workers=1, initializer=_worker_start, initargs=(stop,))
    before = signal.getsignal(signal.SIGINT)
    ctrl_c = _CtrlC(pool, stop)
    try:
        ctrl_c.ignored()
        future = pool.submit(sum, [1, 2])
        os.kill(os.getpid(), signal.SIGINT)  # pressed while the worker starts
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.heard()
        assert stop.is_set() and future.result(timeout=60) == 3  # the worker was not interrupted
    finally:
        signal.signal(signal.SIGINT, before)
        pool.shutdown()
