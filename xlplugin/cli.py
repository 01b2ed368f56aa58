"""The `xlplugin` command line: inspect a workbook, write the nine-sheet template.

Exit codes: 0 done; 2 an input could not be read (one line on stderr naming the file
and the problem).  Everything the user reads is in Chinese.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click

from . import __version__
from .collector import paused
from .specs import DEFAULT_YEAR
from .text import os_problem, printable

_YEAR = click.option("--year", type=int, default=DEFAULT_YEAR, show_default=True, help="规则与表样年度")
_CATALOG = click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="使用自己的政府收支分类科目 CSV（code,name 列），可多次给出",
)


class _Commands(click.Group):
    """Ctrl+C anywhere in a command (even while it imports or looks for the inputs) exits 130 with a
    word in Chinese, as a shell expects: click's own "Aborted!" exits 1, "errors found" to a CI."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nxlplugin: 已中断（interrupted）", err=True)
            sys.exit(130)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlplugin")
def main() -> None:
    """部门决算公开工作簿检查工具（九张表）。"""
    for stream in (sys.stdout, sys.stderr):
        _able_to_write_any_text(stream)


@main.command()
@click.argument("workbook", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
@click.option("--reader", type=click.Choice(["calamine", "openpyxl"]), default="calamine", show_default=True, help="读取引擎")
@_YEAR
@_CATALOG
def inspect(workbook: str, fmt: str, reader: str, year: int, catalogs: tuple[str, ...]) -> None:
    """识别工作簿中的九张表：所在工作表、单元格范围、金额单位、行与列。不会修改文件。"""
    with paused(freeze=True):  # a command's imports: see collector.py
        from .io.readers import WorkbookReadError
        from .report.inspect import inspection_json, inspection_text
        from .specs import SpecError
        from .workbook import inspect_workbook

    try:
        result = inspect_workbook(workbook, reader=reader, year=year, catalogs=catalogs)
    except (WorkbookReadError, SpecError) as error:
        _fail(str(error))
    with _writing(None):
        if fmt == "json":
            _utf8(sys.stdout)
            click.echo(json.dumps(inspection_json(result), ensure_ascii=False, indent=2))
        else:
            click.echo(inspection_text(result))


@main.command()
@click.argument("workbooks", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "sarif", "html", "github"]),
    default="text",
    show_default=True,
    help="报告格式：text、json、junit（JUnit XML）、sarif（SARIF 2.1.0）、html（单个离线网页）、github（GitHub Actions 注释）",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, readable=False), help="把报告写入文件（默认输出到屏幕）")
