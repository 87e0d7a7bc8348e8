"""The quality report of a run: one self-contained HTML page (no external CSS or JS, so it
renders on an intranet without internet), written next to the snapshot it judged."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pandas as pd


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str  # ERROR (blocking) or WARN
    description: str = ""
    failing_rows: int | None = None
    source: str = "dbt"  # dbt | great_expectations | dagster


def outcome_of(evaluation) -> CheckOutcome:
    """A Dagster AssetCheckEvaluation (dbt test, ingestion check or GX suite) as a CheckOutcome."""
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    failing = meta.get("dagster_dbt/failed_row_count", meta.get("unexpected_count"))
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        name=evaluation.check_name,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        description=evaluation.description or "",
        failing_rows=int(failing) if isinstance(failing, int | float) else None,
        source=str(meta.get("source", "dbt" if "dagster_dbt/failed_row_count" in meta else "dagster")),
    )


def blocking_failures(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    return [o for o in outcomes if not o.passed and o.severity == "ERROR"]


def run_check_outcomes(instance, run_id: str) -> list[CheckOutcome]:
    """Every asset-check evaluation of a run so far (dbt tests, ingestion and GX checks)."""
    import dagster as dg

    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    return [outcome_of(record.event_log_entry.dagster_event.event_specific_data) for record in records]


def report_path(publish_dir: str | Path, run_id: str) -> Path:
    return Path(publish_dir) / "runs" / run_id / "docs" / "quality.html"


VERDICT_BLOCKED = "blocked: nothing published"
VERDICT_FAILED = "failed: not published (a step of the run failed, see below)"
VERDICT_PASSED_NOT_PUBLISHED = "passed the gate; not published (the publishing step did not complete)"
VERDICT_PUBLISHED = "passed: published"


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:2rem;color:#1f2328;max-width:1600px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;table-layout:fixed}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;white-space:normal}
th{background:#f6f8fa}.fail{color:#b42318;font-weight:600}.warn{color:#9a6700;font-weight:600}
.pass{color:#1a7f37}.summary{margin:1rem 0;padding:.75rem;border-radius:6px;background:#f6f8fa}
.tech{color:#656d76;font-size:.8rem;display:block}col.status{width:8rem}col.table{width:14%}
col.check{width:30%}col.by{width:7rem}col.rows{width:5rem}details{margin:.5rem 0}
summary{cursor:pointer;font-weight:600}.trends{display:flex;flex-wrap:wrap;gap:1.5rem}
figure.trend{margin:0}figcaption{font-size:.85rem;color:#656d76}svg{background:#f6f8fa}
"""
# What each kind of check is, in the words of the report (dbt tests: their descriptions, see
# dbt_manifest.describe_test; GX suites: the suite's description).
SOURCES = {"dbt": "dbt test", "great_expectations": "Great Expectations", "dagster": "ingestion check"}
LAYERS = [  # the first part of an asset key → the report's section
    ("ingest", "ingestion 装载"),
    ("staging", "staging 清洗"),
    ("snapshots", "register history 历史快照"),
    ("methodology", "methodology seeds 参数"),
    ("reference", "reference data 参考数据"),
    ("intermediate", "intermediate 中间层"),
    ("marts", "published marts 发布表"),
    ("publish", "quality gate 质量闸门"),
]
SHOWN_QUARANTINE_ROWS = 20  # per table on the page; the CSV beside it has them all
HISTORY_FILE = "report_history.jsonl"  # in <publish>/ (not runs/: only run folders there)
TREND_RUNS = 30


def check_titles() -> dict[str, str]:
    """Check name → what it asserts, in plain words: dbt tests from the manifest, GX suites from
    their files (gx_<suite>), the ingestion's own check."""
    from dagster_project.core.dbt_project import dbt_test_descriptions
    from dagster_project.quality.suites import load_suites

    titles = dbt_test_descriptions()
    titles.update({f"gx_{suite['name']}": suite.get("description", "") for suite in load_suites()})
    titles["quarantine_share_within_limit"] = "no table in force has more than 5% of its rows quarantined"
    return titles


class InForce(NamedTuple):
    """What the loads in force hold, for the report; a part is None when it cannot be read now."""

    quarantine: pd.DataFrame | None  # quarantined cells: file, line, column, reason (no values)
    loads: tuple[int, int] | None  # rows read, rows quarantined
    clues: list[tuple[int, str, str, int]] | None = None  # report_clues: year, clue, its label, rows


NOTHING_IN_FORCE = InForce(None, None)


