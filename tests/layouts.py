"""Hand-made fixture workbooks of the nine 部门决算公开 tables in real-world layouts.

Each layout (Shanghai 2024, central 公开0N表 in 元, numbered or generic sheet names,
all tables on one sheet, numbers stored as text, three header rows) renders the same
synthetic dataset: a few 功能分类 项 with their income and spending, a 经济分类 list and
a 三公 row, in 0.01 of the workbook's unit.  Every total is computed from those leaves
and every identity of shared/domain/README.md §2.2 is asserted (`verify`).

`build(name, path)` writes one workbook and returns `Expected`: the sheet holding each
table and the A1 address (and value) of named value cells, keyed by the row and column
keys of xlplugin/data/2024/tables.toml.

Self-check: ``python tests/layouts.py OUTDIR`` builds every layout, reopens it and checks
that each recorded cell holds the intended value.
"""

from __future__ import annotations

import csv
import sys
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import partial
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

DATA = Path(__file__).resolve().parents[1] / "xlplugin" / "data" / "2024"

# ------------------------------------------------------------------ tables and catalogues

T1 = "收入支出决算总表"
T2 = "收入决算表"
T3 = "支出决算表"
T4 = "财政拨款收入支出决算总表"
T5 = "一般公共预算财政拨款支出决算表"
T6 = "一般公共预算财政拨款基本支出决算表"
T7 = "政府性基金预算财政拨款收入支出决算表"
T8 = "国有资本经营预算财政拨款收入支出决算表"
T9 = "财政拨款“三公”经费支出决算表"
CENTRAL_ORDER = (T1, T2, T3, T4, T5, T6, T7, T8, T9)  # also the 公开0N表 numbers
SHANGHAI_ORDER = (T1, T2, T3, T4, T5, T6, T9, T7, T8)  # 七 = 三公, 八 = 基金, 九 = 国资

# 类 rows of tables 1 and 4: the Shanghai template prints 24, the 2024 Putuo tables 26.
CLASSES_24 = ("201", "202", "203", "204", "205", "206", "207", "208", "210", "211", "212", "213",
              "214", "215", "216", "217", "219", "220", "221", "222", "223", "224", "229", "234")
CLASSES_26 = CLASSES_24[:-1] + ("231", "232", "234")

FUNDS = ("一般公共预算财政拨款", "政府性基金预算财政拨款", "国有资本经营预算财政拨款")
T1_INCOME = ("一般公共预算财政拨款收入", "政府性基金预算财政拨款收入", "国有资本经营预算财政拨款收入",
             "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入", "其他收入")
T2_COLUMNS = ("本年收入合计", "财政拨款收入", "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入", "其他收入")
T3_COLUMNS = ("本年支出合计", "基本支出", "项目支出", "上缴上级支出", "经营支出", "对附属单位补助支出")
T5_COLUMNS = ("合计", "基本支出", "项目支出")
FUND_COLUMNS = ("年初结转和结余", "本年收入", "本年支出合计", "基本支出", "项目支出", "年末结转和结余")
T6_COLUMN = "决算数"
# 三公 items: column key and the sub-items of 公务用车购置及运行费.
SANGONG = ("合计", "因公出国(境)费", "公务用车购置及运行费", "公务用车购置费", "公务用车运行费", "公务接待费")


@dataclass(frozen=True)
class Subject:
    """One row of a classification catalogue (功能分类 or 经济分类)."""

    name: str
    parent: str
    confidence: str


def _catalogue(file: str) -> dict[str, Subject]:
    with open(DATA / file, encoding="utf-8") as f:
        return {r["code"]: Subject(r["name"], r["parent"], r["confidence"]) for r in csv.DictReader(f)}


FUNC = _catalogue("gov_func_class.csv")
ECON = _catalogue("econ_class_dept.csv")

# ------------------------------------------------------------------ the dataset
# Leaves in 0.01 万元.  Everything else is computed from them.


@dataclass(frozen=True)
class Item:
    """A 功能分类 项 of the unit: income by T2 source, spending by kind.

    gp_* is 一般公共预算财政拨款 spending (table 5); `other` is spending from
    non-appropriation funds, by T3 column; `soe` is (年初结转和结余, 本年支出) of a
    国有资本经营 项, whose appropriation income is income["财政拨款收入"].  The 基本支出
    of the item with gp_basic=None balances table 6.
    """

    code: str
    income: dict[str, int]
    gp_basic: int | None = 0
    gp_project: int = 0
    other: dict[str, int] = field(default_factory=dict)
    soe: tuple[int, int] | None = None


ITEMS = (
    Item("2010601", {"财政拨款收入": 119000, "其他收入": 850}, gp_basic=None, other={"基本支出": 850}),
    Item("2010602", {"财政拨款收入": 35620, "上级补助收入": 2000, "事业收入": 3000}, gp_project=34218,
         other={"项目支出": 2000, "对附属单位补助支出": 1500}),
    Item("2010607", {"财政拨款收入": 21000}, gp_project=19866),
    Item("2080501", {"财政拨款收入": 4530}, gp_basic=4530),
    Item("2080505", {"财政拨款收入": 11840}, gp_basic=11840),
    Item("2080506", {"财政拨款收入": 5920}, gp_basic=5920),
    Item("2101101", {"财政拨款收入": 6675}, gp_basic=6675),
    Item("2210201", {"财政拨款收入": 8880, "其他收入": 120}, gp_basic=8880, other={"基本支出": 120}),
    Item("2230201", {"财政拨款收入": 30000}, soe=(5000, 32000)),
    Item("2239901", {"财政拨款收入": 8000}, soe=(0, 7550)),
)
ECON_LEAVES = {
    "30101": 32000, "30102": 41050, "30103": 2670, "30107": 15000, "30108": 11840, "30109": 5920,
    "30110": 6675, "30113": 8880, "30199": 1200,
    "30302": 4530, "30309": 300,
    "30201": 2560, "30205": 320, "30206": 1890, "30207": 640, "30209": 6000, "30211": 830, "30212": 250,
    "30213": 1010, "30215": 200, "30216": 450, "30217": 100, "30228": 1420, "30229": 980, "30231": 500,
    "30239": 4000, "30299": 735,
    "31002": 1200, "31013": 2480,
}
SANGONG_LEAVES = {  # kind -> item -> amount; 合计 and 公务用车购置及运行费 are computed
    "预算数": {"因公出国(境)费": 500, "公务用车购置费": 2500, "公务用车运行费": 600, "公务接待费": 200},
    "决算数": {"因公出国(境)费": 320, "公务用车购置费": 2480, "公务用车运行费": 536, "公务接待费": 115},
}
OPENING_GP = 4560  # 一般公共预算财政拨款 年初结转和结余
OPENING_NON_FISCAL = 2500  # 非财政拨款 年初结转和结余 (T1 only)
USE_NON_FISCAL = 500  # 使用非财政拨款结余
DISTRIBUTION = 200  # 结余分配

