"""Resampling of the reviews (docs/methodology.md §14): qualitative_draws by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagster_project.analysis.scratch import AnalysisError
from dagster_project.analysis.stability import qualitative_draws

WEIGHTS = pd.DataFrame(
    {"year": 2023, "reviewer_group": ["leaders", "peers", "service_objects"], "weight": [0.5, 0.2, 0.3]}
)
UNITS = pd.DataFrame({"year": 2023, "unit_code": ["A", "B", "D"]})
REVIEWS = pd.DataFrame(
    [
        # A: one reviewer per group → the same Q in every draw: 0.5·90 + 0.2·60 + 0.3·80 = 81
        (2023, "A", "leaders", "r1", 90.0),
        (2023, "A", "peers", "r2", 60.0),
        (2023, "A", "service_objects", "r3", 80.0),
        (2023, "A", "peers", "r4", None),  # a null score is ignored
        # B: leaders only (renormalised), two scores → Q ∈ {70, 85, 100}
        (2023, "B", "leaders", "r1", 70.0),
        (2023, "B", "leaders", "r2", 100.0),
        (2023, "B", "unknown_group", "r9", 0.0),  # a group without a weight is ignored
        (2022, "B", "leaders", "r1", 0.0),  # another year
    ],
    columns=["year", "unit_code", "reviewer_group", "reviewer_id", "score"],
)


def test_one_reviewer_per_group_gives_the_same_q_in_every_draw_and_no_reviews_gives_0():
    draws = qualitative_draws(UNITS, REVIEWS, WEIGHTS, 500, 11)
    assert len(draws) == 3 * 500 and sorted(draws["draw"].unique()) == list(range(500))
    by_unit = draws.groupby("unit_code")["qualitative_score"]
    assert by_unit.min()["A"] == pytest.approx(81) and by_unit.max()["A"] == pytest.approx(81)
    assert by_unit.min()["D"] == 0 and by_unit.max()["D"] == 0
    b = draws.loc[draws["unit_code"] == "B", "qualitative_score"].round(9)
    assert set(b) == {70.0, 85.0, 100.0}
    # each of the two slots picks either score with probability 1/2: 85 half of the time
    assert (b == 85).mean() == pytest.approx(0.5, abs=0.08)


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    first = qualitative_draws(UNITS, REVIEWS, WEIGHTS, 200, 7)
    again = qualitative_draws(UNITS, REVIEWS.sample(frac=1, random_state=1), WEIGHTS, 200, 7)
    other = qualitative_draws(UNITS, REVIEWS, WEIGHTS, 200, 8)
    pd.testing.assert_frame_equal(first, again)  # the order of the rows delivered does not matter
    assert not np.array_equal(first["qualitative_score"], other["qualitative_score"])


def test_draws_must_be_positive():
    with pytest.raises(AnalysisError, match="at least 1"):
        qualitative_draws(UNITS, REVIEWS, WEIGHTS, 0, 7)
