"""`kaohe scorecard UNIT --year Y` and `kaohe scorecards --year Y --out DIR`: the feedback page the
evaluation office sends to an agency (在线反馈), from the published snapshot.

One self-contained HTML page per unit (Chinese, or English with `--lang en`), printable on A4
(print CSS; a PDF beside it with `--pdf` where headless Chromium is installed): the total, rank
and grade with the reason; a bar chart of the six indicators (points of the maximum, and the
category group's median); the tasks with their light in each quarter; each deduction with its
rule and source keys; the staffing-to-task ratio and efficiency against the group; an
improvement list drawn from the line items.

Charts are inline SVG written here: no script, no web font and no chart library, so the page
shows the same offline, in a mail client's viewer and on paper, and a test can read every
figure back from the HTML (each figure carries its value in a `data-` attribute).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dagster_project.outputs.explain import source_summary
from dagster_project.outputs.export import (
    column_labels,
    display_width,
    published_year,
    scores_with_region,
    write_atomically,
)
from dagster_project.outputs.labels import LANGUAGES, Labels, grade_reason, read_labels, seed_labels

SCHEMA = "marts"
_LABELS = seed_labels()  # the label seeds, until the page reads its publication's label tables
EFFICIENCY_MEASURES = (  # (column of unit_efficiency, decimals shown)
    ("establishment_jan1", 0),
    ("establishment_as_of", 0),
    ("headcount", 0),
    ("establishment_use", 3),
    ("eligible_tasks", 0),
    ("key_tasks", 0),
    ("tasks_per_post", 3),
    ("posts_per_key_task", 3),
    ("score_per_10_posts", 2),
    ("spend_per_point", 0),
    ("workload_saturation", 3),
)
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{year}年度机关单位高质量发展绩效评价 · 反馈单",
        "not_in_register": "（未在实名制系统登记）",
        "body": "考核组别",
        "category": "类别",
        "stage": "阶段",
        "interim": "阶段性结果，截至 {as_of}；年终评价后以最终排名为准。",
        "total": "总分",
        "rank": "在{body}{category}类 {n} 个单位中排第 {rank} 名；在{body}全部单位中排第 {overall} 名",
        "grade": "等次",
        "reason": "理由",
        "composition": "得分构成",
        "chart": "六项指标得分（实心：本单位得分；浅色：满分；竖线：同类别中位数）",
        "indicator": "指标",
        "points": "得分",
        "max": "满分",
        "median": "同类中位数",
        "achievement": "完成度",
        "not_applicable": "不适用（权重已按比例分配给其他指标）",
        "qualitative": "定性评议",
        "bonus": "加分",
        "deductions": "扣分",
        "sum": "合计（四舍五入到分）",
        "tasks": "任务与季度红黄绿灯",
        "no_tasks": "本年度没有纳入计分的任务。",
        "task": "任务",
        "difficulty": "难度",
        "completion": "完成率",
        "quarter": "第{q}季度",
        "no_light": "未到期",
        "deduction_list": "扣分明细",
        "no_deductions": "本年度没有扣分。",
        "item": "对象",
        "rule": "规则",
        "sources": "数据来源",
        "negative": "负面清单",
        "staffing": "编制与投入产出",
        "measure": "指标",
        "unit_value": "本单位",
        "signals": "编制管理信号",
        "improve": "改进建议",
        "nothing_to_improve": "没有需要整改的事项。",
        "footer": "数据：发布批次 {run_id}（{published_at}）· 评价方法 {parameter_year} 年版 · "
        "统一社会信用代码 {unit_code}",
        "index_title": "{year}年度绩效评价反馈单",
        "rank_in_category": "类别排名",
        "units": "单位",
        "do_missing_core_duty": "为核心职责 {key} 安排年度任务：{detail}",
        "do_outside_duty": "任务 {key} 超出本单位三定职责，请调整或移交：{detail}",
        "do_red": "任务 {key}「{title}」最新为红灯（{reason}），请制定赶进度措施",
        "do_not_quantified": "为任务 {key}「{title}」设定可量化的目标",
        "do_no_quarterly_milestones": "为任务 {key}「{title}」设定季度节点",
        "do_no_division": "为任务 {key}「{title}」明确责任处室",
        "do_false_report": "任务 {key}「{title}」报送结果失实，请核实更正",
        "do_late": "任务 {key}「{title}」第 {quarters} 季度进度未按时报送",
        "do_incident": "落实通报事项 {key} 的整改",
        "costs": "扣 {points} 分",
    },
    "en": {
        "title": "Performance evaluation {year} · feedback to the unit",
        "not_in_register": "(not in the staffing register)",
        "body": "Evaluating body",
        "category": "Category",
        "stage": "Stage",
        "interim": "Interim result as of {as_of}; the year-end evaluation gives the final ranking.",
        "total": "Total",
        "rank": "rank {rank} of {n} units of the {category} category in {body}; "
        "rank {overall} among all units of {body}",
        "grade": "Grade",
        "reason": "Why",
        "composition": "How the score is made",
        "chart": "The six indicators (solid: the unit's points; light: the maximum; line: the category median)",
        "indicator": "Indicator",
        "points": "Points",
        "max": "Maximum",
        "median": "Category median",
        "achievement": "Achievement",
        "not_applicable": "not applicable (its weight went to the other indicators)",
        "qualitative": "Qualitative review",
        "bonus": "Bonus",
        "deductions": "Deductions",
        "sum": "Total (rounded to the cent)",
        "tasks": "Tasks and their quarterly lights",
        "no_tasks": "No scored task this year.",
        "task": "Task",
        "difficulty": "Difficulty",
        "completion": "Completion",
        "quarter": "Q{q}",
        "no_light": "not due",
        "deduction_list": "Deductions, line by line",
        "no_deductions": "No deduction this year.",
        "item": "Item",
        "rule": "Rule",
        "sources": "Source keys",
        "negative": "Negative list",
        "staffing": "Staffing and input–output",
        "measure": "Measure",
        "unit_value": "This unit",
        "signals": "Staffing signals",
        "improve": "What to improve",
        "nothing_to_improve": "Nothing to improve on the record.",
        "footer": "Data: publication {run_id} ({published_at}) · methodology of {parameter_year} · "
        "unit code {unit_code}",
        "index_title": "Feedback pages {year}",
        "rank_in_category": "Rank in category",
        "units": "Units",
        "do_missing_core_duty": "Plan a task of the year for core duty {key}: {detail}",
        "do_outside_duty": "Task {key} lies outside the unit's statutory duties: adjust or hand it over ({detail})",
        "do_red": "Task {key} “{title}” is red ({reason}): plan how to catch up",
        "do_not_quantified": "Give task {key} “{title}” a measurable target",
        "do_no_quarterly_milestones": "Give task {key} “{title}” quarterly milestones",
        "do_no_division": "Name the division responsible for task {key} “{title}”",
        "do_false_report": "Task {key} “{title}” reported false progress: check and correct the reports",
        "do_late": "Task {key} “{title}”: progress of quarter {quarters} not reported on time",
        "do_incident": "Act on incident {key}",
        "costs": "costs {points}",
    },
}
STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
 margin:24px auto;max-width:980px;color:#1f2328;line-height:1.45;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:22px 0 8px;border-bottom:2px solid #d0d7de}
.meta{color:#57606a} .headline{display:flex;gap:28px;align-items:center;margin:14px 0;flex-wrap:wrap}
.total{font-size:40px;font-weight:700} .grade{font-size:20px;font-weight:700;padding:4px 14px;border-radius:6px}
.g1{background:#dafbe1;color:#116329} .g2{background:#fff8c5;color:#7d4e00} .g3{background:#ffebe9;color:#a40e26}
.interim{background:#ddf4ff;padding:6px 10px;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:6px 0} th,td{border:1px solid #d0d7de;padding:4px 6px;
 vertical-align:top;text-align:left;overflow-wrap:anywhere} th{background:#f6f8fa;white-space:nowrap}
td.num{text-align:right;white-space:nowrap} td.key{white-space:nowrap} .keys{font-size:12px;color:#57606a}
td.light{text-align:center;width:76px;font-size:12px} .green{background:#2da44e;color:#fff}
.yellow{background:#d4a72c;color:#1f2328} .red{background:#cf222e;color:#fff} .none{color:#8c959f}
ol.improve li{margin:3px 0} .costs{color:#a40e26;white-space:nowrap}
section{break-inside:avoid-page} footer{margin-top:24px;font-size:12px;color:#57606a}
@page{size:A4;margin:14mm 12mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:11pt} h2{break-after:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact} tr{break-inside:avoid}}
"""