Rows = dict[str, dict[str, int]]  # row key -> column key -> amount


@dataclass(frozen=True)
class Dataset:
    unit: str  # 万元 or 元; amounts are in 0.01 of it
    values: dict[str, Rows]  # canonical table name -> rows


def _converter(unit: str, scale: Fraction) -> Callable[[int, str], int]:
    """Scale a leaf (0.01 万元) and express it in 0.01 of `unit`.

    In 元 a leaf also gets a few 元 and 分 derived from its key, so that the values look
    like real 元 amounts (25754899.39) rather than whole hundreds.
    """

    def amount(value: int, key: str) -> int:
        if value == 0:
            return 0
        scaled = round(value * scale)
        return scaled if unit == "万元" else scaled * 10000 + zlib.crc32(key.encode()) % 10000

    return amount


def _rollup(leaves: Rows, columns: tuple[str, ...], levels: tuple[int, ...], total: str | None = "合计") -> Rows:
    """Leaf rows plus one row per code prefix (类, 款) and a total row, each the column sums."""
    rows: Rows = {}
    for code, values in leaves.items():
        keys = [code[:n] for n in levels if n <= len(code)] + ([total] if total else [])
        for key in keys:
            row = rows.setdefault(key, dict.fromkeys(columns, 0))
            for column in columns:
                row[column] += values.get(column, 0)
    return rows


def make_dataset(unit: str = "万元", scale: Fraction = Fraction(1), with_soe: bool = True) -> Dataset:
    """The dataset of one fixture; without `with_soe` the 国有资本经营 table is empty."""
    amount = _converter(unit, scale)
    items = [i for i in ITEMS if with_soe or not i.soe]

    t6 = _rollup({c: {T6_COLUMN: amount(v, c)} for c, v in ECON_LEAVES.items()}, (T6_COLUMN,), (3, 5), total=None)
    staff = sum(t6.get(c, {T6_COLUMN: 0})[T6_COLUMN] for c in ("301", "303"))
    public = sum(t6.get(c, {T6_COLUMN: 0})[T6_COLUMN] for c in ("302", "307", "310", "399"))
    t6["人员经费合计"] = {T6_COLUMN: staff}
    t6["公用经费合计"] = {T6_COLUMN: public}

    gp_basic = {i.code: amount(i.gp_basic, i.code + ":basic") for i in items if i.gp_basic}
    balancing = next(i.code for i in items if i.gp_basic is None)
    gp_basic[balancing] = staff + public - sum(gp_basic.values())

    t2_leaves, t3_leaves, t5_leaves, t8_leaves = {}, {}, {}, {}
    for item in items:
        income = {c: amount(v, f"{item.code}:{c}") for c, v in item.income.items()}
        t2_leaves[item.code] = income | {"本年收入合计": sum(income.values())}
        other = {c: amount(v, f"{item.code}:other:{c}") for c, v in item.other.items()}
        basic, project = gp_basic.get(item.code, 0), amount(item.gp_project, item.code + ":project")
        if item.soe:
            opening, spent = (amount(v, f"{item.code}:soe{n}") for n, v in enumerate(item.soe))
            received = income["财政拨款收入"]
            t8_leaves[item.code] = {"年初结转和结余": opening, "本年收入": received, "本年支出合计": spent,
                                    "项目支出": spent, "年末结转和结余": opening + received - spent}
            project += spent
        else:
            t5_leaves[item.code] = {"合计": basic + project, "基本支出": basic, "项目支出": project}
        t3 = {"基本支出": basic + other.get("基本支出", 0), "项目支出": project + other.get("项目支出", 0)}
        t3 |= {c: other.get(c, 0) for c in T3_COLUMNS[3:]}
        t3_leaves[item.code] = t3 | {"本年支出合计": sum(t3.values())}

    levels = (3, 5, 7)
    t2 = _rollup(t2_leaves, T2_COLUMNS, levels)
    t3 = _rollup(t3_leaves, T3_COLUMNS, levels)
    t5 = _rollup(t5_leaves, T5_COLUMNS, levels)
    t7 = {"合计": dict.fromkeys(FUND_COLUMNS, 0)}
    t8 = _rollup(t8_leaves, FUND_COLUMNS, levels) or {"合计": dict.fromkeys(FUND_COLUMNS, 0)}

    t4 = _table4_values(t2_leaves, t5, t8, amount(OPENING_GP, "opening:gp"))
    t1 = _table1_values(t2, t3, t4, amount(OPENING_NON_FISCAL, "opening:other"),
                        amount(USE_NON_FISCAL, "use"), amount(DISTRIBUTION, "distribution"))
    t9 = _table9_values(amount)
    values = dict(zip(CENTRAL_ORDER, (t1, t2, t3, t4, t5, t6, t7, t8, t9)))
    dataset = Dataset(unit, values)
    verify(dataset)
    return dataset


def _table4_values(t2_leaves: Rows, t5: Rows, t8: Rows, opening_gp: int) -> Rows:
    gp, soe = "一般公共预算财政拨款", "国有资本经营预算财政拨款"
    received = {fund: 0 for fund in FUNDS}
    for code, row in t2_leaves.items():
        received[soe if code.startswith("223") else gp] += row["财政拨款收入"]
    spent = {gp: t5["合计"]["合计"], FUNDS[1]: 0, soe: t8["合计"]["本年支出合计"]}
    opening = {gp: opening_gp, FUNDS[1]: 0, soe: t8["合计"]["年初结转和结余"]}
    closing = {f: opening[f] + received[f] - spent[f] for f in FUNDS}

    def by_fund(amounts: dict[str, int]) -> dict[str, int]:
        return amounts | {"合计": sum(amounts.values())}

    rows: Rows = {f: {"金额": received[f]} for f in FUNDS}
    rows["本年收入合计"] = {"金额": sum(received.values())}
    rows["年初财政拨款结转和结余"] = {"金额": sum(opening.values())}
    rows |= {f"年初财政拨款结转和结余.{f}": {"金额": opening[f]} for f in FUNDS}
    for code in sorted({c[:3] for c in (*t5, *t8) if c != "合计"}):
        rows[FUNC[code].name] = by_fund({gp: t5.get(code, {}).get("合计", 0), FUNDS[1]: 0,
                                          soe: t8.get(code, {}).get("本年支出合计", 0)})
    rows["本年支出合计"] = by_fund(spent)
    rows["年末财政拨款结转和结余"] = by_fund(closing)
    rows["总计"] = by_fund({f: spent[f] + closing[f] for f in FUNDS}) | {"金额": sum(received.values()) + sum(opening.values())}
    return rows


