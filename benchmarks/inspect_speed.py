"""How long `inspect` takes per workbook, by reader: median of N runs in one process.

    python benchmarks/inspect_speed.py [WORKBOOK] [--runs 20]

Prints, per reader, the median time of the whole recognition (read + find the nine
tables) and of the read alone, in milliseconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from timing import median_ms

from xlplugin.io.readers import read_workbook
from xlplugin.specs import load_year
from xlplugin.tables.recognize import recognize

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_2024.xlsx"




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    spec = load_year(2024)
    read_workbook(args.workbook)  # warm the imports
    print(f"workbook: {args.workbook} ({args.workbook.stat().st_size / 1024:.0f} KiB), median of {args.runs} runs")
    for reader in ("calamine", "openpyxl"):
        read = median_ms(lambda reader=reader: read_workbook(args.workbook, reader), args.runs)
        total = median_ms(lambda reader=reader: recognize(read_workbook(args.workbook, reader), spec), args.runs)
        print(f"{reader:9s}  inspect {total:7.1f} ms   (read alone {read:6.1f} ms, recognition {total - read:6.1f} ms)")


if __name__ == "__main__":
    main()
