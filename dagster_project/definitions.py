"""The one Dagster `Definitions` of kaohe: what `dagster dev`, the daemon and `kaohe run` load."""

from __future__ import annotations

import dagster as dg

from dagster_project.analysis.jobs import whatif_job
from dagster_project.core.resources import KaoheSettings
from dagster_project.ingest.assets import (
    SYSTEM_ASSETS,
    ingest_bookkeeping,
    quarantine_share_within_limit,
)
from dagster_project.ops.schedules import new_delivery_sensor, nightly_job, nightly_schedule
from dagster_project.publish.assets import make_publish_assets
from dagster_project.transform.dbt_assets import dbt_resource, kaohe_dbt_assets, quiet_skipped_build

MART_KEYS = [key for key, group in kaohe_dbt_assets.group_names_by_key.items() if group and group.startswith("marts")]
ASSETS = [*SYSTEM_ASSETS, ingest_bookkeeping, kaohe_dbt_assets, *make_publish_assets(MART_KEYS)]
CHECKS = [quarantine_share_within_limit]


def build_definitions(kaohe: KaoheSettings | None = None, **extra) -> dg.Definitions:
    quiet_skipped_build()
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[nightly_job, whatif_job],
        schedules=[nightly_schedule],
        sensors=[new_delivery_sensor],
        resources={"kaohe": kaohe or KaoheSettings.from_env(), "dbt": dbt_resource()},
        **extra,
    )


defs = build_definitions()
