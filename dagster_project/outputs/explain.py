"""`kaohe explain UNIT --year Y`: one unit's score, line by line, from the published snapshot.

For an auditor: each indicator's achievement and points with the tasks behind it, the
qualitative line, bonus and deductions with reasons and source keys, then rank and grade and
why (tie-breaks used, grade rules with the year's parameters). In Chinese by default (codes by
their labels from the label tables, rules in words), in English with `--lang en` (codes as
published); the words are in templates/explain_texts.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml
from rich.console import Console
from rich.table import Table

from dagster_project.outputs.export import column_labels
from dagster_project.outputs.labels import LANGUAGES, Labels, chinese_name, grade_reason, read_labels, rule_words
from dagster_project.outputs.scorecard_data import TEMPLATES, source_summary
from dagster_project.quality.ranking_notice import STATUS_ZH


class ExplainError(Exception):
    """The snapshot or the unit cannot be found."""


@cache
def texts() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((TEMPLATES / "explain_texts.yml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Words:
    """The output's language: its words, and a code's label (the code itself in English)."""

    lang: str
    labels: Labels
    params: dict[str, float]

    @property
    def t(self) -> dict[str, Any]:
        return texts()[self.lang]

    def label(self, domain: str, code: Any) -> str:
        if code is None:
            return ""
        return str(self.labels.label(domain, code, "zh") if self.lang == "zh" else code)

    def rule(self, code: str, published: str) -> str:
        """A line's rule: in words with the year's numbers in Chinese, as published in English."""
        return rule_words(self.labels, code, "zh", self.params, published) if self.lang == "zh" else published


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute("select 1 from duckdb_tables() where schema_name = 'marts' and table_name = ?", [table]).fetchall()
    )


def explain(publish_dir: Path, unit_code: str, year: int, console: Console, lang: str = "zh") -> None:
    if lang not in LANGUAGES:
        raise ExplainError(f"--lang {lang}: choose one of {', '.join(LANGUAGES)}")
    snapshot = publish_dir / "kaohe.duckdb"
    if not snapshot.exists():
        raise ExplainError(f"no published snapshot at {snapshot}; run `kaohe run` first (or pass --publish DIR)")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        _explain(con, unit_code, year, console, lang)
    finally:
        con.close()


def _explain(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console, lang: str) -> None:
    unit = _unit(con, unit_code, year)
    params = {
        r["parameter"]: r["value"]
        for r in _rows(con, "select parameter, value from marts.dim_methodology where year = ?", [year])
    }
    w = _Words(lang, read_labels(con), params)
    t = w.t
    group = _group(con, unit, w)
    console.print(
        t["header"].format(
            name=unit["unit_name"] or t["not_in_register"], unit_code=unit_code, year=year, group=group,
            category=w.label("category", unit["category"]), stage=w.label("stage", unit["stage"]),
            as_of=unit["as_of"], parameter_year=unit["parameter_year"],
        )
    )  # fmt: skip
    console.print(t["establishment"].format(establishment=unit["establishment"], required=unit["required_key_tasks"]))
    _data_issues(con, unit, console, w)
    lines = _rows(
        con,
        "select * from marts.score_line_items where unit_code = ? and year = ? order by line_no",
        [unit_code, year],
    )
    _indicators(con, unit, lines, console, w)
    _tasks(con, unit_code, year, console, w)
    _other_lines(lines, console, w)
    total_lines = sum(line["points"] for line in lines)
    console.print(
        t["total"].format(
            base=unit["base_score"], bonus=unit["bonus"], deductions=unit["deductions"], total=unit["total_score"],
            lines=f"{total_lines:.6f}",
        )
    )  # fmt: skip
    _incidents(con, unit_code, year, console, w)
    _rank_and_grade(con, unit, group, console, w)
    _efficiency(con, unit_code, year, console, w)


def _group(con: duckdb.DuckDBPyConnection, unit: dict, w: _Words) -> str:
    """The evaluating body: in Chinese its region's name with the code (dim_region), in English the code."""
    found = (
        _has_table(con, "dim_region")
        and con.execute(
            "select region_name from marts.dim_region where region_code = ?", [unit["group_code"]]
        ).fetchall()
    )
    if w.lang == "zh" and found:
        return f"{found[0][0]}（{unit['group_code']}）"
    return str(unit["group_code"])


