"""Annotate time next to openpyxl's own load + save of the same workbook (the ratio).

    python benchmarks/annotate_speed.py [WORKBOOK] [--runs 10] [--extra-rows 200]

Prints the median time of: openpyxl load + save; xlplugin annotate given a finished
validation (the package writer, io/patch.py: fills, notes and the 审核结果 sheet written into
the package, every other part copied); the same through the openpyxl writer (the fallback);
clearing the annotated copy; and the whole `validate --annotate` path (read, validate, annotate).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import openpyxl
from timing import median_ms

from xlplugin.io.annotate import annotate_file, annotate_with_openpyxl, clear_file
from xlplugin.marks import plan_marks
from xlplugin.workbook import validate_workbook

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_2024.xlsx"




def broken_copy(folder: Path, extra_rows: int = 0) -> Path:
    """The sample with a few errors, so that there is something to mark; with extra_rows, that
    many more 科目 rows in 表五 whose codes are not in the catalogue (two findings each)."""
    path = folder / "broken.xlsx"
    book = openpyxl.load_workbook(SAMPLE)
    sheet = book["一般公共预算财政拨款支出决算表"]
    sheet["D10"] = 494.92
    book["收入支出决算总表"]["B14"] = -5.0
    for r in range(sheet.max_row + 1, sheet.max_row + 1 + extra_rows):
        sheet.cell(r, 1, str(2089000 + r))
        sheet.cell(r, 2, "其他项目")
    book.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--extra-rows", type=int, default=0, help="more 科目 rows (findings) in the generated workbook")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = args.workbook or broken_copy(folder, args.extra_rows)
        out = folder / "out.xlsx"
        report = validate_workbook(source)
        plan = plan_marks(report)
        baseline = median_ms(lambda: openpyxl.load_workbook(source).save(out), args.runs)
        annotate = median_ms(lambda: annotate_file(source, out, plan), args.runs)
        cleared = median_ms(lambda: clear_file(out, folder / "cleared.xlsx"), args.runs)
        fallback = median_ms(lambda: annotate_with_openpyxl(source, folder / "fallback.xlsx", plan), args.runs)
        whole = median_ms(lambda: annotate_file(source, out, plan_marks(validate_workbook(source))), args.runs)
        print(f"workbook: {source.name}, {len(plan.cells)} marked cells, median of {args.runs} runs")
        print(f"openpyxl load + save        {baseline:7.1f} ms")
        print(f"xlplugin annotate           {annotate:7.1f} ms   (ratio {annotate / baseline:.2f})")
        print(f"xlplugin clear              {cleared:7.1f} ms   (ratio {cleared / baseline:.2f})")
        print(f"openpyxl writer (fallback)  {fallback:7.1f} ms   (ratio {fallback / baseline:.2f})")
        print(f"validate + annotate         {whole:7.1f} ms")


if __name__ == "__main__":
    main()
