"""The quality report of a run that stopped on a failed step, on every path (kaohe run, the
schedule, the sensor): a Dagster failure hook on the nightly job writes the run's report with
the failed steps and every check evaluated so far, so a failed load or a dbt build that could
not finish leaves a report as a failed gate does."""

from __future__ import annotations

import dagster as dg

from dagster_project.core.errors import exception_text, failure_message
from dagster_project.quality.report import (
    VERDICT_BLOCKED,
    VERDICT_FAILED,
    blocking_failures,
    read_in_force,
    report_path,
    run_check_outcomes,
    write_report,
)


def step_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    return [
        f"{r.event_log_entry.step_key}: {failure_message(r.event_log_entry.dagster_event.step_failure_data)}"
        for r in records
    ]


@dg.failure_hook(required_resource_keys={"kaohe"})
def report_failed_run(context: dg.HookContext) -> None:
    """Rewrite the run's quality report after each failed step: what failed, and every check so far."""
    kaohe = context.resources.kaohe
    failures = step_failures(context.instance, context.run_id)
    if not any(f.startswith(f"{context.step_key}: ") for f in failures):
        failures.append(f"{context.step_key}: {exception_text(context.op_exception)}")
    outcomes = run_check_outcomes(context.instance, context.run_id)
    verdict = VERDICT_BLOCKED if blocking_failures(outcomes) else VERDICT_FAILED
    path = write_report(
        report_path(kaohe.publish_dir, context.run_id),
        context.run_id,
        outcomes,
        verdict,
        kaohe.as_of_text(),
        failures=failures,
        in_force=read_in_force(kaohe.warehouse),
    )
    context.log.info(f"quality report of the failed run: {path}")
