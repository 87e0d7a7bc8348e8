"""Q_u of every unit of a year-end ranking in each resampled draw of its reviews
(docs/methodology.md §14), computed by dagster_project.analysis.stability in numpy arrays: one row per
(year, unit_code, draw). Draws and seed: the methodology parameters stability_draws and
stability_seed of the year; env vars KAOHE_STABILITY_DRAWS / KAOHE_STABILITY_SEED override them
(`kaohe stability --draws --seed`)."""

import os


def model(dbt, session):
    dbt.config(materialized="table")
    from dagster_project.analysis.stability import qualitative_draws

    years = dbt.ref("int_evaluation_years").df()[["year", "parameter_year"]]
    units = dbt.ref("int_unit_rankings").df()
    units = units.loc[units["stage"] == "year_end", ["year", "unit_code"]]
    reviews = dbt.ref("stg_performance__reviews").df()[["year", "unit_code", "reviewer_group", "reviewer_id", "score"]]
    weights = years.merge(dbt.ref("methodology_reviewer_groups").df(), left_on="parameter_year", right_on="year",
                          suffixes=("", "_seed"))[["year", "reviewer_group", "weight"]]  # fmt: skip
    parameters = years.merge(dbt.ref("methodology_parameters").df(), left_on="parameter_year", right_on="year",
                             suffixes=("", "_seed")).set_index(["year", "parameter"])["value"]  # fmt: skip
    frames = []
    for year in sorted(units["year"].unique()):
        draws = int(os.environ.get("KAOHE_STABILITY_DRAWS") or parameters[(year, "stability_draws")])
        seed = int(os.environ.get("KAOHE_STABILITY_SEED") or parameters[(year, "stability_seed")])
        frames.append(qualitative_draws(units[units["year"] == year], reviews, weights, draws, seed))
    if not frames:
        return qualitative_draws(units, reviews, weights, 1, 0)
    import pandas as pd

    return pd.concat(frames, ignore_index=True)
