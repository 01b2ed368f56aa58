"""A crash is a bug: recognition and validation of arbitrary grids never raise.

Grids are drawn from the words real workbooks use (titles, header labels, row labels,
codes, amounts as numbers and as text, dates, booleans, blanks), placed anywhere, with
random merges, and also cut from the sample with rows dropped or shifted.
"""

from __future__ import annotations

import copy
import datetime as dt

from conftest import SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlplugin.io.readers import read_workbook
from xlplugin.model import Sheet
from xlplugin.rules.validate import load_rules, validate_inspections
from xlplugin.specs import load_year
from xlplugin.tables.recognize import recognize

SPEC = load_year(2024)
RULES = load_rules(2024)
WORDS = sorted(
    {t.name for t in SPEC.tables}
    | {title for t in SPEC.tables for title in t.titles}
    | {r.key for t in SPEC.tables for b in t.blocks for r in b.rows}
    | {w for t in SPEC.tables for b in t.blocks for c in b.columns for w in c.header}
    | {"项目", "科目编码", "科目名称", "栏次", "行次", "类", "款", "项", "金额单位：万元", "单位：元", "注：本表无数据", "合计"}
)
VALUES = st.one_of(
    st.none(),
    st.sampled_from(WORDS),
    st.sampled_from(["208", "20805", "2080505", "301", "30101", "20801011", "1,234.56", "—", "待定", "１２３"]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-10**9, 10**9),
    st.booleans(),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.text(max_size=12),
)


@st.composite
def sheets(draw):
    result = []
    for number in range(draw(st.integers(1, 3))):
        height, width = draw(st.integers(1, 30)), draw(st.integers(1, 10))
        rows = [[draw(VALUES) for _ in range(width)] for _ in range(height)]
        merges = []
        for _ in range(draw(st.integers(0, 4))):
            r0, c0 = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            merges.append((r0, c0, draw(st.integers(r0, height - 1)), draw(st.integers(c0, width - 1))))
        result.append(Sheet(f"Sheet{number}", rows, merges))
    return result


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sheets())
def test_arbitrary_grids_never_crash(grids):
    inspection = recognize(grids, SPEC, "random")
    validate_inspections([inspection], SPEC, RULES)


SAMPLE_SHEETS = read_workbook(SAMPLE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sheet=st.integers(0, len(SAMPLE_SHEETS) - 1),
    cuts=st.lists(st.integers(0, 40), max_size=6),
    value=VALUES,
    where=st.tuples(st.integers(0, 40), st.integers(0, 12)),
)
def test_damaged_sample_sheets_never_crash(sheet, cuts, value, where):
    grids = copy.deepcopy(SAMPLE_SHEETS)
    rows = grids[sheet].rows
    for cut in sorted(set(cuts), reverse=True):  # rows deleted: headers split from titles, totals lost …
        if cut < len(rows):
            del rows[cut]
    r, c = where
    if r < len(rows) and c < len(rows[r]):
        rows[r][c] = value
    grids[sheet].merges = [m for m in grids[sheet].merges if m[2] < len(rows)]
    validate_inspections([recognize(grids, SPEC, "damaged")], SPEC, RULES)
