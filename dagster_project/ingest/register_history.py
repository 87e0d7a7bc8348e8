"""The register's history, delivery by delivery: after each delivery but the last that one run
applies, the dbt snapshots record the register as the warehouse then holds it, dated by the
delivery (the dbt build of the run takes the last). So a rebuild that replays the inbox holds the
same SCD2 history as the nightly runs did (docs/architecture.md, "History")."""

from __future__ import annotations

import json
from functools import cache

from dagster_dbt import DbtCliResource

from dagster_project.core.dbt_project import MANIFEST, dbt_parameters, keep_parse_state
from dagster_project.core.resources import KaoheSettings


@cache
def snapshotted_systems() -> frozenset[str]:
    """The source systems whose tables the dbt snapshots read (through staging), from the manifest."""
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))
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
    with dbt_parameters(kaohe, snapshot_at):
        invocation = dbt.cli(
            ["build", "--select", "+resource_type:snapshot", "--resource-type", "model", "--resource-type", "snapshot"],
            manifest=MANIFEST,
            raise_on_error=True,
        ).wait()
    keep_parse_state(invocation.target_path)
