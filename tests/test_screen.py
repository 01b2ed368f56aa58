"""The batch screen (rules/screen.py) never changes a result: screened validation of a batch
gives exactly the findings and the rules-run list that checks.py alone gives, workbook by
workbook — on the whole conformance corpus and every layout fixture validated as one
batch, and on random multi-cell changes (down to a single cent) of the sample.
"""

from __future__ import annotations

import copy

import layouts
from conftest import SAMPLE
from corpus.build import build, cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import AMOUNT_CELLS, SHEETS, _position

from xlplugin.io.readers import read_workbook
from xlplugin.rules.screen import CLEAN, DEFER, screen
from xlplugin.rules.validate import load_rules, validate_inspections
from xlplugin.specs import load_year
from xlplugin.tables.recognize import recognize

SPEC = load_year(2024)
RULES = load_rules(2024)


def _outcome(report) -> tuple[list[dict], list[str]]:
    return [f.as_dict() for f in report.findings], report.rules_ran


def _same_both_ways(inspections, rules=RULES) -> None:
    screened = validate_inspections(inspections, SPEC, rules, screened=True)
    alone = validate_inspections(inspections, SPEC, rules, screened=False)
    for one, other in zip(screened, alone):
        assert _outcome(one) == _outcome(other), one.path


def test_corpus_and_fixtures_as_one_batch(tmp_path):
    paths = [build(case, tmp_path / f"{case.name}.xlsx") for case in cases()]
    for name in layouts.LAYOUTS:
        layouts.build(name, tmp_path / f"{name}.xlsx")
        paths.append(tmp_path / f"{name}.xlsx")
    paths.append(SAMPLE)
    inspections = [recognize(read_workbook(p), SPEC, str(p)) for p in paths]
    _same_both_ways(inspections)
    statuses = screen(inspections, SPEC, [r for r in RULES if r.kind in ("sum", "row_sum", "hierarchy", "match_rows")])
    # the screen does real work: most (rule, workbook) pairs are settled without checks.py
    settled = sum(int((s == CLEAN).sum()) for s in statuses.values())
    deferred = sum(int((s == DEFER).sum()) for s in statuses.values())
    assert settled > 2 * deferred > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(AMOUNT_CELLS), st.sampled_from([0.01, -0.01, 0.02, 0.5, -3.0, 1234.56])),
        min_size=1,
        max_size=4,
    )
)
def test_random_changes_of_the_sample(changes):
    sheets = copy.deepcopy(SHEETS)
    for (sheet_name, address), delta in changes:
        sheet = next(s for s in sheets if s.name == sheet_name)
        row, col = _position(address)
        while len(sheet.rows) <= row:
            sheet.rows.append([])
        cells = sheet.rows[row]
        while len(cells) <= col:
            cells.append(None)
        cells[col] = round((cells[col] or 0.0) + delta, 2)
    _same_both_ways([recognize(sheets, SPEC, "changed")])  # a batch of one, screened all the same


def test_a_rule_about_a_table_the_year_does_not_know_is_skipped_not_a_crash():
    from dataclasses import replace

    inspections = [recognize(SHEETS, SPEC, str(SAMPLE)), recognize(SHEETS, SPEC, "copy")]
    wrong = [
        replace(rule, params={**rule.params, "total": "T99|合计|金额"}) if rule.id == "X-2" else
        replace(rule, params={**rule.params, "left": {"table": "T99"}}) if rule.id == "X-2b" else
        replace(rule, params={**rule.params, "tables": ["T99"]}) if rule.id == "H-1" else rule
        for rule in RULES
    ]
    _same_both_ways(inspections, tuple(wrong))
    report = validate_inspections(inspections, SPEC, tuple(wrong))[0]
    assert not {"X-2", "X-2b", "H-1"} & set(report.rules_ran)
