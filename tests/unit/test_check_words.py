"""What a dbt test asserts, in Chinese and English (dagster_project/core/check_words.py): the check
titles of the quality report. Hand-made manifest nodes, then the project's own manifest."""

from __future__ import annotations

import re

from dagster_project.core.check_words import chinese_name, describe_test

MODEL = {
    "resource_type": "model",
    "name": "unit_scores",
    "description": "单位得分 — the published scores",
    "columns": {
        "year": {"description": "考核年度 — the evaluation year"},
        "unit_code": {"description": "单位代码 — unified social credit code"},
        "total_score": {"description": "总分 = round2(Σ lines)"},
        "grade": {"description": "等次 (1, 2, 3)"},
        "note": {"description": "a column described in English only"},
        '"check"': {"description": "核对项"},
    },
}
TARGET = {
    "resource_type": "model",
    "name": "stg_units",
    "description": "机构 — the register's units",
    "columns": {"unit_code": {"description": "统一社会信用代码 — GB 32100"}},
}
MANIFEST = {"nodes": {"model.kaohe.unit_scores": MODEL, "model.kaohe.stg_units": TARGET}}


def generic(name: str, **kwargs) -> dict:
    return {
        "name": f"{name}_test",
        "resource_type": "test",
        "attached_node": "model.kaohe.unit_scores",
        "test_metadata": {"name": name, "kwargs": kwargs},
    }


def both(node: dict, value_labels=None) -> tuple[str, str]:
    return describe_test(node, "zh", MANIFEST, value_labels), describe_test(node, "en", MANIFEST)


def test_a_primary_key_says_one_row_per_key_and_which_columns_are_never_null():
    node = generic("primary_key", columns=["year", "unit_code"], required=["year", "total_score"])
    assert both(node) == (
        "每个（考核年度、单位代码）只有一行；考核年度、单位代码、总分不为空",
        "one row per (year, unit_code); no null in: year, unit_code, total_score",
    )
    assert (
        describe_test(generic("primary_key", columns=["unit_code"]), "zh", MANIFEST)
        == "每个单位代码只有一行；单位代码不为空"
    )


def test_generic_tests_use_the_columns_chinese_names_else_the_column_name():
    assert both(generic("unique_combination", columns=["year", "unit_code"])) == (
        "每个（考核年度、单位代码）只有一行",
        "one row per (year, unit_code)",
    )
    assert both(generic("not_null_columns", columns=["grade", "note"])) == (
        "等次、note不为空",  # no Chinese name: the column's own
        "no null in the required columns: grade, note",
    )
    assert both(generic("unique", column_name="unit_code")) == ("单位代码不重复", "unit_code is unique")
    assert both(generic("not_null", column_name='"check"')) == ("核对项不为空", "check is not null")
    related = generic("relationships", column_name="unit_code", to="ref('stg_units')", field="unit_code")
    assert both(related) == (
        "每个单位代码都能在机构的统一社会信用代码中找到",
        "every unit_code exists in stg_units.unit_code",
    )
    # without the manifest (the Dagster check's description, English): the column names
    assert describe_test(generic("unique", column_name="unit_code")) == "unit_code is unique"
    assert describe_test(generic("unique", column_name="unit_code"), "zh") == "unit_code不重复"


def test_accepted_values_are_named_by_their_labels_when_all_are_known():
    def labels(column, codes):
        known = {1: "一等", 2: "二等", 3: "三等", "a": "甲，乙"}
        return [known[c] for c in codes] if all(c in known for c in codes) else None

    assert both(generic("accepted_values", column_name="grade", values=[1, 2, 3]), labels) == (
        "等次只能是：一等、二等、三等",
        "grade is one of: 1, 2, 3",
    )
    assert both(generic("accepted_values", column_name="grade", values=[1, 4]), labels)[0] == (
        "等次只能是规定的2个代码之一"  # 4 has no label: no code on the Chinese page
    )
    assert describe_test(generic("accepted_values", column_name="grade", values=["a", 1]), "zh", MANIFEST, labels) == (
        "等次只能是：“甲，乙”、“一等”"  # a label with a comma is quoted
    )


def test_a_test_written_by_hand_says_it_in_both_languages():
    singular = {
        "name": "assert_x",
        "raw_code": "-- A failure means x.\n-- More x.\n-- zh: 失败表示甲，\n-- 以及乙。\nselect 1\n-- not this\n",
    }
    assert describe_test(singular, "en") == "A failure means x. More x."
    assert describe_test(singular, "zh") == "失败表示甲，以及乙。"
    english_only = {"name": "assert_y", "raw_code": "-- A failure means y.\nselect 1"}
    assert describe_test(english_only, "zh") == "A failure means y."
    assert describe_test({"name": "assert_z", "raw_code": "select 1"}, "zh") == "assert_z"
    described = {**generic("unique", column_name="unit_code"), "description": "每年一行 — one row a year"}
    assert both(described) == ("每年一行", "one row a year")
    plain = {**described, "description": "one row a year — strictly"}
    assert both(plain) == ("one row a year — strictly", "one row a year — strictly")


def test_the_chinese_name_of_a_description():
    assert chinese_name("在编人数 H_u — distinct persons") == "在编人数"
    assert chinese_name("工作量（人月） — person-months") == "工作量（人月）"
    assert chinese_name("正职领导职数（核定）") == "正职领导职数（核定）"
    assert chinese_name("Q_u of every unit") == "Q_u of every unit"
    assert chinese_name("Q_u of every unit", "q") == "q"


def test_every_check_title_of_the_project_has_no_latin_letter_in_chinese(dbt_manifest):
    from dagster_project.quality.report import check_titles

    zh, en = check_titles("zh"), check_titles("en")
    assert set(zh) == set(en) and len(zh) > 100
    assert {name: title for name, title in zh.items() if re.search("[A-Za-z]", title)} == {}
    key = "每个（考核年度、统一社会信用代码）只有一行；考核年度、统一社会信用代码、"
    assert zh["primary_key_unit_scores"].startswith(key)
    assert en["primary_key_unit_scores"].startswith("one row per (year, unit_code); no null in: year, unit_code, ")
    grades = next(t for n, t in zh.items() if n.startswith("accepted_values_unit_scores_grade"))
    assert grades == "等次只能是：一等、二等、三等"  # from the label seed dim_grade
    genders = next(t for n, t in zh.items() if n.startswith("accepted_values_stg_staffing__persons_gender"))
    assert genders == "性别只能是：男、女"  # from the contract's enum labels
    assert zh["assert_ranks_are_gapless"] == "失败表示某类别或考核组内的名次不是从 1 起的连续整数（有空缺或并列）。"
    assert en["assert_ranks_are_gapless"].startswith("A failure means ranks within a category group")
    assert zh["gx_sources"].startswith("源数据：") and en["gx_sources"].startswith("Source level:")
    assert zh["quarantine_share_within_limit"].startswith("在用数据中没有哪张表被拒收的行超过 5%")
