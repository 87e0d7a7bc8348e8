"""The one Definitions object: every asset, check, the schedule and the sensor are there."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.ingest.contracts import load_contracts


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from dagster_project.definitions import defs

    return defs


def test_every_ingestion_asset_dbt_asset_and_check_is_defined(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    contracts = load_contracts().values()
    assert {f"{c.system}/{c.table}" for c in contracts} <= keys
    assert {"ingest/loads", "ingest/current_loads", "ingest/quarantine"} <= keys
    assert {f"staging/stg_{c.system}__{c.table}" for c in contracts} <= {
        f"{graph.get(k).group_name.split('_')[0]}/{k.path[-1]}" for k in graph.get_all_asset_keys()
    }
    snapshots = {k.path[-1] for k in graph.get_all_asset_keys() if graph.get(k).group_name == "snapshots"}
    assert snapshots == {f"snp_staffing__{t}" for t in ("units", "establishment", "divisions", "persons")}
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("ingest/quarantine", "quarantine_share_within_limit") in checks
    assert any(name == "primary_key_stg_staffing__units" for _, name in checks)
    assert len(checks) > 50  # every dbt data test is an asset check


def test_dbt_lineage_starts_at_the_ingestion_assets(defs):
    graph = defs.resolve_asset_graph()
    units = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_staffing__units")
    assert dg.AssetKey(["staffing", "units"]) in graph.get(units).parent_keys


def test_schedule_and_sensor(defs):
    schedule = defs.resolve_schedule_def("nightly_0200")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "nightly"
    assert defs.resolve_sensor_def("new_delivery_sensor").job_name == "nightly"


def test_sensor_starts_one_run_per_new_ready_delivery(tmp_path, monkeypatch, dbt_manifest):
    from dagster_project.ops.schedules import new_delivery_sensor

    monkeypatch.setenv("KAOHE_SOURCES_DIR", str(tmp_path))
    monkeypatch.setenv("KAOHE_WAREHOUSE", str(tmp_path / "none" / "kaohe.duckdb"))  # nothing applied yet
    for name, ready in (("20240131", True), ("20240229", True), ("20240331", False)):
        (tmp_path / name / "staffing").mkdir(parents=True)
        if ready:
            (tmp_path / name / "_READY").touch()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(cursor=None, instance=instance)
        result = new_delivery_sensor(context)
        assert isinstance(result, dg.RunRequest) and result.run_key == "20240229"
        assert context.cursor == "20240229"
        again = dg.build_sensor_context(cursor="20240229", instance=instance)
        assert isinstance(new_delivery_sensor(again), dg.SkipReason)


def test_sensor_starts_from_the_deliveries_the_warehouse_has_applied(tmp_path, monkeypatch, dbt_manifest):
    """`dagster dev` after `kaohe run` of the inbox: no run for what is already in; a run for a
    delivery with a system not applied yet; no decision while another process writes."""
    import subprocess
    import sys

    import duckdb

    from dagster_project.ops.schedules import new_delivery_sensor

    inbox, warehouse = tmp_path / "inbox", tmp_path / "w" / "kaohe.duckdb"
    monkeypatch.setenv("KAOHE_SOURCES_DIR", str(inbox))
    monkeypatch.setenv("KAOHE_WAREHOUSE", str(warehouse))
    for name, systems in (("20240131", ["staffing", "finance"]), ("20240229", ["staffing", "performance"])):
        for system in systems:
            (inbox / name / system).mkdir(parents=True)
        (inbox / name / "_READY").touch()
    warehouse.parent.mkdir()
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create table raw.applied_deliveries (system varchar, delivery varchar)")
    con.executemany(
        "insert into raw.applied_deliveries values (?, ?)",
        [("staffing", "20240131"), ("finance", "20240131"), ("staffing", "20240229"), ("performance", "20240229")],
    )
    con.close()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(cursor=None, instance=instance)
        skipped = new_delivery_sensor(context)
        assert isinstance(skipped, dg.SkipReason) and "no new delivery" in skipped.skip_message
        assert context.cursor is None
        (inbox / "20240229" / "finance").mkdir()  # a system of that delivery not applied yet
        context = dg.build_sensor_context(cursor=None, instance=instance)
        started = new_delivery_sensor(context)
        assert isinstance(started, dg.RunRequest) and started.run_key == "20240229"
        holder = subprocess.Popen(  # another process writes the warehouse
            [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
             "print('held', flush=True); time.sleep(60)"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout.readline().strip() == "held"
            busy = new_delivery_sensor(dg.build_sensor_context(cursor=None, instance=instance))
            assert isinstance(busy, dg.SkipReason) and "being written by another process" in busy.skip_message
        finally:
            holder.kill()
            holder.wait()


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED])
def test_sensor_and_schedule_wait_while_a_nightly_run_is_pending(tmp_path, monkeypatch, dbt_manifest, status):
    from dagster._core.test_utils import create_run_for_test

    from dagster_project.ops.schedules import new_delivery_sensor, nightly_schedule

    monkeypatch.setenv("KAOHE_SOURCES_DIR", str(tmp_path))
    monkeypatch.setenv("KAOHE_WAREHOUSE", str(tmp_path / "none" / "kaohe.duckdb"))
    (tmp_path / "20240131" / "staffing").mkdir(parents=True)
    (tmp_path / "20240131" / "_READY").touch()
    with dg.instance_for_test() as instance:
        assert isinstance(nightly_schedule(dg.build_schedule_context(instance=instance)), dg.RunRequest)
        run = create_run_for_test(instance, job_name="nightly", status=status)
        context = dg.build_sensor_context(cursor=None, instance=instance)
        skipped = new_delivery_sensor(context)
        assert isinstance(skipped, dg.SkipReason) and run.run_id in skipped.skip_message
        assert context.cursor is None  # the delivery starts the next run
        skipped = nightly_schedule(dg.build_schedule_context(instance=instance))
        assert isinstance(skipped, dg.SkipReason) and run.run_id in skipped.skip_message
        instance.report_run_failed(run)
        assert isinstance(new_delivery_sensor(dg.build_sensor_context(cursor=None, instance=instance)), dg.RunRequest)


def test_the_instance_configuration_runs_one_run_at_a_time():
    import yaml

    from dagster_project.core.settings import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "dagster_project" / "core" / "dagster.yaml").read_text(encoding="utf-8"))
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1


def test_definitions_load_under_dagster_dev_without_dbt_on_path(dbt_manifest):
    """`dagster dev` re-parses the dbt project; it must find the dbt of this environment even
    when the virtualenv is not activated (no `dbt` on PATH)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DAGSTER_IS_DEV_CLI": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", "import dagster_project.definitions as d; print(len(d.ASSETS))"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_dbt_test_check_says_what_it_asserts_in_plain_words(dbt_manifest):
    from dagster_project.transform.dbt_assets import kaohe_dbt_assets

    specs = {spec.name: spec.description for spec in kaohe_dbt_assets.check_specs}
    assert len(specs) > 100 and all(specs.values())
    key = next(d for n, d in specs.items() if n == "primary_key_unit_scores")
    assert key.startswith("one row per (year, unit_code); no null in: year, unit_code, ")
    assert specs["assert_ranks_are_gapless"].startswith("A failure means ranks within a category group")
    accepted = next(d for n, d in specs.items() if n.startswith("accepted_values_unit_scores_grade"))
    assert accepted == "grade is one of: 1, 2, 3"
    related = next(d for n, d in specs.items() if n.startswith("relationships_stg_staffing__persons_unit_code"))
    assert related == "every unit_code exists in stg_staffing__units.unit_code"


def test_a_skipped_builds_missing_check_results_are_not_logged_once_definitions_are_built(defs):
    """Importing the dbt assets installs nothing; building the definitions installs the filter
    once, and it drops exactly Dagster's 'emitted no result' lines."""
    import logging

    from dagster_project.definitions import build_definitions

    build_definitions()  # a second time: still one filter
    logger = logging.getLogger("dagster._core.execution.plan.active")
    (quiet,) = [f for f in logger.filters if type(f).__name__ == "_NoResultOfASkippedBuild"]

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord(logger.name, logging.WARNING, __file__, 1, message, None, None)

    assert not quiet.filter(record("Asset check 'x' emitted no result in step 'kaohe_dbt_assets'"))
    assert quiet.filter(record("Asset check 'x' failed"))
