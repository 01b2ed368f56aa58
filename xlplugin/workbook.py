"""One call from a workbook file to its recognised tables."""

from __future__ import annotations

from pathlib import Path

from .io.readers import read_workbook
from .model import Inspection, Sheet, WorkbookReport
from .specs import DEFAULT_YEAR, load_year
from .tables.recognize import recognize


def inspect_workbook(
    path: str | Path, reader: str = "calamine", year: int = DEFAULT_YEAR, catalogs: tuple[str | Path, ...] = ()
) -> Inspection:
    """Read `path` and find the year's nine tables in it (raises WorkbookReadError, SpecError)."""
    spec = load_year(year, catalogs)
    sheets = read_workbook(path, reader)
    return recognize(sheets, spec, str(path), reader)


def validate_workbook(
    path: str | Path,
    reader: str = "calamine",
    year: int = DEFAULT_YEAR,
    catalogs: tuple[str | Path, ...] = (),
    rules_file: str | Path | None = None,
) -> WorkbookReport:
    """Recognise and validate one workbook (raises WorkbookReadError, SpecError)."""
    return validate_sheets(read_workbook(path, reader), str(path), reader, year, catalogs, rules_file)


def validate_sheets(
    sheets: list[Sheet],
    path: str,
    reader: str = "calamine",
    year: int = DEFAULT_YEAR,
    catalogs: tuple[str | Path, ...] = (),
    rules_file: str | Path | None = None,
) -> WorkbookReport:
    """Recognise and validate sheets already read; `path` is how the report names the workbook."""
    from .rules.validate import load_rules, validate_inspection

    spec = load_year(year, catalogs)
    return validate_inspection(recognize(sheets, spec, path, reader), spec, load_rules(year, rules_file))
