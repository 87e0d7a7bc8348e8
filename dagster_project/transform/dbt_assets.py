"""dbt inside Dagster: one cached DbtProject, `dbt build` streamed so every dbt test surfaces
as an asset check, asset groups taken from the project's folders."""

import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
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
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.dbt_manifest import validate_manifest

from dagster_project.core.dbt_project import (
    MANIFEST,
    dbt_executable,
    dbt_parameters,
    describe_test,
    keep_parse_state,
    prepare_manifest,
)
from dagster_project.core.dbt_runner import InProcessInvocation
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
    then warn once per blocking check that it emitted no result. Those lines are dropped; the
    step's own log line says why nothing ran."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


def quiet_skipped_build() -> None:
    """Install the filter above on Dagster's step logger (once; definitions.build_definitions)."""
    logger = logging.getLogger("dagster._core.execution.plan.active")
    if not any(isinstance(f, _NoResultOfASkippedBuild) for f in logger.filters):
        logger.addFilter(_NoResultOfASkippedBuild())


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
    with dbt_parameters(kaohe, snapshot_at):
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context, raise_on_error=False)
        yield from invocation.stream()
    keep_parse_state(invocation.target_path)
    if not (invocation.target_path / "run_results.json").exists():  # dbt stopped before any node
        raise dg.Failure(description=f"dbt build did not run: {invocation.error}", allow_retries=False)
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
        with kaohe.write() as con:
            failing = failing_tests(con, results)
            dangling = dangling_references(con)
        raise dg.Failure(
            description=f"dbt skipped {len(skipped)} node(s) downstream of failing tests "
            f"({', '.join(failing[:5])}); nothing is published." + "".join(f" {finding}" for finding in dangling),
            allow_retries=False,
        )
    with kaohe.write() as con:  # what this warehouse is now built from (build_state.py)
        record_build(con, fingerprint, context.run.run_id)


def failing_tests(con, results: list[dict[str, Any]]) -> list[str]:
    """The failing tests of a dbt build by name; for a primary_key test (one test, several
    invariants: dbt/macros/test_primary_key.sql), which of them failed, from its failing rows."""
    named = []
    for result in results:
        if result["status"] != "fail":
            continue
        name = result["unique_id"].split(".")[2]
        if name.startswith("primary_key_") and result.get("compiled_code"):
            rows = con.execute(
                f"select problem, column_name, count(*) from ({result['compiled_code']}) group by all order by all"
            ).fetchall()
            found = [f"{n} duplicate key(s)" if p == "duplicate_key" else f"{c} null in {n} row(s)" for p, c, n in rows]
            name += f" ({', '.join(found)})"
        named.append(name)
    return named


class KaoheDbt(DbtCliResource):
    """dagster-dbt's dbt resource, each command run in this process (core/dbt_runner.py): the
    arguments, the selection of the step's assets and the conversion of dbt's results into Dagster
    events are dagster-dbt's own; only the child process is gone. The one subclass of dagster-dbt
    in kaohe (tests/unit/test_dbt_resource.py)."""

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: AssetExecutionContext | None = None,
        target_path: Path | None = None,
    ) -> InProcessInvocation:
        cleaned, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=validate_manifest(manifest) if manifest else {},
            dagster_dbt_translator=dagster_dbt_translator or TRANSLATOR,
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        if params.indirect_selection:
            os.environ[DBT_INDIRECT_SELECTION_ENV] = params.indirect_selection
        else:
            os.environ.pop(DBT_INDIRECT_SELECTION_ENV, None)
        if target_path is None:
            name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-" if context else ""
            target_path = MANIFEST.parent / f"{name}{uuid.uuid4().hex[:7]}"
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        if context:
            context.log.info(f"Running dbt in this process: dbt {' '.join([*cleaned, *params.selection_args])}")
        return InProcessInvocation(
            args=[*cleaned, *params.selection_args],
            project_dir=project_dir,
            profiles_dir=Path(self.profiles_dir or project_dir),
            target_path=target_path,
            manifest=params.manifest or json.loads(MANIFEST.read_text(encoding="utf-8")),
            translator=params.dagster_dbt_translator,
            context=context,
            project=params.dbt_project,
            raise_on_error=raise_on_error,
        )


def dbt_resource() -> DbtCliResource:
    # dagster-dbt checks that its executable exists, though no command starts it
    return KaoheDbt(project_dir=kaohe_dbt, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
