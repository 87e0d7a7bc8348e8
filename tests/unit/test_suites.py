"""The Great Expectations suites say only what dbt's tests do not: no grain, no fixed set of
values and no null check is held twice, and every frame a suite reads exists and is read."""

from __future__ import annotations

import json
import re

from dagster_project.core.dbt_project import MANIFEST
from dagster_project.quality.frames import FRAMES
from dagster_project.quality.suites import load_suites

PII_FRAME = "personal_data_hits"  # built in Python (frames.personal_data_hits), not SQL


def _dbt_tests() -> list[dict]:
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"].values()
    return [n for n in nodes if n["resource_type"] == "test" and n.get("test_metadata")]


def test_no_expectation_repeats_a_dbt_test(dbt_manifest):
    accepted = {
        (t["attached_node"].split(".")[-1], t["test_metadata"]["kwargs"]["column_name"].strip('"'))
        for t in _dbt_tests()
        if t["test_metadata"]["name"] == "accepted_values"
    }
    assert ("unit_scores", "grade") in accepted  # what this test compares with is really there
    expectations = [e for suite in load_suites() for e in suite["expectations"]]
    types = {e["type"] for e in expectations}
    assert "expect_compound_columns_to_be_unique" not in types  # grains: primary_key
    assert "expect_column_values_to_not_be_null" not in types  # required columns: primary_key
    for e in expectations:
        if e["type"] == "expect_column_values_to_be_in_set" and isinstance(e["kwargs"]["value_set"], list):
            assert (e["frame"], e["kwargs"]["column"]) not in accepted, e


def test_every_frame_read_by_a_suite_exists_and_every_frame_is_read():
    read = {e["frame"] for suite in load_suites() for e in suite["expectations"]}
    assert read - {PII_FRAME} == set(FRAMES)
    assert PII_FRAME in read


def test_a_warning_names_the_units_of_its_unexpected_rows():
    import pandas as pd

    from dagster_project.quality.suites import unexpected_units

    frame = pd.DataFrame(
        {"unit_code": ["U2", "U1", "U3", "U1"], "unit_name": ["乙局", "甲局", None, "甲局"],
         "has_reviews": [False, False, True, False]}
    )  # fmt: skip
    in_set = {"column": "has_reviews", "value_set": [True]}
    assert unexpected_units(frame, "expect_column_values_to_be_in_set", in_set) == ("甲局（U1）", "乙局（U2）")
    assert unexpected_units(frame, "expect_table_row_count_to_equal", {"value": 0}) == (
        "甲局（U1）",
        "乙局（U2）",
        "U3",
    )
    assert unexpected_units(frame.drop(columns=["unit_code"]), "expect_table_row_count_to_equal", {}) == ()


def test_every_expectation_says_in_chinese_what_it_expects():
    """meta.zh: the words of an unmet expectation on the Chinese quality report (report.check_detail)."""
    expectations = [e for suite in load_suites() for e in suite["expectations"]]
    words = [e.get("meta", {}).get("zh", "") for e in expectations]
    assert len(expectations) == 18 and all(words)
    assert [w for w in words if re.search("[A-Za-z]", w)] == []
