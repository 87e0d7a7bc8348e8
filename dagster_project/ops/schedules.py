"""The nightly job, its 02:00 schedule, and the sensor that starts a run when a delivery lands."""

from pathlib import Path

import dagster as dg
import duckdb
from dagster import SensorEvaluationContext

from dagster_project.core import settings
from dagster_project.core.stale_runs import fail_runs_whose_process_is_gone
from dagster_project.ingest.contracts import SYSTEMS
from dagster_project.ingest.deliveries import is_delivery, ready_deliveries
from dagster_project.quality.failure_report import report_failed_run

# DuckDB has one writer at a time: the steps of a run execute one after another in one process
# (the warehouse writer lock also serialises two runs started at once).
nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="The whole nightly materialization: ingest, dbt build (tests as checks), quality gate, publish.",
    executor_def=dg.in_process_executor,
    hooks={report_failed_run},
)

PENDING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def nightly_run_pending(instance: dg.DagsterInstance, tick: str) -> str | None:
    """The id of a nightly run queued or in progress, if any, once the runs whose process is gone
    are marked failed (stale_runs.py: a killed run must not block every later tick). The
    instance's run queue (dagster.yaml: one run at a time) and the writer lock serialise runs as
    well; not asking for a second run while one is pending keeps the queue from filling with
    duplicates."""
    fail_runs_whose_process_is_gone(instance, by=f"the {tick} tick")
    records = instance.get_run_records(dg.RunsFilter(job_name=nightly_job.name, statuses=PENDING), limit=1)
    return records[0].dagster_run.run_id if records else None


@dg.schedule(
    name="nightly_0200",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    """The whole job every night at 02:00 Asia/Shanghai, unless a run is still going."""
    pending = nightly_run_pending(context.instance, "nightly_0200")
    if pending:
        return dg.SkipReason(f"nightly run {pending} is still queued or running; it applies what is in the inbox")
    return dg.RunRequest()


class WarehouseBusy(Exception):
    """Another process writes the warehouse: what it applied cannot be read now."""


def applied_deliveries(warehouse: Path) -> set[tuple[str, str]]:
    """(system, delivery) pairs the warehouse has applied (raw.applied_deliveries); none for a
    warehouse that does not exist yet."""
    if not warehouse.exists():
        return set()
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:  # a writer (a run, `kaohe run`) holds it
        raise WarehouseBusy(str(exc)) from None
    try:
        tables = con.execute(
            "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = 'applied_deliveries'"
        ).fetchall()
        if not tables:
            return set()
        return {(r[0], r[1]) for r in con.execute("select system, delivery from raw.applied_deliveries").fetchall()}
    finally:
        con.close()


def unapplied(delivery: Path, applied: set[tuple[str, str]]) -> bool:
    return any((delivery / system).is_dir() and (system, delivery.name) not in applied for system in SYSTEMS)


@dg.sensor(job=nightly_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def new_delivery_sensor(context: SensorEvaluationContext):
    """A run per new delivery folder (name order) holding `_READY` in the sources inbox that the
    warehouse has not applied yet — so `dagster dev` started after `kaohe run` (or `make run`)
    does not run again for deliveries already in; while a run is queued or going, the cursor
    stays, so the delivery starts the next run."""
    pending = nightly_run_pending(context.instance, "new_delivery_sensor")
    if pending:
        return dg.SkipReason(f"nightly run {pending} is still queued or running; new deliveries wait for it")
    inbox = Path(settings.sources_dir())
    if is_delivery(inbox):
        return dg.SkipReason(f"{inbox} is a single delivery, not an inbox; run `kaohe run` for it")
    try:
        applied = applied_deliveries(settings.warehouse_path())
    except WarehouseBusy as exc:
        return dg.SkipReason(
            f"the warehouse is being written by another process; deliveries are looked at again: {exc}"
        )
    newest = context.cursor or ""
    fresh = [d for d in ready_deliveries(inbox) if d.name > newest and unapplied(d, applied)]
    if not fresh:
        return dg.SkipReason(f"no new delivery in {inbox} (every ready delivery is applied or was requested)")
    context.update_cursor(fresh[-1].name)
    # One run applies every pending delivery in name order; the run key names the newest.
    return dg.RunRequest(run_key=fresh[-1].name, tags={"kaohe/delivery": fresh[-1].name})
