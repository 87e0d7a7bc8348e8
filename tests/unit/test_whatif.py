"""A what-if proposal is checked like the seeds before anything runs (docs/methodology.md §14)."""

from __future__ import annotations

import pytest

from dagster_project.analysis.whatif import ProposalRefused, merged, read_proposal, seeds

INDICATORS = "year,indicator_code,indicator_order,name_zh,name_en,weight,always_applicable\n"
PARAMETERS = "year,parameter,value,description\n"


def proposal(tmp_path, files: dict[str, str], year: int = 2023):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    known = seeds()
    return merged(known, read_proposal(tmp_path, year, known), year)


def test_the_committed_seeds_pass_their_own_rules(tmp_path):
    rows = proposal(tmp_path, {"methodology_parameters.csv": PARAMETERS + "2023,qualitative_share,0.2,q\n"})
    assert rows["methodology_parameters"].set_index("parameter").loc["qualitative_share", "line"] == 2
    assert sorted(rows["methodology_indicators"]["weight"].astype(float)) == [10, 10, 10, 15, 15, 40]


def test_a_proposal_row_replaces_the_seed_row_with_its_key(tmp_path):
    rows = proposal(tmp_path, {"methodology_indicators.csv": INDICATORS
                               + "2023,key_work,1,重点工作,Key work,35,true\n"
                               + "2023,excellence,6,争先创优,Excellence,15,true\n"})  # fmt: skip
    weights = rows["methodology_indicators"].set_index("indicator_code")["weight"].astype(float)
    assert weights.to_dict() == {"key_work": 35, "reform": 15, "fiscal": 15, "market_service": 10,
                                 "grassroots_service": 10, "excellence": 15}  # fmt: skip


def test_a_later_year_starts_from_the_year_in_force(tmp_path):
    rows = proposal(tmp_path, {"methodology_parameters.csv": PARAMETERS + "2025,grade1_share,0.25,g\n"}, 2025)
    parameters = rows["methodology_parameters"].set_index("parameter")
    assert set(parameters["year"]) == {"2025"} and parameters.loc["grade1_share", "value"] == "0.25"
    assert parameters.loc["qualitative_share", "value"] == "0.2"
    assert set(rows["methodology_indicators"]["year"]) == {"2025"}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"methodology_indicators.csv": INDICATORS + "2023,key_work,1,重点工作,Key work,35,true\n"},
         "methodology_indicators.csv line 2: the weights of 2023 sum to 95 (rule: the weights of a year sum to 100)"),
        ({"methodology_parameters.csv": PARAMETERS + "2023,stability_seed,1,s\n2023,qualitative_share,1.2,q\n"},
         "methodology_parameters.csv line 3: qualitative_share 1.2 (rule: qualitative_share within [0, 1])"),
        ({"methodology_reviewer_groups.csv": "year,reviewer_group,name_zh,weight\n2023,peers,同级互评,-0.2\n"},
         "methodology_reviewer_groups.csv line 2: weight -0.2 (rule: weight within [0, 1])"),
        ({"methodology_indicators.csv": INDICATORS + "2023,innovation,7,创新,Innovation,0,false\n"},
         "methodology_indicators.csv line 2: unknown code (indicator_code innovation) (rule: a proposal row replaces"),
        ({"methodology_staffing_ratio.csv": "year,category,name_zh,posts_per_key_task\n2023,economic,服务经济,0\n"},
         "methodology_staffing_ratio.csv line 2: posts_per_key_task 0 (rule: posts_per_key_task above 0)"),
        ({"methodology_parameters.csv": PARAMETERS + "2024,grade1_share,0.4,g\n"},
         "methodology_parameters.csv line 2: year '2024' (rule: a proposal's rows are for year 2023)"),
        ({"methodology_parameters.csv": PARAMETERS + "2023,grade1_share,lots,g\n"},
         "methodology_parameters.csv line 2: value 'lots' is not a number (rule: value is double)"),
        ({"methodology_parameters.csv": "year,parameter,value\n2023,grade1_share,0.4\n"},
         "methodology_parameters.csv line 1: columns year, parameter, value (rule: the seed's columns"),
        ({"weights.csv": "year,x\n2023,1\n"}, "weights.csv: not a methodology seed"),
        ({"methodology_parameters.csv": PARAMETERS + "2023,grade1_share,0.4,a\n2023,grade1_share,0.5,b\n"},
         "methodology_parameters.csv lines 2, 3: the same key (year, parameter) twice"),
        ({"methodology_parameters.csv": PARAMETERS + "2023,grade3_below_total,85,g\n"},
         "methodology_parameters.csv line 2: the grade-3 line is above the grade-1 line"),
    ],
)  # fmt: skip
def test_a_bad_proposal_is_refused_naming_the_rule_file_and_line(tmp_path, files, message):
    with pytest.raises(ProposalRefused) as refused:
        proposal(tmp_path, files)
    assert message in str(refused.value)


def test_the_comparison_counts_moves_and_names_the_lines_that_moved_a_grade():
    import pandas as pd

    from dagster_project.analysis.whatif import compare

    before = pd.DataFrame({"year": 2023, "unit_code": ["A", "B", "C"], "unit_name": ["甲局", None, "丙局"],
                           "group_code": "G", "category": "economic", "total_score": [80.0, 70.0, 60.0],
                           "rank_in_category": [1, 2, 3], "rank_overall": [1, 2, 3], "grade": [1, 2, 2]})  # fmt: skip
    after = before.assign(total_score=[69.0, 70.5, 60.0], rank_in_category=[2, 1, 3], grade=[2, 1, 2])
    lines = pd.DataFrame({"unit_code": ["A", "A", "C"], "component": ["indicator", "qualitative", "indicator"],
                          "code": ["key_work", "qualitative", "key_work"], "item_key": None,
                          "points": [50.0, 16.0, 40.0]})  # fmt: skip
    result = compare(2023, "2024-01-31", before, after, lines, lines.assign(points=[39.0, 16.0, 40.0]))
    s = result.summary
    assert (s["grade_changes"], s["grade_up"], s["grade_down"], s["rank_changes"], s["total_changes"]) == (
        2,
        1,
        1,
        2,
        2,
    )
    assert s["rank_correlation"] == 0.5  # ranks (1, 2, 3) → (2, 1, 3): 1 − 6·2/(3·8)
    assert s["largest_movers"] == ["甲局（排名 -1，总分 -11.00）", "B（排名 +1，总分 +0.50）"]
    assert result.moved_lines[["unit_code", "code", "change"]].values.tolist() == [["A", "key_work", -11.0]]
