"""dbt inside Dagster: one cached DbtProject, `dbt build` streamed so every dbt test surfaces
as an asset check, asset groups taken from the project's folders."""

import importlib
import importlib.metadata
import logging
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging import version

from dagster_project.core.dbt_project import (
    dbt_executable,
    dbt_parameters,
    describe_test,
    keep_parse_state,
    prepare_manifest,
)
from dagster_project.core.resources import KaoheSettings
from dagster_project.core.settings import DBT_PROJECT_DIR
from dagster_project.ingest.load import dangling_references, latest_delivered_at
from dagster_project.ingest.register_history import snapshotted_systems
from dagster_project.transform.build_state import nothing_new, record_build

kaohe_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if kaohe_dbt.preparer.using_dagster_dev():
    # Re-parse a changed project under `dagster dev`, with the dbt of this environment
    # (DbtProject.prepare_if_dev would look for `dbt` on PATH, which an unactivated venv lacks).
    prepare_manifest()


class _NoResultOfASkippedBuild(logging.Filter):
    """A run with nothing new (fingerprint.py) skips dbt and the gate on purpose; Dagster would
    then warn once per blocking check (~270 lines) that it emitted no result. Those lines are
    dropped; the step's own log line says why nothing ran."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_NoResultOfASkippedBuild())


class KaoheTranslator(DagsterDbtTranslator):
    """Groups follow the folders (`staging_staffing`, `marts_scoring`, …), never model names."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "snapshot":
            return "snapshots"
        if resource_type == "seed":  # the label tables are seeds published as marts
            return "marts_labels" if dbt_resource_props["fqn"][1] == "labels" else "methodology"
        folders = dbt_resource_props["fqn"][1:-1]
        return "_".join(folders[:2]) or "dbt"

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dbt's tests as asset checks, each with a description in plain words (the UI and the
        quality report show it): the test's own description, a singular test's leading comment,
        or what a generic test asserts."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))


TRANSLATOR = KaoheTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=kaohe_dbt.manifest_path, project=kaohe_dbt, dagster_dbt_translator=TRANSLATOR)
def kaohe_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, kaohe: KaoheSettings):
    # Failing data tests become failed asset checks that the quality gate reports and publishing
    # refuses. This step fails on errors (a model that does not build, a broken test) and when a
    # failing test made dbt skip the models downstream of it (the gate could not judge them).
    with kaohe.write() as con:
        snapshot_at = latest_delivered_at(con, snapshotted_systems())
        fingerprint = kaohe.inputs_fingerprint(con)
        skip = None if kaohe.force else nothing_new(con, fingerprint, Path(kaohe.publish_dir), kaohe.as_of_text())
    if skip:
        # No output, so Dagster skips the gate and publishing (their inputs were not
        # materialized), and nothing new is published.
        context.log.info(skip)
        return
    # dbt unit tests check the SQL, not the data: CI runs them (tests/e2e/test_dbt_unit_tests.py).
    # Great Expectations is slow to import, and the gate needs it next. Importing it now, on the
    # core dbt's single-threaded Python leaves idle, takes that off the run's critical path.
    threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
    with dbt_parameters(kaohe, snapshot_at):
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context, raise_on_error=False)
        yield from invocation.stream()
    keep_parse_state(invocation.target_path)
    results = invocation.get_artifact("run_results.json")["results"]
    errors = [r for r in results if r["status"] == "error"]
    if errors:
        raise dg.Failure(
            description="dbt build errors: "
            + "; ".join(f"{r['unique_id']}: {(r.get('message') or '').strip()[:300]}" for r in errors[:5]),
            allow_retries=False,
        )
    skipped = [r for r in results if r["status"] == "skipped"]
    if skipped:
        # A failing test of severity error stops dbt before the models downstream of it; the gate
        # cannot judge marts that were not built, so the run stops here (and reports why).
        failing = [r["unique_id"].split(".")[2] for r in results if r["status"] == "fail"]
        with kaohe.write() as con:
            dangling = dangling_references(con)
        raise dg.Failure(
            description=f"dbt skipped {len(skipped)} node(s) downstream of failing tests "
            f"({', '.join(failing[:5])}); nothing is published." + "".join(f" {finding}" for finding in dangling),
            allow_retries=False,
        )
    with kaohe.write() as con:  # what this warehouse is now built from (build_state.py)
        record_build(con, fingerprint, context.run.run_id)


class KaoheDbtCli(DbtCliResource):
    """dbt's CLI as dagster-dbt runs it, less two things it does in this process before each
    command (the one subclass of dagster-dbt in kaohe, tests/unit/test_dbt_resource.py):

    - it opens a dbt adapter on the warehouse, which serves only row counts and column metadata;
      kaohe fetches neither, and the adapter would open the warehouse beside dbt's writer
      (docs/architecture.md);
    - it asks the executable for its version (`dbt --version`, a process of its own per command);
      the executable is this environment's (core/dbt_project.dbt_executable), so its version is
      the installed dbt-core's.

    Both are private methods of dagster-dbt 0.29 (`_initialize_dbt_core_adapter`, `_cli_version`);
    the test fails if an upgrade renames them or changes what they return."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return KaoheDbtCli(project_dir=kaohe_dbt, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
