"""The year's catalogues ship with the package; a user's official catalogue replaces them (--catalog)."""

from __future__ import annotations

import openpyxl
import pytest
from conftest import TEMPLATE, run_cli

from xlplugin.specs import ECONOMIC, FUNCTIONAL, SpecError, load_year


def test_bundled_catalogues_keep_their_confidence_column():
    spec = load_year(2024)
    functional, economic = spec.catalogs[FUNCTIONAL].entries, spec.catalogs[ECONOMIC].entries
    assert functional["2080505"].name == "机关事业单位基本养老保险缴费支出" and functional["2080505"].confidence == "S"
    assert functional["2080709"].confidence == "L"
    assert economic["30231"].name == "公务用车运行维护费" and economic["30231"].parent == "302"
    assert len(functional) > 200 and len(economic) > 100


def test_a_users_gbk_catalogue_replaces_the_bundled_one(tmp_path):
    path = tmp_path / "2024年政府收支分类科目.csv"
    path.write_bytes("科目编码,科目名称\n201,一般公共服务支出\n208,社会保障和就业支出\n20801,人力资源和社会保障管理事务\n2080101,行政运行\n".encode("gbk"))
    spec = load_year(2024, (path,))
    catalog = spec.catalogs[FUNCTIONAL]
    assert set(catalog.entries) == {"201", "208", "20801", "2080101"}
    assert catalog.entries["2080101"].level == "项" and catalog.entries["2080101"].parent == "20801"
    assert catalog.entries["208"].confidence == "S"  # an official file is authoritative
    assert spec.catalogs[ECONOMIC].entries == load_year(2024).catalogs[ECONOMIC].entries


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("code,name\n201,一般公共服务支出\n30101,基本工资\n", "mixed catalogue"),
        ("code,name\n20x,坏编码\n", "第 2 行"),
        ("编号,说明\n201,一般公共服务支出\n", "missing columns"),
    ],
)
def test_a_bad_catalogue_is_named_with_its_problem(tmp_path, text, words):
    path = tmp_path / "目录.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=words) as error:
        load_year(2024, (path,))
    assert str(path) in str(error.value)
    result = run_cli("inspect", str(TEMPLATE), "--catalog", str(path))
    assert result.returncode == 2 and str(path) in result.stderr


def test_inspect_uses_the_users_catalogue_for_class_rows(tmp_path):
    """Tables 1 and 4 list 类 rows by name: a renamed class in the official file is recognised."""
    catalog = tmp_path / "official.csv"
    rows = [f"{e.code},{e.name}" for e in load_year(2024).catalogs[FUNCTIONAL].entries.values()]
    catalog.write_text("code,name\n" + "\n".join(rows).replace("208,社会保障和就业支出", "208,社会保障与就业支出"), encoding="utf-8")
    book = openpyxl.load_workbook(TEMPLATE)
    for sheet in ("收入支出决算总表", "财政拨款收入支出决算总表"):
        assert book[sheet]["C14"].value == "八、社会保障和就业支出"
        book[sheet]["C14"] = "八、社会保障与就业支出"
    path = tmp_path / "renamed.xlsx"
    book.save(path)
    bundled = run_cli("inspect", str(path)).stdout
    assert "C14 行标签「社会保障与就业支出」未识别" in bundled
    official = run_cli("inspect", str(path), "--catalog", str(catalog)).stdout
    assert "未识别" not in official and "社会保障与就业支出" in official