class ScorecardError(Exception):
    """No publication, no published year Y, or no unit U in it."""


@dataclass(frozen=True)
class YearResults:
    """Everything a year's scorecards show, read once from the published snapshot."""

    year: int
    scores: pd.DataFrame  # unit_scores + group_name
    lines: pd.DataFrame
    tasks: pd.DataFrame
    lights: pd.DataFrame
    negative: pd.DataFrame
    efficiency: pd.DataFrame
    signals: pd.DataFrame
    indicators: list[dict]
    params: dict[str, float]
    quarters: list[int]
    efficiency_labels: dict[str, str]
    publication: dict[str, Any]
    labels: Labels

    @cached_property
    def units(self) -> dict[str, dict[str, Any]]:
        """unit_code → its row of unit_scores (with group_name)."""
        return {row["unit_code"]: row for row in self.scores.to_dict("records")}

    @cached_property
    def by_unit(self) -> dict[str, dict[str, list]]:
        """unit_code → its rows (named tuples, in the tables' order) of each detail table: one pass
        over each table, not one filter per unit."""
        tables = {
            "lines": self.lines, "tasks": self.tasks, "lights": self.lights, "negative": self.negative,
            "efficiency": self.efficiency, "signals": self.signals,
        }  # fmt: skip
        out: dict[str, dict[str, list]] = {u: {name: [] for name in tables} for u in self.scores["unit_code"]}
        for name, frame in tables.items():
            for row in frame.itertuples(index=False):
                if row.unit_code in out:
                    out[row.unit_code][name].append(row)
        return out

    @cached_property
    def medians(self) -> dict[tuple[str, str], dict[str, float]]:
        """(group_code, category) → the group's median points per line code (indicator lines and the
        qualitative line) and median of each efficiency measure: what each unit is shown against."""
        groups = self.scores[["unit_code", "group_code", "category"]]
        lines = self.lines[self.lines["component"].isin(["indicator", "qualitative"])].merge(groups, on="unit_code")
        out: dict[tuple[str, str], dict[str, float]] = {}
        for (group, category, code), points in lines.groupby(["group_code", "category", "code"])["points"]:
            out.setdefault((group, category), {})[code] = float(points.median())
        measures = [m for m, _ in EFFICIENCY_MEASURES]
        efficiency = self.efficiency[["unit_code", *measures]].merge(groups, on="unit_code")
        for (group, category), rows in efficiency.groupby(["group_code", "category"]):
            medians = rows[measures].median(skipna=True)
            out.setdefault((group, category), {}).update(
                {f"efficiency.{m}": float(v) for m, v in medians.items() if pd.notna(v)}
            )
        return out


