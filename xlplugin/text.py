"""Normalising what people type into cells: labels, titles, amounts, codes.

Real workbooks mix full- and half-width characters, pad labels with spaces,
number rows 一、/（一）/1., store amounts as text ("1,234.56", "１２３", "—") and
print 科目编码 as numbers or text.  Everything that compares text goes through
`normalize_label` so that one rule holds everywhere.
"""

from __future__ import annotations

import datetime as _dt
import errno
import functools
import re
import unicodedata

_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』")
_SPACE = re.compile(r"[\s\u200b\u3000]+")
# Leading numbering: 一、 （一） (1) 1. 1、 ① 其中：
_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.]|\([一二三四五六七八九十百]+\)|\(\d+\)|\d+[、.)](?!\d)|[①-⑳]|其中:?)"
)
_TITLE_PREFIX = re.compile(
    r"^(?:(?:附表|附件|表|公开)(?:\d+|[一二三四五六七八九十]+)表?[、.:\-]?|\d+[、.:\-])"
)
_TRAILING_PAREN = re.compile(r"\([^()]*\)$")
_ZERO_MARKS = {"-", "—", "——", "--", "–", "―", "─", "/", "———", "ー"}
# minus signs and hyphens that NFKC leaves as they are (U+2212 from PDF and Word, U+2010/2011, U+2012/2013):
# read as "-", so that −12.30 is a negative amount and − or ‐ a zero
_DASHES = str.maketrans({"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-"})


def normalize_label(value: object) -> str:
    """Comparable form of a row or header label ('' for non-text)."""
    if not isinstance(value, str):
        return ""
    return _normalized(value)


@functools.lru_cache(maxsize=65536)  # the same labels recur in every workbook of a batch
def _normalized(value: str) -> str:
    text = _SPACE.sub("", unicodedata.normalize("NFKC", value)).translate(_QUOTES)
    previous = None
    while previous != text:
        previous = text
        text = _NUMBERING.sub("", text)
    return text.rstrip(":")


def normalize_title(value: object) -> str:
    """Comparable form of a table title: no 表1/一、 prefix, no trailing (公开01表)."""
    text = normalize_label(value)
    text = _TITLE_PREFIX.sub("", text)
    while _TRAILING_PAREN.search(text):
        text = _TRAILING_PAREN.sub("", text)
    return text


class Memo(dict):
    """`function(key)`, remembered: read it as `memo[key]`.  A key seen before costs one dict
    lookup and no call, which matters for checks run on every cell of a batch of workbooks.
    Bounded (cleared when full), for a server that runs for months."""

    def __init__(self, function, size: int = 65536):
        super().__init__()
        self.function, self.size = function, size

    def __missing__(self, key):
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.function(key)
        return value


class NotANumber(ValueError):
    """A cell holds text where an amount belongs."""


def parse_amount(value: object) -> float | None:
    """The number a cell stands for; None for blank; NotANumber for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        raise NotANumber(str(value))
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    number = _TEXT_AMOUNTS[text] if len(text) <= 64 else _text_amount(text)  # long texts are not worth keeping
    if number is NotANumber:
        raise NotANumber(text)
    return number


_AMOUNT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+")


def _text_amount(value: str) -> float | None | type[NotANumber]:
    """parse_amount of a text: its number, None for blank, or NotANumber itself."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", value)).translate(_DASHES)
    if not text:
        return None
    if text in _ZERO_MARKS:
        return 0.0
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    if not _AMOUNT.fullmatch(text):
        return NotANumber
    number = float(text.replace(",", ""))
    return -number if negative else number


_TEXT_AMOUNTS = Memo(_text_amount)  # "—", "-" and text numbers recur across a batch


_CODE = re.compile(r"^(\d{2,9})(?=$|[^\d.])\s*(.*)$", re.S)


def split_code(value: object) -> tuple[str, str]:
    """(digits, rest) of a label cell: 2080101 → ('2080101', ''); '208 社会保障…' → ('208', '社会保障…')."""
    if isinstance(value, bool) or value is None:
        return "", ""
    if isinstance(value, (int, float)):
        return (str(int(value)), "") if float(value).is_integer() and value >= 0 else ("", "")
    return _split_text(str(value))


@functools.lru_cache(maxsize=65536)  # row labels recur in every workbook of a batch
def _split_text(value: str) -> tuple[str, str]:
    text = unicodedata.normalize("NFKC", value).strip()
    match = _CODE.match(text)
    if match:
        return match.group(1), match.group(2).strip()
    return "", text


def is_code(digits: str) -> bool:
    """A whole 科目编码: 3 (类), 5 (款) or 7 (项) digits."""
    return len(digits) in (3, 5, 7) and digits.isdigit()


@functools.lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters → 0-based column index (A → 0): the inverse of column_letter."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def covered_cells(r0: int, c0: int, r1: int, c1: int) -> list[tuple[int, int]]:
    """(row, col) of the cells a merged range covers but its top-left one (which holds the value);
    none for a range of over 10,000 cells (a whole column or sheet merged, never a table's)."""
    if (r1 - r0 + 1) * (c1 - c0 + 1) > 10_000:
        return []
    return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0)]


def a1(row: int, col: int) -> str:
    """0-based (row, col) → A1 address."""
    return f"{column_letter(col)}{row + 1}"


_PLAIN_SHEET = re.compile(r"[^\W\d]\w*")  # a name Excel writes unquoted before !A1: letters (汉字 too), digits, _


def cell_reference(sheet: str, cell: str) -> str:
    """表五!C10 as Excel writes it, quoted where the name needs it: '表五 (2)'!C10, 'It''s'!A1."""
    if _PLAIN_SHEET.fullmatch(sheet) and not re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]?\d*", sheet):
        return f"{sheet}!{cell}"
    return "'" + sheet.replace("'", "''") + f"'!{cell}"


_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def printable(text: str) -> str:
    """`text` on one line, its control characters shown as escapes (\\n, \\t, \\x01).  A file name,
    unit name or cell may hold them: printed raw, a newline starts a line of its own (in a CI log,
    a workflow command such as ::error), a tab breaks the summary table's columns, and a workbook
    cell refuses them."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text) if _CONTROL.search(text) else text


_OS_PROBLEMS = {  # by name: not every system defines every code
    code: words
    for name, words in (
        ("ENOENT", "路径不存在"),
        ("EACCES", "没有权限"),
        ("EPERM", "没有权限"),
        ("ENOSPC", "磁盘已满"),
        ("EDQUOT", "磁盘配额已用完"),
        ("EROFS", "磁盘或共享是只读的"),
        ("EEXIST", "路径中有同名的文件，不能当作文件夹"),
        ("ENOTDIR", "路径中有一级是文件，不是文件夹"),
        ("EISDIR", "这是一个文件夹"),
        ("ENAMETOOLONG", "路径过长"),
        ("EFBIG", "文件超过了允许的大小"),
    )
    if (code := getattr(errno, name, None)) is not None
}
_IN_USE = (32, 33)  # Windows: ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION — open in Excel or WPS


def os_problem(error: OSError) -> str:
    """What went wrong with a file, in Chinese, the system's own words in brackets: the system
    speaks English ("File exists" for a folder that is a file) or, on Windows, the code page's."""
    own = error.strerror or str(error)
    if getattr(error, "winerror", None) in _IN_USE:
        return f"文件正被其他程序（如 Excel 或 WPS）打开，请关闭后再试（{own}）"
    words = _OS_PROBLEMS.get(error.errno)
    return f"{words}（{own}）" if words else own
