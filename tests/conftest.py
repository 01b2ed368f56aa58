"""Shared fixtures: the committed template and sample, and a helper to run the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

# xlwings' remote engine (xw.Book(json=...)) runs under its noncommercial licence, which
# permits use by government institutions (PolyForm Noncommercial 1.0.0).
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
TEMPLATE = TEMPLATES / "template_2024.xlsx"
SAMPLE = TEMPLATES / "sample_2024.xlsx"
SAMPLE_SOURCE = TEMPLATES / "sample_2024.toml"


@pytest.fixture(scope="session")
def sample_data() -> dict:
    return tomllib.loads(SAMPLE_SOURCE.read_text(encoding="utf-8"))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m xlplugin.cli …` as a user would, capturing output."""
    return subprocess.run(
        [sys.executable, "-m", "xlplugin.cli", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=120
    )


T5 = "一般公共预算财政拨款支出决算表"


def sample_with(path: Path, edits: dict[tuple[str, str], object]) -> Path:
    """A copy of the sample at `path` with cells changed: {(sheet, A1): value}."""
    import openpyxl

    book = openpyxl.load_workbook(SAMPLE)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    book.save(path)
    return path


def binary_workbook(path: Path) -> Path:
    """The parts that make an Excel binary workbook (.xlsb): nothing here writes one."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        package.writestr("xl/workbook.bin", b"\x83\x01\x00")
        package.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return path


def opendocument_spreadsheet(path: Path) -> Path:
    """An OpenDocument spreadsheet (.ods) as LibreOffice and WPS write it: its mimetype first, stored."""
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
    return path


# 表五 2080101 行政运行 基本支出 one 万元 too high: H-1 and H-4 errors, an X-8 warning
ONE_ERROR = {(T5, "D10"): 494.92}


CHROMIUM = shutil.which("chromium")  # Debian's, installed by .ci/run


@pytest.fixture(scope="session")
def server():
    """A real uvicorn serving xlplugin on a free loopback port."""
    from xlplugin.server.app import create_app

    yield from serving(create_app())


def serving(app):
    """A real uvicorn serving `app` on a free loopback port, for a fixture: yields its address."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()