def _frame(con: duckdb.DuckDBPyConnection, table: str, year: int, order: str) -> pd.DataFrame:
    return con.execute(f"select * from {SCHEMA}.{table} where year = ? order by {order}", [year]).df()


def _quarters(con: duckdb.DuckDBPyConnection, year: int) -> list[int]:
    rows = con.execute(f"select quarter from {SCHEMA}.dim_period where year = ? order by 1", [year]).fetchall()
    return [quarter for (quarter,) in rows]


def read_year(publish_dir: Path, year: int) -> YearResults:
    with published_year(publish_dir, year, ScorecardError) as con:
        scores = scores_with_region(con, year)
        publication = con.execute(
            f"select run_id, max(published_at) as published_at from {SCHEMA}.publication group by run_id"
        ).df()
        return YearResults(
            year=year,
            scores=scores,
            lines=_frame(con, "score_line_items", year, "unit_code, line_no"),
            tasks=_frame(con, "task_scores", year, "unit_code, indicator_code, task_id"),
            lights=_frame(con, "task_lights", year, "unit_code, task_id, quarter"),
            negative=_frame(con, "negative_list", year, "unit_code, kind, item_key"),
            efficiency=_frame(con, "unit_efficiency", year, "unit_code"),
            signals=_frame(con, "staffing_signals", year, "unit_code, signal"),
            indicators=_frame(con, "dim_indicator", year, "indicator_order").to_dict("records"),
            params=dict(
                con.execute(f"select parameter, value from {SCHEMA}.dim_methodology where year = ?", [year]).fetchall()
            ),
            quarters=_quarters(con, year),
            efficiency_labels=column_labels(con, "unit_efficiency"),
            publication=publication.iloc[0].to_dict() if len(publication) else {"run_id": "?", "published_at": "?"},
            labels=read_labels(con, SCHEMA),
        )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, decimals: int = 2) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.{decimals}f}".replace("-", "−")


