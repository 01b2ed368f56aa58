"""The intranet server: the same checks for Excel without local Python, and for a browser.

- POST /xlwings/{validate,clear,template} and POST /{button id}: the JSON that xlwings'
  RunServerPython (the add-in with XLPLUGIN_SERVER_URL set) or an Office.js client sends;
  the functions of xlplugin/excel run on `xw.Book(json=...)` and the answer is `book.json()`,
  the actions the client applies (fills, notes, the 审核结果 sheet).
- GET /template.xlsx?unit=…&year=…: the nine-sheet template.
- GET /: an upload page (WPS users included): findings table, annotated copy, HTML/JSON report.

Safety: uploads go to a temporary file of our own naming and are deleted when the response
is done; a body larger than the limit (refused before it is read), a zip whose parts would
inflate past the limit or whose sizes lie, XML with a DTD, or a workbook or payload with too
many cells is refused with a 4xx and a Chinese message; an optional token guards every
endpoint but the page, the add-in's manifest and static files, checked before the body is read.
"""

from __future__ import annotations

import copy
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

# xlwings registers its remote engine (`xw.Book(json=...)`) only when a licence key is set as it
# is imported. Its PolyForm Noncommercial License 1.0.0 permits use by "any ... government
# institution", who xlplugin is for; a site with a commercial key sets its own.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

from defusedxml import DefusedXmlException, ElementTree
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..excel import clear_book, insert_template, validate_book
from ..excel.ribbon import HANDLERS, on_ribbon
from ..io.annotate import AnnotateRefused, annotate_file, macro_enabled
from ..io.readers import WorkbookReadError, read_workbook, sheet_part_names, value_extent
from ..io.template import template_layouts, write_template
from ..marks import plan_marks
from ..report import render
from ..specs import DEFAULT_YEAR, SpecError, load_year
from ..workbook import validate_sheets
from .manifest import manifest
from .page import UPLOAD_PAGE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 20 * 1024 * 1024  # a unit's workbook is well under 1 MB
    unpacked_bytes: int = 200 * 1024 * 1024
    payload_cells: int = 2_000_000


STATIC = Path(__file__).parent / "static"
OFFICE_JS = Path.home() / ".xlplugin" / "office-js"  # filled by `xlplugin fetch-office-js`
# What the form around an uploaded file adds to the body (boundaries, part headers, the name).
_FORM_OVERHEAD = 64 * 1024
_UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")  # an upload keeps one of these, so that the reader's message fits
_TOKEN = re.compile(r"[!-~]+")  # what an HTTP header carries: ISO-8859-1, and a browser's fetch only ASCII


