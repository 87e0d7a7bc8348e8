"""The scorecard's DEA section (outputs/findings.py, templates/sections/dea.html.j2): the textbook's
hospitals as a published unit_dea, read back and shown in words with the peers' names."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from dagster_project.analysis.dea import dea_groups
from dagster_project.outputs.findings import read_dea
from dagster_project.outputs.scorecard import environment
from dagster_project.outputs.scorecard_data import texts
from tests.unit.test_dea import BCC, DOCTORS, HOSPITALS, INPATIENTS, MODEL, NURSES, OUTPATIENTS, _measures


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    rows = zip(HOSPITALS, DOCTORS, NURSES, OUTPATIENTS, INPATIENTS, strict=True)
    # spend in yuan: the nurses' numbers times 10,000, so the page shows them in 万元 as they are
    units = {h: (d, n * 10_000.0, o, i) for h, d, n, o, i in rows}
    unit_dea = dea_groups(pd.DataFrame(_measures(units)), MODEL)
    unit_scores = pd.DataFrame({"year": 2023, "unit_code": HOSPITALS, "unit_name": [f"{h}医院" for h in HOSPITALS]})
    con = duckdb.connect(str(tmp_path_factory.mktemp("dea") / "p.duckdb"))
    con.execute("create schema marts")
    con.register("dea_frame", unit_dea)
    con.register("scores_frame", unit_scores)
    con.execute("create table marts.unit_dea as select * from dea_frame")
    con.execute("create table marts.unit_scores as select * from scores_frame")
    yield con, unit_dea.set_index("unit_code")
    con.close()


def _render(section, lang="zh") -> str:
    page = environment().get_template("sections/dea.html.j2")
    return " ".join(page.render(section=section, t=texts()[lang], L=lambda d, c: c).split())


def test_an_inefficient_unit_reads_its_targets_and_peers_by_name(published):
    con, mart = published
    sections = read_dea(con, 2023)
    e = sections["E"]
    assert e["efficiency"] == pytest.approx(0.882, abs=5e-4) and not e["efficient"]
    targets = json.loads(mart.loc["E", "targets"])
    peers = json.loads(mart.loc["E", "peers"])
    assert [p["name"] for p in e["peers"]] == [f"{p}医院" for p, _ in sorted(peers.items(), key=lambda p: -p[1])]
    page = _render(e)
    posts, spend = targets["establishment"], targets["spend"] / 10_000
    assert f"同等产出下，编制可为 {posts:,.1f} 名、支出可为 {spend:,.1f} 万元" in page
    assert "效率 0.882（可变规模报酬，投入导向）" in page
    assert "参照单位：" in page and all(f"{p}医院" in page for p in peers)
    assert "这是一项发现，不是得分" in page
    assert "For the same outputs, posts could be" in _render(e, "en")


def test_an_efficient_unit_is_told_so_and_an_excluded_one_why(published):
    con, _ = published
    sections = read_dea(con, 2023)
    assert [sections[h]["efficient"] for h in HOSPITALS] == [e == 1 for e in BCC]
    assert "本单位处于效率前沿" in _render(sections["A"]) and not sections["A"]["peers"]
    excluded = {"excluded_reason": "group_too_small", "decision_units": 5, "min_decision_units": 12}
    assert "同组可比单位 5 个，少于所需的 12 个，本年度未作效率前沿分析。" in _render(excluded)