def indicator_chart(rows: list[dict], lang: str) -> str:
    """Horizontal bars, one per indicator: the maximum (light), the points (solid) and a tick at the
    group median; a not-applicable indicator is a labelled empty row."""
    t = TEXT[lang]
    label_w = 16 + 7 * max(display_width(r["label"]) for r in rows)
    bar_w, row_h, value_w = 520, 30, 110
    # one scale for the bars and the medians: a group median can exceed this unit's maximum (the
    # maxima differ between units when indicators are not applicable and weights are redistributed)
    scale = bar_w / max([r[k] or 0 for r in rows for k in ("max", "points", "median")] + [1e-9])
    parts = []
    for i, r in enumerate(rows):
        y = 8 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(r["label"])}</text>')
        if r["points"] is None:
            parts.append(f'<text x="{label_w}" y="{y + 15}" fill="#8c959f">{_e(t["not_applicable"])}</text>')
            continue
        if r["max"] is not None:  # null in lines of a final ranking kept from before the column existed
            parts.append(
                f'<rect class="max" x="{label_w}" y="{y}" width="{r["max"] * scale:.1f}" height="20" '
                f'fill="#d0d7de" data-max="{r["max"]:.6f}"/>'
            )
        parts.append(
            f'<rect class="points" x="{label_w}" y="{y + 4}" width="{max(r["points"], 0) * scale:.1f}" height="12" '
            f'fill="#0969da" data-code="{_e(r["code"])}" data-points="{r["points"]:.6f}"/>'
        )
        if r["median"] is not None:
            mx = label_w + r["median"] * scale
            parts.append(
                f'<line class="median" x1="{mx:.1f}" x2="{mx:.1f}" y1="{y - 2}" y2="{y + 22}" stroke="#cf222e" '
                f'stroke-width="2" data-median="{r["median"]:.6f}"/>'
            )
        parts.append(f'<text x="{label_w + bar_w + 10}" y="{y + 15}">{_num(r["points"])} / {_num(r["max"])}</text>')
    height = 16 + len(rows) * row_h
    width = label_w + bar_w + value_w
    return (
        f'<svg class="indicator-chart" role="img" aria-label="{_e(t["chart"])}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" font-size="13" xmlns="http://www.w3.org/2000/svg">'
        + "".join(parts)
        + "</svg>"
    )


