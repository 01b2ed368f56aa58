"""`xlplugin inspect` output: JSON for scripts (its keys are a contract), text for people."""

from __future__ import annotations

from ..model import Inspection


def inspection_json(result: Inspection) -> dict:
    """{"path": …, "tables": {<canonical name>: {"sheet", "range", "unit"} or null}} — keep these keys."""
    return {
        "path": result.path,
        "tables": {
            name: None if table is None else {"sheet": table.sheet, "range": table.range, "unit": table.unit}
            for name, table in result.tables.items()
        },
    }


def inspection_text(result: Inspection) -> str:
    lines = [f"工作簿：{result.path}（读取引擎 {result.reader}；工作表 {len(result.sheets)} 个：{'、'.join(result.sheets)}）", ""]
    for number, (name, table) in enumerate(result.tables.items(), start=1):
        if table is None:
            lines.append(f"[{number}] {name}：未找到 — {result.missing[name]}")
            lines.append("")
            continue
        unit = table.unit if table.unit_stated else f"{table.unit}（表内未注明，按{'万元' if table.unit == '万元' else '其他表注明的单位'}）"
        lines.append(f"[{number}] {name}：工作表「{table.sheet}」{table.range}，金额单位 {unit}")
        details = [f"标题 {table.title_cell}「{table.title}」", f"表头行 {'、'.join(map(str, table.header_rows))}"]
        if table.unit_name:
            details.append(f"单位 {table.unit_name}")
        lines.append("    " + "；".join(details))
        for block in table.blocks.values():
            rows = "、".join(block.frame["key"])
            columns = "、".join(f"{key}({letter})" for key, letter in block.columns.items())
            lines.append(f"    {block.name}：{len(block.frame)} 行，列 {columns}")
            lines.append(f"      行：{rows}")
        for note in table.notes:
            lines.append(f"    注释：{note}")
        for problem in table.problems:
            where = f"{problem.cell} " if problem.cell else ""
            lines.append(f"    未能识别：{where}{problem.message}")
        lines.append("")
    for problem in result.problems:
        lines.append(f"提示：「{problem.sheet}」!{problem.cell} {problem.message}")
    found = sum(t is not None for t in result.tables.values())
    lines.append(f"共找到 {found}/{len(result.tables)} 张表。")
    return "\n".join(lines)
