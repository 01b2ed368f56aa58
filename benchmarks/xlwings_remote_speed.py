"""Time of the xlwings remote path (what the server runs for Office.js) on the sample.

    python benchmarks/xlwings_remote_speed.py [--runs 10]

Builds the Office.js payload once (tests/remote.py), then times xw.Book(json=...) +
validate_book (read, validate, mark) + book.json(), median of N runs, next to the
command-line validate + annotate of the same workbook.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import openpyxl  # noqa: E402
import xlwings as xw  # noqa: E402
from remote import payload_from_file  # noqa: E402
from timing import median_ms  # noqa: E402

from xlplugin.excel import validate_book  # noqa: E402
from xlplugin.io.annotate import annotate_file  # noqa: E402
from xlplugin.marks import plan_marks  # noqa: E402
from xlplugin.workbook import validate_workbook  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        source = Path(name) / "broken.xlsx"
        book = openpyxl.load_workbook(ROOT / "workbook_templates" / "sample_2024.xlsx")
        book["一般公共预算财政拨款支出决算表"]["D10"] = 494.92
        book.save(source)
        payload = payload_from_file(source)

        def remote() -> None:
            remote_book = xw.Book(json=copy.deepcopy(payload))
            validate_book(remote_book)
            remote_book.json()

        cli = median_ms(lambda: annotate_file(source, Path(name) / "out.xlsx", plan_marks(validate_workbook(source))), args.runs)
        print(f"xlwings remote (Book(json) + validate_book + json) {median_ms(remote, args.runs):7.1f} ms")
        print(f"command line validate + annotate (openpyxl)        {cli:7.1f} ms")


if __name__ == "__main__":
    main()