def _table1_values(t2: Rows, t3: Rows, t4: Rows, opening_other: int, use: int, distribution: int) -> Rows:
    total2 = t2["合计"]
    income = {"一般公共预算财政拨款收入": t4["一般公共预算财政拨款"]["金额"],
              "政府性基金预算财政拨款收入": t4["政府性基金预算财政拨款"]["金额"],
              "国有资本经营预算财政拨款收入": t4["国有资本经营预算财政拨款"]["金额"]}
    income |= {c: total2[c] for c in T1_INCOME[3:]}
    rows: Rows = {k: {"金额": v} for k, v in income.items()}
    rows["本年收入合计"] = {"金额": total2["本年收入合计"]}
    rows["使用非财政拨款结余"] = {"金额": use}
    rows["年初结转和结余"] = {"金额": t4["年初财政拨款结转和结余"]["金额"] + opening_other}
    grand = sum(rows[k]["金额"] for k in ("本年收入合计", "使用非财政拨款结余", "年初结转和结余"))
    rows |= {FUNC[code].name: {"金额": row["本年支出合计"]} for code, row in t3.items() if len(code) == 3}
    spent = t3["合计"]["本年支出合计"]
    rows["本年支出合计"] = {"金额": spent}
    rows["结余分配"] = {"金额": distribution}
    rows["年末结转和结余"] = {"金额": grand - spent - distribution}
    rows["总计"] = {"金额": grand}
    return rows


def _table9_values(amount: Callable[[int, str], int]) -> Rows:
    row = {}
    for kind, leaves in SANGONG_LEAVES.items():
        items = {k: amount(v, f"sangong:{kind}:{k}") for k, v in leaves.items()}
        car = items["公务用车购置费"] + items["公务用车运行费"]
        items |= {"公务用车购置及运行费": car, "合计": items["因公出国(境)费"] + car + items["公务接待费"]}
        row |= {f"{kind}.{k}": v for k, v in items.items()}
    return {"合计": row}


def _check_hierarchy(rows: Rows, levels: tuple[int, ...], total: str | None = "合计") -> None:
    """H-1 / T6-1: every code row and the total are the column sums of the level below."""
    codes = [c for c in rows if c.isdigit()]
    parents = [(p, len(p)) for p in codes] + ([(total, 0)] if total else [])
    for parent, length in parents:
        if length == levels[-1]:
            continue
        child_length = next(n for n in levels if n > length)
        children = [c for c in codes if len(c) == child_length and c.startswith(parent if length else "")]
        for column, value in rows[parent].items():
            assert value == sum(rows[c][column] for c in children), f"H-1 {parent}.{column}"


def verify(ds: Dataset) -> None:
    """Assert every identity of README §2.2 that the dataset must satisfy exactly."""

    def eq(rule: str, left: int, right: int) -> None:
        assert left == right, f"{rule}: {left} != {right}"

    t1, t2, t3, t4, t5, t6, t7, t8, t9 = (ds.values[t] for t in CENTRAL_ORDER)
    a1 = {k: r["金额"] for k, r in t1.items()}
    for table in (t2, t3, t5, t7, t8):
        _check_hierarchy(table, (3, 5, 7))
    _check_hierarchy({k: v for k, v in t6.items() if k.isdigit()}, (3, 5), total=None)
    for r in t2.values():
        eq("H-2", r["本年收入合计"], sum(r[c] for c in T2_COLUMNS[1:]))
    for r in t3.values():
        eq("H-3", r["本年支出合计"], sum(r[c] for c in T3_COLUMNS[1:]))
    for r in t5.values():
        eq("H-4", r["合计"], r["基本支出"] + r["项目支出"])
    for r in (*t7.values(), *t8.values()):
        eq("H-5", r["本年支出合计"], r["基本支出"] + r["项目支出"])
        eq("H-5", r["年末结转和结余"], r["年初结转和结余"] + r["本年收入"] - r["本年支出合计"])

    classes = {FUNC[c].name: c for c in CLASSES_26}
    eq("T1-1", a1["本年收入合计"], sum(a1[k] for k in T1_INCOME))
    eq("T1-2", a1["总计"], a1["本年收入合计"] + a1["使用非财政拨款结余"] + a1["年初结转和结余"])
    eq("T1-3", a1["本年支出合计"], sum(v for k, v in a1.items() if k in classes))
    eq("T1-4", a1["总计"], a1["本年支出合计"] + a1["结余分配"] + a1["年末结转和结余"])

    eq("T4-1", t4["本年收入合计"]["金额"], sum(t4[f]["金额"] for f in FUNDS))
    eq("T4-2", t4["年初财政拨款结转和结余"]["金额"], sum(t4[f"年初财政拨款结转和结余.{f}"]["金额"] for f in FUNDS))
    eq("T4-2", t4["总计"]["金额"], t4["本年收入合计"]["金额"] + t4["年初财政拨款结转和结余"]["金额"])
    eq("T4-3", t4["总计"]["合计"], t4["本年支出合计"]["合计"] + t4["年末财政拨款结转和结余"]["合计"])
    eq("T4-3", t4["总计"]["金额"], t4["总计"]["合计"])
    for r in t4.values():
        if "合计" in r:
            eq("T4-4", r["合计"], sum(r[f] for f in FUNDS))
    for f in (*FUNDS, "合计"):
        eq("T4 本年支出合计", t4["本年支出合计"][f], sum(r[f] for k, r in t4.items() if k in classes))
    for f in FUNDS:
        eq("T4-5", t4[f"年初财政拨款结转和结余.{f}"]["金额"] + t4[f]["金额"] - t4["本年支出合计"][f],
           t4["年末财政拨款结转和结余"][f])

    e6 = {k: r[T6_COLUMN] for k, r in t6.items()}
    eq("T6-2", e6["人员经费合计"], e6.get("301", 0) + e6.get("303", 0))
    eq("T6-3", e6["公用经费合计"], sum(e6.get(c, 0) for c in ("302", "307", "310", "399")))
    eq("T6-4/X-5", t5["合计"]["基本支出"], e6["人员经费合计"] + e6["公用经费合计"])

    s9 = t9["合计"]
    for kind in SANGONG_LEAVES:
        eq("S-1", s9[f"{kind}.合计"], sum(s9[f"{kind}.{k}"] for k in ("因公出国(境)费", "公务用车购置及运行费", "公务接待费")))
        eq("S-2", s9[f"{kind}.公务用车购置及运行费"], s9[f"{kind}.公务用车购置费"] + s9[f"{kind}.公务用车运行费"])

    eq("X-1", a1["本年收入合计"], t2["合计"]["本年收入合计"])
    eq("X-1", t2["合计"]["财政拨款收入"], sum(a1[k] for k in T1_INCOME[:3]))
    for column in T1_INCOME[3:]:
        eq("X-1", a1[column], t2["合计"][column])
    eq("X-2", a1["本年支出合计"], t3["合计"]["本年支出合计"])
    for name, code in classes.items():
        eq("X-2", a1.get(name, 0), t3.get(code, {}).get("本年支出合计", 0))
        eq("X-4", t4.get(name, {}).get(FUNDS[0], 0), t5.get(code, {}).get("合计", 0))
    eq("X-3", t4["本年收入合计"]["金额"], sum(a1[k] for k in T1_INCOME[:3]))
    eq("X-4", t4["本年支出合计"][FUNDS[0]], t5["合计"]["合计"])
    for fund, table in ((FUNDS[1], t7), (FUNDS[2], t8)):
        total = table["合计"]
        eq("X-6/X-7", t4[f"年初财政拨款结转和结余.{fund}"]["金额"], total["年初结转和结余"])
        eq("X-6/X-7", t4[fund]["金额"], total["本年收入"])
        eq("X-6/X-7", t4["本年支出合计"][fund], total["本年支出合计"])
        eq("X-6/X-7", t4["年末财政拨款结转和结余"][fund], total["年末结转和结余"])
    for code, r in t5.items():
        assert r["合计"] <= t3[code]["本年支出合计"] and r["基本支出"] <= t3[code]["基本支出"], f"X-8 {code}"
        assert r["项目支出"] <= t3[code]["项目支出"], f"X-8 {code}"
    assert t4["年初财政拨款结转和结余"]["金额"] <= a1["年初结转和结余"], "X-9"
    assert t4["年末财政拨款结转和结余"]["合计"] <= a1["年末结转和结余"], "X-9"
    assert e6["30212"] <= s9["决算数.因公出国(境)费"] and e6["30217"] <= s9["决算数.公务接待费"], "X-10"
    assert e6["30231"] + e6["31013"] <= s9["决算数.公务用车购置及运行费"], "X-10"
    assert (s9["决算数.合计"] == 0) == all(e6.get(c, 0) == 0 for c in ("30212", "30217", "30231", "31013")), "X-11"
    for table in ds.values.values():
        for row in table.values():
            assert all(v >= 0 for v in row.values()), "T1-6: amounts are not negative"


