"""The screenshots of docs/readers.md, made from a publication (not a test: run by hand).

    .venv/bin/python -m tests.screenshots PUBLISH_DIR YEAR UNIT [--out docs/screenshots]
        [--prefix half-year-] [--only scorecard-zh,workbook-cover]

Scorecard in Chinese and English (headless Chromium), the first page of its PDF (pdftoppm,
poppler-utils), the workbook's cover and ranking sheets (rendered as the sheet shows them: values
in their number formats, lights in their colours, since no spreadsheet program is at hand), and
the top of the run's quality report. `--prefix` starts each file's name (the half-year run's
shots beside the year-end ones), `--only` makes the named shots only.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from dagster_project.outputs.browser import screenshot
from dagster_project.outputs.export import export
from dagster_project.outputs.scorecard import write_scorecard
from dagster_project.quality.report import report_path


def _shown(value, number_format: str) -> str:
    """A cell as a spreadsheet shows it, for the formats the workbook uses."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}" if "h" in number_format else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if number_format == "0.00":
            return f"{value:.2f}"
        if number_format == "0.0%":
            return f"{100 * value:.1f}%"
        if number_format == "#,##0.00":
            return f"{value:,.2f}"
        if number_format == "0":
            return f"{value:.0f}"
    return str(value)


def sheet_html(xlsx: Path, sheet: str, rows: int = 30) -> str:
    """A worksheet's first rows as an HTML table, formatted and coloured as the workbook says."""
    ws = load_workbook(xlsx)[sheet]
    fills: dict[tuple[int, str], str] = {}  # (column, shown text) → colour of its conditional format
    for ranges in ws.conditional_formatting:
        for rule in ranges.rules:
            if rule.formula and rule.dxf is not None and rule.dxf.fill is not None:
                colour = "#" + str(rule.dxf.fill.bgColor.rgb)[-6:]
                for cells in ranges.sqref.ranges:
                    fills[(cells.min_col, rule.formula[0].strip('"'))] = colour
    body = []
    for r, row in enumerate(ws.iter_rows(max_row=rows), start=1):
        if r > 3 and all(cell.value is None for cell in row):
            continue
        cells = []
        for cell in row:
            text = _shown(cell.value, cell.number_format)
            style = ""
            if cell.fill is not None and cell.fill.fgColor is not None and cell.fill.fill_type == "solid":
                style = f"background:#{str(cell.fill.fgColor.rgb)[-6:]};font-weight:600"
            if (cell.column, text) in fills:
                style = f"background:{fills[(cell.column, text)]};color:#fff"
            align = "right" if isinstance(cell.value, int | float) and not isinstance(cell.value, bool) else "left"
            tag = "th" if r == 1 and sheet != "封面" else "td"
            cells.append(f'<{tag} style="{style};text-align:{align}">{html.escape(text)}</{tag}>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
        'body{font-family:"Noto Sans CJK SC",sans-serif;margin:8px;font-size:12px}'
        "table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:2px 6px;white-space:nowrap}"
        "th{background:#DDEBF7}</style></head><body>"
        f"<p><b>{html.escape(xlsx.name)} · {html.escape(sheet)}</b></p><table>{''.join(body)}</table></body></html>"
    )


SHOTS = ("scorecard-zh", "scorecard-en", "scorecard-pdf-page1", "workbook-cover", "workbook-ranking", "quality-report")


def main(publish: Path, year: int, unit: str, out: Path, prefix: str = "", only: tuple[str, ...] = SHOTS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        written = []
        for lang in ("zh", "en"):
            page = work / f"scorecard-{lang}.html"
            written += write_scorecard(publish, unit, year, page, lang, pdf=lang == "zh")
            if f"scorecard-{lang}" in only:
                screenshot(page, out / f"{prefix}scorecard-{lang}.png", 1100, 1800)
        if "scorecard-pdf-page1" in only:
            pdf = next(p for p in written if p.suffix == ".pdf")
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(work / "pdf")], check=True
            )
            shutil.copy(next(work.glob("pdf*.png")), out / f"{prefix}scorecard-pdf-page1.png")
        book = work / "ranking.xlsx"
        export(publish, year, book)
        for sheet, name in (("封面", "workbook-cover"), (f"{year}年度排名", "workbook-ranking")):
            if name in only:
                page = work / f"{name}.html"
                page.write_text(sheet_html(book, sheet), encoding="utf-8")
                screenshot(page, out / f"{prefix}{name}.png", 1400, 800)
        if "quality-report" in only:
            run_id = (publish / "current").resolve().name
            screenshot(report_path(publish, run_id), out / f"{prefix}quality-report.png", 1400, 900)


def _option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


if __name__ == "__main__":
    args = sys.argv[1:]
    target = Path(_option(args, "--out", "docs/screenshots"))
    shots = tuple(_option(args, "--only", ",".join(SHOTS)).split(","))
    unknown = set(shots) - set(SHOTS)
    if unknown:
        sys.exit(f"--only: unknown shot(s) {', '.join(sorted(unknown))}; choose among {', '.join(SHOTS)}")
    main(Path(args[0]), int(args[1]), args[2], target, _option(args, "--prefix", ""), shots)
