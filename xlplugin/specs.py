"""The year's table specs and classification catalogues, read from data/<year>/.

Nothing here knows about workbooks: it turns tables.toml and the catalogue CSVs
into small frozen objects that the recogniser, the template writer and the rules
share.  A user's own official catalogue (`--catalog FILE`) replaces the bundled
one of the same kind.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .text import Memo, normalize_label, normalize_title, os_problem

DATA_DIR = Path(__file__).parent / "data"

DEFAULT_YEAR = 2024  # the newest year under data/; what every command uses unless told --year

FUNCTIONAL = "功能分类"
ECONOMIC = "经济分类"


@dataclass(frozen=True)
class CatalogEntry:
    code: str
    name: str
    level: str  # 类 / 款 / 项
    parent: str
    confidence: str  # S (seen in a 2024 publication), H, M, L (unverified); official files: S
    aliases: tuple[str, ...] = ()  # other names seen in real publications (e.g. a former name)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per loaded file
class Catalog:
    kind: str
    source: str
    entries: dict[str, CatalogEntry]

    @functools.cached_property
    def class_by_name(self) -> dict[str, CatalogEntry]:
        """类 entries by normalised name (tables 1 and 4 list 类 rows by name)."""
        return {normalize_label(e.name): e for e in self.entries.values() if len(e.code) == 3}

    @functools.cached_property
    def names_by_code(self) -> dict[str, frozenset[str]]:
        """Per code, its normalised name and aliases (what a table may print beside the code)."""
        return {code: frozenset(normalize_label(n) for n in (e.name, *e.aliases)) for code, e in self.entries.items()}


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    matches: tuple[frozenset[str], ...]
    header: tuple[str, ...]
    printed: bool = True  # does the template print this column (a provincial extra column: no)


@dataclass(frozen=True)
class RowSpec:
    key: str
    labels: frozenset[str]  # normalised key and aliases
    total: bool
    printed: bool = True  # does the template print this row


@dataclass(frozen=True)
class BlockSpec:
    name: str
    tokens: frozenset[str]
    generic: frozenset[str]
    columns: tuple[ColumnSpec, ...]
    rows: tuple[RowSpec, ...]
    label_header: tuple[tuple[str, ...], ...]
    class_rows: tuple[str, ...] = ()
    coded: str = ""
    repeat: bool = False
    default_row: str = ""
    template: tuple[dict, ...] = ()

    def column_keys(self, named: frozenset[str]) -> tuple[str, ...]:
        """Keys of the columns a set of header labels names: by its specific labels, or, when
        those name none, by a generic label alone (决算数 can itself be a column's name)."""
        found = self._column_keys.get(named)
        if found is None:
            found = tuple(c.key for c in self.columns if named - self.generic in c.matches)
            if not found:
                found = tuple(c.key for c in self.columns if named in c.matches)
            self._column_keys[named] = found
        return found

    @functools.cached_property
    def _column_keys(self) -> dict[frozenset[str], tuple[str, ...]]:
        return {}

    @functools.cached_property
    def keys_by_label(self) -> dict[str, tuple[str, ...]]:
        """Normalised label or alias → the keys of the rows it names, in table order."""
        keys: dict[str, list[str]] = {}
        for row in self.rows:
            for label in row.labels:
                keys.setdefault(label, []).append(row.key)
        return {label: tuple(found) for label, found in keys.items()}


@dataclass(frozen=True)
class TableSpec:
    id: str
    name: str
    number: str
    titles: tuple[str, ...]  # normalised name and aliases, longest first
    blocks: tuple[BlockSpec, ...]

    @functools.cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset().union(*(b.tokens for b in self.blocks))

    @functools.cached_property
    def header_tokens(self) -> frozenset[str]:
        """Every header label this table's blocks and columns are named by."""
        tokens: set[str] = set()
        for block in self.blocks:
            tokens |= block.tokens | block.generic
            for column in block.columns:
                for match in column.matches:
                    tokens |= match
        return frozenset(tokens)

    @functools.cached_property
    def header_cache(self) -> dict:
        """Recognition's memory of headers already matched (tables/recognize.py _columns)."""
        return {}

    @functools.cached_property
    def header_row_cache(self) -> dict:
        """Recognition's memory of rows met while looking for a header (tables/recognize.py _header_row)."""
        return {}

    @functools.cached_property
    def row_labels(self) -> frozenset[str]:
        """Every label (and alias) of the table's fixed rows."""
        return frozenset(label for b in self.blocks for r in b.rows for label in r.labels)


@dataclass(frozen=True)
class HeaderVocabulary:
    label: frozenset[str]
    code: frozenset[str]
    code_parts: tuple[str, ...]
    ignore: frozenset[str]
    column_numbers: frozenset[str]
    aliases: dict[str, str]  # normalised alias → canonical header label

    def token(self, text: object) -> str:
        """Canonical header label of a header cell ('' when blank)."""
        return self._tokens[text] if type(text) is str else ""

    @functools.cached_property
    def _tokens(self) -> Memo:  # the same header texts recur in every workbook of a batch
        return Memo(self._token)

    def _token(self, text: str) -> str:
        label = normalize_label(text)
        return self.aliases.get(label, label)

    @functools.cached_property
    def label_words(self) -> frozenset[str]:
        """Header labels that make a column a label or 科目编码 column."""
        return self.label | self.code | frozenset(self.code_parts)


@dataclass(frozen=True)
class LinePatterns:
    """The lines around a table (tables.toml [lines])."""

    meta: re.Pattern
    amount_unit: re.Pattern
    unit_name: re.Pattern
    note: re.Pattern
    empty_note: re.Pattern


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per loaded year
class YearSpec:
    year: int
    tables: tuple[TableSpec, ...]
    header: HeaderVocabulary
    lines: LinePatterns
    catalogs: dict[str, Catalog] = field(default_factory=dict)

    def table(self, name_or_id: str) -> TableSpec:
        for table in self.tables:
            if name_or_id in (table.name, table.id):
                return table
        raise KeyError(name_or_id)

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]


