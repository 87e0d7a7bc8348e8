"""What the office calls the published codes, in Chinese and English: one place for the workbook
(`export.py`) and the agency scorecard (`scorecard.py`).

Column labels are not here: they are the published columns' descriptions (the dbt YAML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("zh", "en")

VALUE_LABELS: dict[str, dict[str, dict[Any, str]]] = {  # column name → language → code → label
    "grade": {"zh": {1: "一等", 2: "二等", 3: "三等"}, "en": {1: "grade 1", 2: "grade 2", 3: "grade 3"}},
    "category": {
        "zh": {"economic": "服务经济", "social": "社会民生", "support": "综合保障"},
        "en": {"economic": "economic services", "social": "social services", "support": "general support"},
    },
    "stage": {
        "zh": {
            "target_setting": "目标设定",
            "monitoring": "过程监测",
            "q4_monitoring": "四季度监测",
            "year_end": "年终评价",
        },
        "en": {
            "target_setting": "target setting",
            "monitoring": "monitoring",
            "q4_monitoring": "Q4 monitoring",
            "year_end": "year-end evaluation",
        },
    },
    "light": {
        "zh": {"green": "绿灯", "yellow": "黄灯", "red": "红灯"},
        "en": {"green": "green", "yellow": "yellow", "red": "red"},
    },
    "reason": {  # of a light (docs/methodology.md §8)
        "zh": {
            "on_schedule": "按计划推进",
            "behind_schedule": "进度滞后",
            "far_behind_schedule": "严重滞后",
            "false_report": "虚报",
            "not_reported": "未按时报送",
        },
        "en": {
            "on_schedule": "on schedule",
            "behind_schedule": "behind schedule",
            "far_behind_schedule": "far behind schedule",
            "false_report": "false report",
            "not_reported": "not reported on time",
        },
    },
    "status": {  # of a task (§2, §3)
        "zh": {"eligible": "纳入计分", "outside_statutory_duty": "越位剔除，不计分", "not_approved": "未审核，不计分"},
        "en": {
            "eligible": "scored",
            "outside_statutory_duty": "outside statutory duties: not scored",
            "not_approved": "not approved: not scored",
        },
    },
    "kind": {  # negative list (§2)
        "zh": {"outside_statutory_duty": "越位", "missing_core_duty": "缺位"},
        "en": {"outside_statutory_duty": "outside statutory duties", "missing_core_duty": "core duty not covered"},
    },
    "signal": {  # staffing signals (§10)
        "zh": {
            "favour": "优先保障",
            "increase_candidate": "增编候选",
            "review_candidate": "核减评估候选",
            "compliance": "合规整改",
        },
        "en": {
            "favour": "favour",
            "increase_candidate": "candidate for more posts",
            "review_candidate": "candidate for a staffing review",
            "compliance": "compliance",
        },
    },
    "code": {  # of a score line (§6–§7); the Chinese reason names are methodology_deductions.csv's name_zh
        "zh": {
            "qualitative": "定性评议",
            "voluntary_reduction": "主动精简编制",
            "missing_core_duty": "缺位（核心职责无任务）",
            "not_quantified": "任务未量化",
            "no_quarterly_milestones": "缺少季度节点",
            "no_division": "未落实责任处室",
            "red_light": "红灯任务",
            "false_report": "结果失实",
            "incident": "通报批评/问责",
            "floor_at_zero": "总分不低于零",
        },
        "en": {
            "qualitative": "Qualitative review",
            "voluntary_reduction": "Voluntary establishment cut",
            "missing_core_duty": "Core duty without a task",
            "not_quantified": "Task not quantified",
            "no_quarterly_milestones": "No quarterly milestones",
            "no_division": "No responsible division",
            "red_light": "Red-light task",
            "false_report": "False progress report",
            "incident": "Criticism or accountability",
            "floor_at_zero": "Total floored at zero",
        },
    },
}


def label(column: str, value: Any, lang: str = "zh") -> Any:
    """The label of `value` in `column` (the value itself when there is none)."""
    return VALUE_LABELS.get(column, {}).get(lang, {}).get(value, value)


def grade_reason(row: Mapping[str, Any], grade1_min: float | None, grade3_below: float | None, lang: str = "zh") -> str:
    """Why a unit has its grade (docs/methodology.md §9), in the office's words: the veto, the grade-3 line,
    or the grade-1 places of the category (`grade1_slots`, null in rankings older than the column)."""
    slots = row.get("grade1_slots")
    known = slots is not None and slots == slots  # not NaN
    zh = lang == "zh"
    places = (f"{int(slots)}个" if zh else f" ({int(slots)})") if known else ""
    if row["vetoed"]:
        return "一票否决，定为三等" if zh else "a veto incident puts the unit in grade 3"
    if row["grade"] == 3:
        if grade3_below is None:
            return "总分低于三等线" if zh else "total below the grade-3 line"
        return f"总分低于{grade3_below:g}分" if zh else f"total below {grade3_below:g}"
    if row["grade"] == 1:
        return f"类别内{places}一等名额之内" if zh else f"within the category's grade-1 places{places}"
    if grade1_min is not None and row["total_score"] >= grade1_min:
        if zh:
            return f"达到{grade1_min:g}分，但类别内{places}一等名额已由排名靠前的单位占用"
        return f"total ≥ {grade1_min:g}, but the category's grade-1 places{places} went to higher ranks"
    if grade1_min is None:
        return ""
    return f"总分低于一等线{grade1_min:g}分" if zh else f"total below the grade-1 line {grade1_min:g}"
