"""DEA (docs/methodology.md §12): the textbook's 12 hospitals, an output-oriented case solved by
hand, peers being efficient units, the mart's group rule, and `kaohe dea` on a Chinese table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagster_project.analysis.dea import DeaError, dea_groups, dea_table, evaluate, min_group_size
from dagster_project.cli import app

# Cooper, Seiford and Tone, Data Envelopment Analysis: hospitals A–L
HOSPITALS = list("ABCDEFGHIJKL")
DOCTORS = [20, 19, 25, 27, 22, 55, 33, 31, 30, 50, 53, 38]
NURSES = [151, 131, 160, 168, 158, 255, 235, 206, 244, 268, 306, 284]
OUTPATIENTS = [100, 150, 160, 180, 94, 230, 220, 152, 190, 250, 260, 250]
INPATIENTS = [90, 50, 55, 72, 66, 90, 88, 80, 100, 100, 147, 120]
CCR = [1, 1, 0.883, 1, 0.763, 0.835, 0.902, 0.796, 0.960, 0.871, 0.955, 0.958]
BCC = [1, 1, 0.896, 1, 0.882, 0.939, 1, 0.799, 0.989, 1, 1, 1]


def _hospitals(rts: str, orientation: str = "input"):
    x, y = np.c_[DOCTORS, NURSES], np.c_[OUTPATIENTS, INPATIENTS]
    return evaluate(HOSPITALS, x, y, ["doctors", "nurses"], ["outpatients", "inpatients"], rts, orientation)


@pytest.mark.parametrize(("rts", "expected"), [("crs", CCR), ("vrs", BCC)])
def test_the_twelve_hospitals_of_the_textbook(rts, expected):
    results = _hospitals(rts)
    assert [r.dmu for r in results] == HOSPITALS
    assert [round(r.efficiency, 3) for r in results] == expected
    # input orientation: targets θ·x − s⁻ and y + s⁺ are reached by the peers' combination
    for r in results:
        peers = [HOSPITALS.index(p) for p in r.peers]
        weights = np.array(list(r.peers.values()))
        assert weights @ np.array(DOCTORS)[peers] == pytest.approx(r.input_targets["doctors"])
        assert weights @ np.array(INPATIENTS)[peers] == pytest.approx(r.output_targets["inpatients"])
        if rts == "vrs":
            assert weights.sum() == pytest.approx(1)


def test_ccr_under_output_orientation_is_the_inverse_of_input_orientation():
    assert [round(r.efficiency, 3) for r in _hospitals("crs", "output")] == CCR
    assert [r.score for r in _hospitals("crs", "output")] == pytest.approx([1 / r.score for r in _hospitals("crs")])


@pytest.mark.parametrize(("rts", "orientation"), [("crs", "input"), ("vrs", "input"), ("vrs", "output")])
def test_peers_are_efficient_units_without_slack(rts, orientation):
    results = {r.dmu: r for r in _hospitals(rts, orientation)}
    for r in results.values():
        assert r.peers and all(w > 1e-9 for w in r.peers.values())
        for peer in r.peers:
            assert results[peer].efficiency == 1.0, (r.dmu, peer)
            assert not any(results[peer].input_slacks.values()) and not any(results[peer].output_slacks.values())
    assert all(0 < r.efficiency <= 1 for r in results.values())


# One input x, one output y; variable returns to scale, output orientation. The frontier for x ≤ 6
# is A (2, 2) – B (4, 6) – C (6, 7).
# D (6, 5): with x ≤ 6 the most output is C's 7 → φ = 7/5, efficiency 5/7, peer C (λ 1), targets (6, 7).
#   (Input orientation would shrink x instead: on A–B, y = 5 at x = 3.5 → θ = 3.5/6.)
# E (8, 7): no output beyond 7 → φ = 1, efficiency 1 radially, but C gives the same with 2 less
#   input: slack_x 2, peer C, targets (6, 7).
HAND = {"A": (2, 2), "B": (4, 6), "C": (6, 7), "D": (6, 5), "E": (8, 7)}


def _hand(orientation: str):
    x = np.array([[v[0]] for v in HAND.values()], dtype=float)
    y = np.array([[v[1]] for v in HAND.values()], dtype=float)
    return {r.dmu: r for r in evaluate(list(HAND), x, y, ["x"], ["y"], "vrs", orientation)}


def test_output_orientation_solved_by_hand():
    results = _hand("output")
    d, e = results["D"], results["E"]
    assert d.score == pytest.approx(1.4) and d.efficiency == pytest.approx(5 / 7)
    assert d.peers == {"C": pytest.approx(1)}
    assert (d.input_slacks, d.output_slacks) == ({"x": 0}, {"y": 0})
    assert (d.input_targets["x"], d.output_targets["y"]) == (pytest.approx(6), pytest.approx(7))
    assert e.efficiency == 1 and e.peers == {"C": pytest.approx(1)}
    assert e.input_slacks == {"x": pytest.approx(2)} and e.input_targets == {"x": pytest.approx(6)}
    assert [results[u].efficiency for u in "ABC"] == [1, 1, 1]
    assert _hand("input")["D"].efficiency == pytest.approx(3.5 / 6)


def _measures(units: dict[str, tuple], group="320100", category="economic", year=2023):
    names = ["establishment", "spend", "weighted_completion", "qualitative_score"]
    return [
        {"year": year, "unit_code": u, "group_code": group, "category": category, "measure": m, "value": v}
        for u, values in units.items()
        for m, v in zip(names, values, strict=True)
    ]


MODEL = pd.DataFrame(
    [
        {"year": 2023, "measure": m, "role": role, "measure_order": i,
         "returns_to_scale": "vrs", "orientation": "input"}
        for i, (m, role) in enumerate(
            [("establishment", "input"), ("spend", "input"), ("weighted_completion", "output"),
             ("qualitative_score", "output")]
        )
    ]
)  # fmt: skip


def test_the_mart_evaluates_groups_of_enough_units_and_says_why_not_the_others():
    assert min_group_size(2, 2) == 12 and min_group_size(1, 1) == 6 and min_group_size(5, 5) == 30
    rows = zip(HOSPITALS, DOCTORS, NURSES, OUTPATIENTS, INPATIENTS, strict=True)
    hospitals = {h: (d, n, o, i) for h, d, n, o, i in rows}
    # a thirteenth unit of the same group without spend is no decision unit: 12 remain, enough
    hospitals["M"] = (30, None, 100, 50)
    small = {"S1": (5, 100.0, 2.0, 80.0), "S2": (6, 120.0, 3.0, 85.0), "S3": (4, 0.0, 1.0, 70.0)}
    measures = pd.DataFrame(_measures(hospitals) + _measures(small, category="social"))
    mart = dea_groups(measures, MODEL).set_index("unit_code")
    assert [round(v, 3) for v in mart.loc[HOSPITALS, "efficiency_vrs"]] == BCC
    assert [round(v, 3) for v in mart.loc[HOSPITALS, "efficiency_crs"]] == CCR
    assert mart.loc["C", "scale_efficiency"] == pytest.approx(
        mart.loc["C", "efficiency_crs"] / mart.loc["C", "efficiency_vrs"]
    )
    assert json.loads(mart.loc["A", "inputs"]) == {"establishment": 20.0, "spend": 151.0}
    peers = json.loads(mart.loc["E", "peers"])  # of the configured model (BCC)
    assert set(peers) <= {h for h, e in zip(HOSPITALS, BCC, strict=True) if e == 1}
    assert sum(peers.values()) == pytest.approx(1)
    assert set(json.loads(mart.loc["E", "targets"])) == {
        "establishment",
        "spend",
        "weighted_completion",
        "qualitative_score",
    }
    assert mart.loc["M", "excluded_reason"] == "missing_input" and pd.isna(mart.loc["M", "efficiency_vrs"])
    assert (mart.loc[HOSPITALS, "decision_units"] == 12).all() and (
        mart.loc[HOSPITALS, "min_decision_units"] == 12
    ).all()
    # the social group: S3 has no spend (0), two decision units of the 12 needed
    assert mart.loc["S3", "excluded_reason"] == "non_positive_input"
    assert list(mart.loc[["S1", "S2"], "excluded_reason"]) == ["group_too_small"] * 2
    assert mart.loc[["S1", "S2", "S3"], "efficiency_crs"].isna().all()


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


HOSPITAL_TABLE = "医院,医生,护士,门诊,住院\n" + "\n".join(
    f"{h},{d},{n},{o},{i}" for h, d, n, o, i in zip(HOSPITALS, DOCTORS, NURSES, OUTPATIENTS, INPATIENTS, strict=True)
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_kaohe_dea_on_a_chinese_table(tmp_path, encoding):
    table = _write(tmp_path / "医院.csv", HOSPITAL_TABLE, encoding)
    out = tmp_path / "out" / "dea.csv"
    args = ["dea", str(table), "--id", "医院", "--inputs", "医生,护士", "--outputs", "门诊，住院", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--rts", "crs"])
    assert result.exit_code == 0, result.output
    assert "12 units, 3 efficient" in result.output
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"dmu": str})
    assert list(frame.columns) == ["dmu", "efficiency", "peers", "slack_医生", "slack_护士", "slack_门诊", "slack_住院",
                                   "target_医生", "target_护士", "target_门诊", "target_住院"]  # fmt: skip
    assert [round(v, 3) for v in frame.efficiency] == CCR
    assert frame.peers[0] == "A:1"
    c = frame.set_index("dmu").loc["C"]
    assert c.peers == "B:0.9;D:0.138889" and c["target_门诊"] == pytest.approx(160)
    bcc = CliRunner().invoke(app, args)  # defaults: vrs, input
    assert bcc.exit_code == 0 and [round(v, 3) for v in pd.read_csv(out, encoding="utf-8-sig").efficiency] == BCC


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        (HOSPITAL_TABLE, ["--inputs", "医生,床位"], "has no column 床位; its columns are 医院, 医生, 护士, 门诊, 住院"),
        (
            HOSPITAL_TABLE.replace("A,20,", "A,0,"),
            [],
            "医生 of A (line 2) is '0'; every input and output must be a number > 0",
        ),
        (HOSPITAL_TABLE.replace("B,19,", "B,,"), [], "医生 of B (line 3) is ''"),
        (HOSPITAL_TABLE.replace("C,25,", "C,多,"), [], "医生 of C (line 4) is '多'"),
        ("\n".join(HOSPITAL_TABLE.splitlines()[:2]), [], "has 1 row(s); DEA needs at least 2 units"),
        (HOSPITAL_TABLE.replace("\nB,", "\nA,"), [], "医院 repeats A; each unit needs its own id"),
        (HOSPITAL_TABLE, ["--rts", "irs"], "returns to scale must be one of crs, vrs, not 'irs'"),
        (HOSPITAL_TABLE, ["--orientation", "both"], "orientation must be one of input, output, not 'both'"),
        (HOSPITAL_TABLE, ["--inputs", "医生,医生"], "a column is named twice among --id, --inputs and --outputs: 医生"),
    ],
)
def test_kaohe_dea_says_what_is_wrong(tmp_path, text, options, message):
    table = _write(tmp_path / "t.csv", text)
    base = {"--id": "医院", "--inputs": "医生,护士", "--outputs": "门诊,住院", "--out": str(tmp_path / "o.csv")}
    for option, value in zip(options[::2], options[1::2], strict=True):
        base[option] = value
    result = CliRunner().invoke(app, ["dea", str(table), *[a for kv in base.items() for a in kv]])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output and not (tmp_path / "o.csv").exists()


def test_a_table_that_is_not_text_is_refused(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DeaError, match="not UTF-8 or GB18030/GBK text"):
        dea_table(table, "id", ["x"], ["y"])
