"""The conformance corpus: each case breaks rules by editing a real workbook; the findings must say so.

tests/corpus/<case>/case.toml says how the workbook is built (base + edits, see
corpus/build.py); expected.json lists the findings (rule id, table, cell, severity)
that must appear, and those that must not.  The sample and every layout fixture must
give no error and no warning at all.
"""

from __future__ import annotations

import json
import tomllib

import layouts
import pytest
from conftest import SAMPLE
from corpus.build import build, cases

from xlplugin.specs import DATA_DIR, load_year
from xlplugin.workbook import validate_workbook

SPEC = load_year(2024)
TABLE_NAMES = {t.id: t.name for t in SPEC.tables}
CASES = cases()


def _found(report) -> set[tuple[str, str, str, str]]:
    return {(f.rule_id, f.table, f.cell, f.severity) for f in report.findings}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case, tmp_path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    report = validate_workbook(build(case, tmp_path / "case.xlsx"))
    found = _found(report)
    for item in expected["must"]:
        wanted = (item["rule_id"], TABLE_NAMES.get(item["table"], item["table"]), item["cell"], item["severity"])
        assert wanted in found, f"{case.name}: missing {wanted}; found {sorted(found)}"
    for item in expected.get("must_not", []):
        hits = [f for f in report.findings if f.rule_id == item["rule_id"] and f.severity in item["severities"]]
        assert not hits, f"{case.name}: unexpected {hits}"


def test_every_rule_is_broken_by_some_case():
    rules = {r["id"] for r in tomllib.loads((DATA_DIR / "2024" / "rules.toml").read_text(encoding="utf-8"))["rule"]}
    covered = {item["rule_id"] for case in CASES for item in json.loads((case / "expected.json").read_text(encoding="utf-8"))["must"]}
    assert rules <= covered, sorted(rules - covered)


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_the_sample_gives_no_error_and_no_warning(reader):
    report = validate_workbook(SAMPLE, reader=reader)
    assert [f for f in report.findings if f.severity != "info"] == []
    assert report.rules_run >= 45
    # its published 0.01 尾差 are seen, and kept as info only
    assert {("T1-2", "B36"), ("H-3", "C7")} <= {(f.rule_id, f.cell) for f in report.findings if f.severity == "info"}


@pytest.mark.parametrize("name", layouts.LAYOUTS)
def test_every_layout_fixture_gives_no_error_and_no_warning(name, tmp_path):
    path = tmp_path / f"{name}.xlsx"
    layouts.build(name, path)
    report = validate_workbook(path)
    assert [f for f in report.findings if f.severity != "info"] == []
    assert report.rules_run >= 40
