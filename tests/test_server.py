"""The server's API, run in-process through FastAPI's test client (real app, real files)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openpyxl
import pytest
from conftest import ONE_ERROR, ROOT, SAMPLE, TEMPLATE, run_cli, sample_with
from fastapi.testclient import TestClient
from remote import apply_actions, payload_from_file

from xlplugin.marks import RESULT_SHEET
from xlplugin.server import app as server_app
from xlplugin.server.app import Limits, create_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"


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


def test_the_server_route_reads_a_workbook_as_the_vba_client_sends_it(client, broken):
    """xlwings' RunServerPython client (Remote.bas) sends each sheet without its "visibility", and
    the remote engine adds no note for it: the cells are filled and 审核结果 says what is wrong."""
    payload = payload_from_file(broken)
    payload["client"] = "VBA"
    for sheet in payload["sheets"]:
        del sheet["visibility"]
    response = client.post("/btnValidate", json=payload)
    alerts = [a for a in response.json()["actions"] if a["func"] == "alert"]
    assert response.status_code == 200 and alerts[0]["args"][0].startswith("校验完成：错误 2 个"), alerts
    functions = {a["func"] for a in response.json()["actions"]}
    assert {"setRangeColor", "addSheet"} <= functions and "addNote" not in functions


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


# ------------------------------------------------------------------ a stock `xlplugin serve`


def test_a_stock_serve_answers_the_add_in_without_a_licence_key(broken):
    """`xlplugin serve` as a site starts it: no XLWINGS_LICENSE_KEY in its environment (tests/conftest.py
    sets one for the tests' own process, which is why the in-process tests cannot see this)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k not in ("XLWINGS_LICENSE_KEY", "XLPLUGIN_TOKEN")}
    command = [sys.executable, "-m", "xlplugin.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        response = httpx.post(url + "xlwings/validate", json=payload_from_file(broken), timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert response.status_code == 200, response.text
    assert any(a["func"] == "setRangeColor" for a in response.json()["actions"])


def test_a_licence_problem_is_not_blamed_on_the_payload(client, broken, monkeypatch):
    import xlwings

    def refuse(**_):
        raise xlwings.LicenseError("xlwings Server requires a license key.")

    monkeypatch.setattr(xlwings, "Book", refuse)
    response = TestClient(create_app(), raise_server_exceptions=False).post("/xlwings/validate", json=payload_from_file(broken))
    assert response.status_code == 500
    assert "LicenseError" in response.json()["detail"] and "invalid payload" not in response.json()["detail"]


# ------------------------------------------------------------------ what a client sends wrong: a Chinese 4xx


def _patched(source: Path, target: Path, part: str, edit) -> Path:
    """`source` with the zip headers of `part` edited: edit(raw bytes, local header offset, central entry offset)."""
    raw = bytearray(source.read_bytes())
    local = zipfile.ZipFile(source).getinfo(part).header_offset
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + struct.unpack_from("<H", raw, central + 28)[0]] != part.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    edit(raw, local, central)
    target.write_bytes(bytes(raw))
    return target


def _crc_zeroed(raw, local, central):
    raw[central + 16 : central + 20] = bytes(4)


def _local_header_lost(raw, local, central):
    raw[local : local + 4] = b"XXXX"


def _encrypted(raw, local, central):
    raw[local + 6] |= 1
    raw[central + 8] |= 1


def _method_99(raw, local, central):  # AES, which zipfile cannot unpack
    struct.pack_into("<H", raw, local + 8, 99)
    struct.pack_into("<H", raw, central + 10, 99)


@pytest.mark.parametrize("damage", [_crc_zeroed, _local_header_lost, _encrypted, _method_99])
def test_a_damaged_zip_is_a_clear_4xx(client, tmp_path, damage):
    damaged = _patched(SAMPLE, tmp_path / "坏.xlsx", "xl/styles.xml", damage)
    response = client.post("/api/validate", files=_upload(damaged))
    assert response.status_code == 422 and "文件已损坏（corrupt workbook）：xl/styles.xml" in response.json()["detail"]


def _xlwings_payload_without(change):
    payload = payload_from_file(SAMPLE)
    change(payload)
    return payload


@pytest.mark.parametrize(
    "body",
    [
        [],
        None,
        {"sheets": "abc"},
        _xlwings_payload_without(lambda p: p.pop("book")),
        _xlwings_payload_without(lambda p: p["book"].update(active_sheet_index=99)),
        _xlwings_payload_without(lambda p: p.update(sheets=[])),
        _xlwings_payload_without(lambda p: p["sheets"][0].update(name=5)),
        _xlwings_payload_without(lambda p: p["sheets"][0].pop("values")),
        _xlwings_payload_without(lambda p: p["sheets"][0]["values"][5].__setitem__(1, {"a": 1})),
    ],
)
def test_a_payload_xlwings_cannot_read_is_a_clear_400(body):
    lenient = TestClient(create_app(), raise_server_exceptions=False)
    response = lenient.post("/xlwings/validate", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["detail"].startswith("无法读取 xlwings 请求（invalid payload）：")


def test_control_characters_in_the_unit_name_are_refused(client):
    response = client.get("/template.xlsx", params={"unit": "a\x01b"})
    assert response.status_code == 400 and "控制字符（control character）" in response.json()["detail"]


def test_fastapis_own_validation_errors_are_in_chinese(client, broken):
    year = client.get("/template.xlsx", params={"year": "abc"})
    assert year.status_code == 422 and year.json()["detail"] == "请求参数有误（invalid request）：year 应为整数"
    unit = client.get("/template.xlsx", params={"unit": "单" * 101})
    assert unit.json()["detail"] == "请求参数有误（invalid request）：unit 最长 100 个字符"
    assert client.post("/api/validate").json()["detail"] == "请求参数有误（invalid request）：缺少 file"


def test_what_the_server_gets_wrong_itself_is_said_in_chinese(broken, monkeypatch):
    def fail(*_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(server_app, "validate_sheets", fail)
    response = TestClient(create_app(), raise_server_exceptions=False).post("/api/validate", files=_upload(broken))
    assert response.status_code == 500 and response.json()["detail"].startswith("服务器内部错误（internal server error）")


def test_unknown_addresses_are_a_404_and_the_page_answers_head(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 404 and favicon.json()["detail"] == "没有这个地址（not found）"
    assert client.head("/").status_code == 200


# ------------------------------------------------------------------ the token


def test_a_token_that_a_header_cannot_carry_is_refused_at_startup():
    with pytest.raises(ValueError, match="只能由英文字母、数字和英文标点组成"):
        create_app(token="单位自定的令牌")
    result = run_cli("serve", "--port", "1", "--token", "单位自定的令牌")  # refused before it listens
    assert result.returncode == 2 and "只能由英文字母、数字和英文标点组成" in result.stderr and "Traceback" not in result.stderr


def test_the_bearer_scheme_is_any_case_and_the_api_description_needs_the_token(broken):
    guarded = TestClient(create_app(token="s3cret"))
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert guarded.post("/api/validate", files=_upload(broken), headers={"Authorization": f"{scheme} s3cret"}).status_code == 200
    assert guarded.post("/api/validate", files=_upload(broken), headers={"Authorization": "s3cret"}).status_code == 401
    assert guarded.post("/api/validate", files=_upload(broken), headers={"X-Token": "令牌".encode()}).status_code == 401
    assert guarded.get("/openapi.json").status_code == 401
    assert guarded.get("/openapi.json", headers={"X-Token": "s3cret"}).status_code == 200
    assert guarded.get("/manifest.xml").status_code == 200 and guarded.get("/static/taskpane.html").status_code == 200


def _asgi(app, path: str, headers: dict[str, str], body: list[bytes]) -> tuple[int, str, int]:
    """`app` called as a server calls it: its status, its detail, and how many chunks of `body` it asked for."""
    asked, answer = [], {}

    async def receive():
        asked.append(True)
        if len(asked) > len(body):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": body[len(asked) - 1], "more_body": len(asked) < len(body)}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message.get("body"):
            answer["body"] = answer.get("body", b"") + message["body"]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    with ThreadPoolExecutor(1) as thread:  # a thread of its own: a browser test may have left an event loop running in this one
        thread.submit(asyncio.run, app(scope, receive, send)).result()
    return answer["status"], json.loads(answer["body"])["detail"], len(asked)


def test_the_token_and_the_size_are_checked_before_the_body_is_read():
    """FastAPI parses an uploaded form before a route's dependencies run: a 300 MB body went to disk before its 401."""
    app = create_app(token="s3cret", limits=Limits(upload_bytes=100_000))
    form = {"content-type": "multipart/form-data; boundary=x"}
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\n'
    body = [head] + [b"0" * 65536] * 50  # 3.2 MB
    status, detail, asked = _asgi(app, "/api/validate", {**form, "content-length": "300000000"}, body)
    assert (status, asked) == (401, 0) and detail == "需要有效的访问令牌（token）"
    status, detail, asked = _asgi(app, "/api/validate", {**form, "content-length": "300000000", "x-token": "s3cret"}, body)
    assert (status, asked) == (413, 0) and detail.startswith("请求过大（request too large）")
    for path, kind in (("/api/validate", form), ("/xlwings/validate", {"content-type": "application/json"})):
        # no length given: counted as it comes, refused at the first chunk past 100 KB and the form's allowance
        status, detail, asked = _asgi(app, path, {**kind, "x-token": "s3cret"}, body)
        assert status == 413 and asked <= 4 and detail.startswith("请求过大（request too large）")


# ------------------------------------------------------------------ memory: refused before the reader builds anything


def _never(*_):
    raise AssertionError("the reader was given a workbook the server should have refused")


def test_a_part_that_understates_its_size_is_refused_before_the_reader(client, tmp_path, monkeypatch):
    """zipfile's read() of a part inflates all of it at once, whatever size the zip declares."""
    padded = tmp_path / "padded.xlsx"
    with zipfile.ZipFile(SAMPLE) as source, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item.filename, source.read(item))
        with target.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(64):
                part.write(b" " * 1024 * 1024)

    def understate(raw, local, central):
        struct.pack_into("<I", raw, local + 22, 8140)
        struct.pack_into("<I", raw, central + 24, 8140)

    liar = _patched(padded, tmp_path / "liar.xlsx", "xl/worksheets/sheet1.xml", understate)
    assert liar.stat().st_size < 1024 * 1024
    monkeypatch.setattr(server_app, "read_workbook", _never)
    tracemalloc.start()
    try:
        response = client.post("/api/validate", files=_upload(liar))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 422 and "xl/worksheets/sheet1.xml" in response.json()["detail"]
    assert peak < 16 * 1024 * 1024


def test_a_far_stray_cell_is_refused_before_the_reader(client, tmp_path, monkeypatch):
    """One value in E999999: a 5-million-cell grid that the reader would build before the server counted it."""
    sparse = tmp_path / "sparse.xlsx"
    far = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="999999"><c r="E999999"><v>1</v></c></row>'
        b"</sheetData></worksheet>"
    )
    with zipfile.ZipFile(SAMPLE) as source, zipfile.ZipFile(sparse, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, far if item.filename == "xl/worksheets/sheet9.xml" else source.read(item))
    monkeypatch.setattr(server_app, "read_workbook", _never)
    response = client.post("/api/validate", files=_upload(sparse))
    assert response.status_code == 413 and "单元格过多（too many cells）" in response.json()["detail"]


# ------------------------------------------------------------------ what comes back is named after its content


def macro_enabled(source: Path, target: Path) -> Path:
    """`source` as Excel saves it with macros: a VBA project and the macro-enabled workbook type."""
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in package.infolist():
            data = package.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b'<Default Extension="xml"', b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default Extension="xml"'
                )
                data = data.replace(b"openxmlformats-officedocument.spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            out.writestr(item.filename, data)
        out.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 the unit's macros")
    return target


def test_the_annotated_copy_keeps_the_uploads_real_type(client, broken, tmp_path):
    macros = macro_enabled(broken, tmp_path / "宏.xlsm")
    for name in ("宏.xlsm", "宏.xlsx"):  # the content decides, not the name
        response = client.post("/api/annotate", files=_upload(macros, name))
        assert response.status_code == 200 and response.headers["content-type"] == XLSM
        assert response.headers["content-disposition"].endswith("_%E5%AE%A1%E6%A0%B8%E6%A0%87%E6%B3%A8.xlsm")  # _审核标注.xlsm
        assert zipfile.ZipFile(io.BytesIO(response.content)).read("xl/vbaProject.bin").endswith(b"the unit's macros")
    plain = client.post("/api/annotate", files=_upload(broken, "财政局.xlsm"))  # an .xlsx by another name
    assert plain.headers["content-type"] == XLSX and plain.headers["content-disposition"].endswith(".xlsx")


def test_a_wps_et_upload_is_told_about_et(client, tmp_path):
    et = tmp_path / "单位.et"
    et.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(4096))  # an OLE file, as WPS saves .et
    response = client.post("/api/validate", files=_upload(et))
    assert response.status_code == 422 and "WPS 表格 .et" in response.json()["detail"]


def test_the_annotate_refusal_speaks_to_web_users(client, broken, tmp_path):
    """A workbook only openpyxl can write (a sheet of the user's called like our undo sheet) that
    holds a picture openpyxl would drop: no command-line option in what the page shows."""
    book = openpyxl.load_workbook(broken)
    book.create_sheet("_XLPLUGIN_UNDO")["A1"] = "科室自己的记录"
    book.save(broken)
    with zipfile.ZipFile(broken, "a") as package:
        package.writestr("xl/media/image1.png", b"\x89PNG")
    response = client.post("/api/annotate", files=_upload(broken))
    detail = response.json()["detail"]
    assert response.status_code == 422 and "图片" in detail and "--allow-loss" not in detail and "问题列表" in detail