def create_app(token: str = "", limits: Limits | None = None, office_js: Path | None = None) -> FastAPI:
    """The application; `token` (or XLPLUGIN_TOKEN) makes every API call require it.

    Raises ValueError (in Chinese) for a token that an HTTP header cannot carry."""
    token = token or os.environ.get("XLPLUGIN_TOKEN", "")
    if token and not _TOKEN.fullmatch(token):
        raise ValueError(
            "访问令牌（token）只能由英文字母、数字和英文标点组成，不能含汉字或空格（non-ASCII token）：HTTP 请求头无法传送其他字符，请换一个令牌"
        )
    limits = limits or Limits()
    app = FastAPI(title="xlplugin", version=__version__, docs_url=None, redoc_url=None)
    app.add_middleware(_Gate, token=token, upload_bytes=limits.upload_bytes)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _internal_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    office_js = office_js or OFFICE_JS
    if (office_js / "office.js").is_file():  # Office.js served by us: no internet needed
        app.mount("/office-js", StaticFiles(directory=office_js), name="office-js")

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def page() -> str:
        return UPLOAD_PAGE

    @app.get("/manifest.xml")
    def office_manifest(request: Request) -> Response:
        return Response(manifest(str(request.base_url)), media_type="application/xml; charset=utf-8")

    @app.get("/template.xlsx")
    def template(unit: str = Query("", max_length=100), year: int = DEFAULT_YEAR) -> Response:
        if any(unicodedata.category(character) == "Cc" for character in unit):
            raise HTTPException(400, "单位名称不能含有换行、制表符等控制字符（control character）")
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = write_template(Path(folder) / "template.xlsx", year=year, unit=unit)
            except SpecError as error:
                raise HTTPException(400, str(error)) from error
            content = path.read_bytes()
        return Response(content, media_type=XLSX, headers=_download(f"九张表模板_{year}.xlsx"))

    @app.post("/xlwings/{action}")
    async def xlwings_action(action: str, request: Request) -> JSONResponse:
        run = {"validate": validate_book, "clear": clear_book, "template": lambda b: insert_template(b, template_layouts(load_year()))}
        if action not in run:
            raise HTTPException(404, f"没有这个操作：{action}")
        book = await _book(request, limits)
        await run_in_threadpool(run[action], book)  # CPU work off the event loop: requests run side by side
        return JSONResponse(book.json())

    def ribbon_button(button: str):
        async def press(request: Request) -> JSONResponse:
            book = await _book(request, limits)
            await run_in_threadpool(on_ribbon, button, book)
            return JSONResponse(book.json())

        return press

    for button in HANDLERS:  # what the add-in posts with XLPLUGIN_SERVER_URL set: <URL>/<button id>
        app.add_api_route(f"/{button}", ribbon_button(button), methods=["POST"], name=button)

    @app.post("/api/validate")
    async def api_validate(file: UploadFile = File(...), show_info: bool = False) -> JSONResponse:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            return JSONResponse(json_report(report, show_info))

    @app.post("/api/report")
    async def api_report(file: UploadFile = File(...), format: str = Query("html", pattern="^(html|json|junit|sarif)$")) -> Response:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            text = render([report], format)
        media = {"html": "text/html", "json": "application/json", "junit": "application/xml", "sarif": "application/json"}[format]
        suffix = {"junit": "xml", "sarif": "sarif"}.get(format, format)
        return Response(text, media_type=f"{media}; charset=utf-8", headers=_download(f"{_stem(file)}_审核报告.{suffix}"))

    @app.post("/api/annotate")
    async def api_annotate(file: UploadFile = File(...)) -> Response:
        async with _upload(file, limits) as path:
            report = await run_in_threadpool(_validate, path, file.filename, limits)
            target = path.with_name(f"annotated{path.suffix}")
            try:
                await run_in_threadpool(annotate_file, path, target, plan_marks(report))
            except AnnotateRefused as error:
                if not error.lost:  # a damaged part: the reader's words, with the user's name for the file
                    raise HTTPException(422, str(error).replace(str(path), file.filename or "工作簿")) from error
                raise HTTPException(
                    422,
                    f"工作簿含有写入时会丢失的内容：{'、'.join(error.lost)}。为避免丢失，未生成标注文件；"
                    "请按上面的问题列表或 HTML 报告在原文件中修改，或在 Excel 中用“决算校验”选项卡标注（not written: content would be lost）",
                ) from error
            content = target.read_bytes()
        media = XLSM if path.suffix == ".xlsm" else XLSX  # the suffix follows the content (_checked)
        return Response(content, media_type=media, headers=_download(f"{_stem(file)}_审核标注{path.suffix}"))

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
        raise _too_many_cells(cells, limits)
    return validate_sheets(sheets, name or "工作簿.xlsx")  # the user's name for it, never our temporary path


def _too_many_cells(cells: int, limits: Limits) -> HTTPException:
    return HTTPException(
        413,
        f"工作簿单元格过多（too many cells）：共 {cells:,} 个，上限 {limits.payload_cells:,}；"
        "多半是远处的单元格误填了内容，请在 Excel 中按 Ctrl+End 找到并删除后另存再检查",
    )


async def _book(request: Request, limits: Limits):
    import xlwings as xw

    try:
        payload = await request.json()
    except ValueError as error:
        raise HTTPException(400, "请求不是 xlwings 发送的 JSON（invalid payload）") from error
    problem = _payload_problem(payload)
    if problem:
        raise HTTPException(400, f"无法读取 xlwings 请求（invalid payload）：{problem}")
    cells = sum(len(row) for sheet in payload["sheets"] for row in sheet["values"])
    if cells > limits.payload_cells:
        raise _too_many_cells(cells, limits)
    try:
        return xw.Book(json=payload)
    except xw.LicenseError as error:  # the server's set-up, not the client's payload
        raise HTTPException(500, "服务器未能启用 xlwings 的远程引擎（xlwings LicenseError）：请检查服务器上的 XLWINGS_LICENSE_KEY") from error
    except Exception as error:  # a malformed payload is the client's problem, said once
        raise HTTPException(400, f"无法读取 xlwings 请求（invalid payload）：{type(error).__name__}") from error


_CELL_VALUES = (str, int, float, bool, type(None))