def available_years() -> list[int]:
    return sorted(int(p.name) for p in DATA_DIR.iterdir() if p.name.isdigit())


def load_year(year: int = DEFAULT_YEAR, catalog_files: tuple[str | Path, ...] = ()) -> YearSpec:
    """The specs of `year`, with user catalogues replacing the bundled ones of their kind."""
    base = _load_bundled(year)
    if not catalog_files:
        return base
    catalogs = dict(base.catalogs)
    for path in catalog_files:
        catalog = read_catalog_file(Path(path))
        catalogs[catalog.kind] = catalog
    return YearSpec(base.year, base.tables, base.header, base.lines, catalogs)


class SpecError(ValueError):
    """A data file (table specs, catalogue) cannot be used."""


@functools.lru_cache(maxsize=8)
def _load_bundled(year: int) -> YearSpec:
    folder = DATA_DIR / str(year)
    if not (folder / "tables.toml").is_file():
        years = "、".join(map(str, available_years()))
        raise SpecError(f"没有 {year} 年度的表格定义（no table specs for {year}）；可用年度：{years}")
    data = tomllib.loads((folder / "tables.toml").read_text(encoding="utf-8"))
    header = _vocabulary(data)
    tables = tuple(_table(t, header) for t in data["table"])
    catalogs = {
        kind: _parse_catalog(kind, (folder / name).read_text(encoding="utf-8"), str(folder / name), default_confidence="")
        for kind, name in data["catalogs"].items()
    }
    lines = LinePatterns(**{name: re.compile(pattern) for name, pattern in data["lines"].items()})
    return YearSpec(int(data["year"]), tables, header, lines, catalogs)


def _vocabulary(data: dict) -> HeaderVocabulary:
    aliases = {}
    for canonical, names in data.get("labels", {}).items():
        for name in [canonical, *names]:
            aliases[normalize_label(name)] = normalize_label(canonical)
    head = data["header"]
    norm = lambda names: frozenset(normalize_label(n) for n in names)  # noqa: E731
    return HeaderVocabulary(
        label=norm(head["label"]),
        code=norm(head["code"]),
        code_parts=tuple(normalize_label(n) for n in head["code_parts"]),
        ignore=norm(head["ignore"]),
        column_numbers=norm(head["column_numbers"]),
        aliases=aliases,
    )


