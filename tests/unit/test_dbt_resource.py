"""The one subclass of dagster-dbt (transform/dbt_assets.KaoheDbtCli): it overrides two private
methods of dagster-dbt; an upgrade that renames them or changes their use fails here."""

from __future__ import annotations

import subprocess

from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project.transform.dbt_assets import KaoheDbtCli, dbt_resource, kaohe_dbt


def test_the_overridden_methods_still_exist_in_dagster_dbt():
    for name in ("_initialize_dbt_core_adapter", "_cli_version"):
        assert name in vars(DbtCliResource), f"dagster-dbt has no {name} any more: KaoheDbtCli overrides nothing"
        assert name in vars(KaoheDbtCli)


def test_the_version_is_what_the_executable_says(dbt_manifest):
    dbt = dbt_resource()
    said = subprocess.run([dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True).stdout
    core = next(line for line in said.splitlines() if "installed:" in line).split(":")[1].strip()
    assert dbt._cli_version == version.parse(core)


def test_a_command_opens_no_adapter_in_this_process(dbt_manifest):
    invocation = (
        dbt_resource().cli(["ls", "--select", "dim_unit", "--output", "name"], manifest=kaohe_dbt.manifest_path).wait()
    )
    assert invocation.is_successful()
    assert invocation.adapter is None