@click.option("--reader", type=click.Choice(["calamine", "openpyxl"]), default="calamine", show_default=True, help="读取引擎")
@_YEAR
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False), help="使用自己的规则文件（TOML，格式同 data/<年度>/rules.toml）")
@_CATALOG
@click.option("--strict", is_flag=True, help="提示（warning）也视为不通过：有提示时退出码为 1")
@click.option("--show-info", is_flag=True, help="同时列出在允许尾差内的差异（info）")
@click.option("--annotate", "annotate_to", type=click.Path(dir_okay=False), help="写出标注后的副本（单个工作簿）：问题单元格着色并加批注，首页为“审核结果”")
@click.option("--annotate-dir", type=click.Path(file_okay=False), help="把每个工作簿的标注副本写到该文件夹（同名，子文件夹结构与原文件相同）")
@click.option("--in-place", is_flag=True, help="直接标注原文件（旁边保留 .bak 备份）")
@click.option("--allow-loss", is_flag=True, help="即使工作簿含有写入时会丢失的内容（图表、图片等）也写出标注文件")
@click.option("--summary", "summary_to", type=click.Path(dir_okay=False, readable=False), help="把汇总表（每个工作簿的单位、错误数、提示数、状态）写入 .xlsx 或 .csv 文件，可用 Excel 或 WPS 打开")
@click.option("-j", "--jobs", type=int, default=0, help="同时校验的进程数（默认：本机全部核心）")
@click.option("--scheduler", default="", help="在已有的 Dask 集群上运行，例如 tcp://10.0.0.5:8786")
def validate(
    workbooks: tuple[str, ...],
    fmt: str,
    output: str | None,
    reader: str,
    year: int,
    rules_file: str | None,
    catalogs: tuple[str, ...],
    strict: bool,
    show_info: bool,
    annotate_to: str | None,
    annotate_dir: str | None,
    in_place: bool,
    allow_loss: bool,
    summary_to: str | None,
    jobs: int,
    scheduler: str,
) -> None:
    """校验工作簿：表内、表间勾稽关系，科目编码与名称，空表说明。不会修改文件（除非 --in-place）。

    WORKBOOKS 可以是文件、文件夹（递归查找 .xlsx/.xlsm）或通配符（如 "单位/**/*.xlsx"）。
    退出码：0 没有错误；1 有错误（加 --strict 时提示也算）；2 有文件无法读取或因程序内部错误未能检查（其余文件照常校验），或报告写不出；130 按 Ctrl+C 中断。
    """
    with paused(freeze=True):  # a command's imports: see collector.py
        from .batch import (
            SUMMARY_SKIPPED,
            UNREADABLE_SUFFIXES,
            WORKBOOK_SUFFIXES,
            Options,
            Outcome,
            ProgressBar,
            SchedulerError,
            expand_inputs,
            run_many,
        )
        from .report.summary import SUFFIXES as SUMMARY_SUFFIXES
        from .report.summary import is_summary
        from .rules.validate import load_rules
        from .specs import SpecError, load_year

    if summary_to and not summary_to.lower().endswith(SUMMARY_SUFFIXES):
        _fail(f"--summary 只能写入 .xlsx 或 .csv 文件（summary file type）：{summary_to}")
    if sum(bool(x) for x in (annotate_to, annotate_dir, in_place)) > 1:
        _fail("--annotate、--annotate-dir、--in-place 只能选一个（choose one）")
    output = None if output == "-" else output  # -o -: standard output, as the report goes by default
    # a report or summary written over a unit's workbook would destroy it: refused before any work
    if output and Path(output).suffix.lower() in WORKBOOK_SUFFIXES + UNREADABLE_SUFFIXES:
        _fail(f"{output}: -o 写出的是 {fmt} 报告，不能写成工作簿文件（would overwrite a workbook）；请换一个文件名，例如 报告.{_REPORT_SUFFIX[fmt]}")
    earlier_summary = bool(summary_to and summary_to.lower().endswith(".xlsx") and Path(summary_to).is_file())
    if earlier_summary and not is_summary(summary_to):
        _fail(f"{summary_to}: 已有这个工作簿，它不是 xlplugin 写出的汇总表，不会覆盖（would overwrite a workbook）；请换一个文件名")
    if annotate_dir:  # the copies would be written among the originals they copy
        inside = next((w for w in workbooks if os.path.isdir(w) and Path(os.path.abspath(w)).is_relative_to(os.path.abspath(annotate_dir))), None)
        if inside is not None:
            _fail(f"{annotate_dir}: --annotate-dir 不能是要检查的文件夹 {inside} 本身或它的上级文件夹（copies would mix with the originals）；请换一个文件夹，例如 {Path(inside) / '标注'}")
    found_nothing: list[str] = []
    skipped: list[tuple[str, str]] = []
    closed: list[tuple[str, str]] = []
    paths = expand_inputs(workbooks, annotate_dir, [summary_to or ""], found_nothing, skipped, closed)
    if earlier_summary:  # ours (checked above), named among the inputs (a shell's *.xlsx): replaced, not checked
        ours = Path(summary_to).resolve()
        skipped += [(p, f"{SUMMARY_SKIPPED}（本次更新它）") for p in paths if Path(p).resolve() == ours]
        paths = [p for p in paths if Path(p).resolve() != ours]
    for path, why in skipped:
        click.echo(printable(f"xlplugin: 提示：跳过 {path}：{why}"), err=True)
    unopened = [Outcome(folder, error=f"{folder}: 无法打开文件夹（cannot open folder）：{why}；其中的工作簿没有检查") for folder, why in closed]
    if not paths:
        _fail(printable("；".join(o.error for o in unopened) or f"没有找到要校验的工作簿（no workbooks）：{' '.join(workbooks)}"))
    for argument in found_nothing:  # a mistyped folder or pattern beside others would leave units out unseen
        click.echo(printable(f"xlplugin: 提示：「{argument}」中没有找到工作簿（no workbooks found）"), err=True)
    written = {Path(target).resolve(): option for target, option in ((output, "-o"), (summary_to, "--summary")) if target}
    clash = next((p for p in paths if Path(p).resolve() in written), None)
    if clash is not None:
        _fail(f"{clash}: {written[Path(clash).resolve()]} 不能写到要校验的文件上（would overwrite an input）；请换一个文件名")
    if annotate_to and len(paths) != 1:
        _fail("--annotate 只能用于一个工作簿；多个工作簿请用 --annotate-dir（use --annotate-dir）")
    try:  # a bad --year, --rules or --catalog is the caller's mistake: say so once, before any work
        load_year(year, catalogs)
        load_rules(year, rules_file)
    except SpecError as error:
        _fail(str(error))
    options = Options(reader, year, tuple(catalogs), rules_file, annotate_dir or annotate_to, bool(annotate_dir), in_place, allow_loss)
    try:
        outcomes = run_many(paths, options, jobs=jobs if jobs > 0 else (1 if len(paths) == 1 else 0), scheduler=scheduler, progress=ProgressBar())
    except SchedulerError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        click.echo("\nxlplugin: 已中断（interrupted）：没有输出报告；正在结束已开始的部分，再按一次 Ctrl+C 立即结束；已写出的标注副本是完整的", err=True)
        sys.exit(130)
    for outcome in outcomes:
        if outcome.skipped:
            click.echo(printable(f"xlplugin: 提示：跳过 {outcome.path}：{outcome.skipped}"), err=True)
    outcomes = [o for o in outcomes if not o.skipped] + unopened  # a folder not opened is listed, as a file not read
    if not outcomes:
        _fail(printable(f"没有要校验的工作簿（no workbooks）：{' '.join(workbooks)} 中只有 xlplugin 写出的汇总表"))
    for outcome in outcomes:
        if outcome.error:
            click.echo(printable(f"xlplugin: 错误：{outcome.error}"), err=True)
        if outcome.annotated:
            click.echo(printable(f"已写出标注文件：{outcome.annotated}"), err=True)
    reports = [o.report for o in outcomes if o.report is not None]
    for report in reports:  # every verdict the reports state agrees with the exit code
        report.strict = strict
    try:
        _report_out(outcomes, reports, fmt, output, show_info, summary_to)
    except KeyboardInterrupt:  # a large batch's report takes seconds to write
        click.echo("\nxlplugin: 已中断（interrupted）：报告没有写完；-o 和 --summary 指定的文件保持原样", err=True)
        sys.exit(130)
    failing = any(r.fails() for r in reports)
    unreadable = any(o.error for o in outcomes)
    sys.exit(2 if unreadable else 1 if failing else 0)


