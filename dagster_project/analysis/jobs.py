"""The what-if as a Dagster job (docs/methodology.md §14): launched from the UI's launchpad with the
proposal folder, the year and the output folder as run config; the working warehouse and the
publication are the KaoheSettings resource's. It writes only the output folder."""

# No `from __future__ import annotations`: Dagster reads the op's config and resource types at runtime.
from pathlib import Path

import dagster as dg

from dagster_project.analysis.scratch import AnalysisError
from dagster_project.analysis.whatif import whatif
from dagster_project.core.resources import KaoheSettings


class WhatIfConfig(dg.Config):
    proposal_dir: str  # folder of CSVs named like the methodology seeds, with their columns
    year: int  # year of the published ranking to compare with
    out_dir: str  # where unit_scores.csv, comparison.xlsx and comparison.html go
    as_of: str = ""  # empty: the evaluation date of the published ranking


@dg.op(description="Recompute a year under a methodology proposal and compare it with the published ranking.")
def whatif_comparison(context: dg.OpExecutionContext, config: WhatIfConfig, kaohe: KaoheSettings) -> None:
    try:
        result = whatif(Path(config.proposal_dir), config.year, Path(kaohe.warehouse), Path(kaohe.publish_dir),
                        Path(config.out_dir), config.as_of or None)  # fmt: skip
    except AnalysisError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    s = result.summary
    context.log.info(
        f"{s['units']} units of {s['year']}: {s['grade_changes']} change grade, {s['rank_changes']} change rank; "
        f"wrote {config.out_dir}/comparison.html"
    )


@dg.job(description="What-if of a methodology change (docs/methodology.md §14); nothing published changes.")
def whatif_job() -> None:
    whatif_comparison()
