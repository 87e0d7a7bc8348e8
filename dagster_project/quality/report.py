"""The quality report of a run: one self-contained HTML page (no external CSS or JS, so it
renders on an intranet without internet), written next to the snapshot it judged."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


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
margin:2rem;color:#1f2328}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.fail{color:#b42318;font-weight:600}.warn{color:#9a6700;font-weight:600}
.pass{color:#1a7f37}.summary{margin:1rem 0;padding:.75rem;border-radius:6px;background:#f6f8fa}
"""


def write_report(
    path: Path, run_id: str, outcomes: list[CheckOutcome], verdict: str, as_of: str, failures: list[str] = ()
) -> Path:
    """The page; `failures` are the run's failed steps, each 'step: what happened'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    failed = [o for o in outcomes if not o.passed and o.severity == "ERROR"]
    warned = [o for o in outcomes if not o.passed and o.severity != "ERROR"]
    ordered = sorted(outcomes, key=lambda o: (o.passed, o.severity != "ERROR", o.asset, o.name))
    rows = []
    for o in ordered:
        status = "pass" if o.passed else ("fail" if o.severity == "ERROR" else "warn")
        label = {"pass": "passed", "fail": "FAILED (blocking)", "warn": "warning"}[status]
        count = "" if o.failing_rows is None else f"{o.failing_rows:,}"
        rows.append(
            f"<tr><td class={status}>{label}</td><td>{html.escape(o.asset)}</td><td>{html.escape(o.name)}</td>"
            f"<td>{html.escape(o.source)}</td><td>{count}</td><td>{html.escape(o.description)}</td></tr>"
        )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>kaohe quality report {html.escape(run_id)}</title>
<style>{STYLE}</style></head><body>
<h1>kaohe 质量报告 · quality report</h1>
<div class=summary>run <b>{html.escape(run_id)}</b> · as of {html.escape(as_of)}
· written {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z (UTC%z)}<br>
<b>{html.escape(verdict)}</b> — {len(outcomes) - len(failed) - len(warned)} passed, {len(failed)} failed (blocking),
{len(warned)} warnings</div>
{_failures_section(failures)}
<table><thead><tr><th>status</th><th>table</th><th>check</th><th>by</th><th>rows</th><th>detail</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def _failures_section(failures: list[str]) -> str:
    if not failures:
        return ""
    items = "".join(f"<li class=fail>{html.escape(f)}</li>" for f in failures)
    return f"<h2>failed steps</h2><ul>{items}</ul>"
