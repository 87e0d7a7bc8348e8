"""The mart unit_dea (docs/methodology.md §12) on the hand-checked sample, as published: its
economic group has 5 units, of which only U1 and U4 have spend (2 decision units of the
max(3·(2 + 2), 2·2) = 12 needed), so no group is evaluated and every unit says why. The solved
path is tested on the textbook's hospitals (tests/unit/test_dea.py); the scale-1 sample's groups
(13–22 units) are evaluated (README)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.sample_units import U1, U2, U3, U4, U5, U6

pytestmark = pytest.mark.e2e


def test_the_sample_groups_are_too_small_and_each_unit_says_why(sample_published):
    _, settings, _ = sample_published
    with duckdb.connect(str(Path(settings.publish_dir) / "kaohe.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select unit_code, inputs, outputs, decision_units, min_decision_units, efficiency_crs, efficiency_vrs, "
            "peers, excluded_reason, returns_to_scale, orientation from marts.unit_dea where year = 2023"
        ).fetchall()
    by_unit = {r[0]: r[1:] for r in rows}
    assert set(by_unit) == {U1, U2, U3, U4, U5, U6}
    assert {u: r[-3] for u, r in by_unit.items()} == {
        U1: "group_too_small", U4: "group_too_small",  # spend > 0, but 2 decision units of 12
        U2: "non_positive_input", U3: "non_positive_input", U5: "non_positive_input",  # no spend
        U6: "non_positive_input",  # the support group's only unit, no spend either
    }  # fmt: skip
    # published exactly as used: E_u on 1 January, Σ executed, Σ d·c = 1.2 + 0.5 + 0.75 + 0.8 + 1, Q_u
    assert json.loads(by_unit[U1][0]) == {"establishment": 6.0, "spend": 114300.0}
    assert json.loads(by_unit[U1][1]) == {"weighted_completion": 4.25, "qualitative_score": 80.5}
    assert json.loads(by_unit[U4][1]) == {"weighted_completion": pytest.approx(2.9), "qualitative_score": 91.5}
    assert by_unit[U1][2:7] == (2, 12, None, None, None) and by_unit[U6][2:4] == (0, 12)
    assert {r[-2:] for r in by_unit.values()} == {("vrs", "input")}