def _table(raw: dict, header: HeaderVocabulary) -> TableSpec:
    titles = sorted({normalize_title(t) for t in [raw["name"], *raw.get("aliases", [])]}, key=len, reverse=True)
    return TableSpec(
        id=raw["id"],
        name=raw["name"],
        number=raw["number"],
        titles=tuple(titles),
        blocks=tuple(_block(b, header) for b in raw["block"]),
    )


def _block(raw: dict, header: HeaderVocabulary) -> BlockSpec:
    def tokens(names) -> frozenset[str]:
        return frozenset(header.token(n) for n in names)

    columns = tuple(
        ColumnSpec(
            key=c["key"],
            matches=tuple(tokens(m.split("+")) for m in c["match"]),
            header=tuple(c["header"]),
            printed=bool(c.get("printed", True)),
        )
        for c in raw.get("column", [])
    )
    rows = tuple(
        RowSpec(
            key=r["key"],
            labels=frozenset(normalize_label(n) for n in [r["key"].split(".")[-1], *r.get("aliases", [])]),
            total=bool(r.get("total", False)),
            printed=bool(r.get("printed", True)),
        )
        for r in raw.get("row", [])
    )
    return BlockSpec(
        name=raw["name"],
        tokens=tokens(raw.get("tokens", [])),
        generic=tokens(raw.get("generic", [])),
        columns=columns,
        rows=rows,
        label_header=tuple(tuple(h) for h in raw.get("label_header", [])),
        class_rows=tuple(raw.get("class_rows", [])),
        coded=raw.get("coded", ""),
        repeat=bool(raw.get("repeat", False)),
        default_row=raw.get("default_row", ""),
        template=tuple(raw.get("template", [])),
    )


def read_catalog_file(path: Path) -> Catalog:
    """A user's official catalogue: CSV with at least the columns code,name (UTF-8 or GBK).

    Its kind follows from the codes: 2xx… is 功能分类, 3xx… is 经济分类.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"{path}: 无法读取科目目录文件（cannot read catalogue）：{os_problem(error)}") from error
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpecError(f"{path}: 科目目录文件编码无法识别（unknown encoding），请保存为 UTF-8 或 GBK 的 CSV")
    catalog = _parse_catalog("", text, str(path), default_confidence="S")
    first_digits = {code[0] for code in catalog.entries}
    if first_digits == {"2"}:
        kind = FUNCTIONAL
    elif first_digits == {"3"}:
        kind = ECONOMIC
    else:
        raise SpecError(
            f"{path}: 科目目录应只含功能分类（2 开头）或只含经济分类（3 开头）的编码（mixed catalogue）"
        )
    return Catalog(kind, catalog.source, catalog.entries)


_LEVELS = {3: "类", 5: "款", 7: "项"}


def _parse_catalog(kind: str, text: str, source: str, default_confidence: str) -> Catalog:
    reader = csv.DictReader(io.StringIO(text))
    fields = {normalize_label(f): f for f in reader.fieldnames or []}
    code_field = fields.get("code") or fields.get("科目编码") or fields.get("编码")
    name_field = fields.get("name") or fields.get("科目名称") or fields.get("名称")
    if not code_field or not name_field:
        raise SpecError(f"{source}: 科目目录缺少 code/name（科目编码/科目名称）列（missing columns）")
    entries = {}
    for line, row in enumerate(reader, start=2):
        code = (row.get(code_field) or "").strip()
        name = (row.get(name_field) or "").strip()
        if not code and not name:
            continue
        if not code.isdigit() or len(code) not in _LEVELS:
            raise SpecError(f"{source} 第 {line} 行: 科目编码「{code}」应为 3、5 或 7 位数字（bad code）")
        entries[code] = CatalogEntry(
            code=code,
            name=name,
            level=row.get("level") or _LEVELS[len(code)],
            parent=row.get("parent") or (code[:-2] if len(code) > 3 else ""),
            confidence=(row.get("confidence") or default_confidence or "S").strip(),
            aliases=tuple(a for a in (row.get("aliases") or "").split("/") if a),
        )
    return Catalog(kind, source, entries)
