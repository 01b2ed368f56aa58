"""The intranet server: the same checks for Excel without local Python, and for a browser.

- POST /xlwings/{validate,clear,template} and POST /{button id}: the JSON that xlwings'
  RunServerPython (the add-in with XLPLUGIN_SERVER_URL set) or an Office.js client sends;
  the functions of xlplugin/excel run on `xw.Book(json=...)` and the answer is `book.json()`,
  the actions the client applies (fills, notes, the 审核结果 sheet).
- GET /template.xlsx?unit=…&year=…: the nine-sheet template.
- GET /: an upload page (WPS users included): findings table, annotated copy, HTML/JSON report.

Safety: uploads go to a temporary file of our own naming and are deleted when the response
is done; an upload larger than the limit, a zip whose parts would inflate past the limit,
XML with a DTD, or a payload with too many cells is refused with a 4xx and a Chinese message;
an optional token guards every endpoint but the page itself.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, File, Header, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..excel import clear_book, insert_template, validate_book
from ..excel.ribbon import HANDLERS, on_ribbon
from ..io.annotate import AnnotateRefused, annotate_file
from ..io.readers import WorkbookReadError, read_workbook
from ..io.template import template_layouts, write_template
from ..marks import plan_marks
from ..report import render
from ..specs import DEFAULT_YEAR, SpecError, load_year
from ..workbook import validate_sheets
from .manifest import manifest
from .page import UPLOAD_PAGE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 20 * 1024 * 1024  # a unit's workbook is well under 1 MB
    unpacked_bytes: int = 200 * 1024 * 1024
    payload_cells: int = 2_000_000


STATIC = Path(__file__).parent / "static"
OFFICE_JS = Path.home() / ".xlplugin" / "office-js"  # filled by `xlplugin fetch-office-js`


def create_app(token: str = "", limits: Limits | None = None, office_js: Path | None = None) -> FastAPI:
    """The application; `token` (or XLPLUGIN_TOKEN) makes every API call require it."""
    token = token or os.environ.get("XLPLUGIN_TOKEN", "")
    limits = limits or Limits()
    app = FastAPI(title="xlplugin", version=__version__, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    office_js = office_js or OFFICE_JS
    if (office_js / "office.js").is_file():  # Office.js served by us: no internet needed
        app.mount("/office-js", StaticFiles(directory=office_js), name="office-js")

    def authorised(authorization: str = Header(default=""), x_token: str = Header(default="")) -> None:
        if not token:
            return
        given = x_token or authorization.removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "需要有效的访问令牌（token）")

    guarded = [Depends(authorised)]

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return UPLOAD_PAGE

    @app.get("/manifest.xml")
    def office_manifest(request: Request) -> Response:
        return Response(manifest(str(request.base_url)), media_type="application/xml; charset=utf-8")

    @app.get("/template.xlsx", dependencies=guarded)
    def template(unit: str = Query("", max_length=100), year: int = DEFAULT_YEAR) -> Response:
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = write_template(Path(folder) / "template.xlsx", year=year, unit=unit)
            except SpecError as error:
                raise HTTPException(400, str(error)) from error
            content = path.read_bytes()
        return Response(content, media_type=XLSX, headers=_download(f"九张表模板_{year}.xlsx"))

    @app.post("/xlwings/{action}", dependencies=guarded)
    async def xlwings_action(action: str, request: Request) -> JSONResponse:
        run = {"validate": validate_book, "clear": clear_book, "template": lambda b: insert_template(b, template_layouts(load_year()))}
        if action not in run:
            raise HTTPException(404, f"没有这个操作：{action}")
        book = await _book(request, limits)
        await run_in_threadpool(run[action], book)  # CPU work off the event loop: requests run side by side
        return JSONResponse(book.json())

    @app.post("/{button}", dependencies=guarded)
    async def ribbon_button(button: str, request: Request) -> JSONResponse:
        """What the add-in posts with XLPLUGIN_SERVER_URL set: <URL>/<button id>."""
        if button not in HANDLERS:
            raise HTTPException(404, f"没有这个按钮：{button}")
        book = await _book(request, limits)
        await run_in_threadpool(on_ribbon, button, book)
        return JSONResponse(book.json())

    @app.post("/api/validate", dependencies=guarded)
    async def api_validate(file: UploadFile = File(...), show_info: bool = False) -> JSONResponse:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            return JSONResponse(json_report(report, show_info))

    @app.post("/api/report", dependencies=guarded)
    async def api_report(file: UploadFile = File(...), format: str = Query("html", pattern="^(html|json|junit|sarif)$")) -> Response:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            text = render([report], format)
        media = {"html": "text/html", "json": "application/json", "junit": "application/xml", "sarif": "application/json"}[format]
        suffix = {"junit": "xml", "sarif": "sarif"}.get(format, format)
        return Response(text, media_type=f"{media}; charset=utf-8", headers=_download(f"审核报告.{suffix}"))

    @app.post("/api/annotate", dependencies=guarded)
    async def api_annotate(file: UploadFile = File(...)) -> Response:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            target = path.with_name(f"annotated{path.suffix}")
            try:
                await run_in_threadpool(annotate_file, path, target, plan_marks(report))
            except AnnotateRefused as error:
                raise HTTPException(422, str(error).replace(str(path), file.filename or "工作簿")) from error
            content = target.read_bytes()
        stem = Path(file.filename or "工作簿.xlsx").stem
        return Response(content, media_type=XLSX, headers=_download(f"{stem}_审核标注{path.suffix}"))

    return app


def json_report(report, show_info: bool = False) -> dict:
    from ..report.findings import workbook_json

    return workbook_json(report, show_info)


def _validate(path: Path, name: str | None, limits: Limits):
    try:
        sheets = read_workbook(path)
    except WorkbookReadError as error:
        raise HTTPException(422, error.problem) from error
    cells = sum(len(row) for sheet in sheets for row in sheet.rows)
    if cells > limits.payload_cells:
        raise HTTPException(413, f"工作簿单元格过多（{cells} 个，上限 {limits.payload_cells}）")
    return validate_sheets(sheets, name or "工作簿.xlsx")  # the user's name for it, never our temporary path


async def _book(request: Request, limits: Limits):
    import xlwings as xw

    body = await request.body()
    if len(body) > limits.upload_bytes:
        raise HTTPException(413, f"请求过大（超过 {limits.upload_bytes // 1024 // 1024} MB）")
    try:
        payload = await request.json()
    except ValueError as error:
        raise HTTPException(400, "请求不是 xlwings 发送的 JSON（invalid payload）") from error
    cells = sum(len(row) for sheet in payload.get("sheets", []) for row in sheet.get("values", []))
    if cells > limits.payload_cells:
        raise HTTPException(413, f"工作簿单元格过多（{cells} 个，上限 {limits.payload_cells}）")
    try:
        return xw.Book(json=payload)
    except Exception as error:  # a malformed payload is the client's problem, said once
        raise HTTPException(400, f"无法读取 xlwings 请求（invalid payload）：{type(error).__name__}") from error


class _upload:
    """The uploaded workbook as a temporary file of our own naming, checked, deleted afterwards."""

    def __init__(self, file: UploadFile, limits: Limits):
        self.file, self.limits = file, limits

    async def __aenter__(self) -> Path:
        suffix = ".xlsm" if (self.file.filename or "").lower().endswith(".xlsm") else ".xlsx"
        self.folder = tempfile.TemporaryDirectory(prefix="xlplugin-")
        path = Path(self.folder.name) / f"upload{suffix}"
        size = 0
        with path.open("wb") as out:
            while chunk := await self.file.read(1024 * 1024):
                size += len(chunk)
                if size > self.limits.upload_bytes:
                    self.folder.cleanup()
                    raise HTTPException(413, f"文件过大（超过 {self.limits.upload_bytes // 1024 // 1024} MB）")
                out.write(chunk)
        problem = _unsafe(path, self.limits)
        if problem:
            self.folder.cleanup()
            raise HTTPException(422 if problem.startswith("不是") else 413, problem)
        return path

    async def __aexit__(self, *exc) -> None:
        self.folder.cleanup()


def _unsafe(path: Path, limits: Limits) -> str:
    """Why this upload must not be opened ('' when it may): zip bombs and XML with a DTD."""
    if not zipfile.is_zipfile(path):
        return ""  # the reader says what it is (not a workbook, encrypted, .xls …)
    with zipfile.ZipFile(path) as package:
        total = sum(info.file_size for info in package.infolist())
        if total > limits.unpacked_bytes:
            return f"文件解压后过大（{total // 1024 // 1024} MB，上限 {limits.unpacked_bytes // 1024 // 1024} MB），拒绝处理（zip bomb）"
        for info in package.infolist():
            if info.filename.endswith((".xml", ".rels", ".vml")):
                with package.open(info) as part:
                    head = part.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    return f"工作簿中的 {info.filename} 含有 DTD/实体声明，拒绝处理（XML bomb）"
    return ""


def _download(name: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
