"""The annotated copy written straight into the workbook package, without loading it in openpyxl.

Only the parts the marks touch are rewritten:
  styles.xml        one fill per mark colour, one cell format per (original format, fill);
  each marked sheet the marked cells' `s`, and `legacyDrawing` when it gets its first notes;
  notes             the sheet's comments part, edited in place (other notes keep every attribute),
                    and its VML drawing, where only the boxes of changed notes are replaced, drawn
                    by openpyxl's ShapeWriter (the format Excel has long accepted from openpyxl);
                    a cell with a threaded comment (Excel 365) is filled, its comment left alone;
  two new sheets    审核结果 (first, selected) and the very hidden undo sheet, with
                    workbook.xml, its relationships and [Content_Types].xml.
Every other part (charts, pictures, form controls, pivot caches, VBA …) is copied as it
is, so nothing is lost, and the copy takes a fraction of openpyxl's load + save.

Clearing reads the undo sheet (inline or shared strings, so a copy saved again by Excel,
WPS or LibreOffice clears too), puts back each cell's fill and note (with its formatted
runs and its own box), removes the cells the marks created, our two sheets and any notes
part left empty; annotating a marked workbook clears it first.
The undo sheet has the same rows as the openpyxl writer's (annotate.py), so either
path reads the other's.  What this writer does not handle raises `Unsupported`, and
annotate.py falls back to openpyxl: rows or cells without an address, strict OOXML, XML
that does not parse, a part that is missing, a sheet of the user's called 审核结果.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree
from openpyxl.comments.shape_writer import ShapeWriter, _shape_factory
from openpyxl.styles.fills import Fill, PatternFill
from openpyxl.xml.functions import fromstring, tostring

from ..marks import (
    COLUMNS,
    LINK_COLUMN,
    MESSAGE_COLUMN,
    NOTE_AUTHOR,
    NOTE_HEADER,
    OUR_FILLS,
    RESULT_WIDTHS,
    UNDO_SHEET,
    UNDO_TEXT_LIMIT,
    USER_NOTE_HEADER,
    Cleared,
    MarkPlan,
    is_result_title,
    may_be_result_sheet,
    restored_note,
    result_sheet_name,
    sheet_reference,
    still_marked,
    stored_fill_rgb,
    stray_note,
    undo_runs,
)
from ..text import cell_reference, column_index, column_letter, covered_cells
from .files import atomic_target

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_M = f"{{{MAIN}}}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_THREADED_REL = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
_COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_VML = "{urn:schemas-microsoft-com:vml}"
_EXCEL = "{urn:schemas-microsoft-com:office:excel}"
_UNCLOSED_BR = re.compile(rb"<br\s*>")
_SHAPE_ID = re.compile(rb'id="_x0000_s(\d+)"')
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
_ADDRESS = re.compile(r"^([A-Z]{1,3})([1-9][0-9]*)$")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAB_SELECTED = re.compile(rb'\stabSelected="(?:1|true)"')
# children of <worksheet> that come after legacyDrawing (ECMA-376 CT_Worksheet sequence)
_AFTER_LEGACY_DRAWING = {f"{_M}{n}" for n in ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")}
_AFTER_LEGACY_DRAWING.add("{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent")  # wraps controls, OLE objects
# children of <workbook> that come after definedNames
_AFTER_DEFINED_NAMES = {f"{_M}{n}" for n in ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")}


class Unsupported(Exception):
    """This workbook needs the openpyxl writer; str() says why (for developers)."""


def annotate_package(source: Path, target: Path, plan: MarkPlan) -> Path:
    """Write `source` with the marks of `plan` to `target` (which may be `source` itself);
    the marks of an earlier run are replaced, not piled up."""
    with zipfile.ZipFile(source) as package, _unsupported_on_odd_input(source):
        book = _Book(package)
        book.clear()
        if any(name.casefold() == UNDO_SHEET.casefold() for name in book.sheet_parts):  # Excel compares sheet names ignoring case
            raise Unsupported("a sheet of the user's has the undo sheet's name")
        book.mark(plan)
        with atomic_target(target) as temporary:
            book.write(temporary)
    return target


def clear_package(source: Path, target: Path) -> Cleared:
    """Write `source` without xlplugin's marks to `target`; what could not be put back as recorded."""
    with zipfile.ZipFile(source) as package, _unsupported_on_odd_input(source):
        book = _Book(package)
        cleared = book.clear()
        with atomic_target(target) as temporary:
            book.write(temporary)
    return cleared


@contextlib.contextmanager
def _unsupported_on_odd_input(source: Path):
    """A package this writer did not foresee (a part missing, a value out of range) is left to openpyxl."""
    try:
        yield
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, etree.LxmlError) as error:
        raise Unsupported(f"{source}: {error!r}") from error


def stored_fill(stored: object) -> Fill:
    """The fill an undo row recorded: openpyxl XML, or rgb:RRGGBB / none / unknown from the xlwings path."""
    text = str(stored or "")
    if text.startswith("<"):  # exact: every attribute of the original fill
        return Fill.from_tree(fromstring(text))
    rgb = stored_fill_rgb(text)
    return PatternFill() if rgb is None else PatternFill("solid", fgColor="FF" + rgb)


def _parse(data: bytes | None, part: str):
    if data is None:
        raise Unsupported(f"{part} is missing")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise Unsupported(f"{part}: {error}") from error