def _payload_problem(payload: object) -> str:
    """What in an xlwings payload the remote engine could not read ('' when nothing): it reads the
    payload lazily, so a bad one would fail halfway through a check instead of up front."""
    if not isinstance(payload, dict):
        return "不是 JSON 对象"
    sheets, book = payload.get("sheets"), payload.get("book")
    if not isinstance(sheets, list) or not sheets:
        return "没有工作表（sheets）"
    if not isinstance(book, dict) or not isinstance(book.get("active_sheet_index"), int) or not 0 <= book["active_sheet_index"] < len(sheets):
        return "book.active_sheet_index 不是工作表的序号"
    for number, sheet in enumerate(sheets, 1):
        if not isinstance(sheet, dict) or not isinstance(sheet.get("name"), str):
            return f"第 {number} 个工作表没有名称（name）"
        values = sheet.get("values")
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            return f"工作表「{sheet['name']}」的值（values）不是按行排列的列表"
        if not all(isinstance(value, _CELL_VALUES) for row in values for value in row):
            return f"工作表「{sheet['name']}」的值（values）中有既不是数字也不是文本的单元格"
    return ""


class _upload:
    """The uploaded workbook as a temporary file of our own naming, checked, deleted afterwards."""

    def __init__(self, file: UploadFile, limits: Limits):
        self.file, self.limits = file, limits

    async def __aenter__(self) -> Path:
        suffix = Path(self.file.filename or "").suffix.lower()
        self.folder = tempfile.TemporaryDirectory(prefix="xlplugin-")
        path = Path(self.folder.name) / f"upload{suffix if suffix in _UPLOAD_SUFFIXES else '.xlsx'}"
        size = 0
        try:
            with path.open("wb") as out:
                while chunk := await self.file.read(1024 * 1024):
                    size += len(chunk)
                    if size > self.limits.upload_bytes:
                        raise HTTPException(413, f"文件过大（file too large）：超过 {_megabytes(self.limits.upload_bytes)}")
                    out.write(chunk)
            return await run_in_threadpool(_checked, path, self.limits)
        except BaseException:
            self.folder.cleanup()
            raise

    async def __aexit__(self, *exc) -> None:
        self.folder.cleanup()


def _checked(path: Path, limits: Limits) -> Path:
    """The upload, safe to hand to the reader: a zip package is unpacked once here as a stream (its
    declared sizes may lie, and zipfile's read() of a lying part inflates all of it at once) and its
    sheets' extents are measured, so that a zip bomb, XML with a DTD or a far stray cell is refused
    (HTTPException) before anything is built; the package is renamed by its content (.xlsm when
    it holds macros), so that the readers, the annotator and the download name agree with it."""
    if not zipfile.is_zipfile(path):
        return path  # the reader says what it is (not a workbook, encrypted, .xls, WPS .et …)
    try:
        with zipfile.ZipFile(path) as package:
            total = sum(info.file_size for info in package.infolist())
            if total > limits.unpacked_bytes:
                raise HTTPException(413, f"文件解压后过大（{_megabytes(total)}，上限 {_megabytes(limits.unpacked_bytes)}），拒绝处理（zip bomb）")
            for info in package.infolist():
                try:
                    _check_part(package, info)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:  # NotImplementedError: a compression method zipfile lacks
                    raise HTTPException(422, f"文件已损坏（corrupt workbook）：{info.filename}：{error}") from error
            cells = _grid_cells(package)
            macros = macro_enabled(package)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise HTTPException(422, f"文件已损坏（corrupt workbook）：{error}") from error
    if cells > limits.payload_cells:
        raise _too_many_cells(cells, limits)
    return path.rename(path.with_suffix(".xlsm" if macros else ".xlsx"))


