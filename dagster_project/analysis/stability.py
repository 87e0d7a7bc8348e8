"""Grade certainty (docs/methodology.md §14): how likely another set of reviewers would have given
another grade.

The reviews are a sample of reviewers. `qualitative_draws` resamples each (unit, reviewer group)'s
non-null scores with replacement (same count), all draws at once in numpy arrays, and recomputes
Q_u per draw; the dbt Python model int_qualitative_draws calls it, and the SQL model
grade_stability recomputes totals (the other score lines fixed, floor at 0, round2) and ranks and
grades each draw with the macro rank_and_grade, the rules of the published ranking.

`kaohe stability` runs those two models on a scratch warehouse holding the published ranking of
the year and the working warehouse's reviews (the publication holds no review scores)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dagster_project.analysis.scratch import AnalysisError, published_year, read_only, run_dbt, scratch_folder

COLUMNS = ["year", "unit_code", "draws", "p_grade1", "p_grade2", "p_grade3", "rank_p05", "rank_p95"]


def qualitative_draws(
    units: pd.DataFrame, reviews: pd.DataFrame, weights: pd.DataFrame, draws: int, seed: int
) -> pd.DataFrame:
    """Q_u of every unit in `draws` resamples of its reviews.

    units: year, unit_code (every unit of the rankings to resample); reviews: year, unit_code,
    reviewer_group, reviewer_id, score; weights: year, reviewer_group, weight. A unit without
    reviews has Q = 0 in every draw; a group without a weight is ignored (as in §6). Returns
    year, unit_code, draw (0..draws-1), qualitative_score. The draws of a year depend only on the
    seed, the year and the reviews (numpy's PCG64 seeded with [seed, year])."""
    if draws < 1:
        raise AnalysisError(f"the number of draws must be at least 1, not {draws}")
    frames = []
    scored = reviews[reviews["score"].notna()].merge(weights, on=["year", "reviewer_group"])
    for year, year_units in units.groupby("year", sort=True):
        codes = np.sort(year_units["unit_code"].unique())
        quality = np.zeros((draws, len(codes)))
        sample = scored[(scored["year"] == year) & scored["unit_code"].isin(codes)]
        if len(sample):
            sample = sample.sort_values(["unit_code", "reviewer_group", "reviewer_id", "score"], kind="stable")
            quality[:, np.searchsorted(codes, _unit_order(sample))] = _resampled_quality(
                sample, draws, np.random.default_rng([seed, int(year)])
            )
        frames.append(
            pd.DataFrame(
                {
                    "year": np.int32(year),
                    "unit_code": np.tile(codes, draws),
                    "draw": np.repeat(np.arange(draws, dtype=np.int32), len(codes)),
                    "qualitative_score": quality.ravel(),
                }
            )
        )
    if not frames:
        return pd.DataFrame({"year": [], "unit_code": [], "draw": [], "qualitative_score": []})
    return pd.concat(frames, ignore_index=True)


def _unit_order(sample: pd.DataFrame) -> np.ndarray:
    units = sample["unit_code"].to_numpy()
    return units[np.flatnonzero(np.r_[True, units[1:] != units[:-1]])]


def _resampled_quality(sample: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws × units with reviews) Q_u: per draw, each group's slots pick a score of the group
    uniformly; Q = Σ w·mean / Σ w over the unit's groups (all present in every draw)."""
    scores = sample["score"].to_numpy(dtype=float)
    group_key = (sample["unit_code"] + "\x1f" + sample["reviewer_group"]).to_numpy()
    group_starts = np.flatnonzero(np.r_[True, group_key[1:] != group_key[:-1]])
    counts = np.diff(np.r_[group_starts, len(scores)])
    picks = np.repeat(group_starts, counts) + (rng.random((draws, len(scores))) * np.repeat(counts, counts)).astype(
        np.int64
    )
    means = np.add.reduceat(scores[picks], group_starts, axis=1) / counts
    weights = sample["weight"].to_numpy(dtype=float)[group_starts]
    group_units = sample["unit_code"].to_numpy()[group_starts]
    unit_starts = np.flatnonzero(np.r_[True, group_units[1:] != group_units[:-1]])
    return np.add.reduceat(means * weights, unit_starts, axis=1) / np.add.reduceat(weights, unit_starts)


def grade_stability(
    year: int, warehouse: Path, publish_dir: Path, out: Path, draws: int | None = None, seed: int | None = None
) -> pd.DataFrame:
    """`kaohe stability`: the grade certainty of the published year-end ranking of `year`, with
    the reviews of the working warehouse, written to `out` (the columns of grade_stability)."""
    publication, as_of = published_year(publish_dir, year)
    env = {"KAOHE_AS_OF": as_of}
    if draws is not None:
        if draws < 1:
            raise AnalysisError(f"--draws must be at least 1, not {draws}")
        env["KAOHE_STABILITY_DRAWS"] = str(draws)
    if seed is not None:
        env["KAOHE_STABILITY_SEED"] = str(seed)
    with scratch_folder("stability") as folder:
        scratch = folder / Path(warehouse).name
        _assemble_inputs(scratch, Path(warehouse), publication, year)
        run_dbt(scratch, ["run", "--quiet", "--select", "int_qualitative_draws", "grade_stability"], env)
        con = read_only(scratch, "the scratch warehouse")
        try:
            result = con.execute(
                f"select {', '.join(COLUMNS)} from marts.grade_stability where year = ? order by unit_code", [year]
            ).df()
        finally:
            con.close()
    if result.empty:
        raise AnalysisError(f"the published ranking of {year} is not a year-end ranking: no grade certainty")
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return result


def _assemble_inputs(scratch: Path, warehouse: Path, publication: Path, year: int) -> None:
    """The relations the two models read: the published unit_scores and score_line_items of the
    year (as int_unit_rankings and int_score_line_items), the working warehouse's reviews (staging
    reads raw) and methodology rows."""
    read_only(warehouse, "the working warehouse").close()  # a clear error when a run holds it
    con = duckdb.connect(str(scratch))
    try:
        con.execute(f"attach '{warehouse.resolve()}' as working (read_only)")
        con.execute(f"attach '{publication}' as published (read_only)")
        for schema in ("staging", "intermediate", "marts", "methodology"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table staging.stg_performance__reviews as "
            "select * from working.staging.stg_performance__reviews where year = ?",
            [year],
        )
        con.execute(
            "create table intermediate.int_evaluation_years as select * from working.intermediate.int_evaluation_years"
        )
        for seed in ("methodology_parameters", "methodology_reviewer_groups"):
            con.execute(f"create table methodology.{seed} as select * from working.methodology.{seed}")
        # the two models read the ranking and the score lines as intermediate models; here they
        # are the published ones (unit_scores carries int_unit_rankings' columns they read unchanged)
        con.execute(
            "create table intermediate.int_unit_rankings as select year, unit_code, group_code, category, stage, "
            "s_key_work, establishment, vetoed from published.marts.unit_scores where year = ?",
            [year],
        )
        con.execute(
            "create table intermediate.int_score_line_items as "
            "select * from published.marts.score_line_items where year = ?",
            [year],
        )
        if not con.execute("select count(*) from intermediate.int_evaluation_years where year = ?", [year]).fetchone()[
            0
        ]:
            raise AnalysisError(f"the working warehouse {warehouse} has not evaluated {year}; run kaohe run first")
    finally:
        con.close()
