"""`kaohe whatif` on the published sample (docs/methodology.md §14; sources/sample/README.md has
the published totals by hand). Nothing published and nothing in the working warehouse changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import pandas as pd
from typer.testing import CliRunner

from dagster_project.cli import app
from tests.sample_units import U1, U2, U3, U4, U5, U6

# Key work 35 and excellence 15 instead of 40 and 10, and grade-1 places floor(0.4 · 5) = 2:
# U1 0.8·(35·0.85 + 15·0.75 + 15·0.630202… + 10 + 10 + 15·0.9) + 16.1 − 1.10 = 82.162429… → 82.16, grade 1
#    (it was 81.96, grade 2: the second grade-1 place); its key-work line −0.8·5·0.85 = −3.4, excellence +3.6.
# U2, U3 (40+15+10 → 35+15+15 = 65): 0.8·(35 + 15·0.3)·100/65 + 18 = 66.615384… → 66.62
# U4 (over 80): 0.8·(35·2/3 + 15·0.9 + 15 + 15)·100/80 + 18.3 + 1 − 2 = 84.133333… → 84.13, grade 1
# U5 0.8·(35 + 4.5 + 15)·100/65 + 20 = 87.076923… → 87.08 (unchanged), grade 3 (veto)
# U6 0.8·(35·0.8 + 4.5)·100/65 − 1.2 = 38.80, grade 3
WEIGHTS = {
    "methodology_indicators.csv": "year,indicator_code,indicator_order,name_zh,name_en,weight,always_applicable\n"
    "2023,key_work,1,重点工作,Key work,35,true\n2023,excellence,6,争先创优,Excellence and awards,15,true\n",
    "methodology_parameters.csv": "year,parameter,value,description\n2023,grade1_share,0.4,一等次比例\n",
}
# One key task per 6 posts in the economic category: U1 N = 1 → s = 1: 0.8·(40 + 11.25 + 9.453036… + 10 + 10 + 9)
# + 16.1 − 1.1 = 86.762429… → 86.76; U4 N = ceil(9/6) = 2 → s = 1: 0.8·78.5·100/80 + 18.3 + 1 − 2 = 95.80,
# now first of the category, ahead of U5 (87.08); U2, U3 (s = 1 already) and U6 (support) unchanged.
STAFFING = {"methodology_staffing_ratio.csv": "year,category,name_zh,posts_per_key_task\n2023,economic,服务经济,6\n"}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def fingerprint(*roots: Path) -> dict[str, tuple[str, int]]:
    """Content and modification time of every file under the publication and the warehouse."""
    files = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files}


def test_whatif_of_weights_and_grade1_places(tmp_path, sample_published):
    _, settings, _ = sample_published
    warehouse, publish = Path(settings.warehouse), Path(settings.publish_dir)
    before = fingerprint(warehouse.parent, publish)
    out = tmp_path / "out"
    args = ["whatif", str(write(tmp_path / "proposal", WEIGHTS)), "--year", "2023",
            "--warehouse", str(warehouse), "--publish", str(publish), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 change grade (1 up, 0 down)" in result.output
    scores = pd.read_csv(out / "unit_scores.csv", dtype={"unit_code": str}).set_index("unit_code")
    totals = {U1: 82.16, U2: 66.62, U3: 66.62, U4: 84.13, U5: 87.08, U6: 38.80}
    assert scores["total_score"].to_dict() == totals
    assert scores["grade"].to_dict() == {U1: 1, U2: 2, U3: 2, U4: 1, U5: 3, U6: 3}
    assert scores.loc[U1, "grade1_slots"] == 2
    changes = pd.read_excel(out / "comparison.xlsx", sheet_name="等次变化", dtype={"统一社会信用代码": str})
    assert changes[["统一社会信用代码", "现行等次", "方案等次", "现行总分", "方案总分"]].values.tolist() == [
        [U1, "二等", "一等", 81.96, 82.16]
    ]
    lines = pd.read_excel(out / "comparison.xlsx", sheet_name="变动明细", dtype={"统一社会信用代码": str})
    assert {(r["项目"], round(r["变化"], 9)) for _, r in lines.iterrows()} == {("重点工作", -3.4), ("争先创优", 3.6)}
    page = (out / "comparison.html").read_text(encoding="utf-8")
    assert "南京市甲局" in page and "82.16" in page and "81.96" in page
    # nothing published and nothing in the working warehouse changed
    assert fingerprint(warehouse.parent, publish) == before


def test_whatif_of_the_staffing_ratio_from_the_dagster_job(tmp_path, sample_published):
    from dagster_project.analysis.jobs import WhatIfConfig, whatif_job

    _, settings, _ = sample_published
    out = tmp_path / "out"
    config = WhatIfConfig(proposal_dir=str(write(tmp_path / "proposal", STAFFING)), year=2023, out_dir=str(out))
    result = whatif_job.execute_in_process(
        run_config=dg.RunConfig(ops={"whatif_comparison": config}), resources={"kaohe": settings}
    )
    assert result.success
    scores = pd.read_csv(out / "unit_scores.csv", dtype={"unit_code": str}).set_index("unit_code")
    assert scores["total_score"].to_dict() == {U1: 86.76, U2: 72.77, U3: 72.77, U4: 95.80, U5: 87.08, U6: 43.72}
    assert scores.loc[[U1, U4], "required_key_tasks"].tolist() == [1, 2]
    assert scores.loc[[U4, U5, U1], "rank_in_category"].tolist() == [1, 2, 3]
    units = pd.read_excel(out / "comparison.xlsx", sheet_name="单位对比", dtype={"统一社会信用代码": str})
    moved = units.set_index("统一社会信用代码").loc[[U4, U5], ["现行类别排名", "方案类别排名", "排名上升"]]
    assert moved.values.tolist() == [[2, 1, 1], [1, 2, -1]]


def test_a_bad_proposal_is_refused_and_nothing_is_written(tmp_path, sample_published):
    _, settings, _ = sample_published
    bad = {"methodology_indicators.csv": WEIGHTS["methodology_indicators.csv"].replace(",15,true\n", ",10,true\n")}
    out = tmp_path / "out"
    args = ["whatif", str(write(tmp_path / "proposal", bad)), "--year", "2023", "--warehouse", settings.warehouse,
            "--publish", settings.publish_dir, "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "methodology_indicators.csv lines 2, 3: the weights of 2023 sum to 95" in result.output
    assert "rule: the weights of a year sum to 100" in result.output
    assert not out.exists()
