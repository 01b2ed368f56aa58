"""Build the bundled sample workbook and the blank template from their sources.

    python workbook_templates/build_sample.py

writes, beside this script:
  sample_2024.xlsx    the nine tables of 乌鲁木齐市水磨沟区人力资源和社会保障局, 2024, filled
                      from sample_2024.toml (figures of the published 说明, the rest
                      constructed), with a 说明 sheet saying which figure is which;
  template_2024.xlsx  the blank nine-sheet template (`xlplugin template`).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from xlplugin.io.template import template_layouts, write_layouts, write_template  # noqa: E402
from xlplugin.specs import load_year  # noqa: E402

SOURCE = HERE / "sample_2024.toml"
SEED = "2024年度部门决算公开说明-乌鲁木齐市水磨沟区人力资源和社会保障局"


def sample_content(data: dict) -> dict:
    """sample_2024.toml → the layout content of each table (block name → rows, notes)."""
    content = {}
    for table in data["table"]:
        blocks = {}
        for block in table["block"]:
            rows = [dict(row, label=row.get("label", row.get("key", ""))) for row in block["rows"]]
            blocks[block["name"]] = rows or [{"key": "合计", "label": "合计", "values": {}}]
        content[table["name"]] = {"blocks": blocks, "notes": [table["empty_note"]] if "empty_note" in table else []}
    return content


def provenance_rows(data: dict) -> list[list[object]]:
    """The 说明 sheet: every figure of the sample, published (公开数) or constructed (构造数)."""
    rows: list[list[object]] = [
        ["表", "行", "列", "数值（万元）", "来源", "依据"],
    ]
    for table in data["table"]:
        for block in table["block"]:
            for row in block["rows"]:
                label = row.get("key") or f"{row['code']} {row['name']}"
                for column, value in row.get("values", {}).items():
                    source = "公开数" if column in row.get("published", []) else "构造数"
                    rows.append([f"《{table['name']}》", label, column, value, source, row.get("note", "")])
    intro = [
        ["样本说明", f"本工作簿的数字取自《{SEED}》。"],
        ["公开数", "说明中逐字公布的数字，原样照录（包括合计与分项之和相差 0.01 的尾差）。"],
        ["构造数", "说明未给出明细的数字（如各经济分类科目），按合理比例分配，使九张表之间的勾稽关系全部成立。"],
        [],
    ]
    return intro + rows


def build(out_dir: Path = HERE) -> tuple[Path, Path]:
    data = tomllib.loads(SOURCE.read_text(encoding="utf-8"))
    spec = load_year(int(data["year"]))
    layouts = template_layouts(spec, unit=data["unit"], content=sample_content(data))
    sample = write_layouts(out_dir / f"sample_{data['year']}.xlsx", layouts, extra=[("说明", provenance_rows(data))])
    template = write_template(out_dir / f"template_{data['year']}.xlsx", year=int(data["year"]))
    return sample, template


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