def improvements(frames: dict[str, list], lang: str) -> list[dict]:
    """What the unit can act on, from its negative list, line items, tasks and lights: missing core
    duties, tasks outside its duties, red tasks, unquantified tasks, tasks without milestones or a
    division, false and late reports, incidents. Each item names the points its line cost."""
    t = TEXT[lang]
    titles = {task.task_id: task.title for task in frames["tasks"]}
    deductions = [line for line in frames["lines"] if line.component == "deduction"]
    cost = {(line.code, line.item_key): -line.points for line in deductions}
    items: list[dict] = []

    def add(kind: str, key: str, line_code: str | None, **fields: Any) -> None:
        text = t[f"do_{kind}"].format(key=key, title=titles.get(key, ""), **fields)
        items.append({"kind": kind, "key": key, "text": text, "cost": cost.get((line_code, key))})

    for row in frames["negative"]:
        if row.kind == "missing_core_duty":
            add("missing_core_duty", row.item_key, "missing_core_duty", detail=row.detail)
        else:  # 越位 costs no points of its own: the task is not scored
            add("outside_duty", row.item_key, None, detail=row.detail)
    for row in (task for task in frames["tasks"] if task.latest_light == "red"):
        add("red", row.task_id, "red_light", reason=_LABELS.label("reason", row.latest_light_reason, lang))
    for code in ("not_quantified", "no_quarterly_milestones", "no_division", "false_report", "incident"):
        for row in (line for line in deductions if line.code == code):
            add(code, row.item_key, code)
    late: dict[str, list[int]] = {}
    for light in frames["lights"]:
        if light.reason == "not_reported":
            late.setdefault(light.task_id, []).append(int(light.quarter))
    for task_id, quarters in sorted(late.items()):
        add("late", task_id, None, quarters="、".join(str(q) for q in sorted(quarters)))
    return items


