"""The HTML pages as a reader sees them, in headless Chromium (Debian's `chromium`; `make test`
installs it and a CJK font when missing): the quality report at 1,400 px shows a warning's detail
on screen, the scorecard fits the window and prints to A4."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.outputs.browser import dump_dom, find_chromium, screenshot
from dagster_project.quality.report import report_path
from tests.sample_units import U1

pytestmark = pytest.mark.e2e
WIDTH = 1400
# Appended to a copy of a page: where each probed element lies once the page is laid out, written
# into the DOM that `chromium --dump-dom` prints.
PROBE = """<script>
const probe = {inner: window.innerWidth, scroll: document.documentElement.scrollWidth, boxes: []};
for (const el of document.querySelectorAll(%s)) {
  const r = el.getBoundingClientRect();
  probe.boxes.push({left: r.left, right: r.right, width: r.width, height: r.height, text: el.innerText});
}
document.body.setAttribute("data-probe", JSON.stringify(probe));
</script>"""


@pytest.fixture(scope="module", autouse=True)
def chromium():
    if find_chromium() is None:
        pytest.fail("headless Chromium is missing: `make test` installs Debian's chromium (make browser)")


def layout(page: Path, selector: str, tmp_path: Path) -> dict:
    probed = tmp_path / f"probed-{page.name}"
    text = page.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", PROBE % json.dumps(selector) + "</body>"), encoding="utf-8")
    dom = dump_dom(probed, WIDTH, 900)
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the probe did not run"
    return json.loads(html.unescape(found.group(1)))


def test_a_warnings_detail_is_on_screen_at_1400_px(sample_published, tmp_path):
    _, settings, report = sample_published
    page = report_path(settings.publish_dir, report.run_id)
    # the last cell of each warning row is its detail
    probe = layout(page, "tr:has(td.warn) > td:last-child", tmp_path)
    assert probe["inner"] == WIDTH and probe["scroll"] <= WIDTH  # nothing off to the right
    assert len(probe["boxes"]) == 2
    for box in probe["boxes"]:
        assert box["text"] and box["width"] > 100 and box["height"] > 0
        assert 0 <= box["left"] < box["right"] <= WIDTH, box
    # in Chinese: what was expected, the rows, the units by name; Latin letters only in the codes
    # in brackets (a unit's code, a source table's name)
    assert any(box["text"].startswith("实名制核对应无发现：") for box in probe["boxes"]), probe["boxes"]
    assert [b["text"] for b in probe["boxes"] if re.search("[A-Za-z]", re.sub("（[^）]*）", "", b["text"]))] == []
    shot = screenshot(page, tmp_path / "report.png", WIDTH, 900)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chinese_reports_check_titles_have_no_english_word(sample_published, tmp_path):
    """Every check of the sample's Chinese report, its sections opened, as Chromium shows it: the title
    in Chinese on the first line of the cell, the technical name (a code) below it."""
    _, settings, report = sample_published
    page = report_path(settings.publish_dir, report.run_id)
    opened = tmp_path / "quality.html"
    opened.write_text(page.read_text(encoding="utf-8").replace("<details>", "<details open>"), encoding="utf-8")
    probe = layout(opened, "td:has(> span.tech)", tmp_path)
    titles = {box["text"].split("\n")[1]: box["text"].split("\n")[0] for box in probe["boxes"]}
    assert len(titles) > 100
    assert {name: title for name, title in titles.items() if re.search("[A-Za-z]", title)} == {}
    assert titles["primary_key_unit_scores"].startswith("每个（考核年度、统一社会信用代码）只有一行；")
    assert titles["gx_sources"].startswith("源数据：")  # a warning of the sample, at the top


def test_the_scorecard_fits_the_window_and_prints_to_a4(sample_published, tmp_path):
    _, settings, _ = sample_published
    out = tmp_path / "u1.html"
    result = CliRunner().invoke(
        app, ["scorecard", U1, "--year", "2023", "--out", str(out), "--pdf", "--publish", settings.publish_dir]
    )
    assert result.exit_code == 0, result.output
    probe = layout(out, "svg.indicator-chart, #improve li, td.light", tmp_path)
    assert probe["scroll"] <= WIDTH
    assert all(0 <= box["left"] < box["right"] <= WIDTH and box["height"] > 0 for box in probe["boxes"])
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf[:5] == b"%PDF-"
    sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert sizes and all(abs(float(w) - 595.9) < 1 and abs(float(h) - 842.9) < 1 for w, h in sizes)  # A4 in pt


def test_what_chromium_shows_of_the_chinese_scorecard_has_no_english_word(sample_published, tmp_path):
    """The text a reader sees once Chromium has laid the page out (innerText: no tags, no styles, no
    attributes): Chinese words, numbers and codes only; the sums shown add up."""
    _, settings, report = sample_published
    out = tmp_path / "u1.html"
    result = CliRunner().invoke(
        app, ["scorecard", U1, "--year", "2023", "--out", str(out), "--publish", settings.publish_dir]
    )
    assert result.exit_code == 0, result.output
    probe = layout(
        out,
        "body, #composition tr.line td:nth-child(4), #deduction-total td:nth-child(4), "
        "#rounding td:nth-child(4), #sum th.num",
        tmp_path,
    )
    text = probe["boxes"][0]["text"].replace(report.run_id, " ")
    words = set(re.findall(r"[A-Za-z]{2,}", text))
    assert words == set(), words
    shown = [box["text"].replace("−", "-").replace(",", "") for box in probe["boxes"][1:]]
    *parts, total = (round(float(v) * 100) for v in shown)
    assert sum(parts) == total  # the rows as shown add up to the total as shown (cents)


def test_the_pdf_has_a_page_header_and_page_numbers(sample_published, tmp_path):
    """Chromium prints the page's @page margin boxes: unit, year, stage and as-of date on top, page n of
    m below (read back with pdftotext where poppler-utils is installed)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    _, settings, _ = sample_published
    out = tmp_path / "u1.html"
    result = CliRunner().invoke(
        app, ["scorecard", U1, "--year", "2023", "--out", str(out), "--pdf", "--publish", settings.publish_dir]
    )
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", "-layout", str(out.with_suffix(".pdf")), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "南京市甲局 · 2023年度 · 年终评价 · 截至 2024-01-15" in page
        assert f"第 {number} 页，共 {len(pages)} 页" in page
    assert "11320100100000016C" in text  # the unit code whole, never broken across lines