def _check_part(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Unpack one part as a stream, to one byte past its declared size: refuse a part whose real
    size is not the declared one, or whose XML declares a DTD (entities)."""
    if info.flag_bits & 0x1:  # zipfile would ask for a password
        raise zipfile.BadZipFile("已加密（encrypted part）")
    unpacking = copy.copy(info)
    unpacking.file_size = info.file_size + 1  # zipfile stops at the declared size: read on, to see past it
    xml = info.filename.endswith((".xml", ".rels", ".vml"))
    size, tail = 0, b""
    with package.open(unpacking) as part:
        while chunk := part.read(1024 * 1024):
            size += len(chunk)
            if xml and (b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk):
                raise HTTPException(413, f"工作簿中的 {info.filename} 含有 DTD/实体声明，拒绝处理（XML bomb）")
            tail = chunk[-8:]
    if size != info.file_size:
        raise zipfile.BadZipFile("解压后的大小与记录的不符（declared size is wrong）")


def _grid_cells(package: zipfile.ZipFile) -> int:
    """The cells the reader would build: each worksheet's grid from A1 to its farthest value, found
    by the reader's own scan of the sheet XML (xlplugin/io/readers.py), without building the grid."""
    try:
        parts = sheet_part_names(package)
    except (KeyError, ElementTree.ParseError, DefusedXmlException):
        return 0  # the reader says what is wrong
    return sum(rows * columns for rows, columns in (value_extent(package.read(part)) for part in parts))


class _Gate:
    """Before the application reads a byte of a request's body: the token (where one is set) and
    the body's size. FastAPI parses an uploaded form before a route's dependencies run, so neither
    can wait for one; a body that does not say its length is counted as it arrives."""

    OPEN = ("/", "/manifest.xml")  # the page asks for the token itself; Office loads the add-in without one
    OPEN_FOLDERS = ("/static/", "/office-js/")

    def __init__(self, app: ASGIApp, token: str, upload_bytes: int):
        self.app, self.token = app, token.encode("ascii")
        self.body_bytes = upload_bytes + _FORM_OVERHEAD
        self.too_large = f"请求过大（request too large）：上传的文件不能超过 {_megabytes(upload_bytes)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.token and not self._open(scope["path"]) and not self._authorised(headers):
            refusal = JSONResponse({"detail": "需要有效的访问令牌（token）"}, 401, headers={"WWW-Authenticate": "Bearer"})
        elif headers.get("content-length", "").isdigit() and int(headers["content-length"]) > self.body_bytes:
            refusal = JSONResponse({"detail": self.too_large}, 413)
        else:
            received = 0

            async def counted() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > self.body_bytes:
                    raise HTTPException(413, self.too_large)
                return message

            await self.app(scope, counted, send)
            return
        await refusal(scope, receive, send)

    def _open(self, path: str) -> bool:
        return path in self.OPEN or path.startswith(self.OPEN_FOLDERS)

    def _authorised(self, headers: Headers) -> bool:
        """X-Token, or Authorization with the Bearer scheme (any case, as HTTP has it)."""
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        given = [headers.get("x-token", ""), credentials.strip() if scheme.lower() == "bearer" else ""]
        # latin-1: the bytes as they came (Starlette decodes headers so); compare_digest wants bytes here
        return any(secrets.compare_digest(value.encode("latin-1"), self.token) for value in given if value)


# Starlette's and FastAPI's own words, said in Chinese.
_ENGLISH_DETAILS = {
    "Not Found": "没有这个地址（not found）",
    "Method Not Allowed": "不支持这种请求方法（method not allowed）",
    "There was an error parsing the body": "请求内容无法解析（error parsing the body）",
}


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Starlette's own errors (an unknown address, a wrong method, a broken form) in Chinese; ours as they are."""
    detail = _ENGLISH_DETAILS.get(error.detail, error.detail) if isinstance(error.detail, str) else error.detail
    return JSONResponse({"detail": detail}, error.status_code, headers=getattr(error, "headers", None))


_FIELD_PROBLEMS = {
    "missing": "缺少 {field}",
    "int_parsing": "{field} 应为整数",
    "bool_parsing": "{field} 应为 true 或 false",
    "string_too_long": "{field} 最长 {max_length} 个字符",
    "string_pattern_mismatch": "{field} 的取值不在可选范围内",
}


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors (year=abc, a unit name too long, no file) in Chinese, one line."""
    problems = []
    for item in error.errors():
        field = str(item["loc"][-1]) if item.get("loc") else "请求"
        template = _FIELD_PROBLEMS.get(item["type"], "{field} 无效（{msg}）")
        problems.append(template.format(field=field, msg=item.get("msg", ""), **item.get("ctx", {})))
    return JSONResponse({"detail": f"请求参数有误（invalid request）：{'；'.join(problems)}"}, 422)


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    """What a user reads when the server itself fails (the error goes to the server's log)."""
    return JSONResponse({"detail": f"服务器内部错误（internal server error）：{type(error).__name__}；请把所做的操作和文件告诉信息部门"}, 500)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")


def _stem(file: UploadFile) -> str:
    """The user's name for the upload without its folder (/ or \\, as a browser on Windows may send it) and suffix."""
    return PureWindowsPath(file.filename or "").stem or "工作簿"


def _download(name: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