def _resolve(base_part: str, target: str) -> str:
    """Package path of a relationship target written relative to `base_part`."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


class _Rels:
    """The relationships of one part: read, added to, written back."""

    def __init__(self, book: _Book, part: str):
        self.name = _rels_part(part)
        self.part = part
        data = book.read(self.name)
        self.root = _parse(data, self.name) if data is not None else etree.Element(f"{{{_PKG_RELS}}}Relationships", nsmap={None: _PKG_RELS})
        self.book = book

    def targets(self, kind: str, full_type: str = "") -> list[tuple[str, str]]:
        """(id, package path) of each relationship of this type."""
        wanted = full_type or _REL + kind
        return [(r.get("Id"), _resolve(self.part, r.get("Target"))) for r in self.root if r.get("Type") == wanted and r.get("TargetMode") != "External"]

    def targets_all(self) -> list[str]:
        """Package path of every internal relationship target."""
        return [_resolve(self.part, r.get("Target", "")) for r in self.root if r.get("TargetMode") != "External"]

    def add(self, kind: str, part: str) -> str:
        taken = {r.get("Id") for r in self.root}
        number = len(taken) + 1
        while f"rId{number}" in taken:
            number += 1
        self.book.changed[self.name] = self
        relative = posixpath.relpath(part, posixpath.dirname(self.part))
        etree.SubElement(self.root, f"{{{_PKG_RELS}}}Relationship", Id=f"rId{number}", Type=_REL + kind, Target=relative)
        return f"rId{number}"

    def remove(self, part: str) -> None:
        for relationship in list(self.root):
            if relationship.get("TargetMode") != "External" and _resolve(self.part, relationship.get("Target", "")) == part:
                self.root.remove(relationship)
                self.book.changed[self.name] = self

    def bytes(self) -> bytes:
        return _xml(self.root)


class _Pool:
    """A list of styles.xml (fills, fonts, cell formats): an equal element is found, a new one added."""

    def __init__(self, container, key):
        self.container, self.key = container, key
        self.index: dict[object, int] = {}
        for i, element in enumerate(container):
            self.index.setdefault(key(element), i)

    def id(self, element) -> int:
        key = self.key(element)
        if key not in self.index:
            self.container.append(element)
            self.index[key] = len(self.container) - 1
        return self.index[key]


class _Styles:
    """styles.xml: fills and cell formats for the marks and the 审核结果 sheet, reused when already there
    (marking a workbook again does not grow it)."""

    def __init__(self, root):
        self.root = root
        self.fills = root.find(f"{_M}fills")
        self.xfs = root.find(f"{_M}cellXfs")
        self.fonts = root.find(f"{_M}fonts")
        if self.fills is None or self.xfs is None or self.fonts is None or not len(self.xfs) or not len(self.fonts):
            raise Unsupported("styles.xml without fills, fonts or cell formats")
        self.fill_pool = _Pool(self.fills, _fill_text)
        self.xf_pool = _Pool(self.xfs, _xf_key)
        self.font_pool = _Pool(self.fonts, etree.tostring)
        self._marked: dict[tuple[int, str], int] = {}
        self._named: dict[str, int] = {}
        self._undo_fills: dict[int, str] = {}
        self._restored: dict[tuple[int, str], int] = {}

    def _format(self, s: int):
        return self.xfs[s] if 0 <= s < len(self.xfs) else self.xfs[0]

    def _with_fill(self, s: int, fill) -> int:
        xf = _copy(self._format(s))
        xf.set("fillId", str(self.fill_pool.id(fill)))
        xf.set("applyFill", "1")
        return self.xf_pool.id(xf)

    def marked(self, s: int, rgb: str) -> int:
        """The cell format `s` with a solid `rgb` fill."""
        if (s, rgb) not in self._marked:
            fill = etree.Element(f"{_M}fill")
            pattern = etree.SubElement(fill, f"{_M}patternFill", patternType="solid")
            etree.SubElement(pattern, f"{_M}fgColor", rgb=f"FF{rgb}")
            etree.SubElement(pattern, f"{_M}bgColor", indexed="64")
            self._marked[(s, rgb)] = self._with_fill(s, fill)
        return self._marked[(s, rgb)]

    def undo_fill(self, s: int) -> str:
        """The cell's fill as the undo sheet keeps it (openpyxl's XML of the fill, as annotate.py writes it)."""
        fill_id = int(self._format(s).get("fillId", "0"))
        if fill_id not in self._undo_fills:
            self._undo_fills[fill_id] = _fill_text(self.fills[fill_id] if fill_id < len(self.fills) else None)
        return self._undo_fills[fill_id]

    def restored(self, s: int, stored: object) -> int:
        """The cell format `s` with the fill an undo row recorded: the original format where there is one."""
        key = (s, str(stored))
        if key not in self._restored:
            wanted = tostring(stored_fill(stored).to_tree()).decode()
            self._restored[key] = self._with_fill(s, etree.fromstring(f'<fills xmlns="{MAIN}">{wanted}</fills>')[0])
        return self._restored[key]

    def named(self, name: str) -> int:
        """A cell format of the 审核结果 sheet: title, header, number, message, link."""
        if name not in self._named:
            xf = _copy(self.xfs[0])
            for child in list(xf):
                xf.remove(child)
            if name in _FONTS:
                font = _copy(self.fonts[0])
                replaced = {f"{_M}{tag}" for tag, _ in _FONTS[name]}
                for child in list(font):
                    if child.tag in replaced:
                        font.remove(child)
                for tag, attributes in _FONTS[name]:
                    etree.SubElement(font, f"{_M}{tag}", attributes)
                font[:] = sorted(font, key=lambda child: _FONT_ORDER.get(child.tag, len(_FONT_ORDER)))
                xf.set("fontId", str(self.font_pool.id(font)))
                xf.set("applyFont", "1")
            elif name == "number":
                xf.set("numFmtId", "4")  # built in: #,##0.00
                xf.set("applyNumberFormat", "1")
            elif name == "message":
                etree.SubElement(xf, f"{_M}alignment", vertical="top", wrapText="1")
                xf.set("applyAlignment", "1")
            self._named[name] = self.xf_pool.id(xf)
        return self._named[name]

    def bytes(self) -> bytes:
        for element in (self.fills, self.xfs, self.fonts):
            element.set("count", str(len(element)))
        return _xml(self.root)


def _fill_text(element) -> str:
    """A fill as openpyxl writes it: how the undo sheet keeps fills, and how equal fills are found."""
    fill = Fill.from_tree(element) if element is not None else None  # an empty <fill/> reads as None
    return tostring((fill or PatternFill(patternType="none")).to_tree()).decode()


# fonts of the 审核结果 sheet: the workbook's default font with these children replaced
_FONTS = {
    "title": [("b", {}), ("sz", {"val": "14"})],
    "header": [("b", {})],
    "link": [("u", {}), ("color", {"rgb": "FF0563C1"})],
}
_FONT_ORDER = {f"{_M}{tag}": i for i, tag in enumerate("b i strike condense extend outline shadow u vertAlign sz color name family charset scheme".split())}


def _xf_key(xf) -> bytes:
    """A cell format as text, applyFill left out: a marked format restored matches its original."""
    copy = _copy(xf)
    copy.attrib.pop("applyFill", None)
    return etree.tostring(copy)


def _copy(element):
    return copy.deepcopy(element)


class _Sheet:
    """One worksheet being marked or cleared: its cells by address, merged origins, notes."""

    def __init__(self, book: _Book, name: str, part: str):
        self.book, self.name, self.part = book, name, part
        self.root = _parse(book.read(part), part)
        if self.root.tag != f"{_M}worksheet":
            raise Unsupported(f"{part} is not a worksheet")
        self.data = self.root.find(f"{_M}sheetData")
        if self.data is None:
            raise Unsupported(f"{part} has no sheetData")
        self.row_numbers: list[int] = []
        self.rows: dict[int, object] = {}
        for row in self.data:
            if row.get("r") is None:
                raise Unsupported(f"{part}: a row without an address")
            self.row_numbers.append(int(row.get("r")))
            self.rows[int(row.get("r"))] = row
        if self.row_numbers != sorted(self.row_numbers):
            raise Unsupported(f"{part}: rows out of order")
        self.cells: dict[int, dict[str, object]] = {}
        self.origins = self._merged_origins()
        self.rels = _Rels(book, part)
        self.comments = self._comments()
        self.changed_notes: set[str] = set()  # addresses whose note was put or removed
        self.created: list[str] = []  # cells that were not in the sheet's XML before they were marked
        self.sizes: dict[str, tuple[int, int]] = {}  # height, width of the box of a note put
        self.boxes: dict[str, str] = {}  # VML box of a note put back by clear, as it was before the marks

    def _merged_origins(self) -> dict[str, str]:
        origins = {}
        for merged in self.root.iterfind(f"{_M}mergeCells/{_M}mergeCell"):
            first, _, last = (merged.get("ref") or "").partition(":")
            a, b = _ADDRESS.match(first), _ADDRESS.match(last or first)
            if not a or not b:
                continue
            for r, c in covered_cells(int(a.group(2)), column_index(a.group(1)), int(b.group(2)), column_index(b.group(1))):
                origins[f"{column_letter(c)}{r}"] = first
        return origins

    def _comments(self) -> dict[str, object]:
        """The sheet's legacy notes by address (<comment> elements of its comments part, edited in place so
        that what we do not know, such as the xr:uid linking a note to a threaded comment, stays)."""
        targets = self.rels.targets("comments")
        self.comments_part = targets[0][1] if targets else None
        if self.comments_part is None:
            self.comments_root = etree.fromstring(f'<comments xmlns="{MAIN}"><authors/><commentList/></comments>')
        else:
            self.comments_root = _parse(self.book.read(self.comments_part), self.comments_part)
        self.author_list = self.comments_root.find(f"{_M}authors")
        self.comment_list = self.comments_root.find(f"{_M}commentList")
        if self.author_list is None or self.comment_list is None:
            raise Unsupported(f"{self.comments_part}: no authors or commentList")
        self.threaded = set()  # cells with an Excel 365 threaded comment
        for _, part in self.rels.targets("threadedComment", _THREADED_REL):
            data = self.book.read(part)
            if data is not None:
                self.threaded.update(c.get("ref") for c in _parse(data, part))
        return {c.get("ref"): c for c in self.comment_list}

    def origin(self, address: str) -> str:
        return self.origins.get(address, address)

    def cell(self, address: str):
        """The <c> element at `address`; where the sheet has none, a new one in column order that keeps
        the format the blank cell showed (its row's, else its column's)."""
        match = _ADDRESS.match(address)
        if match is None:
            raise Unsupported(f"{self.part}: cell address {address!r}")
        r = int(match.group(2))
        row = self.rows.get(r)
        if row is None:
            row = etree.Element(f"{_M}row", r=str(r))
            at = bisect.bisect(self.row_numbers, r)
            if at < len(self.row_numbers):
                self.rows[self.row_numbers[at]].addprevious(row)
            else:
                self.data.append(row)
            self.row_numbers.insert(at, r)
            self.rows[r] = row
        cells = self.cells.get(r)
        if cells is None:
            cells = {}
            for c in row:
                if c.get("r") is None:
                    raise Unsupported(f"{self.part}: a cell without an address in row {r}")
                cells[c.get("r")] = c
            self.cells[r] = cells
        element = cells.get(address)
        if element is None:
            element = etree.Element(f"{_M}c", r=address)
            self.created.append(address)
            column = column_index(match.group(1))
            style = row.get("s") if row.get("customFormat") in ("1", "true") else self.column_styles().get(column)
            if style not in (None, "0"):
                element.set("s", style)
            following = next((c for c in row if column_index(_ADDRESS.match(c.get("r")).group(1)) > column), None)
            if following is not None:
                following.addprevious(element)
            else:
                row.append(element)
            cells[address] = element
            row.attrib.pop("spans", None)  # a hint that no longer holds; it is optional
        return element

    def at(self, address: str):
        """The <c> element at `address`, None where the sheet has none (nothing is created)."""
        match = _ADDRESS.match(address)
        row = self.rows.get(int(match.group(2))) if match else None
        return next((c for c in row if c.get("r") == address), None) if row is not None else None

    def drop_if_empty(self, address: str) -> None:
        """Remove a cell the marks created, unless it has a value now; and its row, if nothing else is in it."""
        match = _ADDRESS.match(address)
        row = self.rows.get(int(match.group(2))) if match else None
        element = self.at(address)
        if element is None or len(element) or element.get("t"):
            return
        row.remove(element)
        self.cells.get(int(match.group(2)), {}).pop(address, None)
        if not len(row) and set(row.attrib) <= {"r", "spans"}:
            self.data.remove(row)
            del self.rows[int(match.group(2))]
            self.row_numbers.remove(int(match.group(2)))

    def column_styles(self) -> dict[int, str]:
        """0-based column → the cell format <cols> gives its blank cells."""
        if not hasattr(self, "_column_styles"):
            self._column_styles = {}
            for col in self.root.iterfind(f"{_M}cols/{_M}col"):
                if col.get("style") not in (None, "0") and int(col.get("max", "0")) - int(col.get("min", "0")) < 16_384:
                    for number in range(int(col.get("min")), int(col.get("max")) + 1):  # 1-based in <col>
                        self._column_styles[number - 1] = col.get("style")
        return self._column_styles

    def author(self, name: str) -> int:
        names = [a.text or "" for a in self.author_list]
        if name not in names:
            etree.SubElement(self.author_list, f"{_M}author").text = name
            return len(names)
        return names.index(name)

    def set_comment(
        self, address: str, text: str, author: str, size: tuple[int, int] = (79, 144), rich: object = None, box: object = None
    ) -> None:
        """Put a note on a cell: plain `text`, or `rich` (its <text> element with formatted runs, as
        comment_text gave it) when there is one; `size` is the box's height, width in pixels, unless
        `box` (the VML box it had, as note_box gave it) is there to put back."""
        text, author = _ILLEGAL.sub("", text), _ILLEGAL.sub("", author)  # not allowed in XML
        body = _parse(rich.encode("utf-8"), "undo sheet") if isinstance(rich, str) and rich.startswith("<") else None
        if body is None or body.tag != f"{_M}text":
            body = etree.Element(f"{_M}text")
            etree.SubElement(body, f"{_M}t").text = text
            body[0].set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        comment = self.comments.get(address)
        if comment is None:  # in row order when written
            comment = etree.SubElement(self.comment_list, f"{_M}comment", ref=address)
            self.comments[address] = comment
        comment.set("authorId", str(self.author(author)))
        old = comment.find(f"{_M}text")
        if old is not None:
            old.addprevious(body)
            comment.remove(old)
        else:
            comment.insert(0, body)
        self.sizes[address] = size
        if isinstance(box, str) and box.startswith("<"):
            self.boxes[address] = box
        else:
            self.boxes.pop(address, None)
        self.changed_notes.add(address)

    def remove_comment(self, address: str) -> None:
        comment = self.comments.pop(address, None)
        if comment is not None:
            self.comment_list.remove(comment)
            self.changed_notes.add(address)

    def comment_text(self, address: str) -> tuple[str, str, str | None] | None:
        """(text, author, the <text> element when its runs are formatted, else None) of the cell's note;
        None when it has none."""
        comment = self.comments.get(address)
        if comment is None:
            return None
        authors = [a.text or "" for a in self.author_list]
        at = int(comment.get("authorId", "0"))
        body = comment.find(f"{_M}text")
        rich = etree.tostring(body, encoding="unicode") if body is not None and body.find(f"{_M}r") is not None else None
        return _text_of(body), authors[at] if 0 <= at < len(authors) else "", rich if rich and len(rich) <= UNDO_TEXT_LIMIT else None

    def drawing(self):
        """(legacyDrawing element, VML part, parsed VML) of the sheet, None where it has none."""
        if not hasattr(self, "_drawing"):
            legacy = self.root.find(f"{_M}legacyDrawing")
            drawing = vml = None
            if legacy is not None:
                drawing = next((p for i, p in self.rels.targets("vmlDrawing") if i == legacy.get(f"{_R}id")), None)
                data = self.book.read(drawing) if drawing else None
                # Excel leaves <br> unclosed in the caption of a form button
                vml = _parse(_UNCLOSED_BR.sub(b"<br/>", data) if data is not None else None, f"{self.part}: legacyDrawing")
            self._drawing = (legacy, drawing, vml)
        return self._drawing

    def note_box(self, address: str) -> str | None:
        """The VML box of the cell's note, as text (what the undo sheet keeps), None when it has none."""
        if address in self.boxes:  # put back by clear in this run, not yet drawn
            return self.boxes[address]
        vml = self.drawing()[2]
        box = next((shape for shape in vml.iterfind(f"{_VML}shape") if _note_address(shape) == address), None) if vml is not None else None
        text = etree.tostring(box, encoding="unicode") if box is not None else None
        return text if text and len(text) <= UNDO_TEXT_LIMIT else None

    def write_comments(self) -> None:
        """Write the comments part and, in the VML drawing, the boxes of the notes that changed
        (openpyxl's shape); other notes, boxes and shapes stay as they were.  Both parts go when no
        note is left and nothing else is drawn."""
        if not self.changed_notes:
            return
        book = self.book
        legacy, drawing, vml = self.drawing()
        if vml is None:
            vml = etree.Element("xml")
            ShapeWriter([]).add_comment_shapetype(vml)
        for shape in vml.findall(f"{_VML}shape"):
            if _note_address(shape) in self.changed_notes:
                vml.remove(shape)
        if vml.find(f"{_VML}shapetype[@id='_x0000_t202']") is None:
            types = etree.Element("xml")
            ShapeWriter([]).add_comment_shapetype(types)
            vml.append(types.find(f"{_VML}shapetype"))
        number = max([1025, *(int(n) for n in _SHAPE_ID.findall(etree.tostring(vml)))])
        for address in sorted(self.changed_notes & set(self.comments), key=_position):
            number += 1
            row, column = _position(address)
            kept = self.boxes.get(address)  # the box a restored note had before it was marked
            if kept is not None:
                shape = _parse(kept.encode("utf-8"), "undo sheet")
                for attribute in ("id", "{urn:schemas-microsoft-com:office:office}spid"):
                    shape.attrib.pop(attribute, None)
            else:
                height, width = self.sizes[address]
                shape = _shape_factory(row - 1, column, height, width)
            shape.set("id", f"_x0000_s{number}")
            vml.append(shape)
        self.comment_list[:] = sorted(self.comment_list, key=lambda c: _position(c.get("ref")))
        authors = list(self.author_list)
        if authors and authors[-1].text == NOTE_AUTHOR and all(c.get("authorId") != str(len(authors) - 1) for c in self.comment_list):
            self.author_list.remove(authors[-1])  # ours, added last, and no note of ours is left
        if self.comments:
            if self.comments_part is None:
                self.comments_part = book.new_part("xl/comments/xlplugin_comment{}.xml")
                self.rels.add("comments", self.comments_part)
                book.override(self.comments_part, _COMMENTS_TYPE)
            book.changed[self.comments_part] = _xml(self.comments_root)
        elif self.comments_part is not None:
            book.remove(self.comments_part)
            self.rels.remove(self.comments_part)
        if vml.find(f"{_VML}shape") is None:  # nothing is drawn any more
            if drawing is not None:
                book.remove(drawing)
                self.rels.remove(drawing)
                self.root.remove(legacy)
            return
        if drawing is None:
            drawing = book.new_part("xl/drawings/xlplugin_vmlDrawing{}.vml")
            legacy = etree.Element(f"{_M}legacyDrawing")
            legacy.set(f"{_R}id", self.rels.add("vmlDrawing", drawing))
            _insert_before(self.root, legacy, _AFTER_LEGACY_DRAWING)
            book.default("vml", _VML_TYPE)
        book.changed[drawing] = etree.tostring(vml)

    def bytes(self) -> bytes:
        if self.book.selects_result:
            for view in self.root.iterfind(f"{_M}sheetViews/{_M}sheetView"):
                view.attrib.pop("tabSelected", None)  # 审核结果 is the one selected sheet
        return _xml(self.root)


