"""Property: a real change to any amount of the sample is caught, at that cell.

Adding any δ with |δ| ≥ 0.5 万元 to any single amount cell that the rules read gives at
least one error whose cell or related_cells names that cell.  The sample's sheets are
read once and changed in memory, so each example runs recognition and every rule.
"""

from __future__ import annotations

import copy

import pytest
from conftest import SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlplugin.io.readers import read_workbook
from xlplugin.rules.validate import load_rules, validate_inspection
from xlplugin.specs import load_year
from xlplugin.tables.recognize import recognize
from xlplugin.text import a1

SPEC = load_year(2024)
RULES = load_rules(2024)
SHEETS = read_workbook(SAMPLE)
INSPECTION = recognize(SHEETS, SPEC, str(SAMPLE))
AMOUNT_CELLS = sorted(
    {(t.sheet, address) for t in INSPECTION.tables.values() for b in t.blocks.values() for address in b.cells.to_numpy().ravel()}
)


def _position(address: str) -> tuple[int, int]:
    letters = address.rstrip("0123456789")
    col = 0
    for char in letters:
        col = col * 26 + ord(char) - 64
    return int(address[len(letters) :]) - 1, col - 1


def test_the_cells_cover_every_table():
    assert len(AMOUNT_CELLS) > 400
    assert {sheet for sheet, _ in AMOUNT_CELLS} == set(SPEC.table_names)
    assert a1(*_position("D12")) == "D12"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(AMOUNT_CELLS),
    delta=st.floats(min_value=0.5, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2)),
    sign=st.sampled_from([1, -1]),
)
def test_any_change_of_half_a_wan_yuan_is_an_error_at_that_cell(target, delta, sign):
    sheet_name, address = target
    sheets = copy.deepcopy(SHEETS)
    sheet = next(s for s in sheets if s.name == sheet_name)
    row, col = _position(address)
    while len(sheet.rows) <= row:
        sheet.rows.append([None] * sheet.width)
    cells = sheet.rows[row]
    while len(cells) <= col:
        cells.append(None)
    cells[col] = round((cells[col] or 0.0) + sign * delta, 2)
    report = validate_inspection(recognize(sheets, SPEC, "changed"), SPEC, RULES)
    ref = f"{sheet_name}!{address}"
    errors = [f for f in report.findings if f.severity == "error" and (f.cell == address and f.sheet == sheet_name or ref in f.related_cells)]
    assert errors, f"{ref} changed by {sign * delta}: no error names it"


@pytest.mark.parametrize("delta", [0.01, -0.01])
def test_a_change_within_rounding_is_not_an_error_where_the_sum_has_room(delta):
    """One cent on an item whose equations all have spare tolerance stays a 尾差 (info)."""
    sheets = copy.deepcopy(SHEETS)
    sheet = next(s for s in sheets if s.name == "财政拨款“三公”经费支出决算表")
    row, col = _position("K8")  # 决算数 公务用车运行费: 9.90 → 9.91 breaks S-2 only by 0.01 with tolerance 0.015
    sheet.rows[row][col] = round(sheet.rows[row][col] + delta, 2)
    report = validate_inspection(recognize(sheets, SPEC, "changed"), SPEC, RULES)
    s2 = [f for f in report.findings if f.rule_id == "S-2" and f.cell == "I8"]
    assert s2 and all(f.severity == "info" for f in s2)
