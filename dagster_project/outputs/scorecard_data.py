"""What a scorecard page shows, as plain data (dicts, lists, strings and numbers) for the template
(templates/scorecard.html.j2): read once per year from the published snapshot (`read_year`), then
one page's data per unit (`page_data`). No HTML here, and no label: codes are labelled from the
label tables, the page's own words come from templates/scorecard_texts.yml.

Sections fed by other marts plug in through `EXTENSIONS`: a reader of the year's rows per unit,
and a template `templates/sections/<name>.html.j2` that shows them (see `Extension`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from dagster_project.ingest.contracts import load_contracts
from dagster_project.outputs.export import column_labels, display_width, published_year, scores_with_region
from dagster_project.outputs.labels import Labels, chinese_name, grade_reason, read_labels, rule_words

SCHEMA = "marts"
TEMPLATES = Path(__file__).parent / "templates"
AUDIENCES = ("unit", "office")
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
# The page's sections in order; an extension's section shows where its name stands here.
SECTION_ORDER = (
    "register_missing",
    "composition",
    "grade_lines",
    "last_year",
    "incidents",
    "certainty",
    "tasks",
    "deductions",
    "negative",
    "staffing",
    "dea",
    "improve",
    "clues",
)


class ScorecardError(Exception):
    """No publication, no published year Y, or no unit U in it."""


@dataclass(frozen=True)
class Extension:
    """A section fed by a mart of its own (the veto and incident causes, grade certainty, DEA, clues).

    `read(con, year)` returns unit_code → the section's plain data (rows as dicts), read once per year
    from the publication; it runs only when every table of `tables` is published, and a unit without
    data has no such section. The template `templates/sections/<name>.html.j2` shows `section` (the
    unit's data) with the page's `t` (words), `L(domain, code)` (labels) and `num` (numbers); its
    words go into scorecard_texts.yml under both languages. `audience = "office"` sections are on
    the office's pages only (`--audience office`)."""

    name: str
    tables: tuple[str, ...]
    read: Callable[[duckdb.DuckDBPyConnection, int], dict[str, Any]]
    audience: str = "unit"


def _read_incidents(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any]:
    """unit_code → its incidents of the year (unit_incidents): the cause of a veto and of each
    incident deduction, with its kind and points."""
    rows = con.execute(
        f"select unit_code, incident_id, kind, points, vetoes, deducted from {SCHEMA}.unit_incidents "
        "where year = ? order by unit_code, vetoes desc, incident_id",
        [year],
    ).fetchall()
    out: dict[str, Any] = {}
    for unit, incident, kind, points, vetoes, deducted in rows:
        out.setdefault(unit, []).append(
            {"id": incident, "kind": kind, "points": points, "vetoes": bool(vetoes), "deducted": bool(deducted)}
        )
    return out


# Registered by the modules that own the marts (see Extension); the incidents are the scorecard's own.
EXTENSIONS: list[Extension] = [Extension("incidents", ("unit_incidents",), _read_incidents)]


@cache
def texts() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((TEMPLATES / "scorecard_texts.yml").read_text(encoding="utf-8"))


@cache
def table_names() -> dict[str, str]:
    """system.table → the contract's Chinese name (年度目标任务), for the source keys."""
    return {name: contract.label for name, contract in load_contracts().items()}


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
    last_year: dict[str, dict[str, Any]] = field(default_factory=dict)  # unit_code → its row of Y−1
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)  # section → unit_code → data

    @cached_property
    def units(self) -> dict[str, dict[str, Any]]:
        """unit_code → its row of unit_scores (with group_name)."""
        return {row["unit_code"]: row for row in self.scores.to_dict("records")}

    @cached_property
    def by_unit(self) -> dict[str, dict[str, list]]:
        """unit_code → its rows (named tuples, in the tables' order) of each detail table: one pass
        over each table, not one filter per unit."""
        tables = {
            "lines": self.lines,
            "tasks": self.tasks,
            "lights": self.lights,
            "negative": self.negative,
            "efficiency": self.efficiency,
            "signals": self.signals,
        }
        out: dict[str, dict[str, list]] = {u: {name: [] for name in tables} for u in self.scores["unit_code"]}
        for name, frame in tables.items():
            for row in frame.itertuples(index=False):
                if row.unit_code in out:
                    out[row.unit_code][name].append(row)
        return out

    @cached_property
    def medians(self) -> dict[tuple[str, str], dict[str, float]]:
        """(group_code, category) → the group's median achievement of each indicator (s_<code>, of the
        units it applies to: achievements compare, points of different maxima do not) and median of
        each efficiency measure."""
        out: dict[tuple[str, str], dict[str, float]] = {}
        achievements = [
            f"s_{i['indicator_code']}" for i in self.indicators if f"s_{i['indicator_code']}" in self.scores
        ]
        for (group, category), rows in self.scores.groupby(["group_code", "category"]):
            out[(group, category)] = {c: float(v) for c, v in rows[achievements].median().items() if pd.notna(v)}
        measures = [m for m, _ in EFFICIENCY_MEASURES]
        groups = self.scores[["unit_code", "group_code", "category"]]
        efficiency = self.efficiency[["unit_code", *measures]].merge(groups, on="unit_code")
        for (group, category), rows in efficiency.groupby(["group_code", "category"]):
            medians = rows[measures].median(skipna=True)
            out.setdefault((group, category), {}).update(
                {f"efficiency.{m}": float(v) for m, v in medians.items() if pd.notna(v)}
            )
        return out

    @cached_property
    def grade1_last(self) -> dict[tuple[str, str], float]:
        """(group_code, category) → the total of the category group's last grade-1 unit."""
        ones = self.scores[self.scores["grade"] == 1]
        return {key: float(rows["total_score"].min()) for key, rows in ones.groupby(["group_code", "category"])}