def _insert_before(parent, element, later: set[str]) -> None:
    """Put `element` into `parent` before the first child the schema orders after it (`later` tags)."""
    after = next((child for child in parent if child.tag in later), None)
    if after is not None:
        after.addprevious(element)
    else:
        parent.append(element)


def _note_address(shape) -> str | None:
    """A1 of the cell a VML note box belongs to (None for other shapes: buttons, check boxes …)."""
    data = shape.find(f"{_EXCEL}ClientData")
    if data is None or data.get("ObjectType") != "Note":
        return None
    row, column = data.findtext(f"{_EXCEL}Row"), data.findtext(f"{_EXCEL}Column")
    if row is None or column is None or not row.strip().isdigit() or not column.strip().isdigit():
        return None
    return f"{column_letter(int(column))}{int(row) + 1}"


def _position(address: str | None) -> tuple[int, int]:
    """(row, 0-based column) of an A1 address, for ordering notes; (0, -1) when it is none."""
    match = _ADDRESS.match(address or "")
    return (int(match.group(2)), column_index(match.group(1))) if match else (0, -1)


class _Book:
    """The package being annotated: parts read from the source, parts changed or added."""

    def __init__(self, package: zipfile.ZipFile):
        self.package = package
        self.names = set(package.namelist())
        self.changed: dict[str, object] = {}  # part → bytes or an object with .bytes()
        self.deleted: set[str] = set()
        self.selects_result = False  # 审核结果 becomes the one selected sheet
        main = [p for _, p in _Rels(self, "").targets("officeDocument")]
        self.workbook_part = main[0] if main else "xl/workbook.xml"
        self.workbook = _parse(self.read(self.workbook_part), self.workbook_part)
        if self.workbook.tag != f"{_M}workbook":
            raise Unsupported("not a transitional SpreadsheetML workbook")
        self.types = _parse(self.read("[Content_Types].xml"), "[Content_Types].xml")
        self.rels = _Rels(self, self.workbook_part)
        self.sheet_list = self.workbook.find(f"{_M}sheets")
        targets = dict(self.rels.targets("worksheet"))
        self.sheet_parts = {s.get("name"): targets.get(s.get(f"{_R}id")) for s in self.sheet_list}
        styles = self.rels.targets("styles")
        if not styles or self.read(styles[0][1]) is None:
            raise Unsupported("no styles part")
        self.styles_part = styles[0][1]
        self.styles = _Styles(_parse(self.read(self.styles_part), self.styles_part))
        self.changed[self.styles_part] = self.styles
        self.sheets: dict[str, _Sheet] = {}

    def read(self, part: str) -> bytes | None:
        if part in self.deleted:
            return None
        if part in self.changed and isinstance(self.changed[part], bytes):
            return self.changed[part]
        return self.package.read(part) if part in self.names else None

    def new_part(self, pattern: str) -> str:
        number = 1
        while pattern.format(number) in self.names or pattern.format(number) in self.changed:
            number += 1
        return pattern.format(number)

    def override(self, part: str, content_type: str) -> None:
        etree.SubElement(self.types, f"{{{_TYPES}}}Override", PartName=f"/{part}", ContentType=content_type)

    def default(self, extension: str, content_type: str) -> None:
        if not any(d.get("Extension", "").lower() == extension for d in self.types.iterfind(f"{{{_TYPES}}}Default")):
            self.types.insert(0, etree.Element(f"{{{_TYPES}}}Default", Extension=extension, ContentType=content_type))

    def sheet(self, name: str) -> _Sheet | None:
        if name not in self.sheets:
            part = self.sheet_parts.get(name)
            if part is None or part not in self.names:
                return None  # no such worksheet (a chartsheet, or a name from another workbook)
            self.sheets[name] = _Sheet(self, name, part)
            self.changed[part] = self.sheets[name]
        return self.sheets[name]

    # -- the marks ---------------------------------------------------------------
    def mark(self, plan: MarkPlan) -> None:
        view = self.workbook.find(f"{_M}bookViews/{_M}workbookView")
        active = int(view.get("activeTab", "0")) if view is not None else 0
        undo: list[list[object]] = [["xlplugin", "what the marks replaced; used by `xlplugin clear`"], ["active", active]]
        plain: dict[tuple[str, str], list[str]] = {}  # (sheet, fill) → cells that had that fill and no note
        done = set()
        styles = self.styles
        for mark in plan.cells.values():
            sheet = self.sheet(mark.sheet)
            if sheet is None:
                continue
            address = sheet.origin(mark.cell)
            if (mark.sheet, address) in done:
                continue  # two marks on one merged range: the first one counts
            done.add((mark.sheet, address))
            cell = sheet.cell(address)
            s = int(cell.get("s", "0"))
            comment = sheet.comment_text(address)
            threaded = address in sheet.threaded  # an Excel 365 threaded comment stays as it is: the cell is only filled
            if threaded:
                undo.append(["cell", mark.sheet, address, styles.undo_fill(s), None, None, "kept"])
            elif comment is None:
                plain.setdefault((mark.sheet, styles.undo_fill(s)), []).append(address)
            else:
                undo.append(["cell", mark.sheet, address, styles.undo_fill(s), comment[0], comment[1], None, comment[2], sheet.note_box(address)])
            cell.set("s", str(styles.marked(s, mark.fill)))
            if mark.note and not threaded:
                text = mark.note if comment is None else f"{mark.note}\n\n{USER_NOTE_HEADER}\n{comment[0]}"
                sheet.set_comment(address, text, NOTE_AUTHOR, (220, 420))
        for (sheet_name, fill), cells in plain.items():
            for run in undo_runs(cells, UNDO_TEXT_LIMIT):
                undo.append(["cells", sheet_name, " ".join(run), fill])
        for sheet in self.sheets.values():  # removed again on clear, so that the used range is as it was
            for run in undo_runs(sheet.created, UNDO_TEXT_LIMIT):
                undo.append(["created", sheet.name, " ".join(run)])
        self._add_sheets(plan, undo)

    def clear(self) -> Cleared:
        """Restore what the marks replaced (the undo sheet's rows) where the marks still are, and
        remove the 审核结果 and undo sheets; a recorded cell that carries no mark now is left as it
        is (Cleared.moved), and our notes are taken off the cells they moved to."""
        cleared = Cleared()
        if UNDO_SHEET not in self.sheet_parts:
            self._remove_result_sheets()
            return cleared
        handled: set[tuple[str, str]] = set()
        active = None
        for values in self._values(UNDO_SHEET):
            row = (*values, None, None, None, None, None, None, None, None, None)  # trailing blanks are not stored
            kind = row[0]
            if kind == "active" and isinstance(row[1], (int, float)):
                active = int(row[1])
            elif kind in ("cell", "cells") and row[1] in self.sheet_parts:
                sheet = self.sheet(row[1])
                if sheet is None:
                    continue
                for address in str(row[2]).split():  # "cells": several cells that had this fill and no note
                    if not self._still_marked(sheet, address):
                        cleared.moved.append(cell_reference(sheet.name, address))
                        continue
                    handled.add((sheet.name, address))
                    cell = sheet.cell(address)
                    cell.set("s", str(self.styles.restored(int(cell.get("s", "0")), row[3])))
                    if row[6] == "kept":  # the xlwings writer left the user's note alone
                        continue
                    current = sheet.comment_text(address)
                    original = None if row[4] is None else str(row[4])
                    text = restored_note(original, current[0] if current else None)  # what the user wrote since stays
                    if text is None:
                        sheet.remove_comment(address)
                    elif text == original:
                        sheet.set_comment(address, original, str(row[5] or ""), rich=row[7], box=row[8])
                    else:
                        sheet.set_comment(address, text, str(row[5] or "") if original is not None else "")
            elif kind == "created" and row[1] in self.sheet_parts:
                sheet = self.sheet(row[1])
                for address in str(row[2]).split() if sheet is not None else []:
                    if (sheet.name, address) in handled:  # a cell moved there since may hold a format of its own
                        sheet.drop_if_empty(address)
        if cleared.moved:
            self._sweep(handled, cleared)
        self._remove_sheet(UNDO_SHEET)
        self._remove_result_sheets()
        if active is not None and len(self.sheet_list):
            active = min(active, len(self.sheet_list) - 1)
            for view in self.workbook.iterfind(f"{_M}bookViews/{_M}workbookView"):
                view.set("activeTab", str(active))
            sheet = self.sheet(self.sheet_list[active].get("name"))  # None for a chartsheet
            view = sheet.root.find(f"{_M}sheetViews/{_M}sheetView") if sheet is not None else None
            if view is not None:
                view.set("tabSelected", "1")
        return cleared

    def _fill_rgb(self, element) -> str | None:
        return None if element is None else stored_fill_rgb(self.styles.undo_fill(int(element.get("s", "0"))))

    def _still_marked(self, sheet: _Sheet, address: str) -> bool:
        note = sheet.comment_text(address)
        return still_marked(self._fill_rgb(sheet.at(address)), note[0] if note else None)

    def _sweep(self, handled: set[tuple[str, str]], cleared: Cleared) -> None:
        """Our notes on cells the undo sheet does not name (they were moved there): the note goes
        (the user's own stays), and the fill too when it is ours.  A fill of ours without a note is
        not taken: Excel's 差 and 适中 cell styles use the same colours."""
        for name in list(self.sheet_parts):
            sheet = None if name == UNDO_SHEET or (may_be_result_sheet(name) and self.ours(name)) else self.sheet(name)
            for address in list(sheet.comments) if sheet is not None else []:
                if (name, address) in handled or address in sheet.threaded:
                    continue
                text = sheet.comment_text(address)[0]
                if not text.startswith(NOTE_HEADER):
                    continue
                original = stray_note(text)
                if original is None:
                    sheet.remove_comment(address)
                else:
                    sheet.set_comment(address, original, "")
                element = sheet.at(address)
                if (self._fill_rgb(element) or "").upper() in OUR_FILLS:
                    element.set("s", str(self.styles.restored(int(element.get("s", "0")), None)))
                cleared.swept.append(cell_reference(name, address))

    def _remove_result_sheets(self) -> None:
        """Our 审核结果 sheet (or 审核结果1 …, beside a user's 审核结果); a user's sheet of that name stays."""
        for name in [n for n in self.sheet_parts if may_be_result_sheet(n) and self.ours(n)]:
            self._remove_sheet(name)

    def ours(self, name: str) -> bool:
        """Whether the sheet `name` is a result sheet xlplugin wrote (its first line says so)."""
        rows = self._values(name) if name in self.sheet_parts else []
        return bool(rows and rows[0] and is_result_title(rows[0][0]))

    def _values(self, name: str) -> list[tuple[object, ...]]:
        """The values of a sheet's rows (short sheets: the undo sheet, the first line of 审核结果)."""
        part = self.sheet_parts.get(name)
        if part is None or self.read(part) is None:
            return []
        shared = self._shared_strings()
        rows = []
        for row in _parse(self.read(part), part).iterfind(f"{_M}sheetData/{_M}row"):
            values: dict[int, object] = {}
            for c in row:
                match = _ADDRESS.match(c.get("r") or "")
                if match is None:
                    raise Unsupported(f"{part}: a cell without an address")
                values[column_index(match.group(1))] = _cell_value(c, shared)
            rows.append(tuple(values.get(i) for i in range(max(values, default=-1) + 1)))
        return rows

    def _shared_strings(self) -> list[str]:
        if not hasattr(self, "_strings"):
            parts = self.rels.targets("sharedStrings")
            data = self.read(parts[0][1]) if parts else None
            root = _parse(data, parts[0][1]) if data is not None else None
            self._strings = [_text_of(si) for si in root] if root is not None else []
        return self._strings

    def _remove_sheet(self, name: str) -> None:
        element = next(e for e in self.sheet_list if e.get("name") == name)
        index = list(self.sheet_list).index(element)
        part = self.sheet_parts.pop(name)
        self.sheet_list.remove(element)
        if part is not None:
            own = _Rels(self, part).targets_all() if self.read(_rels_part(part)) is not None else []
            self.remove(part)
            self.remove(_rels_part(part))
            self.rels.remove(part)
            used = self._referenced()
            for target in own:  # what only this sheet used (a drawing another program gave 审核结果)
                if target not in used:
                    self.remove(target)
                    self.remove(_rels_part(target))
        names = self.workbook.find(f"{_M}definedNames")
        for defined in list(names) if names is not None else []:
            local = defined.get("localSheetId")
            if local is not None and int(local) == index:
                names.remove(defined)
            elif local is not None and int(local) > index:
                defined.set("localSheetId", str(int(local) - 1))
        if names is not None and not len(names):
            self.workbook.remove(names)
        for view in self.workbook.iterfind(f"{_M}bookViews/{_M}workbookView"):
            for attribute in ("activeTab", "firstSheet"):
                at = int(view.get(attribute, "0"))
                at = at - 1 if at > index else at  # the sheets after it moved one place to the left
                view.set(attribute, str(min(at, max(len(self.sheet_list) - 1, 0))))

    def _referenced(self) -> set[str]:
        """Every part some relationship of the package still points to."""
        used = set()
        for name in (self.names | set(self.changed)) - self.deleted:
            if name.endswith(".rels"):
                rels = self.changed.get(name)
                if not isinstance(rels, _Rels):  # the part a relationships file belongs to: the inverse of _rels_part
                    folder = posixpath.dirname(posixpath.dirname(name))
                    rels = _Rels(self, posixpath.join(folder, posixpath.basename(name)[: -len(".rels")]))
                used.update(rels.targets_all())
        return used

    def remove(self, part: str) -> None:
        """Leave `part` out of the package (and out of [Content_Types].xml)."""
        self.changed.pop(part, None)
        self.deleted.add(part)
        for override in self.types.iterfind(f"{{{_TYPES}}}Override"):
            if override.get("PartName") == f"/{part}":
                self.types.remove(override)

    def _add_sheets(self, plan: MarkPlan, undo: list[list[object]]) -> None:
        self.selects_result = True
        result_part = self.new_part("xl/worksheets/xlplugin_result{}.xml")
        self.changed[result_part] = _result_sheet(plan, self.styles)
        undo_part = self.new_part("xl/worksheets/xlplugin_undo{}.xml")
        self.changed[undo_part] = _sheet_xml([(row, {}) for row in undo])
        for part in (result_part, undo_part):
            self.override(part, _WORKSHEET_TYPE)
        ids = [int(s.get("sheetId", "0")) for s in self.sheet_list]
        number = max(ids, default=0) + 1
        result_name = result_sheet_name([e.get("name", "") for e in self.sheet_list])
        first = etree.Element(f"{_M}sheet", name=result_name, sheetId=str(number))
        first.set(f"{_R}id", self.rels.add("worksheet", result_part))
        self.sheet_list.insert(0, first)
        hidden = etree.SubElement(self.sheet_list, f"{_M}sheet", name=UNDO_SHEET, sheetId=str(number + 1), state="veryHidden")
        hidden.set(f"{_R}id", self.rels.add("worksheet", undo_part))
        names = self.workbook.find(f"{_M}definedNames")
        if names is None:
            names = etree.Element(f"{_M}definedNames")
            _insert_before(self.workbook, names, _AFTER_DEFINED_NAMES)
        for name in names:  # every sheet moved one place to the right
            if name.get("localSheetId") is not None:
                name.set("localSheetId", str(int(name.get("localSheetId")) + 1))
        header = plan.header_row + 1
        last = header + len(plan.rows) - 1
        database = etree.SubElement(names, f"{_M}definedName", name="_xlnm._FilterDatabase", localSheetId="0", hidden="1")
        database.text = sheet_reference(result_name, f"$A${header}:${column_letter(len(COLUMNS) - 1)}${last}")
        views = self.workbook.find(f"{_M}bookViews")
        if views is None:
            views = etree.Element(f"{_M}bookViews")
            self.sheet_list.addprevious(views)
        if not len(views):
            etree.SubElement(views, f"{_M}workbookView")
        for view in views:
            view.set("activeTab", "0")
            if view.get("firstSheet") is not None:
                view.set("firstSheet", "0")

    # -- writing -----------------------------------------------------------------
    def write(self, target: Path) -> None:
        for sheet in self.sheets.values():
            sheet.write_comments()
        for part, content in list(self.changed.items()):
            if isinstance(content, _Rels) and not len(content.root):
                self.remove(part)  # no relationship left: the part says nothing
        parts = {self.workbook_part: _xml(self.workbook), "[Content_Types].xml": _xml(self.types)}
        for part, content in self.changed.items():
            if part not in parts:
                parts[part] = content if isinstance(content, bytes) else content.bytes()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self.package.infolist():
                if info.filename in self.deleted:
                    continue
                data = parts.pop(info.filename, None)
                if data is None:
                    data = self.package.read(info)
                    if self.selects_result and info.filename.startswith(("xl/worksheets/", "xl/chartsheets/")) and b"tabSelected" in data:
                        data = _TAB_SELECTED.sub(b"", data)  # 审核结果 is the one selected sheet
                out.writestr(_info(info.filename, info.date_time), data)
            for part, data in parts.items():
                out.writestr(_info(part), data)


