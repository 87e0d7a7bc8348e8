"""`kaohe export`: the office workbook of a published year, checked against the published marts
of the hand-checked sample (sources/sample)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.outputs.export import DETAIL_SHEETS, export
from tests.sample_units import U1, U4, U5

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workbook(sample_published, tmp_path_factory):
    _, settings, _ = sample_published
    out = tmp_path_factory.mktemp("export") / "ranking.xlsx"
    counts = export(Path(settings.publish_dir), 2023, out)
    return Path(settings.publish_dir), out, counts


def _rows(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def test_the_ranking_sheet_matches_unit_scores_with_chinese_labels(workbook):
    publish_dir, out, counts = workbook
    book = load_workbook(out)
    assert book.sheetnames == ["2023年度排名", "指标完成度", *(s.title for s in DETAIL_SHEETS), "等次不确定单位"]
    con = duckdb.connect(str(publish_dir / "kaohe.duckdb"), read_only=True)
    try:
        scores = {
            r[0]: r[1:]
            for r in con.execute(
                "select unit_code, total_score, rank_in_category, rank_overall, grade, group_code, category "
                "from marts.unit_scores where year = 2023"
            ).fetchall()
        }
        for sheet in DETAIL_SHEETS:  # every detail sheet holds the year's rows of its mart
            published = con.execute(f"select count(*) from marts.{sheet.table} where year = 2023").fetchall()[0][0]
            assert book[sheet.title].max_row - 1 == published == counts[sheet.title], sheet.title
    finally:
        con.close()
    rows = {r["统一社会信用代码"]: r for r in _rows(book["2023年度排名"])}
    assert set(rows) == set(scores) and len(rows) == 6
    grades = {1: "一等", 2: "二等", 3: "三等"}
    categories = {"economic": "服务经济", "social": "社会民生", "support": "综合保障"}
    for code, (total, rank_category, rank_overall, grade, group, category) in scores.items():
        row = rows[code]
        assert Decimal(str(row["总分"])) == total and row["等次"] == grades[grade]
        assert (row["类别内排名"], row["组内总排名"]) == (rank_category, rank_overall)
        assert (row["考核组别"], row["考核类别"]) == (group, categories[category])
        assert row["考核组别名称"] == "南京市"  # GB/T 2260 name of 320100, from dim_region
    # the grade's reason (docs/methodology.md §9): k = floor(0.3 · 5) = 1 grade-1 place in 服务经济
    assert rows[U4]["等次说明"] == "类别内1个一等名额之内"
    assert rows[U5]["等次"] == "三等" and rows[U5]["一票否决"] == "是" and rows[U5]["等次说明"] == "一票否决，定为三等"
    assert rows[U1]["等次说明"] == "达到80分，但类别内1个一等名额已由排名靠前的单位占用"
    # sorted by group, category and rank: the ranking of each category group reads top down
    ranking = [(r["考核类别"], r["类别内排名"]) for r in _rows(book["2023年度排名"])]
    assert ranking == sorted(ranking, key=lambda r: (list(categories.values()).index(r[0]), r[1]))


def test_every_sheet_has_a_frozen_header_filters_and_widths(workbook):
    _, out, _ = workbook
    book = load_workbook(out)
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}", ws.title
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1]), ws.title
    lights = _rows(book["红黄绿灯"])
    assert {r["灯色"] for r in lights} <= {"绿灯", "黄灯", "红灯"} and "原因" in lights[0]
    assert {r["类型"] for r in _rows(book["负面清单"])} == {"越位", "缺位"}


def test_export_of_a_year_not_published_says_which_years_are(workbook, tmp_path):
    publish_dir, _, _ = workbook
    runner = CliRunner()
    done = runner.invoke(
        app, ["export", "--year", "2019", "--out", str(tmp_path / "x.xlsx"), "--publish", str(publish_dir)]
    )
    assert done.exit_code == 2 and "no published ranking of 2019" in done.output and "[2023]" in done.output
    assert not (tmp_path / "x.xlsx").exists()
    missing = runner.invoke(app, ["export", "--year", "2023", "--publish", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no published snapshot" in missing.output


def test_export_to_a_folder_a_wrong_suffix_or_an_unwritable_place_says_so(workbook, tmp_path):
    publish_dir, _, _ = workbook
    runner = CliRunner()
    cases = [
        (tmp_path, "is a folder; give the workbook's file name"),
        (tmp_path / "ranking.csv", "give a name ending in .xlsx"),
        (Path("/proc/kaohe/ranking.xlsx"), "cannot write /proc/kaohe/ranking.xlsx"),
    ]
    for out, message in cases:
        done = runner.invoke(app, ["export", "--year", "2023", "--out", str(out), "--publish", str(publish_dir)])
        assert done.exit_code == 2 and message in done.output, (out, done.output)
        assert done.exception is None or isinstance(done.exception, SystemExit)  # no traceback
