"""`kaohe scorecard UNIT --year Y` and `kaohe scorecards --year Y --out DIR`: the feedback page the
evaluation office sends to an agency (在线反馈), from the published snapshot.

One self-contained HTML page per unit (Chinese, or English with `--lang en`), printable on A4 with
a page header and page numbers (a PDF beside it with `--pdf` where headless Chromium is installed).
What the page shows is `scorecard_data.page_data` (plain data); how it looks is the Jinja2 template
templates/scorecard.html.j2, its sections in templates/sections/ and its CSS templates/scorecard.css.
Charts are inline SVG drawn by the template: no script, no web font, no chart library, so the page
shows the same offline, in a mail client's viewer and on paper, and a test can read every figure
back from the HTML (each figure carries its value in a `data-` attribute).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

import dagster_project.analysis.certainty_section  # noqa: F401  (registers the grade-certainty section)
from dagster_project.outputs import findings  # noqa: F401 — registers the DEA and clues sections
from dagster_project.outputs.export import write_atomically
from dagster_project.outputs.labels import LANGUAGES
from dagster_project.outputs.scorecard_data import (
    AUDIENCES,
    TEMPLATES,
    ScorecardError,
    YearResults,
    num,
    page_data,
    pct,
    read_year,
    texts,
)

__all__ = [
    "ScorecardError",
    "YearResults",
    "read_year",
    "render",
    "render_index",
    "write_scorecard",
    "write_scorecards",
]


def _css_string(text: str) -> Markup:
    """A CSS string literal (for @page margin boxes), safe inside <style>."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ").replace("\n", " ")
    return Markup(f'"{escaped}"')


def _css_counter(text: str) -> Markup:
    """'第 {page} 页，共 {pages} 页' as CSS content: strings around counter(page) and counter(pages)."""
    parts = []
    for piece in str(text).replace("{pages}", "\0pages\0").replace("{page}", "\0page\0").split("\0"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return Markup(" ".join(parts))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(num=num, pct=pct, css_string=_css_string, css_counter=_css_counter)
    env.globals["css"] = Markup((TEMPLATES / "scorecard.css").read_text(encoding="utf-8"))
    return env


def render(results: YearResults, unit_code: str, lang: str = "zh", audience: str = "unit") -> str:
    """The scorecard page of one unit of the year."""
    _check(lang, audience)
    page = page_data(results, unit_code, lang, audience)
    labels = results.labels

    def label(domain: str, code: Any) -> Any:
        return labels.label(domain, code, lang)

    return environment().get_template("scorecard.html.j2").render(page=page, L=label)


def render_index(results: YearResults, lang: str = "zh") -> str:
    """The list of a year's scorecards, by evaluating body and category, in rank order."""
    t = texts()[lang]
    rows = [
        {
            "unit_code": unit.unit_code,
            "name": unit.unit_name if isinstance(unit.unit_name, str) else t["not_in_register"],
            "body": unit.group_name if isinstance(unit.group_name, str) else unit.group_code,
            "category": results.labels.label("category", unit.category, lang),
            "rank": unit.rank_in_category,
            "total": unit.total_score,
            "grade": results.labels.label("grade", unit.grade, lang)
            if unit.stage == "year_end" and unit.grade == unit.grade and unit.grade is not None
            else t["no_grade"],
        }
        for unit in results.scores.itertuples()
    ]
    title = t["index_title"].format(year=results.year)
    return environment().get_template("scorecard_index.html.j2").render(t=t, rows=rows, title=title)


def _write(path: Path, text: str) -> None:
    write_atomically(path, lambda staged: staged.write_text(text, encoding="utf-8"), ScorecardError)


def _check(lang: str, audience: str = "unit") -> None:
    if lang not in LANGUAGES:
        raise ScorecardError(f"--lang {lang}: choose one of {', '.join(LANGUAGES)}")
    if audience not in AUDIENCES:
        raise ScorecardError(f"--audience {audience}: choose one of {', '.join(AUDIENCES)}")


def _check_html_name(out: Path) -> None:
    if out.is_dir():
        raise ScorecardError(f"--out {out} is a folder; give the page's file name, e.g. {out / 'scorecard.html'}")
    if out.suffix.lower() != ".html":
        raise ScorecardError(f"--out {out}: the scorecard is an HTML page; give a name ending in .html")


def _pdf(pages: Iterable[Path]) -> list[Path]:
    from dagster_project.outputs.browser import BrowserError, print_pdf

    try:
        return [print_pdf(page, page.with_suffix(".pdf")) for page in pages]
    except BrowserError as exc:
        raise ScorecardError(f"--pdf: {exc}") from None


def write_scorecard(
    publish_dir: Path,
    unit_code: str,
    year: int,
    out: Path,
    lang: str = "zh",
    pdf: bool = False,
    audience: str = "unit",
) -> list[Path]:
    """One unit's page (and its PDF); the files written."""
    _check(lang, audience)
    _check_html_name(out)
    _write(out, render(read_year(publish_dir, year), unit_code, lang, audience))
    return [out, *(_pdf([out]) if pdf else [])]


def write_scorecards(
    publish_dir: Path, year: int, out_dir: Path, lang: str = "zh", pdf: bool = False, audience: str = "unit"
) -> int:
    """Every ranked unit's page in `out_dir` as <unit_code>.html, and index.html; the pages written."""
    _check(lang, audience)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScorecardError(f"--out {out_dir} is a file; give a folder for the pages")
    results = read_year(publish_dir, year)
    pages = []
    for unit_code in results.scores["unit_code"]:
        page = out_dir / f"{unit_code}.html"
        _write(page, render(results, unit_code, lang, audience))
        pages.append(page)
    _write(out_dir / "index.html", render_index(results, lang))
    if pdf:
        _pdf(pages)
    return len(pages)
