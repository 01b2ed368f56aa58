"""Time and memory of writing one combined report of a large batch, in each format.

    python benchmarks/report_speed.py [--workbooks 2000]        (Linux: it reads /proc)

A 财政局 batch of thousands of workbooks can have hundreds of thousands of findings.
Generates the varied workbooks of batch_speed.py (200, a third of them with 200 findings
each), validates them, repeats their reports up to --workbooks, and writes the report
of all of them to a file as `xlplugin validate -o` does, once per format, each in a
fresh process: it prints the seconds, the size, and how far the process's peak memory
rose above what it held with the reports loaded.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "junit", "sarif", "html", "github")


def status_mib(field: str) -> float:
    """VmRSS (held now) or VmHWM (the peak) of this process, from Linux's /proc."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


def write_one(reports_file: str, fmt: str, target: str) -> None:
    """In a fresh process: load the reports, write the report, print seconds and added peak."""
    from xlplugin.report import write

    with open(reports_file, "rb") as handle:
        reports = pickle.load(handle)
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")  # the peak starts again from what the process holds now
    before = status_mib("VmRSS")
    start = time.perf_counter()
    with open(target, "w", encoding="utf-8") as out:
        write(reports, fmt, out)
    seconds = time.perf_counter() - start
    print(f"{fmt:7s} {seconds:7.2f} s {Path(target).stat().st_size / 2**20:8.1f} MiB written {status_mib('VmHWM') - before:8.0f} MiB peak above the reports held")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbooks", type=int, default=2000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        write_one(*args.child)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from batch_speed import generate

    from xlplugin.batch import Options, run_many

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = [str(p) for p in generate(folder, min(200, args.workbooks))]
        reports = [o.report for o in run_many(paths, Options(), jobs=0) if o.report is not None]
        reports = (reports * (args.workbooks // len(reports) + 1))[: args.workbooks]
        findings = sum(len(r.findings) for r in reports)
        print(f"{len(reports)} workbooks, {findings} findings, {os.cpu_count()} cores")
        reports_file = folder / "reports.pickle"
        reports_file.write_bytes(pickle.dumps(reports))
        del reports
        for fmt in FORMATS:
            command = [sys.executable, __file__, "--child", str(reports_file), fmt, str(folder / f"report.{fmt}")]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
