"""What the office calls the published codes, in Chinese and English, for the workbook (`export.py`),
the scorecards (`scorecard.py`) and the reports: the label tables (`transform/labels.py`: the
`dim_*` tables, which are the label seeds), and the reason of a grade in words.

Column labels are not here: they are the published columns' descriptions (the dbt YAML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_project.core.check_words import chinese_name
from dagster_project.transform.labels import LANGUAGES, Labels, read_labels, seed_labels

__all__ = ["LANGUAGES", "Labels", "chinese_name", "grade_reason", "read_labels", "rule_words", "seed_labels"]


def grade_reason(
    row: Mapping[str, Any],
    grade1_min: float | None,
    grade3_below: float | None,
    lang: str = "zh",
    places_of: tuple[float, int] | None = None,
) -> str:
    """Why a unit has its grade (docs/methodology.md §9), in the office's words: the veto, the grade-3 line,
    or the grade-1 places of the category (`grade1_slots`, null in rankings older than the column).
    `places_of` (the grade-1 share and the category's number of units) adds how the places were counted,
    for an auditor (kaohe explain). The one place that words a grade's reason: explain, the workbook
    and the scorecards all call it with the published row."""
    slots = row.get("grade1_slots")
    known = slots is not None and slots == slots  # not NaN
    zh = lang == "zh"
    count = f"{int(slots)}" if known else ""
    counted = ""  # how the places were counted, in Chinese after the reason
    if places_of is not None:
        share, n = places_of
        if zh:
            counted = f"（一等名额 = {share:g} × {n}，向下取整）"
        else:
            count = f"{count} = floor({share:g}·{n})" if known else f"floor({share:g}·{n})"
    places = (f"{count}个" if zh else f" ({count})") if count else ""
    grade = row.get("grade")
    if grade is None or grade != grade:  # an interim ranking: grades are a year-end result (§9)
        return "阶段性排名，不评定等次" if zh else "interim ranking: no grade"
    if row["vetoed"]:
        return "一票否决，定为三等" if zh else "a veto incident puts the unit in grade 3"
    if row["grade"] == 3:
        if grade3_below is None:
            return "总分低于三等线" if zh else "total below the grade-3 line"
        return f"总分低于{grade3_below:g}分" if zh else f"total below {grade3_below:g}"
    if row["grade"] == 1:
        return f"类别内{places}一等名额之内{counted}" if zh else f"within the category's grade-1 places{places}"
    if grade1_min is not None and row["total_score"] >= grade1_min:
        if zh:
            return f"达到{grade1_min:g}分，但类别内{places}一等名额已由排名靠前的单位占用{counted}"
        return f"total ≥ {grade1_min:g}, but the category's grade-1 places{places} went to higher ranks"
    if grade1_min is None:
        return ""
    return f"总分低于一等线{grade1_min:g}分" if zh else f"total below the grade-1 line {grade1_min:g}"


def rule_words(labels: Labels, code: str, lang: str, params: Mapping[str, float], fallback: str = "") -> str:
    """A score line's rule in words with the year's numbers (dim_score_line's rule_zh / rule_en, filled
    from dim_methodology: `deduction_points_each:<code>`, `deduction_cap:<code>` and the parameters);
    `fallback` (the published rule string) where the label table has none or a number is missing."""
    numbers = {
        **params,
        "points_each": params.get(f"deduction_points_each:{code}"),
        "cap": params.get(f"deduction_cap:{code}"),
    }
    words = labels.rule(code, lang, numbers)
    return fallback if words is None or "{" in words else words
