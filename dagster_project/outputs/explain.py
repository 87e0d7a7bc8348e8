"""`kaohe explain UNIT --year Y`: one unit's score, line by line, from the published snapshot.

For an auditor: each indicator's achievement and points with the tasks behind it, the
qualitative line, bonus and deductions with reasons and source keys, then rank and grade and
why (tie-breaks used, grade rules with the year's parameters).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from dagster_project.outputs.labels import grade_reason


class ExplainError(Exception):
    """The snapshot or the unit cannot be found."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute("select 1 from duckdb_tables() where schema_name = 'marts' and table_name = ?", [table]).fetchall()
    )


def source_summary(text: str) -> str:
    keys = json.loads(text or "{}")
    parts = []
    for table, value in keys.items():
        if isinstance(value, list):
            shown = ", ".join(map(str, value[:8])) + (f" … (+{len(value) - 8})" if len(value) > 8 else "")
            parts.append(f"{table}: {shown}" if value else f"{table}: (none)")
        else:
            parts.append(f"{table}: {json.dumps(value, ensure_ascii=False)}")
    return "; ".join(parts)


def explain(publish_dir: Path, unit_code: str, year: int, console: Console) -> None:
    snapshot = publish_dir / "kaohe.duckdb"
    if not snapshot.exists():
        raise ExplainError(f"no published snapshot at {snapshot}; run `kaohe run` first (or pass --publish DIR)")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        _explain(con, unit_code, year, console)
    finally:
        con.close()


def _explain(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console) -> None:
    unit = _unit(con, unit_code, year)
    params = {
        r["parameter"]: r["value"]
        for r in _rows(con, "select parameter, value from marts.dim_methodology where year = ?", [year])
    }
    console.print(
        f"[bold]{unit['unit_name'] or '(not in the register)'}[/bold] {unit_code} · {year} · "
        f"group {unit['group_code']} · {unit['category']} · stage [bold]{unit['stage']}[/bold] "
        f"(as of {unit['as_of']}) · methodology of {unit['parameter_year']}"
    )
    console.print(
        f"establishment E_u on 1 January = {unit['establishment']} → required key tasks N_u = "
        f"{unit['required_key_tasks']}"
    )
    _data_issues(con, unit, console)
    lines = _rows(
        con,
        "select * from marts.score_line_items where unit_code = ? and year = ? order by line_no",
        [unit_code, year],
    )
    _indicators(con, unit, lines, console)
    _tasks(con, unit_code, year, console)
    _other_lines(lines, console)
    total_lines = sum(line["points"] for line in lines)
    console.print(
        f"base {unit['base_score']} + bonus {unit['bonus']} − deductions {unit['deductions']} → "
        f"[bold]total {unit['total_score']}[/bold] (sum of lines {total_lines:.6f})"
    )
    _incidents(con, unit_code, year, console)
    _rank_and_grade(con, unit, params, console)
    _efficiency(con, unit_code, year, console)


def _data_issues(con: duckdb.DuckDBPyConnection, unit: dict, console: Console) -> None:
    """What the ranking rests on (docs/methodology.md §9): its status, and the unit's data issues."""
    status = unit.get("ranking_status")
    if status is None:  # a publication from before the flags
        return
    complete = "complete 数据完整" if unit["data_complete"] else "[bold]incomplete 数据不完整[/bold]"
    console.print(f"ranking {status} · data {complete}")
    if not _has_table(con, "unit_data_issues"):
        return
    for issue in _rows(
        con,
        "select * from marts.unit_data_issues where unit_code = ? and year = ? order by issue_no",
        [unit["unit_code"], unit["year"]],
    ):
        console.print(
            f"  {issue['issue']}: {issue['source_table']} line {issue['line']} (delivery {issue['delivery']}) "
            f"{issue['reason']} — {issue['detail']}",
            markup=False,
        )


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


def _incidents(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console) -> None:
    """The incidents behind a veto or an incident deduction, by id (never the source's note)."""
    if not _has_table(con, "unit_incidents"):
        return
    incidents = _rows(
        con,
        "select * from marts.unit_incidents where unit_code = ? and year = ? order by incident_id",
        [unit_code, year],
    )
    for incident in incidents:
        effect = "veto 一票否决 → grade 3 at year end" if incident["vetoes"] else f"deducts {incident['points']}"
        console.print(f"incident {incident['incident_id']} ({incident['kind']}): {effect}")


def _unit(con: duckdb.DuckDBPyConnection, unit_code: str, year: int) -> dict:
    found = _rows(con, "select * from marts.unit_scores where unit_code = ? and year = ?", [unit_code, year])
    if not found:
        years = [r[0] for r in con.execute("select distinct year from marts.unit_scores order by 1").fetchall()]
        known = con.execute("select count(*) from marts.unit_scores where unit_code = ?", [unit_code]).fetchall()[0][0]
        hint = f"evaluated years: {years}" if known else "the unit is not on any published roster"
        raise ExplainError(f"no published score of {unit_code} for {year} ({hint})")
    return found[0]