@main.command()
@click.argument("workbook", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写出清除标注后的文件")
@click.option("--in-place", is_flag=True, help="直接清除原文件中的标注（旁边保留 .bak 备份）")
@click.option("--allow-loss", is_flag=True, help="即使工作簿含有写入时会丢失的内容也写出")
def clear(workbook: str, output: str | None, in_place: bool, allow_loss: bool) -> None:
    """清除 xlplugin 的标注：恢复单元格原来的底色和批注，删除“审核结果”页。"""
    with paused(freeze=True):  # a command's imports: see collector.py
        from .io.annotate import AnnotateRefused, clear_file
        from .io.files import backed_up
        from .io.readers import WorkbookReadError, check_workbook_file

    source = Path(workbook)
    if bool(output) == in_place:
        _fail("请给出 -o 输出文件，或用 --in-place 直接清除原文件（give -o or --in-place）")
    target = source if in_place else Path(output)
    if not in_place and target.resolve() == source.resolve():
        _fail(f"{target}: 输出文件不能是原文件；如需直接清除原文件请加 --in-place（would overwrite the original）")
    try:
        check_workbook_file(source)
        with backed_up(source, in_place) as backup:
            cleared = clear_file(source, target, accept_loss=allow_loss)
    except (WorkbookReadError, AnnotateRefused) as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{target}: 无法写入（cannot write）：{os_problem(error)}")
    note = f"（原文件备份：{backup}）" if backup else ""
    click.echo(f"已清除标注：{target}{note}")
    warning = cleared.warning()
    if warning:
        click.echo(f"{source}: {warning}", err=True)


@main.command()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx）")
@click.option("--unit", default="", help="单位名称（写入“编制单位”）")
@_YEAR
@_CATALOG
def template(output: str, unit: str, year: int, catalogs: tuple[str, ...]) -> None:
    """生成九张表的空白模板（中央公开格式）。"""
    with paused(freeze=True):  # a command's imports: see collector.py
        from .io.template import write_template
        from .specs import SpecError

    if not output.lower().endswith(".xlsx"):
        _fail(f"{output}: 输出文件应以 .xlsx 结尾（output must be .xlsx）")
    try:
        path = write_template(output, year=year, unit=unit, catalogs=catalogs)
    except SpecError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{output}: 无法写入（cannot write）：{os_problem(error)}")
    click.echo(f"已生成模板：{Path(path)}（{year} 年度，九张表）")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（默认只接受本机访问）")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option("--token", default="", envvar="XLPLUGIN_TOKEN", help="访问令牌：设置后所有接口都要求请求头 X-Token 或 Authorization: Bearer")
@click.option("--max-upload-mb", default=20, show_default=True, type=int, help="上传文件大小上限（MB）")
@click.option("--office-js", type=click.Path(file_okay=False), help="Office.js 所在文件夹（默认 ~/.xlplugin/office-js，见 fetch-office-js）")
def serve(host: str, port: int, token: str, max_upload_mb: int, office_js: str | None) -> None:
    """启动内网服务：上传页面、模板下载，以及 Excel 加载项 / Office.js 调用的接口。"""
    with paused(freeze=True):  # a command's imports: see collector.py
        import uvicorn

        from .server.app import Limits, create_app

    limits = Limits(upload_bytes=max_upload_mb * 1024 * 1024)
    try:
        app = create_app(token, limits, Path(office_js) if office_js else None)
    except ValueError as error:  # a token an HTTP header cannot carry
        _fail(str(error))
    click.echo(f"xlplugin 服务：http://{host}:{port}/（{'需要令牌' if token else '未设置令牌'}）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.command("fetch-office-js")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
def fetch_office_js(folder: str | None) -> None:
    """从 npm 下载 Office.js（@microsoft/office-js）到 FOLDER（默认 ~/.xlplugin/office-js），供内网服务使用。"""
    import shutil
    import subprocess
    import tarfile
    import tempfile

    from .server.app import OFFICE_JS

    target = Path(folder) if folder else OFFICE_JS
    if shutil.which("npm") is None:
        _fail("需要 npm（Node.js）来下载 Office.js；也可在联网电脑上运行本命令后把文件夹复制到服务器（npm not found）")
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(["npm", "pack", "@microsoft/office-js", "--pack-destination", scratch], capture_output=True, text=True)
        if done.returncode != 0:
            _fail(f"npm pack @microsoft/office-js 失败：{done.stderr.strip()[-300:]}")
        archive = next(Path(scratch).glob("*.tgz"))
        with tarfile.open(archive) as package:
            members = [m for m in package.getmembers() if m.name.startswith("package/dist/") and m.isfile()]
            for member in members:
                member.name = member.name.removeprefix("package/dist/")
            target.mkdir(parents=True, exist_ok=True)
            package.extractall(target, members=members, filter="data")
    click.echo(f"已下载 Office.js 到 {target}（{len(members)} 个文件）；xlplugin serve 会在 /office-js/ 提供它")


_REPORT_SUFFIX = {"text": "txt", "json": "json", "junit": "xml", "sarif": "sarif", "html": "html", "github": "txt"}


def _able_to_write_any_text(stream) -> None:
    """Output redirected to a file or pipe is encoded with the system's code page: on Chinese
    Windows GBK, which lacks rarer characters of place and unit names (𠮷), and on others one
    with no Chinese at all; writing such a text stopped the command with a traceback after all
    its work.  GBK becomes GB18030 (the same bytes for every GBK character, and room for all
    the others), any other narrow code page UTF-8; what still cannot be written is replaced."""
    try:
        name = codecs.lookup(stream.encoding).name
    except (AttributeError, LookupError, TypeError):
        return
    if not hasattr(stream, "reconfigure"):
        return
    if name in ("gbk", "gb2312"):
        stream.reconfigure(encoding="gb18030", errors="replace")
    elif not name.startswith("utf") and name != "gb18030":
        _utf8(stream)
    else:
        stream.reconfigure(errors="replace")


def _utf8(stream) -> None:
    if hasattr(stream, "reconfigure"):
        stream.reconfigure(encoding="utf-8", errors="replace")


def _report_out(outcomes: list, reports: list, fmt: str, output: str | None, show_info: bool, summary_to: str | None) -> None:
    """The report (to `output` or standard output), the summary table and the --summary file."""
    from .batch import SUMMARY_HEADER, not_checked, summary_rows, summary_table, summary_total
    from .io.files import atomic_target
    from .report import write

    left_out = not_checked(outcomes)  # listed in the report too: no unit may go missing from it
    # -o and --summary are written to temporary files and replaced together at the end, so that
    # an interruption while either is written leaves both as they were
    together = contextlib.ExitStack()
    with together, _writing(output):
        if output:
            temporary = together.enter_context(atomic_target(Path(output)))
            with temporary.open("w", encoding="utf-8") as stream:
                write(reports, fmt, stream, show_info, left_out)
                stream.write("\n")
        else:
            if fmt != "text":  # JSON, SARIF, JUnit XML and the HTML page say they are UTF-8, and are
                _utf8(sys.stdout)
            stdout = _Tracked(sys.stdout)
            # text on the terminal: the lines above and the summary table already name them
            write(reports, fmt, stdout, show_info, left_out if fmt != "text" else ())
            if stdout.wrote:  # an empty report (no workbook read) prints nothing, not a blank line
                sys.stdout.write("\n")
        if len(outcomes) > 1:
            click.echo(summary_table(outcomes), err=fmt != "text" or bool(output))
        if summary_to:
            from .report.summary import write_summary

            with _writing(summary_to):
                temporary = together.enter_context(atomic_target(Path(summary_to)))
                write_summary(Path(summary_to), SUMMARY_HEADER, summary_rows(outcomes), summary_total(outcomes), temporary)
        with _uninterrupted():
            together.close()
    if summary_to:
        click.echo(printable(f"已写出汇总表：{summary_to}"), err=True)
    if fmt == "sarif":
        from .report.ci import sarif_caveat

        caveat = sarif_caveat(reports, show_info)
        if caveat:
            click.echo(f"xlplugin: 提示：{caveat}", err=True)


@contextlib.contextmanager
def _writing(output: str | None) -> Iterator[None]:
    """Writing a command's report to `output` (None: standard output): a full disk or a place that
    cannot be written is said in one line with exit code 2 (the file there, if any, is kept), not
    with a traceback and exit code 1, which a CI pipeline would read as "errors found"."""
    try:
        yield
        if output is None:
            sys.stdout.flush()  # what is still buffered fails here, not after the exit code is set
    except OSError as error:
        if error.errno == errno.EPIPE:  # the reader stopped reading (… | head): click ends quietly
            raise
        _fail(f"{output or '标准输出（stdout）'}: 无法写入（cannot write）：{os_problem(error)}")


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl+C ignored for the moment the block takes (the renames that put -o and --summary in place)."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        yield
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)


class _Tracked(io.TextIOBase):
    """A text stream passing what is written on to `stream`, and remembering whether anything was."""

    def __init__(self, stream):
        super().__init__()
        self.stream, self.wrote = stream, False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.wrote = self.wrote or bool(text)
        return self.stream.write(text)


def _fail(message: str) -> None:
    click.echo(f"xlplugin: 错误：{message}", err=True)
    sys.exit(2)


if __name__ == "__main__":
    main()
