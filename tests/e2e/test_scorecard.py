"""`kaohe scorecard` / `kaohe scorecards`: the agency feedback pages of the hand-checked sample
(sources/sample), every figure read back from the HTML and compared with the published marts,
and the sample README's hand-computed numbers."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.outputs.scorecard import read_year, render
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


def test_every_line_item_is_on_the_page_with_its_points(cards):
    _, con, _ = cards
    lines = con.execute(
        "select unit_code, line_no, component, code, item_key, points, max_points, rule "
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
        bars = {a["data-code"]: a for t, a, _ in elements(page) if t == "rect" and "data-points" in a}
        for _, line_no, component, code, item_key, points, max_points, rule in unit_lines:
            attrs, text = rows[str(line_no)]
            assert attrs["data-code"] == code
            assert shown(points) in text
            if component in SHOWN and max_points is not None:
                assert shown(max_points) in text
            if component == "deduction":
                assert float(attrs["data-points"]) == pytest.approx(points, abs=1e-6)
                assert item_key in text and rule in text
            if component == "indicator":
                assert float(bars[code]["data-points"]) == pytest.approx(points, abs=1e-6)
        deductions = sum(p for _, _, component, _, _, p, _, _ in unit_lines if component == "deduction")
        total_row = by_attr(page, "id")["deduction-total"]
        assert float(total_row[1]["data-points"]) == pytest.approx(deductions, abs=1e-6)


def test_hand_checked_figures_of_the_sample_readme(cards):
    """Indicator points and maxima, a not-applicable indicator, grade reasons, the support group."""
    u1 = {a["data-code"]: a for t, a, _ in elements(page_of(cards, U1)) if t == "rect" and "data-points" in a}
    # U1 has all six indicators: max = 0.8·W; key work 0.8·40·0.85, reform 0.8·15·0.75, excellence 0.8·10·0.9
    assert float(u1["key_work"]["data-points"]) == pytest.approx(27.2)
    assert float(u1["reform"]["data-points"]) == pytest.approx(9.0)
    assert float(u1["excellence"]["data-points"]) == pytest.approx(7.2)
    maxima = [float(a["data-max"]) for t, a, _ in elements(page_of(cards, U1)) if t == "rect" and "data-max" in a]
    assert maxima == pytest.approx([32, 12, 12, 8, 8, 8])
    # U2: reform, market and grassroots not applicable; 40/15/10 scaled by 100/65
    page = page_of(cards, U2)
    u2 = {a["data-code"]: a for t, a, _ in elements(page) if t == "rect" and "data-points" in a}
    assert set(u2) == {"key_work", "fiscal", "excellence"}
    assert float(u2["key_work"]["data-points"]) == pytest.approx(0.8 * 40 * 100 / 65)
    assert float(u2["fiscal"]["data-points"]) == pytest.approx(0.8 * 15 * 0.3 * 100 / 65)
    not_applicable = [text for tag, a, text in elements(page) if tag == "tr" and a.get("data-code") == "reform"]
    assert not_applicable == ["改革任务 不适用（权重已按比例分配给其他指标）"]
    reasons = {u: by_attr(page_of(cards, u), "id")["grade-reason"][2] for u in (U1, U4, U5, U6)}
    assert reasons == {
        U1: "理由: 达到80分，但类别内1个一等名额已由排名靠前的单位占用",  # 81.96; U5 vetoed, U4 takes it
        U4: "理由: 类别内1个一等名额之内",  # k = floor(0.3·5) = 1
        U5: "理由: 一票否决，定为三等",
        U6: "理由: 总分低于60分",
    }
    assert (
        by_attr(page_of(cards, U6), "id")["rank"][2]
        == "在南京市综合保障类 1 个单位中排第 1 名；在南京市全部单位中排第 6 名"
    )


def test_group_medians_are_the_medians_of_the_category_group(cards):
    _, con, _ = cards
    medians = dict(
        con.execute(
            """
            select lines.code, median(lines.points)
            from marts.score_line_items as lines
            inner join marts.unit_scores as scores using (year, unit_code)
            where lines.year = 2023 and scores.category = 'economic' and lines.component = 'indicator'
            group by lines.code
            """
        ).fetchall()
    )
    page = page_of(cards, U1)  # all six indicators applicable: six bars, six median ticks
    ticks = [float(a["data-median"]) for t, a, _ in elements(page) if t == "line" and "data-median" in a]
    codes = ["key_work", "reform", "fiscal", "market_service", "grassroots_service", "excellence"]
    assert ticks == pytest.approx([medians[c] for c in codes])
    bars = {a["data-code"] for t, a, _ in elements(page) if t == "rect" and "data-points" in a}
    assert bars == set(codes)
    for tag, attrs, text in elements(page):
        if tag == "tr" and attrs.get("data-code") in bars:
            assert shown(medians[attrs["data-code"]]) == text.split()[-1]
    ratio = con.execute(
        "select median(posts_per_key_task) from marts.unit_efficiency join marts.unit_scores using (year, unit_code) "
        "where category = 'economic'"
    ).fetchall()[0][0]
    measure = by_attr(page_of(cards, U3), "data-measure")["posts_per_key_task"][2]
    assert measure.split()[-1] == shown(ratio, 3)


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


def test_the_improvement_list_follows_the_line_items(cards):
    def items(unit):
        return [
            (a["data-kind"], a["data-key"], text)
            for t, a, text in elements(page_of(cards, unit))
            if t == "li" and "data-kind" in a
        ]

    u1 = items(U1)
    assert [(k, key) for k, key, _ in u1] == [
        ("outside_duty", "T106"),  # 越位 (negative list)
        ("red", "T102"),  # latest light red, Q4 gap 50
        ("not_quantified", "T102"),
        ("no_quarterly_milestones", "T103"),
        ("no_division", "T104"),
        ("late", "T101"),  # Q3 reported 20 days after the quarter
        ("late", "T102"),  # T102–T105 report only in Q4: Q1–Q3 not reported
        ("late", "T103"),
        ("late", "T104"),
        ("late", "T105"),
    ]
    texts = {(k, key): text for k, key, text in u1}
    assert texts[("red", "T102")].endswith("最新为红灯（严重滞后），请制定赶进度措施 (扣 0.50 分)")
    assert texts[("not_quantified", "T102")].endswith("设定可量化的目标 (扣 0.20 分)")
    assert texts[("late", "T101")].endswith("第 3 季度进度未按时报送")
    assert texts[("late", "T102")].endswith("第 1、2、3 季度进度未按时报送")
    u6 = items(U6)
    assert [(k, key) for k, key, _ in u6][:1] == [("missing_core_duty", "Z02")] and "扣 1.00 分" in u6[0][2]
    u4 = [(k, key) for k, key, _ in items(U4)]
    assert ("false_report", "T403") in u4 and ("incident", "I1") in u4


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
    assert "nan" not in page.lower() and 'data-max="' not in page
    bars = {a["data-code"]: a for t, a, _ in elements(page) if t == "rect" and "data-points" in a}
    assert float(bars["key_work"]["data-points"]) == pytest.approx(27.2)


def test_an_interim_ranking_says_so(sample_published):
    """Before the year-end stage the page says the ranking is interim and as of when."""
    results = read_year(Path(sample_published[1].publish_dir), 2023)
    page = render(dataclasses.replace(results, scores=results.scores.assign(stage="monitoring")), U1)
    interim = [text for tag, a, text in elements(page) if tag == "p" and a.get("class") == "interim"]
    assert interim == ["阶段性结果，截至 2024-01-31；年终评价后以最终排名为准。"]
    assert not [a for _, a, _ in elements(render(results, U1)) if a.get("class") == "interim"]  # year end


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scorecard", "91320100MA0000000X", "--year", "2023"], "no published score of 91320100MA0000000X for 2023"),
        (["scorecard", U1, "--year", "2019"], "no published ranking of 2019"),
        (["scorecard", U1, "--year", "2023", "--lang", "fr"], "--lang fr: choose one of zh, en"),
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