def _indicators(con: duckdb.DuckDBPyConnection, unit: dict, lines: list[dict], console: Console) -> None:
    indicators = {
        r["indicator_code"]: r
        for r in _rows(con, "select * from marts.dim_indicator where year = ? order by indicator_order", [unit["year"]])
    }
    table = Table(title="indicators (指标)", show_edge=False)
    for column in ("indicator", "weight", "achievement", "points", "rule"):
        table.add_column(column, justify="right" if column in ("weight", "achievement", "points") else "left")
    by_code = {line["code"]: line for line in lines if line["component"] == "indicator"}
    for code, meta in indicators.items():
        achievement = unit.get(f"s_{code}")
        line = by_code.get(code)
        table.add_row(
            f"{meta['name_zh']} {code}",
            f"{meta['weight']:g}",
            "n/a" if achievement is None else f"{achievement:.4f}",
            "—" if line is None else f"{line['points']:.4f}",
            "not applicable: weight redistributed" if line is None else line["rule"],
        )
    console.print(table)


def _tasks(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console) -> None:
    tasks = _rows(
        con,
        "select * from marts.task_scores where unit_code = ? and year = ? order by indicator_code, task_id",
        [unit_code, year],
    )
    if not tasks:
        return
    table = Table(title="tasks (任务)", show_edge=False)
    for column in ("task", "indicator", "status", "d", "completion", "light", "title"):
        table.add_column(column)
    for task in tasks:
        light = task["latest_light"] or ""
        if task["latest_light_reason"] and light:
            light += f" ({task['latest_light_reason']})"
        table.add_row(
            task["task_id"],
            task["indicator_code"],
            task["status"] + (" · false report" if task["false_report"] else ""),
            f"{task['difficulty']:g}",
            f"{task['completion']:.2f}",
            light,
            task["title"],
        )
    console.print(table)


def _other_lines(lines: list[dict], console: Console) -> None:
    table = Table(title="qualitative, bonus, deductions (定性、加分、扣分)", show_edge=False)
    for column in ("line", "code", "item", "points", "rule", "source keys"):
        table.add_column(column, justify="right" if column in ("line", "points") else "left")
    for line in lines:
        if line["component"] == "indicator":
            continue
        table.add_row(
            str(line["line_no"]),
            line["code"],
            line["item_key"] or "",
            f"{line['points']:+.4f}",
            line["rule"],
            source_summary(line["source_keys"]),
        )
    console.print(table)


def _rank_and_grade(con: duckdb.DuckDBPyConnection, unit: dict, params: dict, console: Console) -> None:
    peers = _rows(
        con,
        "select unit_code, total_score, s_key_work, establishment, rank_in_category, grade, vetoed "
        "from marts.unit_scores where year = ? and group_code = ? and category = ? order by rank_in_category",
        [unit["year"], unit["group_code"], unit["category"]],
    )
    n = len(peers)
    console.print(
        f"rank {unit['rank_in_category']} of {n} in ({unit['group_code']}, {unit['category']}); "
        f"rank {unit['rank_overall']} in group {unit['group_code']}"
    )
    for peer in peers:
        if peer["unit_code"] == unit["unit_code"] or peer["total_score"] != unit["total_score"]:
            continue
        if peer["s_key_work"] != unit["s_key_work"]:
            rule = f"key-work achievement {unit['s_key_work']:.6f} vs {peer['s_key_work']:.6f}"
        elif peer["establishment"] != unit["establishment"]:
            rule = f"establishment {unit['establishment']} vs {peer['establishment']} (the leaner unit first)"
        else:
            rule = "unit code order"
        side = "ahead of" if unit["rank_in_category"] < peer["rank_in_category"] else "behind"
        console.print(f"  tie on {unit['total_score']} with {peer['unit_code']}: {side} it by {rule}")
    share, top, low = params.get("grade1_share"), params.get("grade1_min_total"), params.get("grade3_below_total")
    places_of = (share, n) if share is not None else None
    why = grade_reason(unit, top, low, lang="en", places_of=places_of)
    grade = unit["grade"] if unit["grade"] is not None else "none"
    if unit["vetoed"] and unit["grade"] is not None:
        why += f" (incident {', '.join(_vetoes(con, unit['unit_code'], unit['year']))})"
    console.print(f"[bold]grade {grade}[/bold]: {why}")


def _efficiency(con: duckdb.DuckDBPyConnection, unit_code: str, year: int, console: Console) -> None:
    if _has_table(con, "unit_efficiency"):
        rows = _rows(con, "select * from marts.unit_efficiency where unit_code = ? and year = ?", [unit_code, year])
        if rows:
            table = Table(title="input–output efficiency (投入产出)", show_edge=False)
            table.add_column("measure")
            table.add_column("value", justify="right")
            for key, value in rows[0].items():
                if key in ("year", "unit_code"):
                    continue
                shown = "—" if value is None else (f"{value:,.4f}" if isinstance(value, float) else str(value))
                table.add_row(key, shown)
            console.print(table)
    if _has_table(con, "staffing_signals"):
        for signal in _rows(
            con,
            "select * from marts.staffing_signals where unit_code = ? and year = ? order by signal",
            [unit_code, year],
        ):
            extra = f" (+{signal['suggested_extra_posts']} posts)" if signal.get("suggested_extra_posts") else ""
            console.print(f"signal [bold]{signal['signal']}[/bold]{extra}: {signal['detail']}")
