"""The Office.js add-in: its manifest, and its task pane run in Chromium against the real server.

Excel cannot run here, so the task pane talks to tests/fake_excel.js, a stand-in for the few
Excel JavaScript API calls it makes, backed by the sample's values; the server, the page and
the client script are the real ones. The marks it ends with must equal those that the
Python side of the same actions gives (tests/remote.py), cell by cell.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from conftest import CHROMIUM, ONE_ERROR, SAMPLE, sample_with
from fastapi.testclient import TestClient
from remote import apply_actions, payload_from_file

from xlplugin.excel.ribbon import HANDLERS
from xlplugin.marks import RESULT_SHEET
from xlplugin.server.app import create_app

FAKE_EXCEL = (Path(__file__).parent / "fake_excel.js").read_text(encoding="utf-8")
NS = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1", "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
      "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}


def test_the_manifest_has_the_same_tab_and_only_local_urls():
    text = TestClient(create_app()).get("/manifest.xml", headers={"host": "xlplugin.intranet"}).text
    root = ElementTree.fromstring(text.encode("utf-8"))
    assert root.find("o:Hosts/o:Host", NS).get("Name") == "Workbook"
    tab = root.find(".//ov:CustomTab", NS)
    assert tab.get("id") == "tabXlplugin"
    buttons = [c.get("id") for c in tab.findall(".//ov:Control", NS)]
    assert buttons == list(HANDLERS)
    strings = {s.get("id"): s.get("DefaultValue") for s in root.findall(".//bt:String", NS)}
    assert strings["Tab.Label"] == "决算校验" and strings["btnValidate.Label"] == "校验" and strings["btnClear.Label"] == "清除标记"
    urls = [e.get("DefaultValue") for e in root.iter() if (e.get("DefaultValue") or "").startswith("http")]
    assert urls and all(u.startswith("http://xlplugin.intranet/") for u in urls)


def test_static_assets_are_served():
    client = TestClient(create_app())
    for path in ("static/taskpane.html", "static/commands.html", "static/xlplugin-office.js", "static/icon-32.png"):
        assert client.get("/" + path).status_code == 200, path


def test_office_js_is_served_locally_when_fetched(tmp_path):
    (tmp_path / "office.js").write_text("/* office.js */", encoding="utf-8")
    assert TestClient(create_app(office_js=tmp_path)).get("/office-js/office.js").text == "/* office.js */"
    assert TestClient(create_app(office_js=tmp_path / "missing")).get("/office-js/office.js").status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def _fake_book(payload: dict) -> dict:
    """The workbook as fake_excel.js holds it: per sheet its non-blank cells by A1 address."""
    book = {"active": payload["book"]["active_sheet_index"], "sheets": []}
    for sheet in payload["sheets"]:
        cells = {}
        for r, line in enumerate(sheet["values"]):
            for c, value in enumerate(line):
                if value != "":
                    cells[openpyxl.utils.get_column_letter(c + 1) + str(r + 1)] = {"value": value}
        book["sheets"].append({"name": sheet["name"], "visibility": sheet["visibility"], "cells": cells, "merges": []})
    return book


def _validate_in_the_task_pane(browser, server: str, book: dict):
    page = browser.new_page()
    page.add_init_script("window.__book = " + json.dumps(book, ensure_ascii=False) + ";\n" + FAKE_EXCEL)
    page.goto(server + "static/taskpane.html")
    page.click("#btnValidate")
    page.wait_for_function("!['', '正在处理……'].includes(document.getElementById('status').textContent)", timeout=30_000)
    return page


def test_the_task_pane_marks_the_workbook_like_the_python_side(server, browser, tmp_path):
    workbook = sample_with(tmp_path / "单位.xlsx", ONE_ERROR)
    payload = payload_from_file(workbook)
    page = _validate_in_the_task_pane(browser, server, _fake_book(payload))
    assert page.text_content("#status").startswith("校验完成：错误 2 个，提示 1 个。")
    result = page.evaluate("window.__book")

    # the same request through Python: the actions applied to an openpyxl copy
    answer = TestClient(create_app()).post("/btnValidate", json=payload).json()
    expected = openpyxl.load_workbook(workbook)
    apply_actions([a for a in answer["actions"] if a["func"] != "alert"], expected)
    sheets = {s["name"]: s for s in result["sheets"]}
    assert [s["name"] for s in result["sheets"]] == expected.sheetnames
    assert result["sheets"][0]["name"] == RESULT_SHEET
    original = openpyxl.load_workbook(workbook)

    def solid(book, title):
        return {c.coordinate: "#" + c.fill.fgColor.rgb[-6:] for row in book[title].iter_rows() for c in row if c.fill.fill_type == "solid"}

    for ws in expected.worksheets:
        mine = sheets[ws.title]["cells"]
        before = solid(original, ws.title) if ws.title in original.sheetnames else {}
        fills = {k: v for k, v in solid(expected, ws.title).items() if before.get(k) != v}  # what the actions set
        notes = {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}
        assert {k: v["color"] for k, v in mine.items() if "color" in v} == fills, ws.title
        assert {k: v["note"] for k, v in mine.items() if "note" in v} == notes, ws.title
    values = [[c.value for c in row] for row in expected[RESULT_SHEET].iter_rows()]
    first = sheets[RESULT_SHEET]["cells"]
    assert first["A1"]["value"] == values[0][0]
    assert first["C6"]["value"] == values[5][2]


def test_a_stray_value_far_away_is_not_loaded_and_the_server_says_what_to_do(server, browser):
    """A value in XFD1048576: the client loads no values of that sheet (17 billion cells), sends its
    used range, and shows the server's message naming the sheet and the way out."""
    book = _fake_book(payload_from_file(SAMPLE))
    book["sheets"][0]["cells"]["XFD1048576"] = {"value": "x"}
    page = _validate_in_the_task_pane(browser, server, book)
    status = page.text_content("#status")
    assert status.startswith(f"操作未完成：工作表「{book['sheets'][0]['name']}」的已用区域为 A1:XFD1048576，共 17,179,869,184 个单元格"), status
    assert "Ctrl+End" in status
    assert not any("color" in cell for sheet in page.evaluate("window.__book")["sheets"] for cell in sheet["cells"].values())
