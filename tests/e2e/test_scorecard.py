"""`kaohe scorecard` / `kaohe scorecards`: the agency feedback pages of the hand-checked sample
(sources/sample), every figure read back from the HTML and compared with the published marts,
and the sample README's hand-computed numbers."""

from __future__ import annotations

import dataclasses
import html
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.outputs.scorecard import read_year, render
from dagster_project.outputs.scorecard_data import num
from tests.sample_units import U1, U2, U3, U4, U5, U6

pytestmark = pytest.mark.e2e
SHOWN = {"indicator", "qualitative", "bonus", "floor"}  # lines of the composition table


class _Elements(HTMLParser):
    """Every element of a page as (tag, attributes, text inside it)."""

    VOID = frozenset({"br", "meta", "rect", "line", "img", "hr", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict, list[str]]] = []
        self.open: list[tuple[str, dict, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        element = (tag, dict(attrs), [])
        self.found.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.found.append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, _, text in self.open:
            text.append(data)


def elements(page: str) -> list[tuple[str, dict, str]]:
    parser = _Elements()
    parser.feed(page)
    return [(tag, attrs, " ".join(" ".join(text).split())) for tag, attrs, text in parser.found]


def by_attr(page: str, name: str) -> dict[str, tuple[str, dict, str]]:
    return {attrs[name]: (tag, attrs, text) for tag, attrs, text in elements(page) if name in attrs}


def shown(value: float, decimals: int = 2) -> str:
    return f"{value:,.{decimals}f}".replace("-", "−")


@pytest.fixture(scope="module")
def cards(sample_published, tmp_path_factory):
    """All 2023 pages of the sample in Chinese (through the CLI), and U1 in English."""
    _, settings, _ = sample_published
    out = tmp_path_factory.mktemp("scorecards")
    publish = settings.publish_dir
    result = CliRunner().invoke(app, ["scorecards", "--year", "2023", "--out", str(out / "zh"), "--publish", publish])
    assert result.exit_code == 0, result.output
    assert "wrote 6 scorecards" in result.output
    english = out / "u1-en.html"
    result = CliRunner().invoke(
        app, ["scorecard", U1, "--year", "2023", "--lang", "en", "--out", str(english), "--publish", publish]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(Path(publish) / "kaohe.duckdb"), read_only=True)
    yield out, con, english
    con.close()


def page_of(cards, unit: str) -> str:
    return (cards[0] / "zh" / f"{unit}.html").read_text(encoding="utf-8")


def test_total_rank_and_grade_equal_unit_scores(cards):
    _, con, _ = cards
    rows = con.execute(
        "select unit_code, total_score, rank_in_category, units_in_category, rank_overall, grade "
        "from marts.unit_scores where year = 2023"
    ).fetchall()
    assert len(rows) == 6
    for unit, total, rank, units, overall, grade in rows:
        ids = by_attr(page_of(cards, unit), "id")
        assert ids["total"][1]["data-total"] == f"{total:.2f}" and ids["total"][2] == f"{total:.2f}"
        rank_attrs = ids["rank"][1]
        assert (rank_attrs["data-rank"], rank_attrs["data-units"], rank_attrs["data-rank-overall"]) == (
            str(rank), str(units), str(overall),
        )  # fmt: skip
        assert (
            ids["grade"][1]["data-grade"] == str(grade) and ids["grade"][2] == {1: "一等", 2: "二等", 3: "三等"}[grade]
        )


def shown_parts(page: str) -> tuple[list[Decimal], Decimal]:
    """The rows of the composition table as shown (indicators, qualitative, bonus, floor, deductions,
    rounding) and the total shown."""
    ids = by_attr(page, "id")
    parts = [Decimal(a["data-points"]) for t, a, _ in elements(page) if t == "tr" and a.get("class") == "line"] + [
        Decimal(ids["deduction-total"][1]["data-points"])
    ]
    if "rounding" in ids:
        parts.append(Decimal(ids["rounding"][1]["data-points"]))
    return parts, Decimal(ids["total"][1]["data-total"])


def test_the_shown_parts_add_up_to_the_shown_total(cards):
    for unit in (U1, U2, U3, U4, U5, U6):
        page = page_of(cards, unit)
        parts, total = shown_parts(page)
        assert sum(parts) == total, unit
        ids = by_attr(page, "id")
        assert ids["sum"][2].split()[-1] == f"{total:,.2f}"
        # every figure as the page writes it: no negative zero anywhere
        assert "−0.00" not in page and "-0.00" not in page


def test_every_line_item_is_on_the_page_with_its_points(cards):
    _, con, _ = cards
    lines = con.execute(
        "select unit_code, line_no, component, code, item_key, points, max_points "
        "from marts.score_line_items where year = 2023 order by unit_code, line_no"
    ).fetchall()
    by_unit: dict[str, list] = {}
    for line in lines:
        by_unit.setdefault(line[0], []).append(line)
    for unit, unit_lines in by_unit.items():
        page = page_of(cards, unit)
        rows = {
            attrs["data-line"]: (attrs, text)
            for tag, attrs, text in elements(page)
            if tag == "tr" and attrs.get("data-line")
        }
        for _, line_no, component, code, item_key, points, max_points in unit_lines:
            attrs, text = rows[str(line_no)]
            assert attrs["data-code"] == code
            assert shown(points) in text and Decimal(attrs["data-points"]) == Decimal(f"{points:.2f}")
            if component in SHOWN and max_points is not None:
                assert shown(max_points) in text
            if component == "deduction":
                assert float(attrs["data-raw-points"]) == pytest.approx(points, abs=1e-6)
                assert item_key in text
        deductions = sum(Decimal(f"{p:.2f}") for _, _, component, _, _, p, _ in unit_lines if component == "deduction")
        assert Decimal(by_attr(page, "id")["deduction-total"][1]["data-points"]) == deductions


def test_rules_are_words_with_the_years_numbers(cards):
    rules = {
        a["data-code"]: text
        for t, a, text in elements(page_of(cards, U1))
        if t == "tr" and a.get("class") == "deduction"
    }
    assert rules["red_light"] == "红灯任务 T102 −0.50 最新为红灯的任务每项扣0.5分，封顶3分 年度目标任务：T102"
    assert "每项扣0.2分，与缺少季度节点、未落实责任处室合计封顶3分" in rules["not_quantified"]


def test_hand_checked_figures_of_the_sample_readme(cards):
    """Indicator achievements and points, a not-applicable indicator, grade reasons, the support group."""
    page = page_of(cards, U1)
    bars = {a["data-code"]: a for t, a, _ in elements(page) if t == "rect" and "data-achievement" in a}
    # U1 has all six indicators; key work 0.85, reform 0.75, excellence 0.9 (sources/sample/README.md)
    assert float(bars["key_work"]["data-achievement"]) == pytest.approx(0.85)
    assert float(bars["reform"]["data-achievement"]) == pytest.approx(0.75)
    assert float(bars["excellence"]["data-achievement"]) == pytest.approx(0.9)
    rows = {a["data-code"]: text for t, a, text in elements(page) if t == "tr" and a.get("class") == "line"}
    assert rows["key_work"].split()[-2:] == ["27.20", "32.00"]  # 0.8·40·0.85 of 0.8·40
    assert rows["excellence"].split()[-2:] == ["7.20", "8.00"]
    # U2: reform, market and grassroots not applicable; 40/15/10 scaled by 100/65
    page = page_of(cards, U2)
    bars = {a["data-code"] for t, a, _ in elements(page) if t == "rect" and "data-achievement" in a}
    assert bars == {"key_work", "fiscal", "excellence"}
    not_applicable = [text for tag, a, text in elements(page) if tag == "tr" and a.get("data-code") == "reform"]
    assert not_applicable == ["改革任务 不适用（权重已按比例分配给其他指标）"]
    reasons = {u: by_attr(page_of(cards, u), "id")["grade-reason"][2] for u in (U1, U4, U5, U6)}
    assert reasons == {
        U1: "理由：达到80分，但类别内1个一等名额已由排名靠前的单位占用",  # 81.96; U5 vetoed, U4 takes it
        U4: "理由：类别内1个一等名额之内",  # k = floor(0.3·5) = 1
        U5: "理由：一票否决，定为三等",
        U6: "理由：总分低于60分",
    }
    assert (
        by_attr(page_of(cards, U6), "id")["rank"][2]
        == "在南京市综合保障类 1 个单位中排第 1 名；在南京市全部单位中排第 6 名"
    )


def test_indicators_are_compared_with_the_group_as_achievement(cards):
    _, con, _ = cards
    codes = ["key_work", "reform", "fiscal", "market_service", "grassroots_service", "excellence"]
    medians = con.execute(
        "select " + ", ".join(f"median(s_{c})" for c in codes) + " from marts.unit_scores "
        "where year = 2023 and category = 'economic'"
    ).fetchone()
    page = page_of(cards, U1)  # all six indicators applicable: six bars, six median ticks
    ticks = {
        a["data-code"]: float(a["data-median"]) for t, a, _ in elements(page) if t == "line" and "data-median" in a
    }
    assert ticks == pytest.approx(dict(zip(codes, medians, strict=True)))
    for tag, attrs, text in elements(page):
        if tag == "tr" and attrs.get("class") == "line" and attrs["data-code"] in ticks:
            median = ticks[attrs["data-code"]]
            assert f"{100 * median:.1f}%" == text.split()[-3]  # the median column, as a percentage
    ratio = con.execute(
        "select median(posts_per_key_task) from marts.unit_efficiency join marts.unit_scores using (year, unit_code) "
        "where category = 'economic'"
    ).fetchall()[0][0]
    measure = by_attr(page_of(cards, U3), "data-measure")["posts_per_key_task"][2]
    assert measure.split()[-1] == shown(ratio, 3)


def test_distance_to_the_grade_lines(cards):
    """U1 (81.96) is second to U4 (82.47, the category's one grade-1 place): 0.51 short of it, 1.96 above
    80 and 21.96 above 60."""
    lines = {a["data-line-key"]: text for t, a, text in elements(page_of(cards, U1)) if "data-line-key" in a}
    assert lines == {
        "grade1_last": "类别一等末位单位总分 82.47 还差 0.51 分",
        "grade1_min": "一等最低分数线 80.00 高出 1.96 分",
        "grade3_below": "三等线（低于此分为三等） 60.00 高出 21.96 分",
    }
    u4 = {a["data-line-key"]: text for t, a, text in elements(page_of(cards, U4)) if "data-line-key" in a}
    assert u4["grade1_last"].endswith("已在一等名额内")


def test_the_heat_strip_shows_every_light_of_every_task(cards):
    _, con, _ = cards
    for unit in (U1, U4):
        lights = con.execute(
            "select task_id, quarter, light from marts.task_lights where unit_code = ? and year = 2023", [unit]
        ).fetchall()
        tasks = {
            t for (t,) in con.execute("select task_id from marts.task_scores where unit_code = ?", [unit]).fetchall()
        }
        found = elements(page_of(cards, unit))
        assert {a["data-task"] for tag, a, _ in found if tag == "tr" and "data-task" in a} == tasks
        strip = {(a["data-task"], int(a["data-quarter"])): a["data-light"] for tag, a, _ in found if "data-light" in a}
        assert strip == {(t, q): light for t, q, light in lights}
    page = page_of(cards, U4)
    cells = {
        (a["data-task"], a["data-quarter"]): (a["title"], text) for t, a, text in elements(page) if "data-light" in a
    }
    assert cells[("T403", "2")] == ("虚报", "红灯 虚报")


def improvement_items(page: str) -> list[tuple[str, str, Decimal, str]]:
    return [
        (a["data-kind"], a["data-key"], Decimal(a["data-gain"]), text)
        for t, a, text in elements(page)
        if t == "li" and "data-kind" in a
    ]


def test_what_to_improve_is_ordered_by_the_points_each_step_gains(cards):
    u1 = improvement_items(page_of(cards, U1))
    # indicators short of their maximum (max − points), then the deduction lines, then steps that gain nothing
    assert [(k, key, str(gain)) for k, key, gain, _ in u1] == [
        ("indicator", "key_work", "4.80"),  # 32 − 27.20
        ("indicator", "fiscal", "4.44"),  # 12 − 7.56
        ("indicator", "reform", "3.00"),  # 12 − 9.00
        ("indicator", "excellence", "0.80"),  # 8 − 7.20
        ("red", "T102", "0.50"),  # latest light red, Q4 gap 50
        ("not_quantified", "T102", "0.20"),
        ("no_quarterly_milestones", "T103", "0.20"),
        ("no_division", "T104", "0.20"),
        ("outside_duty", "T106", "0"),  # 越位 (negative list): not scored, costs nothing
        ("late", "T101", "0"),  # Q3 reported 20 days after the quarter
        ("late", "T102", "0"),  # T102–T105 report only in Q4: Q1–Q3 not reported
        ("late", "T103", "0"),
        ("late", "T104", "0"),
        ("late", "T105", "0"),
    ]
    texts = {(k, key): text for k, key, _, text in u1}
    assert texts[("red", "T102")] == (
        "任务 T102「甲局重点工作二（未量化）」最新为红灯（严重滞后），请制定赶进度措施 （可增加 0.50 分） "
        "规则：最新为红灯的任务每项扣0.5分，封顶3分"
    )
    assert texts[("late", "T102")].startswith("任务 T102「甲局重点工作二（未量化）」第 1、2、3 季度进度未按时报送")
    assert "（不直接影响得分）" in texts[("late", "T102")]
    for unit in (U1, U2, U3, U4, U5, U6):
        gains = [gain for _, _, gain, _ in improvement_items(page_of(cards, unit))]
        assert gains == sorted(gains, reverse=True), unit
    u6 = improvement_items(page_of(cards, U6))
    assert ("missing_core_duty", "Z02", Decimal("1.00")) in [(k, key, g) for k, key, g, _ in u6]
    u4 = [(k, key) for k, key, _, _ in improvement_items(page_of(cards, U4))]
    assert ("false_report", "T403") in u4 and ("incident", "I1") in u4


def visible_words(page: str, codes: set[str]) -> set[str]:
    """Latin words a reader sees on a page (not in <style>, attributes or tags), codes taken out."""
    text = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for code in codes:
        text = text.replace(code, " ")
    return set(re.findall(r"[A-Za-z]{2,}", text))


def test_the_chinese_pages_have_no_english_word(cards):
    _, con, _ = cards
    codes = {run for (run,) in con.execute("select run_id from marts.publication").fetchall()}
    for unit in (U1, U2, U3, U4, U5, U6):
        assert visible_words(page_of(cards, unit), codes) == set(), unit
    english = visible_words(cards[2].read_text(encoding="utf-8"), codes)
    assert {"Total", "Deductions", "Rule"} <= english  # the test sees words where there are some


def test_staffing_signals_say_their_figures_in_chinese(cards):
    """U1: 7 people on 6 posts → over establishment by 1; 5 tasks × 6 person-months = 30 over 12 · 7 = 84
    → saturation 0.357 under 0.6 (staffing_signals.detail). The English page names the signals only."""
    signals = {a["data-signal"]: text for tag, a, text in elements(page_of(cards, U1)) if "data-signal" in a}
    assert signals == {
        "compliance": "合规整改 ：超编 1 人",  # the label in bold, then its detail
        "review_candidate": "核减评估候选 ：工作饱满度 0.357 低于 0.6（30 人月，在编 7 人）",
    }
    english = {
        a["data-signal"]: text for tag, a, text in elements(cards[2].read_text(encoding="utf-8")) if "data-signal" in a
    }
    assert english == {"compliance": "compliance", "review_candidate": "candidate for a staffing review"}


def test_english_page_and_index(cards):
    out, _, english = cards
    page = english.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "How the score is made" in page and ">grade 2<" in page
    reason = by_attr(page, "id")["grade-reason"][2]
    assert reason == "Why: total ≥ 80, but the category's grade-1 places (1) went to higher ranks"
    index = (out / "zh" / "index.html").read_text(encoding="utf-8")
    links = [a["href"] for t, a, _ in elements(index) if t == "a"]
    assert sorted(links) == sorted(f"{u}.html" for u in (U1, U2, U3, U4, U5, U6))
    assert all((out / "zh" / link).exists() for link in links)


def test_lines_kept_from_before_max_points_still_render(sample_published):
    """A final ranking kept from an older publication has no max_points (null): the page shows the
    points without a maximum, never 'nan'."""
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    older = dataclasses.replace(results, lines=results.lines.assign(max_points=float("nan")))
    page = render(older, U1)
    assert "nan" not in page.lower()
    rows = {a["data-code"]: text for t, a, text in elements(page) if t == "tr" and a.get("class") == "line"}
    assert rows["key_work"].split()[-2:] == ["27.20", "—"]


def test_a_rounding_row_keeps_the_sum_when_rounded_lines_do_not_add_up(sample_published):
    """Lines that add up to the total unrounded but not once each is rounded to the cent: the page
    shows the difference as a rounding row (27.204 + 9.004 + 7.552 → 27.20 + 9.00 + 7.55, 0.01 short)."""
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    lines = results.lines.copy()
    for code, change in (("key_work", 0.004), ("reform", 0.004), ("fiscal", -0.008)):
        lines.loc[(lines["unit_code"] == U1) & (lines["code"] == code), "points"] += change
    page = render(dataclasses.replace(results, lines=lines), U1)
    parts, total = shown_parts(page)
    assert by_attr(page, "id")["rounding"][1]["data-points"] == "0.01"
    assert sum(parts) == total == Decimal("81.96")


def test_an_interim_page_shows_the_stage_and_no_grade(sample_published):
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    page = render(dataclasses.replace(results, scores=results.scores.assign(stage="q3_monitoring")), U1)
    ids = by_attr(page, "id")
    # the page dates the ranking by its evaluation date d_Y (the published as_of: 15 January 2024 for
    # the run as of 2024-01-31), not by the day of the run
    assert ids["interim"][2] == (
        "阶段性结果（三季度监测），截至 2024-01-15；阶段性排名不评定等次，年终评价后以最终排名为准。"
    )
    assert ids["stage"][2] == "三季度监测" and ids["grade"][2] == "未评定等次" and ids["grade"][1]["data-grade"] == ""
    assert "grade-lines" not in ids and ids["grade-reason"][2] == "理由：阶段性排名，不评定等次"
    assert "interim" not in by_attr(render(results, U1), "id")  # year end


def test_last_year_is_compared_when_published(sample_published):
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    assert results.last_year == {}  # the sample publishes 2023 only
    last = {U1: {"total_score": 80.5, "rank_in_category": 2, "units_in_category": 5, "grade": 2, "stage": "year_end"}}
    page = render(dataclasses.replace(results, last_year=last), U1)
    assert by_attr(page, "id")["last-year"][2] == (
        "上年度对比 2022年度：总分 80.50，在类别 5 个单位中排第 2 名，二等；总分变化 +1.46 分"
    )


def test_a_unit_missing_from_the_register_is_told_what_to_fix(sample_published):
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    scores = results.scores.copy()
    scores.loc[scores["unit_code"] == U6, "unit_name"] = None
    page = render(dataclasses.replace(results, scores=scores), U6)
    ids = by_attr(page, "id")
    assert ids["unit-name"][2] == "（未在实名制系统登记）"
    assert "编办" in ids["register-ask"][2] and U6 in ids["register-ask"][2]


def test_numbers_never_show_a_negative_zero():
    assert [num(v) for v in (-0.0, -0.004, 0.004, -1.5, 1234.5)] == ["0.00", "0.00", "0.00", "−1.50", "1,234.50"]
    assert num(None) == "—" and num(float("nan")) == "—"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scorecard", "91320100MA0000000X", "--year", "2023"], "no published score of 91320100MA0000000X for 2023"),
        (["scorecard", U1, "--year", "2019"], "no published ranking of 2019"),
        (["scorecard", U1, "--year", "2023", "--lang", "fr"], "--lang fr: choose one of zh, en"),
        (["scorecard", U1, "--year", "2023", "--audience", "press"], "--audience press: choose one of unit, office"),
        (["scorecard", U1, "--year", "2023", "--out", "{tmp}"], "is a folder"),
        (["scorecard", U1, "--year", "2023", "--out", "{tmp}/card.txt"], "ending in .html"),
        (["scorecards", "--year", "2023", "--out", "{tmp}/file.html"], "is a file"),
    ],
)
def test_bad_requests_are_one_line_errors(cards, sample_published, tmp_path, args, message):
    (tmp_path / "file.html").write_text("x")
    publish = sample_published[1].publish_dir
    result = CliRunner().invoke(app, [*(a.replace("{tmp}", str(tmp_path)) for a in args), "--publish", publish])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_no_publication_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["scorecards", "--year", "2023", "--publish", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no published snapshot at" in result.output


def test_a_veto_and_an_incident_deduction_name_their_incident(sample_published):
    """With unit_incidents published, the vetoed unit (U5, incident I2 of the sample) and the unit with
    a criticism (U4, I1, 0.5 points) are told which incident and what it did."""
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    incidents = {
        U5: [{"id": "I2", "kind": "veto", "points": None, "vetoes": True, "deducted": False}],
        U4: [{"id": "I1", "kind": "criticism", "points": Decimal("0.50"), "vetoes": False, "deducted": True}],
    }
    if "incidents" not in results.extensions:  # a publication without unit_incidents: the section's data by hand
        results = dataclasses.replace(results, extensions={**results.extensions, "incidents": incidents})
    rows = {
        u: [(a["data-incident"], text) for t, a, text in elements(render(results, u)) if "data-incident" in a]
        for u in (U4, U5)
    }
    assert rows[U5] == [("I2", "I2 一票否决 一票否决：不论总分，定为三等")]
    assert rows[U4] == [("I1", "I1 通报批评 −0.50 按规定分值从总分中扣除")]
    assert "incidents" not in by_attr(render(results, U1), "id")  # no incident, no section