# ------------------------------------------------------------------ frames: a table as a grid


@dataclass(frozen=True)
class Amount:
    """A value cell; `named` cells are recorded in Expected under (row, column)."""

    value: int
    row: str
    column: str
    named: bool = True


@dataclass(frozen=True)
class Span:
    """A label merged over `width` columns (the cells it covers are None)."""

    text: str
    width: int


Cell = None | str | int | Amount | Span


@dataclass(frozen=True)
class Column:
    """header: labels from the top header row down; equal neighbours merge across, None
    continues the label above (merges down); a short path merges its last label down."""

    header: tuple[str | None, ...]
    kind: str = "amount"  # amount | label | rownum (行次)
    key: str = ""  # column key of an amount column of a coded table


@dataclass
class Block:
    """Side-by-side part of a table; footers of all blocks are aligned at the bottom."""

    columns: list[Column]
    body: list[list[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)


@dataclass
class Frame:
    columns: list[Column]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Style:
    """How a layout draws the tables."""

    unit: str = "万元"
    preamble: str = "central"  # central (公开0N表 + 编制单位) | shanghai (单位：万元) | plain
    title_format: str = "{title}"  # fields: title, unit_name, numeral
    titles: dict[str, str] = field(default_factory=dict)  # canonical name -> printed title
    row_numbers: bool = True  # 行次 column in tables 1/4 and a 栏次 row under every header
    split_codes: bool = False  # 科目编码 as 类 | 款 | 项 columns
    int_codes: bool = False  # joined codes stored as numbers
    indent_names: bool = False
    classes: tuple[str, ...] = CLASSES_26
    total_last: frozenset[str] = frozenset()  # tables whose 合计 row comes last
    amount_header: str = "金额"  # T1/T4 income column
    expense_header: str = "项目"  # T1/T4 expense label column
    labels: dict[str, str] = field(default_factory=dict)  # row key -> printed label
    t5_grouped: bool = True  # 本年支出 spanning 合计 | 基本支出 | 项目支出
    subtotal: str = "合计"  # T7/T8 label under 本年支出
    t6_blocks: int = 2
    t6_headings: bool = True  # 人员经费 / 公用经费 above the blocks
    t8_expense_only: bool = False  # central 国有资本经营 table: 本年支出 only
    t9_interleaved: bool = False  # 预算数 | 决算数 per item (Shanghai) instead of two blocks
    t9_labels: tuple[str, ...] = ("因公出国（境）费", "公务用车购置及运行费", "公务用车购置费", "公务用车运行费", "公务接待费")
    numbers: str = "number"  # number | text
    zeros: str = "blank"  # blank | zero | dash
    empty_note: str = "注：{unit_name}本年度没有{fund}预算财政拨款收入、支出和结转结余，故本表无数据。"
    table_notes: dict[str, str] = field(default_factory=dict)


def _numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def stack_blocks(blocks: list[Block], style: Style) -> Frame:
    """Blocks side by side: bodies padded to one height, footers aligned, 行次 filled in
    block order (1–30 | 31–60 as in YN-2021), and the 栏次 row on top when the style has one."""
    height = max(len(b.body) for b in blocks)
    footer = max(len(b.footer) for b in blocks)
    rows: list[list[Cell]] = [[] for _ in range(height + footer)]
    number = 0
    for block in blocks:
        blank = [None] * len(block.columns)
        cells = block.body + [blank] * (height - len(block.body)) + block.footer + [blank] * (footer - len(block.footer))
        for row, part in zip(rows, cells):
            part = list(part)
            for i, column in enumerate(block.columns):
                if column.kind == "rownum":
                    number += 1
                    part[i] = number
            row.extend(part)
    columns = [c for b in blocks for c in b.columns]
    if style.row_numbers:
        rows.insert(0, _column_number_row(blocks))
    return Frame(columns, rows)


def _column_number_row(blocks: list[Block]) -> list[Cell]:
    """栏次 | | 1 | 栏次 | | 2 …: 栏次 over each block's label columns, amounts numbered."""
    row: list[Cell] = []
    number = 0
    for block in blocks:
        labels = [c for c in block.columns if c.kind == "label"]
        for i, column in enumerate(block.columns):
            if column.kind == "amount":
                number += 1
                row.append(number)
            elif i == 0 and labels:
                row.append(Span("栏次", len(labels)) if len(labels) > 1 else "栏次")
            else:
                row.append(None)
    return row


def _amounts(rows: Rows, key: str, columns: list[str], named: bool = True) -> list[Cell]:
    values = rows.get(key, {})
    return [Amount(values.get(c, 0), key, c, named) for c in columns]


def _side(side: str, style: Style, amounts: list[tuple[str, ...]], label: str = "项目") -> list[Column]:
    """Label (and 行次) columns of one side of tables 1/4, then its amount columns."""
    columns = [Column((side, label), "label")]
    if style.row_numbers:
        columns.append(Column((side, "行次"), "rownum"))
    return columns + [Column((side, *a)) for a in amounts]


def _side_row(label: str | None, key: str, rows: Rows, columns: list[str], style: Style, named: bool = True) -> list[Cell]:
    text = style.labels.get(key, label) if label else None
    cells: list[Cell] = [text] + ([None] if style.row_numbers else [])
    return cells + (_amounts(rows, key, columns, named) if label else [None] * len(columns))


def _class_rows(rows: Rows, columns: list[str], style: Style) -> list[list[Cell]]:
    return [_side_row(f"{_numeral(n)}、{FUNC[code].name}", FUNC[code].name, rows, columns, style)
            for n, code in enumerate(style.classes, 1)]


def table1(ds: Dataset, style: Style) -> Frame:
    rows, amount = ds.values[T1], ["金额"]
    income = Block(_side("收入", style, [(style.amount_header,)]),
                   [_side_row(f"{_numeral(n)}、{k}", k, rows, amount, style) for n, k in enumerate(T1_INCOME, 1)],
                   [_side_row(k, k, rows, amount, style, named=k != "总计")
                    for k in ("本年收入合计", "使用非财政拨款结余", "年初结转和结余", "总计")])
    # Both 总计 cells share the key (总计, 金额); neither is named, as Expected cannot tell them apart.
    expense = Block(_side("支出", style, [(style.amount_header,)], style.expense_header),
                    _class_rows(rows, amount, style),
                    [_side_row(k, k, rows, amount, style, named=k != "总计")
                     for k in ("本年支出合计", "结余分配", "年末结转和结余", "总计")])
    return stack_blocks([income, expense], style)


def table4(ds: Dataset, style: Style) -> Frame:
    rows = ds.values[T4]
    income = Block(_side("收入", style, [(style.amount_header,)]),
                   [_side_row(f"{_numeral(n)}、{f}", f, rows, ["金额"], style) for n, f in enumerate(FUNDS, 1)],
                   [_side_row(k, k, rows, ["金额"], style) for k in ("本年收入合计", "年初财政拨款结转和结余")]
                   + [_side_row(f"　　{f}", f"年初财政拨款结转和结余.{f}", rows, ["金额"], style) for f in FUNDS]
                   + [_side_row("总计", "总计", rows, ["金额"], style)])
    columns = ["合计", *FUNDS]
    expense = Block(_side("支出", style, [(c,) for c in columns], style.expense_header),
                    _class_rows(rows, columns, style),
                    [_side_row(k, k, rows, columns, style) for k in ("本年支出合计", "年末财政拨款结转和结余")]
                    + [_side_row(None, "", rows, columns, style)] * 3
                    + [_side_row("总计", "总计", rows, columns, style)])
    return stack_blocks([income, expense], style)


def _code_cells(code: str, style: Style) -> list[Cell]:
    if style.split_codes:
        return [code[:3], code[3:5] or None, code[5:7] or None]
    return [int(code) if style.int_codes else code]


def coded_table(table: str, ds: Dataset, style: Style) -> Frame:
    """Tables 2/3/5/7/8: 科目编码 | 科目名称 | amounts, a 合计 row and 类/款/项 rows."""
    rows, amounts = ds.values[table], amount_columns(table, style)
    code_header = [("项目", "科目编码", p) for p in "类款项"] if style.split_codes else [("项目", "科目编码")]
    labels = [Column(h, "label") for h in code_header] + [Column(("项目", "科目名称"), "label")]
    keys = [c.key for c in amounts]
    total = [Span("合计", len(labels))] + [None] * (len(labels) - 1) + _amounts(rows, "合计", keys)
    indent = "　" if style.indent_names else ""
    items = [_code_cells(code, style) + [indent * (len(code) // 2 - 1) + FUNC[code].name] + _amounts(rows, code, keys)
             for code in sorted(k for k in rows if k != "合计")]
    body = items + [total] if table in style.total_last else [total] + items
    return stack_blocks([Block(labels + amounts, body)], style)


def _flat(*keys: str) -> list[Column]:
    return [Column((k,), key=k) for k in keys]


def _grouped(group: str, *labels: tuple[str, str]) -> list[Column]:
    return [Column((group, label), key=key) for label, key in labels]


def amount_columns(table: str, style: Style) -> list[Column]:
    """The amount columns a style prints for a coded table."""
    if table == T2:
        return _flat(*T2_COLUMNS)
    if table == T3:
        return _flat(*T3_COLUMNS)
    if table == T5:
        return _grouped("本年支出", *zip(T5_COLUMNS, T5_COLUMNS)) if style.t5_grouped else _flat(*T5_COLUMNS)
    spending = _grouped("本年支出", (style.subtotal, "本年支出合计"), ("基本支出", "基本支出"), ("项目支出", "项目支出"))
    if table == T8 and style.t8_expense_only:
        return spending
    return _flat("年初结转和结余", "本年收入") + spending + _flat("年末结转和结余")


def table6(ds: Dataset, style: Style) -> Frame:
    """人员经费 (301, 303) | 公用经费 (302, 310 [, 307, 399]) blocks listing every catalogue 款."""
    rows = ds.values[T6]
    plans = {2: (("301", "303"), ("302", "310")), 3: (("301", "303"), ("302",), ("307", "310", "399"))}
    headings = ("人员经费", "公用经费", "公用经费")
    footers = [("人员经费合计",), ("公用经费合计",), ()]
    blocks = []
    for classes, heading, footer in zip(plans[style.t6_blocks], headings, footers):
        top = (heading,) if style.t6_headings else ()
        columns = [Column(top + (h,), k) for h, k in
                   (("经济分类科目编码" if not top else "科目编码", "label"), ("科目名称", "label"), (T6_COLUMN, "amount"))]
        body = [[int(code) if style.int_codes else code, ECON[code].name, *_amounts(rows, code, [T6_COLUMN])]
                for cls in classes for code in [cls, *_econ_items(cls)]]
        blocks.append(Block(columns, body, [[Span(k, 2), None, *_amounts(rows, k, [T6_COLUMN])] for k in footer]))
    return stack_blocks(blocks, style)


def _econ_items(cls: str) -> list[str]:
    return [c for c, s in ECON.items() if s.parent == cls and s.confidence in "SH"]


def table9(ds: Dataset, style: Style) -> Frame:
    """One unlabelled data row of 12 amounts, 预算数 | 决算数 interleaved or in two blocks."""
    abroad, car, purchase, running, reception = style.t9_labels
    items = [(("合计", None), "合计"), ((abroad, None), SANGONG[1]), ((car, "小计"), SANGONG[2]),
             ((car, purchase), SANGONG[3]), ((car, running), SANGONG[4]), ((reception, None), SANGONG[5])]
    kinds = ("预算数", "决算数")
    if style.t9_interleaved:
        pairs = [(path + (kind,), f"{kind}.{key}") for path, key in items for kind in kinds]
    else:
        pairs = [((kind, *path), f"{kind}.{key}") for kind in kinds for path, key in items]
    row = _amounts(ds.values[T9], "合计", [key for _, key in pairs])
    return stack_blocks([Block([Column(path) for path, _ in pairs], [row])], style)


FRAMES: dict[str, Callable[[Dataset, Style], Frame]] = {
    T1: table1, T4: table4, T6: table6, T9: table9,
    **{t: partial(coded_table, t) for t in (T2, T3, T5, T7, T8)},
}

# ------------------------------------------------------------------ writing a frame


@dataclass
class Expected:
    unit: str  # 金额单位 of the workbook: "万元" or "元"
    sheets: dict[str, str]  # canonical table name -> sheet name holding it (all nine)
    cells: dict[str, dict[tuple[str, str], str]]  # table -> {(row key, column key): "D12"}
    # Beyond the brief's API: the amount each named cell holds, in `unit` (text numbers and '-' included).
    values: dict[str, dict[tuple[str, str], Decimal]] = field(default_factory=dict)


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class CellWriter:
    """Writes amounts the way a style stores them and records the named ones."""

    def __init__(self, style: Style, expected: Expected) -> None:
        self.style, self.expected, self.count = style, expected, 0

    def amount(self, ws: Worksheet, row: int, col: int, table: str, a: Amount) -> None:
        self.count += 1
        value = Decimal(a.value) / 100
        content: str | float | None
        if a.value == 0 and self.style.zeros != "zero":
            content = ("-", "—", None)[self.count % 3] if self.style.zeros == "dash" else None
        elif self.style.numbers == "text":
            comma, plain = f"{value:,.2f}", f"{value:.2f}"
            content = (comma, plain.translate(FULL_WIDTH), f" {comma} ", plain)[self.count % 4]
        else:
            content = float(value)
        cell = ws.cell(row, col, content)
        if isinstance(content, float):
            cell.number_format = "#,##0.00"
        if content is not None and a.named:
            address = f"{get_column_letter(col)}{row}"
            self.expected.cells.setdefault(table, {})[(a.row, a.column)] = address
            self.expected.values.setdefault(table, {})[(a.row, a.column)] = value


def header_merges(columns: list[Column]) -> list[tuple[int, int, int, int, str]]:
    """(row, col, last row, last col, text) of every header label, 0-based."""
    depth = max(len(c.header) for c in columns)
    paths = [c.header + (None,) * (depth - len(c.header)) for c in columns]
    merges = []
    for r in range(depth):
        c = 0
        while c < len(paths):
            if paths[c][r] is None:
                c += 1
                continue
            last = c
            while last + 1 < len(paths) and paths[last + 1][: r + 1] == paths[c][: r + 1]:
                last += 1
            bottom = r
            while bottom + 1 < depth and all(paths[k][bottom + 1] is None for k in range(c, last + 1)):
                bottom += 1
            merges.append((r, c, bottom, last, paths[c][r]))
            c = last + 1
    return merges


def write_frame(ws: Worksheet, top: int, table: str, frame: Frame, writer: CellWriter) -> int:
    """Header (merged) then rows from row `top`, column A; returns the next free row."""
    merges = header_merges(frame.columns)
    for r, c, r2, c2, text in merges:
        ws.cell(top + r, c + 1, text)
        if (r, c) != (r2, c2):
            ws.merge_cells(start_row=top + r, start_column=c + 1, end_row=top + r2, end_column=c2 + 1)
    row = top + max(m[2] for m in merges) + 1
    for cells in frame.rows:
        for col, cell in enumerate(cells, 1):
            if isinstance(cell, Amount):
                writer.amount(ws, row, col, table, cell)
            elif isinstance(cell, Span):
                ws.cell(row, col, cell.text)
                ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + cell.width - 1)
            elif cell is not None:
                ws.cell(row, col, cell)
        row += 1
    for col, column in enumerate(frame.columns, 1):
        letter = get_column_letter(col)
        if letter not in ws.column_dimensions:
            ws.column_dimensions[letter].width = 30 if column.header[-1] in ("项目", "科目名称") else 14
    return row


# ------------------------------------------------------------------ layouts


@dataclass(frozen=True)
class Layout:
    unit_name: str
    style: Style
    order: tuple[str, ...]  # tables in print order
    sheet_names: tuple[str, ...]  # sheet of each table in `order` (one name for all = one sheet)
    tabs: tuple[str, ...]  # workbook tab order, extra sheets included
    extras: dict[str, Callable[[Worksheet, Layout, Dataset], None]] = field(default_factory=dict)
    scale: Fraction = Fraction(1)
    with_soe: bool = True

    def title(self, table: str) -> str:
        return self.style.title_format.format(title=self.style.titles.get(table, table), unit_name=self.unit_name,
                                              numeral=_numeral(self.order.index(table) + 1))


def _preamble(ws: Worksheet, top: int, width: int, table: str, layout: Layout) -> int:
    """Title and the unit lines above a table; returns the header's first row."""
    style, unit = layout.style, layout.style.unit
    ws.cell(top, 1, layout.title(table))
    ws.merge_cells(start_row=top, start_column=1, end_row=top, end_column=width)
    if style.preamble == "central":
        ws.cell(top + 1, width, f"公开{CENTRAL_ORDER.index(table) + 1:02d}表")
        ws.cell(top + 2, 1, f"编制单位：{layout.unit_name}")
        ws.cell(top + 2, width, f"金额单位：{unit}")
        return top + 3
    if style.preamble == "plain":
        ws.cell(top + 1, 1, f"编制单位：{layout.unit_name}")
    ws.cell(top + 1, width, f"单位：{unit}")
    return top + 2


def write_table(ws: Worksheet, top: int, table: str, ds: Dataset, layout: Layout, writer: CellWriter) -> int:
    """One table with its title, unit lines and notes; returns the next free row."""
    frame = FRAMES[table](ds, layout.style)
    row = write_frame(ws, _preamble(ws, top, len(frame.columns), table, layout), table, frame, writer)
    notes = [layout.style.table_notes.get(table)]
    if all(v == 0 for r in ds.values[table].values() for v in r.values()):
        fund = "政府性基金" if table == T7 else "国有资本经营"
        notes.append(layout.style.empty_note.format(unit_name=layout.unit_name, fund=fund))
    for note in filter(None, notes):
        ws.cell(row, 1, note)
        row += 1
    return row


def _money(ds: Dataset, table: str, row: str, column: str) -> str:
    return f"{Decimal(ds.values[table][row][column]) / 100:,.2f}"


def cover(ws: Worksheet, layout: Layout, ds: Dataset) -> None:
    for row, text in ((3, layout.unit_name), (5, "2024年度部门决算"), (12, "编制日期：2025年7月")):
        ws.cell(row, 2, text)


def contents(ws: Worksheet, layout: Layout, ds: Dataset) -> None:
    ws.cell(1, 1, "目　录")
    for n, table in enumerate(layout.order, 1):
        ws.cell(n + 2, 1, f"{_numeral(n)}、{layout.style.titles.get(table, table)}")
        ws.cell(n + 2, 3, f"表{n}")


def explanation(ws: Worksheet, layout: Layout, ds: Dataset) -> None:
    """说明 narrative that quotes table titles and amounts without being a table."""
    unit = ds.unit
    lines = [
        f"{layout.unit_name}2024年度部门决算情况说明",
        "一、收入支出决算总体情况说明",
        f"2024年度收入、支出总计均为{_money(ds, T1, '总计', '金额')}{unit}。",
        "二、收入决算情况说明",
        f"本年收入合计{_money(ds, T1, '本年收入合计', '金额')}{unit}，其中：一般公共预算财政拨款收入"
        f"{_money(ds, T1, '一般公共预算财政拨款收入', '金额')}{unit}。",
        "三、支出决算情况说明",
        f"本年支出合计{_money(ds, T3, '合计', '本年支出合计')}{unit}，其中：基本支出{_money(ds, T3, '合计', '基本支出')}{unit}，"
        f"项目支出{_money(ds, T3, '合计', '项目支出')}{unit}。",
        "四、一般公共预算财政拨款支出决算情况说明",
        f"一般公共预算财政拨款支出决算表反映本年支出{_money(ds, T5, '合计', '合计')}{unit}。",
        "五、“三公”经费支出决算情况说明",
        f"财政拨款“三公”经费支出决算数{_money(ds, T9, '合计', '决算数.合计')}{unit}。",
    ]
    for row, text in enumerate(lines, 1):
        ws.cell(row, 1, text)


def performance(ws: Worksheet, layout: Layout, ds: Dataset) -> None:
    """A 项目支出绩效自评表: amounts and scores in a grid that is none of the nine tables."""
    spent = Decimal(ds.values[T5]["2010607"]["合计"]) / 100
    budget = spent + 10
    rate = spent / budget
    score = float(round(rate * 10, 2))
    rows = [
        ["2024年度项目支出绩效自评表"],
        ["项目名称", "信息化建设", None, "主管部门", layout.unit_name],
        [f"项目资金（{ds.unit}）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["年度资金总额", float(budget), float(budget), float(spent), 10, f"{rate:.2%}", score],
        ["其中：本年财政拨款", float(budget), float(budget), float(spent), None, None, None],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标", "数量指标", "系统模块上线数", "≥5个", "5个", 50, 50],
        ["效益指标", "社会效益指标", "业务办理时长缩短", "≥20%", "22%", 30, 30],
        ["满意度指标", "服务对象满意度指标", "使用人员满意度", "≥90%", "93%", 10, 10],
        ["总分", None, None, None, None, 100, 90 + score],
    ]
    for r, values in enumerate(rows, 1):
        for c, value in enumerate(values, 1):
            ws.cell(r, c, value)


SHANGHAI_TITLES = {T8: "国有资本经营预算财政拨款收入支出决算表"}
CENTRAL_TITLES = {T6: "一般公共预算财政拨款基本支出决算明细表", T8: "国有资本经营预算财政拨款支出决算表"}
T9_SHANGHAI = ("因公出国（境）费", "公务用车购置及运行(维护)费", "公务用车购置费", "公务用车运行(维护)费", "公务接待费")
T9_MAINTENANCE = ("因公出国（境）费用", "公务用车购置及运行维护费", "购置费", "运行维护费", "公务接待费")
SH_NOTES = {T1: "注：本表反映部门本年度的总收支和年末结转结余情况。", T2: "注：本表反映部门本年度取得的各项收入情况。"}


def _shuffled(names: tuple[str, ...], order: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(names[i] for i in order)


_NUMBERED = tuple(f"表{n}" for n in range(1, 10))
_GENERIC = ("Sheet4", "Sheet7", "Sheet1", "Sheet9", "Sheet2", "Sheet8", "Sheet3", "Sheet6", "Sheet5")
_ONE_SHEET = "2024年部门决算公开表"

_LAYOUTS: dict[str, Layout] = {
    "shanghai": Layout(
        "上海市普陀区城市管理示范局",
        Style(preamble="shanghai", title_format="{unit_name}{title}", titles=SHANGHAI_TITLES, row_numbers=False,
              split_codes=True, classes=CLASSES_24, total_last=frozenset({T5}), amount_header="决算数",
              labels={"使用非财政拨款结余": "使用非财政拨款结余（含专用结余）"}, t5_grouped=False, subtotal="小计",
              t6_headings=False, t9_interleaved=True, t9_labels=T9_SHANGHAI,
              empty_note="注：{unit_name}无{fund}预算财政拨款支出，故本表无数据。", table_notes=SH_NOTES),
        SHANGHAI_ORDER,
        ("收支总表", "收入决算", "支出决算", "财拨收支总表", "一般公共预算支出", "基本支出", "三公经费", "政府性基金", "国有资本经营"),
        ("收支总表", "收入决算", "支出决算", "财拨收支总表", "一般公共预算支出", "基本支出", "三公经费", "政府性基金", "国有资本经营"),
    ),
    "yuan": Layout(
        "大关县青山镇中心卫生院",
        Style(unit="元", titles=CENTRAL_TITLES | {T8: T8}, int_codes=True, indent_names=True,
              expense_header="项目（按功能分类）", t6_blocks=3, zeros="zero"),
        CENTRAL_ORDER,
        tuple(f"公开{n:02d}表" for n in range(1, 10)),
        tuple(f"公开{n:02d}表" for n in range(1, 10)),
        scale=Fraction(5, 4),
    ),
    "numbered_sheets": Layout(
        "南漳县招商服务示范中心",
        Style(title_format="{numeral}、{title}", titles=CENTRAL_TITLES, total_last=frozenset({T3}), t6_blocks=3,
              t8_expense_only=True),
        CENTRAL_ORDER,
        _NUMBERED,
        ("封面", "目录", *_shuffled(_NUMBERED, (2, 6, 0, 8, 4, 1, 7, 3, 5))),
        {"封面": cover, "目录": contents},
        scale=Fraction(3, 4),
        with_soe=False,
    ),
    "generic_sheets": Layout(
        "北海市银滩区档案局",
        Style(preamble="plain", title_format="{unit_name}2024年{title}", row_numbers=False, int_codes=True,
              classes=CLASSES_24, total_last=frozenset({T2}), amount_header="决算数",
              titles={T1: "部门收支决算总表", T4: "财政拨款收支决算总表", T6: "基本支出决算明细表",
                      T8: "国有资本经营预算财政拨款支出决算表", T9: "一般公共预算财政拨款“三公”经费支出决算表"},
              t8_expense_only=True, t9_labels=T9_MAINTENANCE),
        CENTRAL_ORDER,
        _GENERIC,
        ("Sheet10", *(f"Sheet{n}" for n in range(1, 10)), "Sheet11"),
        {"Sheet10": explanation, "Sheet11": performance},
        scale=Fraction(6, 5),
    ),
    "one_sheet": Layout(
        "华容县水利事务中心",
        Style(titles=CENTRAL_TITLES, total_last=frozenset({T2, T5}), t8_expense_only=True),
        CENTRAL_ORDER,
        (_ONE_SHEET,) * 9,
        (_ONE_SHEET,),
        scale=Fraction(9, 10),
        with_soe=False,
    ),
    "text_numbers": Layout(
        "柳城县统计示范局",
        Style(preamble="plain", title_format="{unit_name}{title}", titles=CENTRAL_TITLES | {T8: T8}, row_numbers=False,
              numbers="text", zeros="dash", t9_labels=T9_MAINTENANCE),
        CENTRAL_ORDER,
        tuple(f"表{_numeral(n)}" for n in range(1, 10)),
        tuple(f"表{_numeral(n)}" for n in range(1, 10)),
        scale=Fraction(11, 10),
    ),
    "three_header_rows": Layout(
        "上海市闵行区园林绿化管理所",
        Style(preamble="plain", title_format="{unit_name}2024年度{title}", titles=SHANGHAI_TITLES, row_numbers=False,
              split_codes=True, total_last=frozenset({T3, T5}), t9_interleaved=True),
        CENTRAL_ORDER,
        tuple(f"{n}-{t[:20]}" for n, t in enumerate(CENTRAL_ORDER, 1)),
        tuple(f"{n}-{t[:20]}" for n, t in enumerate(CENTRAL_ORDER, 1)),
        scale=Fraction(7, 5),
    ),
}
LAYOUTS: list[str] = list(_LAYOUTS)


def build(name: str, path: Path) -> Expected:
    """Write the fixture workbook `name` to `path`; return where its named values sit."""
    layout = _LAYOUTS[name]
    style = layout.style
    ds = make_dataset(style.unit, layout.scale, layout.with_soe)
    wb = Workbook()
    wb.remove(wb.active)
    for tab in layout.tabs:
        wb.create_sheet(tab)
    expected = Expected(unit=style.unit, sheets={}, cells={t: {} for t in CENTRAL_ORDER}, values={t: {} for t in CENTRAL_ORDER})
    writer = CellWriter(style, expected)
    next_row: dict[str, int] = {}
    for n, (table, sheet) in enumerate(zip(layout.order, layout.sheet_names)):
        ws = wb[sheet]
        gap = 1 + n % 2  # one or two blank rows between tables sharing a sheet
        top = next_row[sheet] + gap if sheet in next_row else 1
        next_row[sheet] = write_table(ws, top, table, ds, layout, writer)
        expected.sheets[table] = sheet
    for sheet, write_extra in layout.extras.items():
        write_extra(wb[sheet], layout, ds)
    wb.save(path)
    return expected


# ------------------------------------------------------------------ self-check


def cell_amount(value: object) -> Decimal | None:
    """The amount a stored cell means: numbers, text numbers (full width, commas), '-' / '—' = 0."""
    if isinstance(value, int | float):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).replace(",", "").strip()
    if text in ("-", "—"):
        return Decimal("0.00")
    return Decimal(text).quantize(Decimal("0.01"))


def check(name: str, path: Path) -> dict[str, int]:
    """Build `name`, reopen it and assert every recorded cell; returns cells per table."""
    expected = build(name, path)
    wb = load_workbook(path)
    assert set(expected.sheets) == set(CENTRAL_ORDER), name
    counts = {}
    for table, cells in expected.cells.items():
        ws = wb[expected.sheets[table]]
        for key, address in cells.items():
            assert not isinstance(ws[address], MergedCell), f"{name} {table} {key}: {address} is inside a merged range"
            actual = cell_amount(ws[address].value)
            assert actual == expected.values[table][key], f"{name} {table} {key} {address}: {actual} != {expected.values[table][key]}"
        counts[table] = len(cells)
        empty = all(v == 0 for v in expected.values[table].values())
        assert empty or len(cells) >= 4, f"{name} {table}: only {len(cells)} named cells"
    return counts


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in LAYOUTS:
        counts = check(name, out / f"{name}.xlsx")
        detail = " ".join(f"T{CENTRAL_ORDER.index(t) + 1}={n}" for t, n in counts.items())
        print(f"{name:18} {sum(counts.values()):4} cells  {detail}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/layouts"))