def _frame(con: duckdb.DuckDBPyConnection, table: str, year: int, order: str) -> pd.DataFrame:
    return con.execute(f"select * from {SCHEMA}.{table} where year = ? order by {order}", [year]).df()


def _published(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_name from duckdb_tables() where schema_name = ?", [SCHEMA]).fetchall()
    return {name for (name,) in rows}


def read_year(publish_dir: Path, year: int) -> YearResults:
    with published_year(publish_dir, year, ScorecardError) as con:
        publication = con.execute(
            f"select run_id, max(published_at) as published_at from {SCHEMA}.publication group by run_id"
        ).df()
        last = con.execute(
            f"select unit_code, total_score, rank_in_category, units_in_category, grade, stage "
            f"from {SCHEMA}.unit_scores where year = ?",
            [year - 1],
        ).df()
        present = _published(con)
        return YearResults(
            year=year,
            scores=scores_with_region(con, year),
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
            quarters=[
                q
                for (q,) in con.execute(
                    f"select quarter from {SCHEMA}.dim_period where year = ? order by 1", [year]
                ).fetchall()
            ],
            efficiency_labels=column_labels(con, "unit_efficiency"),
            publication=publication.iloc[0].to_dict() if len(publication) else {"run_id": "?", "published_at": "?"},
            labels=read_labels(con, SCHEMA),
            last_year={row["unit_code"]: row for row in last.to_dict("records")},
            extensions={x.name: x.read(con, year) for x in EXTENSIONS if set(x.tables) <= present},
        )


# --- numbers as the page shows them ---------------------------------------------------------


def round2(value: float) -> Decimal:
    """docs/methodology.md §11: to 9 decimals, then 2 half away from zero."""
    return Decimal(repr(round(float(value), 9))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def num(value: Any, decimals: int = 2) -> str:
    """A number with thousands separators and a true minus sign, never −0.00; '—' when missing."""
    if not _present(value):
        return "—"
    shown = f"{float(value):,.{decimals}f}"
    if float(shown.replace(",", "")) == 0:
        shown = shown.lstrip("-")
    return shown.replace("-", "−")


def signed(value: Any) -> str:
    text = num(value)
    return text if text.startswith("−") or text in ("0.00", "—") else "+" + text


def pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if _present(value) else "—"


def _present(value: Any) -> bool:
    """Not None, NaN, NA or NaT."""
    return not (value is None or (pd.api.types.is_scalar(value) and pd.isna(value)))


# --- one page -----------------------------------------------------------------------------------


@dataclass
class _Page:
    """What the section builders share while one page is made."""

    results: YearResults
    unit: dict[str, Any]
    frames: dict[str, list]
    lang: str

    @property
    def t(self) -> dict[str, Any]:
        return texts()[self.lang]

    def label(self, domain: str, code: Any) -> Any:
        return self.results.labels.label(domain, code, self.lang)

    @property
    def medians(self) -> dict[str, float]:
        return self.results.medians.get((self.unit["group_code"], self.unit["category"]), {})

    @property
    def year_end(self) -> bool:
        return self.unit["stage"] == "year_end"

    def rule(self, code: str, fallback: str = "") -> str:
        return rule_words(self.results.labels, code, self.lang, self.results.params, fallback)


def page_data(results: YearResults, unit_code: str, lang: str = "zh", audience: str = "unit") -> dict[str, Any]:
    """Everything one unit's page shows, as plain data for templates/scorecard.html.j2."""
    unit = results.units.get(unit_code)
    if unit is None:
        raise ScorecardError(
            f"no published score of {unit_code} for {results.year} ({len(results.units)} units are ranked)"
        )
    page = _Page(results, unit, results.by_unit[unit_code], lang)
    t = page.t
    in_register = isinstance(unit["unit_name"], str)
    name = unit["unit_name"] if in_register else t["not_in_register"]
    body = unit["group_name"] if isinstance(unit["group_name"], str) else unit["group_code"]
    category = page.label("category", unit["category"])
    stage = page.label("stage", unit["stage"])
    as_of = str(unit["as_of"])[:10]  # a date (published as one; pandas reads it as a timestamp)
    grade = int(unit["grade"]) if page.year_end and _present(unit.get("grade")) else None
    params = results.params
    sections = _sections(page, unit_code, audience, in_register, graded=grade is not None)
    return {
        "lang": lang,
        "t": t,
        "year": results.year,
        "unit_code": unit_code,
        "name": name,
        "in_register": in_register,
        "body": body,
        "group_code": unit["group_code"],
        "category": category,
        "stage_code": unit["stage"],
        "stage": stage,
        "as_of": as_of,
        "interim": None if page.year_end else t["interim"].format(stage=stage, as_of=as_of),
        "total": float(unit["total_score"]),
        "grade": grade,
        "grade_label": page.label("grade", grade) if grade is not None else t["no_grade"],
        "grade_reason": grade_reason(
            unit | {"grade": grade}, params.get("grade1_min_total"), params.get("grade3_below_total"), lang
        ),
        "rank": _rank(t, unit, body, category),
        "pdf_header": t["pdf_header"].format(name=name, year=results.year, stage=stage, as_of=as_of),
        "sections": sections,
        "footer": t["footer"].format(
            run_id=results.publication["run_id"],
            published_at=str(results.publication["published_at"])[:19],
            parameter_year=unit["parameter_year"],
            unit_code=unit_code,
        ),
    }


def _sections(page: _Page, unit_code: str, audience: str, in_register: bool, graded: bool) -> list[tuple[str, Any]]:
    """The page's sections in SECTION_ORDER, each (name, data); a section without data is left
    out. Extensions add theirs for their audience."""
    results, t = page.results, page.t
    sections: dict[str, Any] = {
        "register_missing": None if in_register else {"ask": t["register_missing_ask"].format(unit_code=unit_code)},
        "composition": _composition(page),
        "grade_lines": _grade_lines(page) if graded else None,
        "last_year": _last_year(page),
        "tasks": _tasks(page),
        "deductions": _deductions(page),
        "negative": [
            {"kind": r.kind, "label": page.label("kind", r.kind), "key": r.item_key, "detail": r.detail}
            for r in page.frames["negative"]
        ],
        "staffing": _staffing(page),
        "improve": improvements(page),
    }
    for extension in EXTENSIONS:
        if extension.audience in ("unit", audience) and extension.name in results.extensions:
            sections[extension.name] = results.extensions[extension.name].get(unit_code)
    return [(name, sections[name]) for name in SECTION_ORDER if sections.get(name) is not None]


def _rank(t: dict[str, Any], unit: dict[str, Any], body: str, category: str) -> dict[str, Any]:
    """The unit's places: in its category group, how many units it has, and overall."""
    rank, units, overall = int(unit["rank_in_category"]), int(unit["units_in_category"]), int(unit["rank_overall"])
    return {
        "rank": rank,
        "units": units,
        "overall": overall,
        "text": t["rank"].format(body=body, category=category, n=units, rank=rank, overall=overall),
    }


def _composition(page: _Page) -> dict[str, Any]:
    """The rows of the score, each shown to the cent; the rows shown add up to the total shown: when
    the rounded rows do not, a rounding row says by how much (docs/methodology.md §11)."""
    name_key = "name_zh" if page.lang == "zh" else "name_en"
    lines = page.frames["lines"]
    rows, chart = [], []
    for indicator in page.results.indicators:
        code = indicator["indicator_code"]
        line = next((r for r in lines if r.component == "indicator" and r.code == code), None)
        achievement = page.unit.get(f"s_{code}")
        median = page.medians.get(f"s_{code}")
        applicable = line is not None
        chart.append(
            {
                "code": code,
                "label": indicator[name_key],
                "applicable": applicable,
                "achievement": float(achievement) if applicable and _present(achievement) else None,
                "median": median,
            }
        )
        rows.append(
            {
                "code": code,
                "label": indicator[name_key],
                "applicable": applicable,
                "line_no": int(line.line_no) if applicable else None,
                "points": round2(line.points) if applicable else None,
                "raw_points": float(line.points) if applicable else None,
                "max": float(line.max_points) if applicable and _present(line.max_points) else None,
                "achievement": pct(achievement) if applicable and _present(achievement) else "—",
                "median": pct(median),
                "rule": page.rule(code, line.rule if applicable else ""),
            }
        )
    for line in (r for r in lines if r.component in ("qualitative", "bonus", "floor")):
        rows.append(
            {
                "code": line.code,
                "label": page.label("code", line.code),
                "applicable": True,
                "line_no": int(line.line_no),
                "points": round2(line.points),
                "raw_points": float(line.points),
                "max": float(line.max_points) if _present(line.max_points) else None,
                "achievement": "",
                "median": "",
                "rule": page.rule(line.code, line.rule),
            }
        )
    deductions = [round2(r.points) for r in lines if r.component == "deduction"]
    deduction_total = sum(deductions, Decimal(0))
    shown = sum((r["points"] for r in rows if r["points"] is not None), Decimal(0)) + deduction_total
    total = round2(page.unit["total_score"])
    rounding = total - shown
    return {
        "rows": rows,
        "chart": chart,
        "label_width": 16 + 7 * max((display_width(r["label"]) for r in chart), default=10),
        "deductions": deduction_total,
        "raw_deductions": float(sum(r.points for r in lines if r.component == "deduction")),
        "rounding": rounding if rounding else None,
        "total": total,
    }


def _grade_lines(page: _Page) -> dict[str, Any]:
    """How far the total is from the grade lines of this year-end ranking: the category's last grade-1
    place, the grade-1 minimum, the grade-3 line."""
    t, unit, total = page.t, page.unit, float(page.unit["total_score"])
    params = page.results.params

    def distance(line: float | None) -> str:
        if line is None:
            return "—"
        gap = round2(total - line)
        return t["above_by"].format(points=num(gap)) if gap >= 0 else t["below_by"].format(points=num(-gap))

    last = page.results.grade1_last.get((unit["group_code"], unit["category"]))
    rows = [
        {
            "key": "grade1_last",
            "label": t["grade1_last"],
            "value": last,
            "distance": t["already_grade1"]
            if unit["grade"] == 1
            else (distance(last) if last is not None else t["no_grade1"]),
        },
        {
            "key": "grade1_min",
            "label": t["grade1_min"],
            "value": params.get("grade1_min_total"),
            "distance": distance(params.get("grade1_min_total")),
        },
        {
            "key": "grade3_below",
            "label": t["grade3_below"],
            "value": params.get("grade3_below_total"),
            "distance": distance(params.get("grade3_below_total")),
        },
    ]
    return {"rows": rows, "vetoed": t["vetoed_lines"] if unit["vetoed"] else None}


def _last_year(page: _Page) -> dict[str, Any] | None:
    row = page.results.last_year.get(page.unit["unit_code"])
    if row is None:
        return None
    final = row["stage"] == "year_end" and _present(row["grade"])
    grade = page.label("grade", int(row["grade"])) if final else page.label("stage", row["stage"])
    change = round2(float(page.unit["total_score"]) - float(row["total_score"]))
    return {
        "year": page.results.year - 1,
        "total": float(row["total_score"]),
        "text": page.t["last_year_row"].format(
            year=page.results.year - 1,
            total=num(row["total_score"]),
            rank=int(row["rank_in_category"]),
            n=int(row["units_in_category"]),
            grade=grade,
        ),
        "change": page.t["last_year_change"].format(change=signed(change)),
    }


def _tasks(page: _Page) -> dict[str, Any]:
    name_key = "name_zh" if page.lang == "zh" else "name_en"
    indicators = {i["indicator_code"]: i for i in page.results.indicators}
    lights = {(r.task_id, int(r.quarter)): r for r in page.frames["lights"]}
    rows = []
    order = sorted(
        page.frames["tasks"],
        key=lambda task: (indicators.get(task.indicator_code, {}).get("indicator_order", 99), task.task_id),
    )
    for task in order:
        cells = []
        for q in page.results.quarters if task.status == "eligible" else ():
            light = lights.get((task.task_id, q))
            cells.append(
                {"quarter": q, "light": None}
                if light is None
                else {
                    "quarter": q,
                    "light": light.light,
                    "light_label": page.label("light", light.light),
                    "reason": page.label("reason", light.reason),
                }
            )
        indicator = indicators.get(task.indicator_code)
        rows.append(
            {
                "task_id": task.task_id,
                "title": task.title,
                "status": task.status,
                "status_label": page.label("status", task.status),
                "indicator": indicator[name_key] if indicator else page.label("code", task.indicator_code),
                "difficulty": task.difficulty,
                "completion": task.completion,
                "cells": cells,
            }
        )
    return {"rows": rows, "quarters": page.results.quarters}


def _deductions(page: _Page) -> list[dict[str, Any]]:
    return [
        {
            "line_no": int(r.line_no),
            "code": r.code,
            "label": page.label("code", r.code),
            "key": r.item_key,
            "points": round2(r.points),
            "raw_points": float(r.points),
            "capped": round2(r.points) == 0,
            "rule": page.rule(r.code, r.rule),
            "raw_rule": r.rule,
            "sources": source_summary(r.source_keys, page.lang),
        }
        for r in page.frames["lines"]
        if r.component == "deduction"
    ]


def source_summary(text: str | None, lang: str) -> str:
    """The source keys of a line: each table by its Chinese name on the Chinese page, then its keys."""
    keys = json.loads(text or "{}")
    names = {**table_names(), **texts()[lang]["source_names"]} if lang == "zh" else {}
    sep, colon = ("、", "：") if lang == "zh" else (", ", ": ")
    parts = []
    for table, value in keys.items():
        values = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        flat = [", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in values]
        shown = sep.join(flat[:8]) + (f" … (+{len(flat) - 8})" if len(flat) > 8 else "")
        parts.append(f"{names.get(table, table)}{colon}{shown or '—'}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _staffing(page: _Page) -> dict[str, Any] | None:
    if not page.frames["efficiency"]:
        return None
    row = page.frames["efficiency"][0]
    labels = page.results.efficiency_labels
    measures = [
        {
            "measure": column,
            "label": chinese_name(labels.get(column, column)) if page.lang == "zh" else column.replace("_", " "),
            "value": num(getattr(row, column), decimals),
            "median": num(page.medians.get(f"efficiency.{column}"), decimals),
        }
        for column, decimals in EFFICIENCY_MEASURES
    ]
    signals = []
    for s in page.frames["signals"]:
        posts = getattr(s, "suggested_extra_posts", None)
        extra = page.t["suggested_posts"].format(posts=int(posts)) if _present(posts) else ""
        # the mart's detail (the figures behind the signal) is written in Chinese: the English page
        # has the measures above it instead
        said = [s.detail] if page.lang == "zh" and _present(s.detail) and s.detail else []
        detail = page.t["semicolon"].join([*said, *([extra] if extra else [])])
        signals.append({"signal": s.signal, "label": page.label("signal", s.signal), "detail": detail})
    return {"measures": measures, "signals": signals}


def improvements(page: _Page) -> list[dict[str, Any]]:
    """What the unit can act on, ordered by the points each step would gain (its deduction line, or
    an indicator's points short of its maximum), each with the rule it follows."""
    t = page.t
    titles = {task.task_id: task.title for task in page.frames["tasks"]}
    deductions = [line for line in page.frames["lines"] if line.component == "deduction"]
    cost = {(line.code, line.item_key): -round2(line.points) for line in deductions}
    items: list[dict] = []

    def add(kind: str, key: str, line_code: str | None, rule: str, **fields: Any) -> None:
        text = t[f"do_{kind}"].format(**({"key": key, "title": titles.get(key, "")} | fields))
        gain = cost.get((line_code, key), Decimal(0)) if line_code else Decimal(0)
        items.append({"kind": kind, "key": key, "text": text, "gain": gain, "rule": rule})

    for row in page.frames["negative"]:
        if row.kind == "missing_core_duty":
            add(
                "missing_core_duty",
                row.item_key,
                "missing_core_duty",
                page.rule("missing_core_duty"),
                detail=row.detail,
            )
        else:  # 越位 costs no points of its own: the task is not scored
            add("outside_duty", row.item_key, None, t["outside_duty_rule"], detail=row.detail)
    for row in (task for task in page.frames["tasks"] if task.latest_light == "red"):
        add(
            "red",
            row.task_id,
            "red_light",
            page.rule("red_light"),
            reason=page.label("reason", row.latest_light_reason),
        )
    for code in ("not_quantified", "no_quarterly_milestones", "no_division", "false_report", "incident"):
        for row in (line for line in deductions if line.code == code):
            add(code, row.item_key, code, page.rule(code))
    late: dict[str, list[int]] = {}
    for light in page.frames["lights"]:
        if light.reason == "not_reported":
            late.setdefault(light.task_id, []).append(int(light.quarter))
    for task_id, quarters in sorted(late.items()):
        add("late", task_id, None, t["late_rule"], quarters="、".join(str(q) for q in sorted(quarters)))
    for row in _composition_rows(page):
        add("indicator", row["code"], None, row["rule"], title=row["label"], pct=row["achievement"])
        items[-1]["gain"] = row["gain"]
    order = {kind: i for i, kind in enumerate(("indicator", "missing_core_duty", "red", "false_report", "incident"))}
    items.sort(key=lambda i: (-i["gain"], order.get(i["kind"], 9)))
    return items


def _composition_rows(page: _Page) -> list[dict[str, Any]]:
    """The applicable indicators short of their maximum, with the points that would close the gap."""
    out = []
    for row in _composition(page)["rows"]:
        indicator = row["code"] in {i["indicator_code"] for i in page.results.indicators} and row["applicable"]
        if indicator and row["max"] is not None and row["raw_points"] < row["max"] - 0.005:
            out.append({**row, "gain": round2(row["max"] - row["raw_points"])})
    return out
