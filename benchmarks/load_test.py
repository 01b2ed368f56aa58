"""Load test of the server on loopback only: 50 concurrent validations, bounded in count and time.

    python benchmarks/load_test.py [--requests 200] [--concurrency 50] [--seconds 120]

Starts `xlplugin serve` on 127.0.0.1 (a free port) in a subprocess, posts the sample
workbook with one error to /api/validate from `concurrency` threads until `requests`
are done or `seconds` pass, stops the server, and prints requests per second, latency
percentiles and the error count.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openpyxl

ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "unit.xlsx"
        book = openpyxl.load_workbook(ROOT / "workbook_templates" / "sample_2024.xlsx")
        book["一般公共预算财政拨款支出决算表"]["D10"] = 494.92
        book.save(workbook)
        content = workbook.read_bytes()
        server = subprocess.Popen([sys.executable, "-m", "xlplugin.cli", "serve", "--host", "127.0.0.1", "--port", str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):  # wait for the server, at most 20 s
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            deadline = time.monotonic() + args.seconds
            latencies: list[float] = []
            errors = 0

            def one(_: int) -> None:
                nonlocal errors
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                try:
                    response = httpx.post(base + "/api/validate", files={"file": ("unit.xlsx", content, XLSX)}, timeout=60)
                    ok = response.status_code == 200 and response.json()["summary"]["errors"] == 2
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                list(pool.map(one, range(args.requests)))
            elapsed = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=10)
    done = len(latencies)
    cuts = statistics.quantiles(latencies, n=100) if done > 1 else latencies * 99
    print(f"{done} requests, {args.concurrency} concurrent, {elapsed:.1f} s: {done / elapsed:.1f} requests/s, errors {errors}")
    print(f"latency p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
