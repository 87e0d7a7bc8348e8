"""The gate and the publication as Dagster assets: the gate collects every check of the run
and writes the quality report; publishing confirms that no blocking check failed (dbt tests
that are asset checks do not stop Python assets by themselves, dagster issue 25112) and then
switches the published snapshot."""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from dagster_project.publish import publish
from dagster_project.quality.report import CheckOutcome, write_report
from dagster_project.resources import KaoheSettings

GROUP = "publish"
GATE_KEY = dg.AssetKey(["publish", "quality_gate"])
SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])


def run_check_outcomes(context: AssetExecutionContext) -> list[CheckOutcome]:
    """Every asset-check evaluation of this run so far (dbt tests, ingestion and GX checks)."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    outcomes = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        meta = {k: v.value for k, v in evaluation.metadata.items()}
        failing = meta.get("dagster_dbt/failed_row_count", meta.get("unexpected_count", meta.get("failing_rows")))
        outcomes.append(
            CheckOutcome(
                asset=evaluation.asset_key.to_user_string(),
                name=evaluation.check_name,
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                description=evaluation.description or "",
                failing_rows=int(failing) if isinstance(failing, int | float) else None,
                source=str(meta.get("source", "dbt" if "dagster_dbt/failed_row_count" in meta else "dagster")),
            )
        )
    return outcomes


def blocking_failures(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    return [o for o in outcomes if not o.passed and o.severity == "ERROR"]


def describe(failures: list[CheckOutcome]) -> str:
    return "; ".join(
        f"{f.asset} · {f.name}" + (f" ({f.failing_rows:,} rows)" if f.failing_rows is not None else "")
        for f in failures
    )


def make_publish_assets(mart_keys: list[dg.AssetKey], gate_checks: list[dg.AssetChecksDefinition]):
    check_keys = [key for checks in gate_checks for key in checks.check_keys]

    @dg.asset(
        key=GATE_KEY,
        group_name=GROUP,
        deps=mart_keys,
        description="Collects every check of the run and writes the quality report (docs/quality.html).",
        kinds={"python"},
    )
    def quality_gate(context: AssetExecutionContext, kaohe: KaoheSettings) -> dg.MaterializeResult:
        outcomes = run_check_outcomes(context)
        failures = blocking_failures(outcomes)
        verdict = "blocked: nothing published" if failures else "passed: published"
        report = write_report(
            Path(kaohe.publish_dir) / "runs" / context.run_id / "docs" / "quality.html",
            context.run_id,
            outcomes,
            verdict,
            kaohe.evaluation_date().isoformat(),
        )
        return dg.MaterializeResult(
            metadata={
                "checks": len(outcomes),
                "blocking_failures": len(failures),
                "report": dg.MetadataValue.path(str(report)),
            }
        )

    @dg.asset(
        key=SNAPSHOT_KEY,
        group_name=GROUP,
        deps=[GATE_KEY],
        description="The published snapshot <publish>/current: DuckDB (storage v1.0.0) and Parquet, "
        "switched atomically, only when every blocking check of the run passed.",
        kinds={"duckdb", "parquet"},
    )
    def published_snapshot(context: AssetExecutionContext, kaohe: KaoheSettings) -> dg.MaterializeResult:
        failures = blocking_failures(run_check_outcomes(context))
        if failures:
            raise dg.Failure(
                description=f"quality gate failed, the last good snapshot stays published: {describe(failures)}",
                allow_retries=False,
            )
        with kaohe.write():  # the working warehouse is read while no one writes it
            result = publish(
                Path(kaohe.warehouse),
                Path(kaohe.publish_dir),
                context.run_id,
                reopen_year=kaohe.reopen_year,
                reason=kaohe.reopen_reason or None,
                only_year=kaohe.only_year,
            )
        for year, units in result.kept_years.items():
            context.log.warning(
                f"final ranking of {year} kept: the latest data would change {units} unit(s); "
                f"see ranking_drift, and rerun with --reopen {year} --reason … to publish a revision"
            )
        for note in result.notes:
            context.log.warning(note)
        return dg.MaterializeResult(
            metadata={
                "snapshot": dg.MetadataValue.path(str(result.run_dir)),
                "kept_final_years": dg.MetadataValue.json({str(k): v for k, v in result.kept_years.items()}),
                "revisions": dg.MetadataValue.json({str(k): v for k, v in result.revisions.items()}),
                **{f"rows/{t}": n for t, n in result.tables.items()},
            }
        )

    _ = check_keys
    return [quality_gate, published_snapshot]
