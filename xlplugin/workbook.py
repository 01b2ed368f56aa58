"""One call from a workbook file to its recognised tables."""

from __future__ import annotations

from pathlib import Path

from .io.readers import read_workbook
from .model import Inspection, WorkbookReport
from .specs import load_year
from .tables.recognize import recognize


def inspect_workbook(
    path: str | Path, reader: str = "calamine", year: int = 2024, catalogs: tuple[str | Path, ...] = ()
) -> Inspection:
    """Read `path` and find the year's nine tables in it (raises WorkbookReadError, SpecError)."""
    spec = load_year(year, catalogs)
    sheets = read_workbook(path, reader)
    return recognize(sheets, spec, str(path), reader)


def validate_workbook(
    path: str | Path,
    reader: str = "calamine",
    year: int = 2024,
    catalogs: tuple[str | Path, ...] = (),
    rules_file: str | Path | None = None,
) -> WorkbookReport:
    """Recognise and validate one workbook (raises WorkbookReadError, SpecError)."""
    from .rules.validate import load_rules, validate_inspection

    spec = load_year(year, catalogs)
    rules = load_rules(year, rules_file)
    inspection = recognize(read_workbook(path, reader), spec, str(path), reader)
    return validate_inspection(inspection, spec, rules)
