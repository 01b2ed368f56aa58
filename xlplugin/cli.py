"""The `xlplugin` command line: inspect a workbook, write the nine-sheet template.

Exit codes: 0 done; 2 an input could not be read (one line on stderr naming the file
and the problem).  Everything the user reads is in Chinese.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__

_YEAR = click.option("--year", type=int, default=2024, show_default=True, help="规则与表样年度")
_CATALOG = click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="使用自己的政府收支分类科目 CSV（code,name 列），可多次给出",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlplugin")
def main() -> None:
    """部门决算公开工作簿检查工具（九张表）。"""


@main.command()
@click.argument("workbook", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
@click.option("--reader", type=click.Choice(["calamine", "openpyxl"]), default="calamine", show_default=True, help="读取引擎")
@_YEAR
@_CATALOG
def inspect(workbook: str, fmt: str, reader: str, year: int, catalogs: tuple[str, ...]) -> None:
    """识别工作簿中的九张表：所在工作表、单元格范围、金额单位、行与列。不会修改文件。"""
    from .io.readers import WorkbookReadError
    from .report.inspect import inspection_json, inspection_text
    from .specs import SpecError
    from .workbook import inspect_workbook

    try:
        result = inspect_workbook(workbook, reader=reader, year=year, catalogs=catalogs)
    except (WorkbookReadError, SpecError) as error:
        _fail(str(error))
    if fmt == "json":
        click.echo(json.dumps(inspection_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(inspection_text(result))


@main.command()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx）")
@click.option("--unit", default="", help="单位名称（写入“编制单位”）")
@_YEAR
@_CATALOG
def template(output: str, unit: str, year: int, catalogs: tuple[str, ...]) -> None:
    """生成九张表的空白模板（中央公开格式）。"""
    from .io.template import write_template
    from .specs import SpecError

    if not output.lower().endswith(".xlsx"):
        _fail(f"{output}: 输出文件应以 .xlsx 结尾（output must be .xlsx）")
    try:
        path = write_template(output, year=year, unit=unit, catalogs=catalogs)
    except SpecError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{output}: 无法写入（cannot write）：{error.strerror or error}")
    click.echo(f"已生成模板：{Path(path)}（{year} 年度，九张表）")


def _fail(message: str) -> None:
    click.echo(f"xlplugin: 错误：{message}", err=True)
    sys.exit(2)


if __name__ == "__main__":
    main()