def read_in_force(warehouse: str | Path) -> InForce:
    """The quarantined cells of the loads in force (no values: they may be personal) and their
    rows read and quarantined, and the clues of false results per year and kind (report_clues), over
    one read-only connection; nothing when the warehouse cannot be read now (another writer) or
    holds no raw schema yet."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except (duckdb.Error, OSError):
        return NOTHING_IN_FORCE
    try:
        quarantine = con.execute(
            """
            select q.system || '.' || split_part(q.table_name, '.', -1) as source_table, q.delivery, q.file,
                q.line, q.column_name, q.reason
            from raw.quarantine as q inner join raw.current_loads as c using (load_id)
            order by source_table, q.line, q.column_name
            """
        ).df()
        read, rejected = con.execute(
            "select coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
            "from raw.loads inner join raw.current_loads using (load_id)"
        ).fetchone()
    except duckdb.Error:  # no raw schema yet: nothing was ever loaded
        con.close()
        return NOTHING_IN_FORCE
    try:
        clues = con.execute(
            """
            select c.year, c.clue, coalesce(any_value(d.label_zh), c.clue), count(*)
            from marts.report_clues as c left join marts.dim_clue as d on c.clue = d.code
            group by c.year, c.clue order by c.year, min(d.sort_order), c.clue
            """
        ).fetchall()
    except duckdb.Error:  # not built in this run (dbt failed before it)
        clues = None
    finally:
        con.close()
    return InForce(quarantine, (int(read), int(rejected)), clues)


def record_trend_point(history: Path, point: dict) -> list[dict]:
    """Put this run's point into the history file (its last report wins) and return the last
    TREND_RUNS points, oldest first."""
    points = []
    if history.exists():
        for line in history.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a killed run: skipped, rewritten below
                continue
            if item.get("run_id") != point["run_id"]:
                points.append(item)
    points.append(point)
    staged = history.with_name(f".{history.name}.tmp")
    staged.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in points), encoding="utf-8")
    staged.replace(history)
    return points[-TREND_RUNS:]


def _sparkline(points: list[dict], key: str, label: str, colour: str) -> str:
    """One small inline SVG bar chart (no script, no internet) of `key` over the runs."""
    values = [p.get(key) for p in points]
    known = [v for v in values if isinstance(v, int | float)]
    top = max(known, default=0) or 1
    width, height, bar = 300, 60, 300 / max(len(values), 1)
    bars = []
    for i, (value, p) in enumerate(zip(values, points, strict=True)):
        if not isinstance(value, int | float):
            continue
        h = max(1.0, height * value / top) if value else 1.0
        tip = html.escape(f"{p.get('written_at', '')} · run {p['run_id'][:8]}: {value:,}")
        bars.append(
            f"<rect x='{i * bar:.1f}' y='{height - h:.1f}' width='{max(bar - 1, 1):.1f}' height='{h:.1f}' "
            f"fill='{colour}'><title>{tip}</title></rect>"
        )
    last = f"{known[-1]:,}" if known else "—"
    return (
        f"<figure class=trend><figcaption>{html.escape(label)}: now {last}, max {top:,}</figcaption>"
        f"<svg width='{width}' height='{height}' role='img' aria-label='{html.escape(label)}'>{''.join(bars)}</svg>"
        "</figure>"
    )


def _trend_section(points: list[dict]) -> str:
    if not points:
        return ""
    return (
        f"<h2>trend 趋势 (last {len(points)} runs)</h2><div class=trends>"
        + _sparkline(points, "rows", "rows in force 在用行数", "#0969da")
        + _sparkline(points, "quarantined", "rows quarantined 隔离行数", "#9a6700")
        + _sparkline(points, "failed", "blocking checks failed 阻断失败", "#b42318")
        + "</div>"
    )


def write_report(
    path: Path,
    run_id: str,
    outcomes: list[CheckOutcome],
    verdict: str,
    as_of: str,
    failures: list[str] = (),
    in_force: InForce = NOTHING_IN_FORCE,
    ranking: str = "",
) -> Path:
    """The page; `failures` are the run's failed steps, each 'step: what happened'; `in_force`
    (read_in_force) the quarantined cells, also written beside it as quarantine.csv, and the rows
    read and quarantined, a point of the trend kept in <publish>/report_history.jsonl; `ranking`
    (ranking_notice.notice_html) what the rankings rest on, said first."""
    quarantine, loads, clues = in_force
    path.parent.mkdir(parents=True, exist_ok=True)
    written = datetime.now().astimezone()
    titles = check_titles()
    failed = [o for o in outcomes if not o.passed and o.severity == "ERROR"]
    warned = [o for o in outcomes if not o.passed and o.severity != "ERROR"]
    passed = [o for o in outcomes if o.passed]
    layers: dict[str, list[CheckOutcome]] = {}
    for o in sorted(passed, key=lambda o: (o.asset, o.name)):
        layers.setdefault(o.asset.split("/")[0], []).append(o)
    sections = []
    if failed or warned:
        sections.append("<h2>failed and warned checks 未通过的检查</h2>" + _table([*failed, *warned], titles))
    point = {
        "run_id": run_id,
        "written_at": f"{written:%Y-%m-%d %H:%M %Z}",
        "verdict": verdict,
        "rows": loads[0] if loads else None,
        "quarantined": loads[1] if loads else None,
        "failed": len(failed),
        "warned": len(warned),
    }
    points = record_trend_point(path.parents[3] / HISTORY_FILE, point)  # <publish>/, beside runs/
    known = [key for key, _ in LAYERS]
    for key, label in [*LAYERS, *((k, k) for k in sorted(layers) if k not in known)]:
        if key in layers:
            sections.append(
                f"<details><summary>{html.escape(label)}: {len(layers[key])} checks passed</summary>"
                + _table(layers[key], titles)
                + "</details>"
            )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>kaohe quality report {html.escape(run_id)}</title>
<style>{STYLE}</style></head><body>
<h1>kaohe 质量报告 · quality report</h1>
{ranking}
<div class=summary>run <b>{html.escape(run_id)}</b> · as of {html.escape(as_of)}
· written {written:%Y-%m-%d %H:%M:%S %Z (UTC%z)}<br>
<b>{html.escape(verdict)}</b> — {len(passed)} passed, {len(failed)} failed (blocking), {len(warned)} warnings
{_quarantine_count(quarantine)}{_clue_count(clues)}</div>
{_failures_section(failures)}
{_trend_section(points)}
{"".join(sections)}
{_quarantine_section(quarantine, path.parent / "quarantine.csv")}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def _table(outcomes: list[CheckOutcome], titles: dict[str, str]) -> str:
    rows = []
    for o in outcomes:
        status = "pass" if o.passed else ("fail" if o.severity == "ERROR" else "warn")
        label = {"pass": "passed", "fail": "FAILED (blocking)", "warn": "warning"}[status]
        count = "" if o.failing_rows is None else f"{o.failing_rows:,}"
        title = titles.get(o.name) or o.name
        detail = "" if o.passed and o.source == "dbt" else o.description
        rows.append(
            f"<tr><td class={status}>{label}</td><td>{html.escape(o.asset)}</td>"
            f"<td>{html.escape(title)}<span class=tech>{html.escape(o.name)}</span></td>"
            f"<td>{html.escape(SOURCES.get(o.source, o.source))}</td><td>{count}</td>"
            f"<td>{html.escape(detail)}</td></tr>"
        )
    return (
        "<table><colgroup><col class=status><col class=table><col class=check><col class=by><col class=rows>"
        "<col></colgroup><thead><tr><th>status</th><th>table</th><th>check</th><th>by</th><th>rows</th>"
        f"<th>detail</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _clue_count(clues: list[tuple[int, str, str, int]] | None) -> str:
    """The clues of false results (docs/methodology.md §13) the run found: findings to verify
    offline, not failed checks."""
    if clues is None:
        return ""
    if not clues:
        return "<br>结果失实线索 clues of false results: 0"
    total = sum(n for *_, n in clues)
    kinds = "，".join(f"{year} {html.escape(label)} {n:,}" for year, _, label, n in clues)
    return f"<br>结果失实线索 clues of false results: {total:,}（{kinds}；供线下核实，不是检查失败）"


def _quarantine_count(quarantine: pd.DataFrame | None) -> str:
    if quarantine is None:
        return "<br>quarantine: not readable now (see the run log)"
    return f"<br>quarantine 隔离: {len(quarantine):,} cells of the loads in force"


def _quarantine_section(quarantine: pd.DataFrame | None, csv: Path) -> str:
    if quarantine is None or quarantine.empty:
        return (
            "<h2>quarantine 隔离区</h2><p>no quarantined rows in the loads in force.</p>"
            if quarantine is not None
            else ""
        )
    quarantine.to_csv(csv, index=False, encoding="utf-8-sig")  # utf-8-sig: Excel opens the Chinese right
    parts = [
        f"<h2>quarantine 隔离区</h2><p>{len(quarantine):,} quarantined cells in the loads in force; all of them: "
        f"<a href='{csv.name}'>{csv.name}</a>. Per table, by reason, then the first {SHOWN_QUARANTINE_ROWS} cells.</p>"
    ]
    for table, rows in quarantine.groupby("source_table", sort=True):
        reasons = rows["reason"].value_counts().sort_index()
        parts.append(
            f"<details open><summary>{html.escape(table)}: {len(rows):,} cells — "
            + ", ".join(f"{html.escape(r)} {n:,}" for r, n in reasons.items())
            + "</summary><table><thead><tr><th>file</th><th>line</th><th>column</th><th>reason</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{html.escape(str(r.file))}</td><td>{r.line}</td><td>{html.escape(str(r.column_name))}</td>"
                f"<td>{html.escape(str(r.reason))}</td></tr>"
                for r in rows.head(SHOWN_QUARANTINE_ROWS).itertuples()
            )
            + "</tbody></table></details>"
        )
    return "".join(parts)


def _failures_section(failures: list[str]) -> str:
    if not failures:
        return ""
    items = "".join(f"<li class=fail>{html.escape(f)}</li>" for f in failures)
    return f"<h2>failed steps 失败的步骤</h2><ul>{items}</ul>"
