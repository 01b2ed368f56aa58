"""The upload page end to end, in Debian's headless Chromium driven by Playwright, against a real uvicorn."""

from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest
from conftest import ONE_ERROR, sample_with, serving
from test_server import macro_enabled

from xlplugin.marks import RESULT_SHEET
from xlplugin.server.app import create_app

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")


def test_upload_see_findings_and_download_the_annotated_copy(server, browser, tmp_path):
    workbook = sample_with(tmp_path / "财政局.xlsx", ONE_ERROR)
    page = browser.new_page(accept_downloads=True)
    page.goto(server)
    assert page.title() == "部门决算公开 九张表校验"
    page.set_input_files("#file", str(workbook))
    page.click("#check")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('校验完成')", timeout=30_000)
    assert page.text_content("#status") == "校验完成：错误 2 个，提示 1 个，未通过。"
    rows = page.locator("#findings tbody tr")
    assert rows.count() == 3
    assert "H-4" in page.text_content("#findings tbody") and "一般公共预算财政拨款支出决算表!C10" in page.text_content("#findings tbody")

    with page.expect_download() as download:
        page.click("#annotated")
    saved = tmp_path / "download.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "财政局_审核标注.xlsx"
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames[0] == RESULT_SHEET
    assert book["一般公共预算财政拨款支出决算表"]["C10"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "H-4" in book["一般公共预算财政拨款支出决算表"]["C10"].comment.text

    with page.expect_download() as html:
        page.click("#html")
    html_path = tmp_path / "report.html"
    html.value.save_as(html_path)
    assert "xlplugin 审核报告" in html_path.read_text(encoding="utf-8")

    with page.expect_download() as template:
        page.click("#template")
    template_path = tmp_path / "template.xlsx"
    template.value.save_as(template_path)
    assert len(openpyxl.load_workbook(template_path).sheetnames) == 9


def test_a_bad_file_shows_a_chinese_message(server, browser, tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_text("不是工作簿", encoding="utf-8")
    page = browser.new_page()
    page.goto(server)
    page.set_input_files("#file", str(bad))
    page.click("#check")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('出错')", timeout=30_000)
    assert "不是 Excel 工作簿" in page.text_content("#status")


def _check(page, workbook) -> None:
    page.set_input_files("#file", str(workbook))
    page.click("#check")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('校验完成')", timeout=30_000)


def test_the_annotated_copy_of_a_macro_workbook_stays_xlsm(server, browser, tmp_path):
    workbook = macro_enabled(sample_with(tmp_path / "财政局.xlsx", ONE_ERROR), tmp_path / "财政局.xlsm")
    page = browser.new_page(accept_downloads=True)
    page.goto(server)
    _check(page, workbook)
    with page.expect_download() as download:
        page.click("#annotated")
    assert download.value.suggested_filename == "财政局_审核标注.xlsm"  # Excel refuses a macro workbook named .xlsx
    saved = tmp_path / "download.xlsm"
    download.value.save_as(saved)
    assert "xl/vbaProject.bin" in zipfile.ZipFile(saved).namelist()


def test_choosing_another_file_forgets_the_findings(server, browser, tmp_path):
    page = browser.new_page()
    page.goto(server)
    _check(page, sample_with(tmp_path / "财政局.xlsx", ONE_ERROR))
    assert page.is_visible("#findings") and page.is_enabled("#annotated")
    page.set_input_files("#file", [])  # the file cleared: nothing on screen is of a file any more
    assert page.is_hidden("#findings") and page.is_disabled("#annotated") and page.is_disabled("#json")
    assert page.text_content("#findings tbody") == "" and page.text_content("#status") == ""


@pytest.fixture(scope="module")
def guarded_server():
    """A real uvicorn serving xlplugin with a token, on a free loopback port."""
    yield from serving(create_app(token="s3cret"))


def test_the_template_link_sends_the_token(guarded_server, browser, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(guarded_server)
    page.fill("#token", "s3cret")
    with page.expect_download(timeout=30_000) as template:
        page.click("#template")
    assert template.value.suggested_filename == "九张表模板_2024.xlsx"
    saved = tmp_path / "template.xlsx"
    template.value.save_as(saved)
    assert len(openpyxl.load_workbook(saved).sheetnames) == 9


def test_a_token_a_header_cannot_carry_is_said_in_chinese(guarded_server, browser):
    page = browser.new_page()
    page.goto(guarded_server)
    page.fill("#token", "令牌")
    page.click("#template")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('出错')", timeout=30_000)
    assert "访问令牌只能由英文字母" in page.text_content("#status")