def _cell_value(c, shared: list[str]) -> object:
    kind = c.get("t", "n")
    if kind == "inlineStr":
        return _text_of(c.find(f"{_M}is"))
    v = c.find(f"{_M}v")
    if v is None or v.text is None:
        return None
    if kind == "s":
        return shared[int(v.text)]
    if kind in ("str", "e"):
        return v.text
    if kind == "b":
        return v.text == "1"
    return float(v.text) if any(ch in v.text for ch in ".eE") else int(v.text)


def _text_of(element) -> str:
    """The text of a string item: its <t>, or its runs' <t> (phonetic runs left out)."""
    if element is None:
        return ""
    return "".join(t.text or "" for t in element.iterfind(f"{_M}t")) + "".join(t.text or "" for t in element.iterfind(f"{_M}r/{_M}t"))


def _info(name: str, date_time: tuple = (1980, 1, 1, 0, 0, 0)) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _escape(text: str) -> str:
    text = _ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\r", "&#13;")


def _cell_xml(address: str, value: object, style: int | None) -> str:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{address}"{s}/>' if style else ""
    if isinstance(value, bool):
        return f'<c r="{address}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{address}"{s}><v>{value!r}</v></c>'
    return f'<c r="{address}"{s} t="inlineStr"><is><t xml:space="preserve">{_escape(str(value))}</t></is></c>'