def _data_issues(con: duckdb.DuckDBPyConnection, unit: dict, console: Console, w: _Words) -> None:
    """What the ranking rests on (docs/methodology.md §9): its status, and the unit's data issues."""
    status = unit.get("ranking_status")
    if status is None:  # a publication from before the flags
        return
    t = w.t
    complete = t["data_complete"] if unit["data_complete"] else t["data_incomplete"]
    console.print(
        t["ranking"].format(status=STATUS_ZH.get(status, status) if w.lang == "zh" else status, complete=complete)
    )
    if not _has_table(con, "unit_data_issues"):
        return
    for issue in _rows(
        con,
        "select * from marts.unit_data_issues where unit_code = ? and year = ? order by issue_no",
        [unit["unit_code"], unit["year"]],
    ):
        reasons = t["list_sep"].join(w.label("rejection", r) for r in str(issue["reason"]).split("+"))
        # detail is in Chinese; detail_en (absent from publications before it) in English
        detail = issue["detail"] if w.lang == "zh" else issue.get("detail_en", issue["detail"])
        console.print(
            t["issue"].format(
                issue=w.label("issue", issue["issue"]), table=issue["source_table"], line=issue["line"],
                delivery=issue["delivery"], reason=reasons, detail=detail,
            ),
            markup=False,
        )  # fmt: skip


def _vetoes(con: duckdb.DuckDBPyConnection, unit_code: str, year: int) -> list[str]:
    if not _has_table(con, "unit_incidents"):
        return []
    return [
        r["incident_id"]
        for r in _rows(
            con,
            "select incident_id from marts.unit_incidents where unit_code = ? and year = ? and vetoes order by 1",
            [unit_code, year],
        )
    ]


def _incidents(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console, w: _Words) -> None:
    """The incidents behind a veto or an incident deduction, by id (never the source's note)."""
    if not _has_table(con, "unit_incidents"):
        return
    incidents = _rows(
        con,
        "select * from marts.unit_incidents where unit_code = ? and year = ? order by incident_id",
        [unit_code, year],
    )
    t = w.t
    for incident in incidents:
        effect = t["incident_veto"] if incident["vetoes"] else t["incident_points"].format(points=incident["points"])
        kind = w.label("incident_kind", incident["kind"])
        console.print(t["incident"].format(id=incident["incident_id"], kind=kind, effect=effect))


def _unit(con: duckdb.DuckDBPyConnection, unit_code: str, year: int) -> dict:
    found = _rows(con, "select * from marts.unit_scores where unit_code = ? and year = ?", [unit_code, year])
    if not found:
        years = [r[0] for r in con.execute("select distinct year from marts.unit_scores order by 1").fetchall()]
        known = con.execute("select count(*) from marts.unit_scores where unit_code = ?", [unit_code]).fetchall()[0][0]
        hint = f"evaluated years: {years}" if known else "the unit is not on any published roster"
        raise ExplainError(f"no published score of {unit_code} for {year} ({hint})")
    return found[0]


def _table(title: str, columns: list[str], right: set[int]) -> Table:
    table = Table(title=title, show_edge=False)
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i in right else "left")
    return table


def _indicators(con: duckdb.DuckDBPyConnection, unit: dict, lines: list[dict], console: Console, w: _Words) -> None:
    indicators = {
        r["indicator_code"]: r
        for r in _rows(con, "select * from marts.dim_indicator where year = ? order by indicator_order", [unit["year"]])
    }
    t = w.t
    table = _table(t["indicators"], t["indicator_columns"], {1, 2, 3})
    by_code = {line["code"]: line for line in lines if line["component"] == "indicator"}
    for code, meta in indicators.items():
        achievement = unit.get(f"s_{code}")
        line = by_code.get(code)
        table.add_row(
            meta["name_zh"] if w.lang == "zh" else f"{meta['name_zh']} {code}",
            f"{meta['weight']:g}",
            t["not_applicable"] if achievement is None else f"{achievement:.4f}",
            "—" if line is None else f"{line['points']:.4f}",
            t["redistributed"] if line is None else w.rule(code, line["rule"]),
        )
    console.print(table)


