"""Finding table titles in sheets.

A title is a cell whose whole text is one of the nine titles (or an alias), possibly
after a prefix naming the unit and the year ("上海市普陀区财政局2024年度收入支出决算总表").
Since 支出决算表 is the tail of most other titles, the longest title that ends the text
wins, and the prefix may not read like a sentence (no punctuation, not too long): that
keeps "…政府性基金预算财政拨款收入支出决算表为空表" and notes from being taken for titles.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..model import Sheet
from ..specs import TableSpec, YearSpec
from ..text import normalize_title

_MAX_PREFIX = 40
_SENTENCE = re.compile(r"[,，。;；:：!！?？《》]")
_YEAR = re.compile(r"(20\d\d)年度?")


@dataclass(frozen=True)
class TitleHit:
    table: TableSpec
    sheet: Sheet
    row: int
    col: int
    text: str
    prefix: str  # what stood before the title: unit name and/or year


TITLE_MARK = "表"  # every title ends in 表: a text without it is no title


def match_title(text: object, spec: YearSpec) -> tuple[TableSpec, str] | None:
    """(table, prefix) when `text` is a table title, else None."""
    if not isinstance(text, str) or len(text) > 120 or TITLE_MARK not in text:
        return None
    return _match_title(text, spec)


@functools.lru_cache(maxsize=16384)  # titles and 目录/说明 lines recur across a batch
def _match_title(text: str, spec: YearSpec) -> tuple[TableSpec, str] | None:
    title = normalize_title(text)
    if len(title) < 4:
        return None
    best: tuple[int, TableSpec, str] | None = None
    for table in spec.tables:
        for candidate in table.titles:
            if title.endswith(candidate) and (best is None or len(candidate) > best[0]):
                best = (len(candidate), table, title[: -len(candidate)])
    if best is None:
        return None
    _, table, prefix = best
    if len(prefix) > _MAX_PREFIX or _SENTENCE.search(prefix):
        return None
    return table, prefix


def find_titles(sheet: Sheet, spec: YearSpec, texts: list[tuple[int, int, str]]) -> list[TitleHit]:
    """Every title cell among the sheet's text cells (row, col, text), top to bottom."""
    hits = []
    for r, c, value in texts:
        found = match_title(value, spec)
        if found:
            hits.append(TitleHit(found[0], sheet, r, c, value.strip(), found[1]))
    return hits


def prefix_parts(prefix: str) -> tuple[str, int | None]:
    """(unit name, year) read from a title prefix such as 某某局2024年度."""
    year = _YEAR.search(prefix)
    unit = _YEAR.sub("", prefix).strip("-_ ")
    return unit, int(year.group(1)) if year else None