def _sheet_xml(rows: list[tuple[list[object], dict[int, int]]], before: str = "", after: str = "") -> bytes:
    """A worksheet of `rows` (values, and the style of some columns), with extra elements around sheetData."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{MAIN}" xmlns:r="{_R[1:-1]}">',
        before,
        "<sheetData>",
    ]
    for number, (values, styles) in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{column_letter(c)}{number}", value, styles.get(c)) for c, value in enumerate(values))
        if cells:
            lines.append(f'<row r="{number}">{cells}</row>')
    lines += ["</sheetData>", after, "</worksheet>"]
    return "".join(lines).encode("utf-8")


def _result_sheet(plan: MarkPlan, styles: _Styles) -> bytes:
    """The 审核结果 sheet: the head lines, then every finding with a link to its cell."""
    header = plan.header_row + 1  # 1-based row of the findings header
    last = header + len(plan.rows) - 1
    rows: list[tuple[list[object], dict[int, int]]] = [(list(line), {}) for line in plan.head]
    if rows:
        rows[0][1][0] = styles.named("title")
    else:
        rows.append(([], {0: styles.named("title")}))
    links = []
    for offset, row in enumerate(plan.rows):
        columns: dict[int, int] = {}
        for c, value in enumerate(row.values):
            if offset == 0:
                columns[c] = styles.named("header")
            elif isinstance(value, float):
                columns[c] = styles.named("number")
            elif c == MESSAGE_COLUMN:  # the message column wraps
                columns[c] = styles.named("message")
        if row.link:
            columns[LINK_COLUMN] = styles.named("link")
            address = f"{column_letter(LINK_COLUMN)}{header + offset}"
            location = _escape(sheet_reference(*row.link))
            links.append(f'<hyperlink ref="{address}" location="{location}" display="{_escape(str(row.values[LINK_COLUMN]))}"/>')
        rows.append((row.values, columns))
    width = column_letter(len(COLUMNS) - 1)
    before = (
        f'<dimension ref="A1:{width}{max(last, 1)}"/>'
        f'<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{header}" topLeftCell="A{header + 1}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols>'
        + "".join(f'<col min="{c + 1}" max="{c + 1}" width="{width}" customWidth="1"/>' for c, width in enumerate(RESULT_WIDTHS))
        + "</cols>"
    )
    after = f'<autoFilter ref="A{header}:{width}{last}"/>'
    if links:
        after += f"<hyperlinks>{''.join(links)}</hyperlinks>"
    after += '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
    return _sheet_xml(rows, before, after)