def _tasks(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console, w: _Words) -> None:
    tasks = _rows(
        con,
        "select * from marts.task_scores where unit_code = ? and year = ? order by indicator_code, task_id",
        [unit_code, year],
    )
    if not tasks:
        return
    t = w.t
    table = _table(t["tasks"], t["task_columns"], set())
    for task in tasks:
        light = w.label("light", task["latest_light"]) if task["latest_light"] else ""
        if task["latest_light_reason"] and light:
            reason = w.label("reason", task["latest_light_reason"])
            light += f"（{reason}）" if w.lang == "zh" else f" ({reason})"
        table.add_row(
            task["task_id"],
            w.label("code", task["indicator_code"]),
            w.label("status", task["status"]) + (t["false_report"] if task["false_report"] else ""),
            f"{task['difficulty']:g}",
            f"{task['completion']:.2f}",
            light,
            task["title"],
        )
    console.print(table)


def _other_lines(lines: list[dict], console: Console, w: _Words) -> None:
    t = w.t
    table = _table(t["lines"], t["line_columns"], {0, 3})
    for line in lines:
        if line["component"] == "indicator":
            continue
        table.add_row(
            str(line["line_no"]),
            w.label("code", line["code"]),
            line["item_key"] or "",
            f"{line['points']:+.4f}",
            w.rule(line["code"], line["rule"]),
            source_summary(line["source_keys"], w.lang),
        )
    console.print(table)


def _rank_and_grade(con: duckdb.DuckDBPyConnection, unit: dict, group: str, console: Console, w: _Words) -> None:
    peers = _rows(
        con,
        "select unit_code, total_score, s_key_work, establishment, rank_in_category, grade, vetoed "
        "from marts.unit_scores where year = ? and group_code = ? and category = ? order by rank_in_category",
        [unit["year"], unit["group_code"], unit["category"]],
    )
    n = len(peers)
    t = w.t
    console.print(
        t["rank"].format(
            rank=unit["rank_in_category"], n=n, group=group, category=w.label("category", unit["category"]),
            overall=unit["rank_overall"],
        )
    )  # fmt: skip
    for peer in peers:
        if peer["unit_code"] == unit["unit_code"] or peer["total_score"] != unit["total_score"]:
            continue
        if peer["s_key_work"] != unit["s_key_work"]:
            rule = t["tie_key_work"].format(mine=f"{unit['s_key_work']:.6f}", theirs=f"{peer['s_key_work']:.6f}")
        elif peer["establishment"] != unit["establishment"]:
            rule = t["tie_establishment"].format(mine=unit["establishment"], theirs=peer["establishment"])
        else:
            rule = t["tie_code"]
        side = t["tie_ahead"] if unit["rank_in_category"] < peer["rank_in_category"] else t["tie_behind"]
        console.print(t["tie"].format(peer=peer["unit_code"], total=unit["total_score"], side=side, rule=rule))
    params = w.params
    share, top, low = params.get("grade1_share"), params.get("grade1_min_total"), params.get("grade3_below_total")
    places_of = (share, n) if share is not None else None
    why = grade_reason(unit, top, low, lang=w.lang, places_of=places_of)
    grade = t["no_grade"] if unit["grade"] is None else w.label("grade", unit["grade"])
    if unit["vetoed"] and unit["grade"] is not None:
        why += t["veto_incidents"].format(ids=t["list_sep"].join(_vetoes(con, unit["unit_code"], unit["year"])))
    console.print(t["grade"].format(grade=grade, why=why))


def _efficiency(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console, w: _Words) -> None:
    t = w.t
    if _has_table(con, "unit_efficiency"):
        rows = _rows(con, "select * from marts.unit_efficiency where unit_code = ? and year = ?", [unit_code, year])
        if rows:
            names = column_labels(con, "unit_efficiency") if w.lang == "zh" else {}
            table = _table(t["efficiency"], t["efficiency_columns"], {1})
            for key, value in rows[0].items():
                if key in ("year", "unit_code"):
                    continue
                shown = "—" if value is None else (f"{value:,.4f}" if isinstance(value, float) else str(value))
                table.add_row(chinese_name(names[key], key) if key in names else key, shown)
            console.print(table)
    if _has_table(con, "staffing_signals"):
        for signal in _rows(
            con,
            "select * from marts.staffing_signals where unit_code = ? and year = ? order by signal",
            [unit_code, year],
        ):
            posts = signal.get("suggested_extra_posts")
            extra = t["signal_posts"].format(posts=posts) if posts else ""
            console.print(
                t["signal"].format(signal=w.label("signal", signal["signal"]), extra=extra, detail=signal["detail"])
            )
