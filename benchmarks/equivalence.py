"""Does a faster version of the code still say the same?  Dump, then compare two dumps.

    python benchmarks/equivalence.py inputs DIR [--generated 40]
    python benchmarks/equivalence.py dump DIR OUT.json
    python benchmarks/equivalence.py compare BEFORE.json AFTER.json

`inputs` writes the workbooks to compare on: every corpus case, the seven layouts, the
template, the sample and generated batch workbooks (benchmarks/batch_speed.py).  `dump`
recognises and validates each of them with both readers, alone and as one batch (screened
and not), and writes everything the code says as plain JSON: tables, rows, values, cells,
problems, findings, rules run.  `compare` names every input and part that differs.

To compare with an earlier commit, dump with that commit's package first on the path
(run from outside the work tree, so that the current directory does not win):

    git worktree add /tmp/before REV
    cd /tmp && PYTHONPATH=/tmp/before python /path/to/benchmarks/equivalence.py dump DIR before.json
    cd /tmp && python /path/to/benchmarks/equivalence.py dump DIR after.json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def write_inputs(folder: Path, generated: int) -> None:
    import layouts
    from batch_speed import SAMPLE, generate
    from corpus.build import build, cases

    folder.mkdir(parents=True, exist_ok=True)
    for case in cases():
        build(case, folder / f"corpus_{case.name}.xlsx")
    for name in layouts.LAYOUTS:
        layouts.build(name, folder / f"layout_{name}.xlsx")
    shutil.copy(SAMPLE, folder / "sample.xlsx")
    shutil.copy(ROOT / "workbook_templates" / "template_2024.xlsx", folder / "template.xlsx")
    if generated:
        batch = folder / "generated"
        batch.mkdir(exist_ok=True)
        generate(batch, generated)
        for path in batch.glob("base_*"):
            path.unlink()


def _plain(value):
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _recognised(inspection) -> dict:
    tables = {}
    for name, table in inspection.tables.items():
        if table is None:
            tables[name] = None
            continue
        fields = ("sheet", "title", "title_cell", "range", "unit", "unit_stated", "unit_name", "header_rows", "notes")
        tables[name] = {field: _plain(getattr(table, field)) for field in fields}
        tables[name]["problems"] = [vars(p) for p in table.problems]
        tables[name]["blocks"] = {
            block_name: {
                "columns": block.columns,
                "label_column": block.label_column,
                "rows": [_plain([r.excel_row, r.key, r.code, r.label, list(r.values), list(r.cells), [repr(x) for x in r.raw]]) for r in block.rows],
            }
            for block_name, block in table.blocks.items()
        }
    return {
        "missing": inspection.missing,
        "sheets": inspection.sheets,
        "texts": inspection.texts,
        "problems": [vars(p) for p in inspection.problems],
        "tables": tables,
    }


def dump(folder: Path, out: Path) -> None:
    import xlplugin
    from xlplugin.io.readers import read_workbook
    from xlplugin.rules.validate import load_rules, validate_inspections
    from xlplugin.specs import load_year
    from xlplugin.tables.recognize import recognize

    print(f"xlplugin from {Path(xlplugin.__file__).parent}")
    spec, rules = load_year(2024), load_rules(2024)
    paths = sorted(str(p) for p in folder.rglob("*.xlsx"))
    result: dict[str, dict] = {}
    for reader in ("calamine", "openpyxl"):
        inspections = [recognize(read_workbook(path, reader), spec, path, reader) for path in paths]
        dumps = [_recognised(inspection) for inspection in inspections]
        for screened in (True, False):
            for entry, report in zip(dumps, validate_inspections(inspections, spec, rules, screened=screened)):
                entry[f"findings, batch, screened={screened}"] = [_plain(list(f.as_dict().items())) for f in report.findings]
                entry[f"rules run, batch, screened={screened}"] = report.rules_ran
                entry["unit"] = report.unit
        for entry, inspection in zip(dumps, inspections):
            alone = validate_inspections([inspection], spec, rules)[0]
            entry["findings, alone"] = [_plain(list(f.as_dict().items())) for f in alone.findings]
        result[reader] = {str(Path(path).relative_to(folder)): entry for path, entry in zip(paths, dumps)}
    out.write_text(json.dumps(result, ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8")
    print(f"{len(paths)} workbooks × 2 readers → {out}")


def compare(before: Path, after: Path) -> int:
    old, new = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    differences = 0
    for reader in sorted(set(old) | set(new)):
        for path in sorted(set(old.get(reader, {})) | set(new.get(reader, {}))):
            a, b = old.get(reader, {}).get(path), new.get(reader, {}).get(path)
            if a == b:
                continue
            differences += 1
            if a is None or b is None:
                print(f"{reader} {path}: only in {'after' if a is None else 'before'}")
                continue
            for part in sorted(set(a) | set(b)):
                if a.get(part) == b.get(part):
                    continue
                if part == "tables":
                    for table in sorted(set(a[part]) | set(b[part])):
                        x, y = a[part].get(table) or {}, b[part].get(table) or {}
                        for field in sorted(set(x) | set(y)):
                            if x.get(field) != y.get(field):
                                print(f"{reader} {path}: {table}.{field}\n  before {str(x.get(field))[:300]}\n  after  {str(y.get(field))[:300]}")
                else:
                    print(f"{reader} {path}: {part}\n  before {str(a.get(part))[:300]}\n  after  {str(b.get(part))[:300]}")
    print(f"{differences} of {sum(len(v) for v in new.values())} (workbook, reader) pairs differ")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    inputs = commands.add_parser("inputs")
    inputs.add_argument("folder", type=Path)
    inputs.add_argument("--generated", type=int, default=40)
    dumping = commands.add_parser("dump")
    dumping.add_argument("folder", type=Path)
    dumping.add_argument("out", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "inputs":
        write_inputs(args.folder, args.generated)
        return 0
    if args.command == "dump":
        dump(args.folder, args.out)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
