"""Build a conformance case: a base workbook plus the edits of its case.toml.

    base = "sample"            # workbook_templates/sample_2024.xlsx
    base = "template"          # workbook_templates/template_2024.xlsx
    base = "layout:shanghai"   # a layout fixture of tests/layouts.py
    [[edit]]  sheet = "…", cell = "D10", value = 500.0     # set a cell (text "=…" is a formula)
    [[edit]]  sheet = "…", clear = "A8:L8"                 # blank a range
    [[edit]]  delete_sheet = "…"
    [[edit]]  sheet = "…", unmerge = "C5:E5"             # split a merged range (merge = "…" makes one)
    [[edit]]  sheet = "…", cell = "A4", rows = [["预算数", …], […]]   # write rows from a cell on
Sheet names may also be given as a table id ("T5"): the sheet of that table in the base.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

import layouts  # noqa: E402

from xlplugin.workbook import inspect_workbook  # noqa: E402

BASES = {"sample": ROOT / "workbook_templates" / "sample_2024.xlsx", "template": ROOT / "workbook_templates" / "template_2024.xlsx"}


def cases() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if (p / "case.toml").is_file())


def build(case: Path, out: Path) -> Path:
    spec = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    base = spec["base"]
    if base.startswith("layout:"):
        layouts.build(base.split(":", 1)[1], out)
    else:
        shutil.copy(BASES[base], out)
    edits = spec.get("edit", [])
    if not edits:
        return out
    sheets = {t.id: t.sheet for t in inspect_workbook(out).tables.values() if t is not None}
    book = openpyxl.load_workbook(out)
    for edit in edits:
        if "delete_sheet" in edit:
            del book[sheets.get(edit["delete_sheet"], edit["delete_sheet"])]
            continue
        ws = book[sheets.get(edit["sheet"], edit["sheet"])]
        if "unmerge" in edit:
            ws.unmerge_cells(edit["unmerge"])
        elif "merge" in edit:
            ws.merge_cells(edit["merge"])
        elif "rows" in edit:
            top = ws[edit["cell"]]
            for r, values in enumerate(edit["rows"]):
                for c, value in enumerate(values):
                    ws.cell(top.row + r, top.column + c, value if value != "" else None)
        elif "clear" in edit:
            for row in ws[edit["clear"]]:
                for cell in row:
                    cell.value = None
        else:
            ws[edit["cell"]] = edit["value"]
    book.save(out)
    return out
