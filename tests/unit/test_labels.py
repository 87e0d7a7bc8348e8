"""The label tables (dbt/seeds/labels → the published dim_* marts): complete for the codes the
methodology names, read from a publication where it has them, from the seeds where it does not."""

from __future__ import annotations

import duckdb

from dagster_project.outputs.labels import grade_reason
from dagster_project.transform.labels import TABLES, read_labels, seed_labels


def test_the_seeds_label_every_stage_clue_and_issue_of_the_methodology():
    labels = seed_labels()
    assert labels.codes("stage") == [
        "target_setting", "q1_monitoring", "half_year", "q3_monitoring", "q4_monitoring", "year_end"
    ]  # fmt: skip
    assert set(labels.codes("clue")) == {
        "value_pct_mismatch", "progress_decreased", "late_surge", "far_above_target", "unverified_at_year_end",
        "reviewer_gap", "workload_over_capacity",
    }  # fmt: skip
    assert labels.codes("issue") == ["rejected_row", "carried_forward", "not_ranked"]
    assert labels.codes("grade") == [1, 2, 3]
    assert labels.label("grade", 2) == "二等" and labels.label("grade", "2", "en") == "grade 2"
    assert labels.label("stage", "half_year") == "半年评估"
    assert labels.label("light", "purple") == "purple"  # no row: the code itself
    for domain in TABLES:
        for code in labels.codes(domain):
            assert labels.label(domain, code, "zh") != code, (domain, code)


def test_a_rule_is_written_with_the_years_numbers():
    labels = seed_labels()
    rule = labels.rule("not_quantified", "zh", {"points_each": 0.2, "cap": 3.0})
    assert rule == "每项扣0.2分，与缺少季度节点、未落实责任处室合计封顶3分"
    assert labels.rule("red_light", "en", {"points_each": 0.5}) == "0.5 per task whose latest light is red, cap {cap}"
    assert labels.rule("no_such_line", "zh", {}) is None


def test_a_publication_label_table_wins_and_a_missing_one_comes_from_the_seeds():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.dim_light as select * from (values ('green', '绿', 'G', 1), ('red', '红', 'R', 2)) "
        "as t(code, label_zh, label_en, sort_order)"
    )
    labels = read_labels(con)
    assert labels.label("light", "red") == "红" and labels.codes("light") == ["green", "red"]
    assert labels.label("stage", "year_end") == "年终评价"  # dim_stage absent: the seed


def test_an_interim_ranking_has_no_grade_reason_but_says_so():
    row = {"grade": None, "vetoed": False, "total_score": 91.0, "grade1_slots": None}
    assert grade_reason(row, 80, 60) == "阶段性排名，不评定等次"
    assert grade_reason(row, 80, 60, "en") == "interim ranking: no grade"
