"""`kaohe export`: the office workbook of a published year, checked against the published marts
of the hand-checked sample (sources/sample)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.outputs.export import DETAIL_SHEETS, OPTIONAL_SHEETS, export
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
    con = duckdb.connect(str(publish_dir / "kaohe.duckdb"), read_only=True)
    try:
        published = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        optional = [s.title for s in OPTIONAL_SHEETS if s.table in published]
        assert book.sheetnames == [
            "封面", "2023年度排名", "指标完成度", *(s.title for s in DETAIL_SHEETS), *optional, "等次不确定单位"
        ]  # fmt: skip
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
    for ws in book.worksheets[1:]:  # the cover sheet is a list of items, not a table
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}", ws.title
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1]), ws.title
        # printed on A4 landscape, one page wide, the header row on every page
        assert (ws.page_setup.orientation, ws.page_setup.paperSize, ws.print_title_rows) == ("landscape", 9, "$1:$1")
        fit = (
            ws.page_setup.fitToWidth or 1,
            ws.page_setup.fitToHeight,
        )  # 1 wide (the default, not written), 0: any height
        assert ws.sheet_properties.pageSetUpPr.fitToPage and fit == (1, 0), ws.title
        # every header is Chinese (the published column's name, not its code)
        assert all(re.search(r"[\u4e00-\u9fff]", str(c.value)) for c in ws[1]), [c.value for c in ws[1]]
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


def test_the_cover_sheet_says_which_publication_as_of_when_and_how_to_read(workbook):
    publish_dir, out, counts = workbook
    cover = load_workbook(out)["封面"]
    assert cover["A1"].value == "2023年度机关单位绩效评价结果"
    items: dict[str, list] = {}
    current = None
    for item, value in cover.iter_rows(min_row=4, max_col=2, values_only=True):
        current = item or current
        items.setdefault(current, []).append(value)
    con = duckdb.connect(str(publish_dir / "kaohe.duckdb"), read_only=True)
    try:
        run_id, fingerprint = con.execute(
            "select any_value(run_id), any_value(inputs_fingerprint) from marts.publication"
        ).fetchone()
        deliveries = con.execute("select delivery, count(*) from marts.source_loads group by 1 order by 1").fetchall()
    finally:
        con.close()
    assert items["考核年度"] == [2023] and items["发布批次（运行编号）"] == [run_id]
    assert items["运行评价基准日"] == [datetime(2024, 1, 31)] and items["本年度评价日期 d_Y"] == [datetime(2024, 1, 15)]
    assert items["阶段"] == ["年终评价"] and items["排名状态"] == ["年终排名（最终）"]
    assert items["数据批次"] == [f"{d}：{n} 张表" for d, n in deliveries] and sum(n for _, n in deliveries) == 14
    assert items["输入指纹"] == [fingerprint] and len(fingerprint) == 64
    assert isinstance(items["生成时间"][0], datetime)
    assert items["工作表"] == [f"{sheet}：{rows:,} 行" for sheet, rows in counts.items()]
    assert len(items["阅读说明"]) == 5
    assert cover["B6"].number_format == "yyyy-mm-dd"


def test_numbers_dates_names_rules_and_lights_as_the_office_reads_them(workbook):
    _, out, _ = workbook
    book = load_workbook(out)
    ranking = book["2023年度排名"]
    formats = {c.value: ranking.cell(2, c.column).number_format for c in ranking[1]}
    assert formats["总分"] == "0.00" and formats["扣分"] == "0.00" and formats["评价基准日"] == "yyyy-mm-dd"
    assert isinstance(ranking.cell(2, [c.value for c in ranking[1]].index("评价基准日") + 1).value, datetime)
    indicators = book["指标完成度"]
    shown = {
        cell.number_format
        for c in indicators[1]
        if c.value.endswith("完成度")
        for cell in next(indicators.iter_cols(min_col=c.column, max_col=c.column, min_row=2))
        if cell.value is not None
    }
    assert shown == {"0.0%"}
    # the unit's name beside every unit code, on every sheet
    names = {r["统一社会信用代码"]: r["机构名称"] for r in _rows(ranking)}
    for ws in book.worksheets[3:]:
        header = [c.value for c in ws[1]]
        code = next(i for i, h in enumerate(header) if h in ("统一社会信用代码", "单位", "责任单位"))
        assert header[code + 1] in ("单位名称", "机构名称"), ws.title
        for row in ws.iter_rows(min_row=2, values_only=True):
            assert row[code + 1] == names[row[code]], (ws.title, row)
    # rules in words with the year's numbers
    lines = [r for r in _rows(book["得分明细"]) if r["统一社会信用代码"] == U1]
    red = next(r for r in lines if r["指标或原因代码"] == "红灯任务")
    assert red["计分规则"] == "最新为红灯的任务每项扣0.5分，封顶3分" and red["构成"] == "扣分"
    assert {r["指标或原因代码"] for r in lines} >= {"重点工作", "定性评议", "任务未量化"}
    # lights coloured: a rule per colour on the light column
    lights = book["红黄绿灯"]
    column = next(c.column_letter for c in lights[1] if c.value == "灯色")
    rules = {
        rule.formula[0]: rule.dxf.fill.bgColor.rgb
        for ranges in lights.conditional_formatting
        if str(ranges.sqref).startswith(f"{column}2")
        for rule in ranges.rules
    }
    assert rules == {'"绿灯"': "FF2DA44E", '"黄灯"': "FFD4A72C", '"红灯"': "FFCF222E"}


def test_an_interim_publication_exports_with_its_stage_and_no_grade(workbook, tmp_path):
    """The sample's publication made interim by hand (half-year stage, no grade, as a half-year run
    publishes it): the workbook is written, its ranking sheet has no grade and the cover says the stage."""
    publish_dir, _, _ = workbook
    interim = tmp_path / "published"
    interim.mkdir()
    con = duckdb.connect(str(interim / "kaohe.duckdb"))
    try:
        con.execute(f"attach '{publish_dir / 'kaohe.duckdb'}' as year_end (read_only)")
        con.execute("copy from database year_end to kaohe")
        con.execute(
            "update marts.unit_scores set grade = null, grade1_slots = null, ranking_status = 'interim', "
            "stage = 'half_year' where year = 2023"
        )
    finally:
        con.close()
    out = tmp_path / "interim.xlsx"
    counts = export(interim, 2023, out)
    book = load_workbook(out)
    rows = _rows(book["2023年度排名"])
    assert counts["2023年度排名"] == len(rows) == 6
    assert {r["等次"] for r in rows} == {None}
    cover = {item: value for item, value in book["封面"].iter_rows(min_row=4, max_col=2, values_only=True) if item}
    assert cover["阶段"] == "半年评估"


def test_the_data_issues_sheet_shows_the_reasons_labels_and_the_chinese_detail(workbook, tmp_path):
    """Two issues added by hand to a copy of the sample's publication: the 数据问题 sheet labels each
    rejection reason of a row (dim_rejection_reason; two reasons joined by 、) and shows the Chinese
    detail; the English one (detail_en, for English pages) is not a column of the office's sheet."""
    publish_dir, _, _ = workbook
    copied = tmp_path / "published"
    copied.mkdir()
    con = duckdb.connect(str(copied / "kaohe.duckdb"))
    try:
        con.execute(f"attach '{publish_dir / 'kaohe.duckdb'}' as sample (read_only)")
        con.execute("copy from database sample to kaohe")
        con.execute(
            "insert into marts.unit_data_issues values "
            f"(2023, '{U1}', 1, 'rejected_row', 'staffing.establishment', '20240131', 4, 'bad_type', "
            "'核定编制数：类型不符', 'approved_count: wrong type'), "
            f"(2023, '{U1}', 2, 'carried_forward', 'performance.roster', '20240131', 3, 'bad_type+duplicate_key', "
            "'统一社会信用代码、考核年度：主键重复；考核年度：类型不符；已沿用 20240120 批次第 3 行', "
            "'unit_code+year: duplicate key; year: wrong type — kept: delivery 20240120, line 3')"
        )
    finally:
        con.close()
    out = tmp_path / "issues.xlsx"
    export(copied, 2023, out)
    rows = _rows(load_workbook(out)["数据问题"])
    assert [(r["问题"], r["原因"], r["说明"]) for r in rows] == [
        ("数据行被拒收", "类型不符", "核定编制数：类型不符"),
        (
            "沿用上一批次数据",
            "类型不符、主键重复",
            "统一社会信用代码、考核年度：主键重复；考核年度：类型不符；已沿用 20240120 批次第 3 行",
        ),
    ]
    assert "英文说明" not in rows[0] and "detail_en" not in rows[0]
