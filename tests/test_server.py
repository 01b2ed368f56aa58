"""The server's API, run in-process through FastAPI's test client (real app, real files)."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from conftest import ONE_ERROR, SAMPLE, TEMPLATE, sample_with
from fastapi.testclient import TestClient
from remote import apply_actions, payload_from_file

from xlplugin.marks import RESULT_SHEET
from xlplugin.server.app import Limits, create_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


@pytest.fixture
def broken(tmp_path) -> Path:
    return sample_with(tmp_path / "财政局.xlsx", ONE_ERROR)


def _upload(path: Path, name: str | None = None):
    return {"file": (name or path.name, path.read_bytes(), XLSX)}


def test_the_upload_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "部门决算公开 九张表校验" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from outside the intranet


def test_validate_an_upload(client, broken):
    response = client.post("/api/validate", files=_upload(broken))
    assert response.status_code == 200
    report = response.json()
    assert report["path"] == "财政局.xlsx"  # the user's file name, never the server's temporary path
    assert report["summary"]["errors"] == 2 and report["summary"]["warnings"] == 1
    assert {(f["rule_id"], f["cell"]) for f in report["findings"]} >= {("H-4", "C10"), ("H-1", "D9")}


def test_download_the_annotated_copy_and_the_reports(client, broken, tmp_path):
    response = client.post("/api/annotate", files=_upload(broken))
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    out = tmp_path / "标注.xlsx"
    out.write_bytes(response.content)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == RESULT_SHEET
    assert book["一般公共预算财政拨款支出决算表"]["C10"].fill.fgColor.rgb.endswith("FFC7CE")
    html = client.post("/api/report?format=html", files=_upload(broken))
    assert html.status_code == 200 and "xlplugin 审核报告" in html.text
    report = client.post("/api/report?format=json", files=_upload(broken)).json()
    assert report["workbooks"][0]["summary"]["errors"] == 2


def test_template_download(client, tmp_path):
    response = client.get("/template.xlsx", params={"unit": "某某县财政局", "year": 2024})
    assert response.status_code == 200
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.content)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == openpyxl.load_workbook(TEMPLATE).sheetnames
    assert book.worksheets[0]["A3"].value == "编制单位：某某县财政局"
    assert client.get("/template.xlsx", params={"year": 1999}).status_code == 400


def test_xlwings_validate_returns_actions(client, broken):
    response = client.post("/xlwings/validate", json=payload_from_file(broken))
    assert response.status_code == 200
    actions = response.json()["actions"]
    assert any(a["func"] == "setRangeColor" for a in actions) and any(a["func"] == "addSheet" for a in actions)
    book = openpyxl.load_workbook(broken)
    apply_actions(actions, book)
    assert book.sheetnames[0] == RESULT_SHEET


def test_the_addins_server_route_per_button(client, broken):
    """With XLPLUGIN_SERVER_URL set the add-in posts the workbook to <URL>/<button id>."""
    response = client.post("/btnValidate", json=payload_from_file(broken))
    assert response.status_code == 200
    alerts = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert alerts and alerts[0]["args"][0].startswith("校验完成：错误 2 个")
    assert client.post("/btnNope", json=payload_from_file(broken)).status_code == 404


def test_a_token_guards_the_api(broken):
    guarded = TestClient(create_app(token="s3cret"))
    assert guarded.get("/").status_code == 200  # the page itself asks for the token
    assert guarded.post("/api/validate", files=_upload(broken)).status_code == 401
    assert guarded.post("/api/validate", files=_upload(broken), headers={"X-Token": "wrong"}).status_code == 401
    assert guarded.post("/api/validate", files=_upload(broken), headers={"X-Token": "s3cret"}).status_code == 200
    assert guarded.get("/template.xlsx", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_an_upload_over_the_limit_is_refused(broken):
    small = TestClient(create_app(limits=Limits(upload_bytes=10_000)))
    response = small.post("/api/validate", files=_upload(broken))
    assert response.status_code == 413 and "文件过大" in response.json()["detail"]


def test_a_zip_bomb_is_refused(client, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/worksheets/sheet1.xml", b"0" * (210 * 1024 * 1024))  # 210 MB of zeros, ~200 KB packed
    assert bomb.stat().st_size < 1024 * 1024
    response = client.post("/api/validate", files=_upload(bomb))
    assert response.status_code == 413 and "zip bomb" in response.json()["detail"]


def test_xml_with_entities_is_refused(client, tmp_path):
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(SAMPLE) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>' + data.split(b"?>", 1)[-1]
            target.writestr(item, data)
    response = client.post("/api/validate", files=_upload(evil))
    assert response.status_code == 413 and "XML bomb" in response.json()["detail"]


def test_not_a_workbook_is_a_clear_4xx(client, tmp_path):
    text = tmp_path / "notes.xlsx"
    text.write_text("这不是工作簿", encoding="utf-8")
    response = client.post("/api/validate", files=_upload(text))
    assert response.status_code == 422 and "not a workbook" in response.json()["detail"]


def test_a_client_supplied_path_never_reaches_the_filesystem(client, broken, tmp_path):
    target = tmp_path / "evil.xlsx"
    response = client.post("/api/validate", files=_upload(broken, name=f"../../{target}"))
    assert response.status_code == 200 and not target.exists()


def test_uploads_are_deleted_after_the_response(client, broken, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client.post("/api/annotate", files=_upload(broken))
    client.post("/api/validate", files=_upload(broken))
    assert [p for p in tmp_path.iterdir() if p.name.startswith("xlplugin-")] == []


def test_an_upload_with_too_many_cells_is_refused(broken):
    small = TestClient(create_app(limits=Limits(payload_cells=1000)))
    response = small.post("/api/validate", files=_upload(broken))
    assert response.status_code == 413 and "单元格过多" in response.json()["detail"]


def test_a_payload_with_too_many_cells_is_refused(broken):
    small = TestClient(create_app(limits=Limits(payload_cells=100)))
    response = small.post("/xlwings/validate", json=payload_from_file(broken))
    assert response.status_code == 413 and "单元格过多" in response.json()["detail"]
    assert small.post("/xlwings/validate", content=b"not json", headers={"content-type": "application/json"}).status_code == 400


def test_concurrent_requests_are_safe(client, broken):
    payload = io.BytesIO(broken.read_bytes()).getvalue()

    def one(_):
        return client.post("/api/validate", files={"file": ("u.xlsx", payload, XLSX)}).json()["summary"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(16)))
    assert all(r == results[0] for r in results) and results[0]["errors"] == 2
    assert json.dumps(results[0])


def test_the_server_binds_to_loopback_unless_told_otherwise():
    from xlplugin.cli import serve

    options = {p.name: p for p in serve.params}
    assert options["host"].default == "127.0.0.1"
    assert options["token"].envvar == "XLPLUGIN_TOKEN"
