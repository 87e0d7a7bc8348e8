"""dbt inside Dagster: one cached DbtProject, `dbt build` streamed so every dbt test surfaces
as an asset check, asset groups taken from the project's folders."""

import json
from collections.abc import Mapping, Sequence
from functools import cache
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

from dagster_project.dbt_manifest import dbt_executable, prepare_manifest
from dagster_project.ingest.load import dangling_references, latest_delivered_at
from dagster_project.resources import KaoheSettings
from dagster_project.settings import DBT_PROJECT_DIR

kaohe_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if kaohe_dbt.preparer.using_dagster_dev():
    # Re-parse a changed project under `dagster dev`, with the dbt of this environment
    # (DbtProject.prepare_if_dev would look for `dbt` on PATH, which an unactivated venv lacks).
    prepare_manifest()


class KaoheTranslator(DagsterDbtTranslator):
    """Groups follow the folders (`staging_staffing`, `marts_scoring`, …), never model names."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "snapshot":
            return "snapshots"
        if resource_type == "seed":
            return "methodology"
        folders = dbt_resource_props["fqn"][1:-1]
        return "_".join(folders[:2]) or "dbt"


TRANSLATOR = KaoheTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_vars(kaohe: KaoheSettings, snapshot_at: str = "") -> str:
    return json.dumps({"as_of": kaohe.as_of_text(), "snapshot_at": snapshot_at})


@cache
def snapshotted_systems() -> frozenset[str]:
    """The source systems whose tables the dbt snapshots read (through staging), from the manifest."""
    nodes = json.loads(Path(kaohe_dbt.manifest_path).read_text(encoding="utf-8"))
    everything = {**nodes["nodes"], **nodes["sources"]}
    systems, todo = set(), [n for n, node in nodes["nodes"].items() if node["resource_type"] == "snapshot"]
    while todo:
        node = everything[todo.pop()]
        if node["resource_type"] == "source":
            systems.add(node["source_name"])
        else:
            todo.extend(node["depends_on"]["nodes"])
    return frozenset(systems - {"ingest"})


def snapshot_register(dbt: DbtCliResource, kaohe: KaoheSettings, snapshot_at: str) -> None:
    """The snapshots (and the staging views they read) as the warehouse holds them now, dated
    `snapshot_at`: for each delivery but the last applied by one run (the dbt build takes that)."""
    dbt.cli(
        [
            "build",
            "--select",
            "+resource_type:snapshot",
            "--resource-type",
            "model",
            "--resource-type",
            "snapshot",
            "--vars",
            dbt_vars(kaohe, snapshot_at),
        ],
        manifest=kaohe_dbt.manifest_path,
        raise_on_error=True,
    ).wait()


@dbt_assets(manifest=kaohe_dbt.manifest_path, project=kaohe_dbt, dagster_dbt_translator=TRANSLATOR)
def kaohe_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, kaohe: KaoheSettings):
    # Failing data tests become failed asset checks that the quality gate reports and publishing
    # refuses. This step fails on errors (a model that does not build, a broken test) and when a
    # failing test made dbt skip the models downstream of it (the gate could not judge them).
    with kaohe.write() as con:
        snapshot_at = latest_delivered_at(con, snapshotted_systems())
    # dbt unit tests check the SQL, not the data: CI runs them (tests/e2e/test_dbt_unit_tests.py).
    invocation = dbt.cli(
        ["build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars(kaohe, snapshot_at)],
        context=context,
        raise_on_error=False,
    )
    yield from invocation.stream()
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


class KaoheDbtCli(DbtCliResource):
    """dbt's CLI as dagster-dbt runs it, without the dbt adapter dagster-dbt opens in this
    process before each command: it serves only row counts and column metadata, which kaohe
    does not fetch (they would open the warehouse beside dbt's writer, DESIGN), and costs
    3–5 s a run."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    return KaoheDbtCli(project_dir=kaohe_dbt, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
