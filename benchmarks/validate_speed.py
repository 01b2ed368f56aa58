"""How fast `validate` runs in one process: N copies of the sample, next to calamine's raw read.

    python benchmarks/validate_speed.py [--copies 50]

Prints workbooks per second and ms per workbook for (1) python-calamine reading every
sheet and nothing else — the physical floor for this job — and (2) our whole validate
(read, recognise, every rule and schema).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from xlplugin.rules.validate import load_rules
from xlplugin.specs import load_year
from xlplugin.workbook import validate_workbook

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_2024.xlsx"


def raw_read(path: Path) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    book.close()


def timed(action, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        action(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    args = parser.parse_args()
    load_year(2024)
    load_rules(2024)
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"unit_{i:04d}.xlsx" for i in range(args.copies)]
        for path in paths:
            shutil.copy(SAMPLE, path)
        validate_workbook(paths[0])  # warm imports and caches
        for label, action in (("calamine read (floor)", raw_read), ("xlplugin validate", validate_workbook)):
            seconds = timed(action, paths)
            print(f"{label:22s} {args.copies / seconds:8.1f} workbooks/s  {seconds / args.copies * 1000:8.2f} ms/workbook")


if __name__ == "__main__":
    main()