def render(results: YearResults, unit_code: str, lang: str = "zh") -> str:
    """The scorecard page of one unit of the year."""
    _check_lang(lang)
    unit = results.units.get(unit_code)
    if unit is None:
        raise ScorecardError(
            f"no published score of {unit_code} for {results.year} ({len(results.units)} units are ranked)"
        )
    t = TEXT[lang]
    frames = results.by_unit[unit_code]
    medians = results.medians.get((unit["group_code"], unit["category"]), {})
    name = unit["unit_name"] if isinstance(unit["unit_name"], str) else t["not_in_register"]
    body = unit["group_name"] if isinstance(unit["group_name"], str) else unit["group_code"]
    category = _LABELS.label("category", unit["category"], lang)
    grade = int(unit["grade"])
    reason = grade_reason(unit, results.params.get("grade1_min_total"), results.params.get("grade3_below_total"), lang)
    sections = [
        _composition(results, unit, frames["lines"], medians, lang),
        _tasks(results, frames, lang),
        _deductions(frames["lines"], lang),
        _negative(frames["negative"], lang),
        _staffing(results, frames, medians, lang),
        _improvements(improvements(frames, lang), lang),
    ]
    as_of = str(unit["as_of"])[:10]  # a date (published as one; pandas reads it as a timestamp)
    interim = f'<p class="interim">{_e(t["interim"].format(as_of=as_of))}</p>' if unit["stage"] != "year_end" else ""
    rank = t["rank"].format(
        body=body, category=category, n=int(unit["units_in_category"]), rank=int(unit["rank_in_category"]),
        overall=int(unit["rank_overall"]),
    )  # fmt: skip
    footer = t["footer"].format(
        run_id=results.publication["run_id"], published_at=str(results.publication["published_at"])[:19],
        parameter_year=unit["parameter_year"], unit_code=unit_code,
    )  # fmt: skip
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{_e(name)} · {_e(t["title"].format(year=results.year))}</title>
<style>{STYLE}</style></head><body data-unit="{_e(unit_code)}" data-year="{results.year}">
<header><h1>{_e(t["title"].format(year=results.year))}</h1>
<div class="meta"><b id="unit-name">{_e(name)}</b> · {_e(t["body"])}: {_e(body)} ({_e(unit["group_code"])}) ·
{_e(t["category"])}: {_e(category)} · {_e(t["stage"])}: {_e(_LABELS.label("stage", unit["stage"], lang))}
({_e(as_of)})</div>
{interim}
<div class="headline"><div><div class="meta">{_e(t["total"])}</div>
<div class="total" id="total" data-total="{float(unit["total_score"]):.2f}">{_num(unit["total_score"])}</div></div>
<div><span class="grade g{grade}" id="grade" data-grade="{grade}">{_e(_LABELS.label("grade", grade, lang))}</span></div>
<div><div id="rank" data-rank="{int(unit["rank_in_category"])}" data-units="{int(unit["units_in_category"])}"
data-rank-overall="{int(unit["rank_overall"])}">{_e(rank)}</div>
<div id="grade-reason">{_e(t["reason"])}: {_e(reason)}</div></div></div></header>
{"".join(sections)}
<footer>{_e(footer)}</footer>
</body></html>
"""


def _composition(results: YearResults, unit: dict, lines: list, medians: dict[str, float], lang: str) -> str:
    t = TEXT[lang]
    name_key = "name_zh" if lang == "zh" else "name_en"
    chart_rows, table_rows = [], []
    for indicator in results.indicators:
        code = indicator["indicator_code"]
        line = next((r for r in lines if r.component == "indicator" and r.code == code), None)
        median = medians.get(code)
        points = None if line is None else float(line.points)
        maximum = None if line is None or pd.isna(line.max_points) else float(line.max_points)
        achievement = unit.get(f"s_{code}")
        chart_rows.append(
            {"code": code, "label": indicator[name_key], "points": points, "max": maximum, "median": median}
        )
        line_no = "" if line is None else int(line.line_no)
        table_rows.append(
            f'<tr class="line" data-line="{line_no}" data-code="{_e(code)}"><td>{_e(indicator[name_key])}</td>'
            f'<td class="num">{_num(achievement, 4)}</td><td class="num">{_num(points)}</td>'
            f'<td class="num">{_num(maximum)}</td><td class="num">{_num(median)}</td></tr>'
            if points is not None
            else f'<tr data-code="{_e(code)}"><td>{_e(indicator[name_key])}</td>'
            f'<td colspan="4">{_e(t["not_applicable"])}</td></tr>'
        )
    for line in (r for r in lines if r.component in ("qualitative", "bonus", "floor")):
        median = medians.get(line.code) if line.component == "qualitative" else None
        table_rows.append(
            f'<tr class="line" data-line="{line.line_no}" data-code="{_e(line.code)}">'
            f'<td>{_e(_LABELS.label("code", line.code, lang))}</td><td class="num"></td>'
            f'<td class="num">{_num(line.points)}</td><td class="num">{_num(line.max_points)}</td>'
            f'<td class="num">{_num(median)}</td></tr>'
        )
    deductions = sum(r.points for r in lines if r.component == "deduction")
    table_rows.append(
        f'<tr id="deduction-total" data-points="{deductions:.6f}"><td>{_e(t["deductions"])}</td><td></td>'
        f'<td class="num">{_num(deductions)}</td><td></td><td></td></tr>'
        f'<tr><th>{_e(t["sum"])}</th><th></th><th class="num">{_num(unit["total_score"])}</th><th></th><th></th></tr>'
    )
    head = "".join(f"<th>{_e(t[k])}</th>" for k in ("indicator", "achievement", "points", "max", "median"))
    return (
        f'<section id="composition"><h2>{_e(t["composition"])}</h2>'
        f'<p class="meta">{_e(t["chart"])}</p>{indicator_chart(chart_rows, lang)}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(table_rows)}</tbody></table></section>"
    )


def _tasks(results: YearResults, frames: dict[str, list], lang: str) -> str:
    t = TEXT[lang]
    tasks = frames["tasks"]
    if not tasks:
        return f'<section id="tasks"><h2>{_e(t["tasks"])}</h2><p>{_e(t["no_tasks"])}</p></section>'
    lights = {(r.task_id, int(r.quarter)): r for r in frames["lights"]}
    name_key = "name_zh" if lang == "zh" else "name_en"
    indicator_names = {i["indicator_code"]: i[name_key] for i in results.indicators}
    order = {i["indicator_code"]: i["indicator_order"] for i in results.indicators}
    rows = []
    for task in sorted(tasks, key=lambda task: (order.get(task.indicator_code, 99), task.task_id)):
        cells = []
        if task.status != "eligible":  # not scored: no lights to show
            cells.append(
                f'<td colspan="{len(results.quarters)}" class="none" data-status="{_e(task.status)}">'
                f"{_e(_LABELS.label('status', task.status, lang))}</td>"
            )
        for q in results.quarters if task.status == "eligible" else ():
            light = lights.get((task.task_id, q))
            if light is None:
                cells.append(f'<td class="light none" data-quarter="{q}">{_e(t["no_light"])}</td>')
            else:
                reason = _LABELS.label("reason", light.reason, lang)
                cells.append(
                    f'<td class="light {_e(light.light)}" data-task="{_e(task.task_id)}" data-quarter="{q}" '
                    f'data-light="{_e(light.light)}" '
                    f'title="{_e(reason)}">{_e(_LABELS.label("light", light.light, lang))}<br>{_e(reason)}</td>'
                )
        rows.append(
            f'<tr class="task" data-task="{_e(task.task_id)}"><td>{_e(task.task_id)}<br>'
            f"<span class=keys>{_e(indicator_names.get(task.indicator_code, task.indicator_code))}</span></td>"
            f'<td>{_e(task.title)}</td><td class="num">{_num(task.difficulty, 1)}</td>'
            f'<td class="num">{_num(100 * task.completion, 0)}%</td>{"".join(cells)}</tr>'
        )
    quarters = "".join(f"<th>{_e(t['quarter'].format(q=q))}</th>" for q in results.quarters)
    return (
        f'<section id="tasks"><h2>{_e(t["tasks"])}</h2><table><thead><tr><th>{_e(t["task"])}</th><th></th>'
        f"<th>{_e(t['difficulty'])}</th><th>{_e(t['completion'])}</th>{quarters}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _deductions(lines: list, lang: str) -> str:
    t = TEXT[lang]
    deductions = [r for r in lines if r.component == "deduction"]
    if not deductions:
        return f'<section id="deductions"><h2>{_e(t["deduction_list"])}</h2><p>{_e(t["no_deductions"])}</p></section>'
    rows = "".join(
        f'<tr class="deduction" data-line="{r.line_no}" data-code="{_e(r.code)}" data-points="{r.points:.6f}">'
        f'<td>{_e(_LABELS.label("code", r.code, lang))}</td><td class="key">{_e(r.item_key)}</td>'
        f'<td class="num">{_num(r.points)}</td>'
        f'<td>{_e(r.rule)}</td><td class="keys">{_e(source_summary(r.source_keys))}</td></tr>'
        for r in deductions
    )
    head = "".join(f"<th>{_e(t[k])}</th>" for k in ("deductions", "item", "points", "rule", "sources"))
    return (
        f'<section id="deductions"><h2>{_e(t["deduction_list"])}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _negative(negative: list, lang: str) -> str:
    if not negative:
        return ""
    t = TEXT[lang]
    rows = "".join(
        f'<tr class="negative" data-kind="{_e(r.kind)}"><td>{_e(_LABELS.label("kind", r.kind, lang))}</td>'
        f"<td>{_e(r.item_key)}</td><td>{_e(r.detail)}</td></tr>"
        for r in negative
    )
    return f'<section id="negative"><h2>{_e(t["negative"])}</h2><table><tbody>{rows}</tbody></table></section>'


def _staffing(results: YearResults, frames: dict[str, list], medians: dict[str, float], lang: str) -> str:
    t = TEXT[lang]
    if not frames["efficiency"]:
        return ""
    row = frames["efficiency"][0]
    rows = []
    for column, decimals in EFFICIENCY_MEASURES:
        name = results.efficiency_labels.get(column, column) if lang == "zh" else column.replace("_", " ")
        rows.append(
            f'<tr class="measure" data-measure="{column}"><td>{_e(name)}</td>'
            f'<td class="num">{_num(getattr(row, column), decimals)}</td>'
            f'<td class="num">{_num(medians.get(f"efficiency.{column}"), decimals)}</td></tr>'
        )
    signals = "".join(
        f'<li data-signal="{_e(s.signal)}"><b>{_e(_LABELS.label("signal", s.signal, lang))}</b>: {_e(s.detail)}</li>'
        for s in frames["signals"]
    )
    head = "".join(f"<th>{_e(t[k])}</th>" for k in ("measure", "unit_value", "median"))
    return (
        f'<section id="staffing"><h2>{_e(t["staffing"])}</h2><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + (f"<h3>{_e(t['signals'])}</h3><ul>{signals}</ul>" if signals else "")
        + "</section>"
    )


def _improvements(items: list[dict], lang: str) -> str:
    t = TEXT[lang]
    if not items:
        return f'<section id="improve"><h2>{_e(t["improve"])}</h2><p>{_e(t["nothing_to_improve"])}</p></section>'
    rows = "".join(
        f'<li data-kind="{_e(i["kind"])}" data-key="{_e(i["key"])}">{_e(i["text"])}'
        + (f' <span class="costs">({_e(t["costs"].format(points=_num(i["cost"])))})</span>' if i["cost"] else "")
        + "</li>"
        for i in items
    )
    return f'<section id="improve"><h2>{_e(t["improve"])}</h2><ol class="improve">{rows}</ol></section>'


def render_index(results: YearResults, lang: str = "zh") -> str:
    """The list of a year's scorecards, by evaluating body and category, in rank order."""
    t = TEXT[lang]
    rows = []
    for unit in results.scores.itertuples():
        name = unit.unit_name if isinstance(unit.unit_name, str) else t["not_in_register"]
        body = unit.group_name if isinstance(unit.group_name, str) else unit.group_code
        rows.append(
            f'<tr data-unit="{_e(unit.unit_code)}"><td>{_e(body)}</td>'
            f"<td>{_e(_LABELS.label('category', unit.category, lang))}</td>"
            f'<td class="num">{unit.rank_in_category}</td><td><a href="{_e(unit.unit_code)}.html">{_e(name)}</a></td>'
            f'<td class="num">{_num(unit.total_score)}</td><td>{_e(_LABELS.label("grade", unit.grade, lang))}</td></tr>'
        )
    columns = ("body", "category", "rank_in_category", "units", "total", "grade")
    head = "".join(f"<th>{_e(t[c])}</th>" for c in columns)
    title = t["index_title"].format(year=results.year)
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></body></html>
"""


def _write(path: Path, text: str) -> None:
    write_atomically(path, lambda staged: staged.write_text(text, encoding="utf-8"), ScorecardError)


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ScorecardError(f"--lang {lang}: choose one of {', '.join(LANGUAGES)}")


def _check_html_name(out: Path) -> None:
    if out.is_dir():
        raise ScorecardError(f"--out {out} is a folder; give the page's file name, e.g. {out / 'scorecard.html'}")
    if out.suffix.lower() != ".html":
        raise ScorecardError(f"--out {out}: the scorecard is an HTML page; give a name ending in .html")


def _pdf(pages: Iterable[Path]) -> list[Path]:
    from dagster_project.outputs.browser import BrowserError, print_pdf

    try:
        return [print_pdf(page, page.with_suffix(".pdf")) for page in pages]
    except BrowserError as exc:
        raise ScorecardError(f"--pdf: {exc}") from None


def write_scorecard(
    publish_dir: Path, unit_code: str, year: int, out: Path, lang: str = "zh", pdf: bool = False
) -> list[Path]:
    """One unit's page (and its PDF); the files written."""
    _check_lang(lang)
    _check_html_name(out)
    _write(out, render(read_year(publish_dir, year), unit_code, lang))
    return [out, *(_pdf([out]) if pdf else [])]


def write_scorecards(publish_dir: Path, year: int, out_dir: Path, lang: str = "zh", pdf: bool = False) -> int:
    """Every ranked unit's page in `out_dir` as <unit_code>.html, and index.html; the pages written."""
    _check_lang(lang)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScorecardError(f"--out {out_dir} is a file; give a folder for the pages")
    results = read_year(publish_dir, year)
    pages = []
    for unit_code in results.scores["unit_code"]:
        page = out_dir / f"{unit_code}.html"
        _write(page, render(results, unit_code, lang))
        pages.append(page)
    _write(out_dir / "index.html", render_index(results, lang))
    if pdf:
        _pdf(pages)
    return len(pages)
