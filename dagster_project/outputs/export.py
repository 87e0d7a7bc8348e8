"""`kaohe export --year Y --out ranking.xlsx`: the published results of a year as the office's
workbook — a cover sheet (which publication, as of which day, which deliveries, how to read), the
ranking of each category group, the indicators, then one sheet per detail table.

Everything comes from the published snapshot (never the working warehouse), so the workbook is
what `current` says was published. Headers are the Chinese names of the published columns (the
start of each column's description: the dbt project's YAML, carried as DuckDB comments); codes get
their labels from the label tables, each unit code its unit's name beside it; scores show two
decimals, rates as percentages, dates as dates; lights are coloured; each sheet has a frozen,
filtered header, column widths and an A4 landscape print set-up repeating the header. The file is
written by XlsxWriter, whose column formats apply to every cell of a column; the rows of each sheet
by outputs/xlsx_rows.py, which writes the same XML as XlsxWriter column by column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions
import yaml

from dagster_project.outputs.labels import Labels, chinese_name, grade_reason, read_labels, rule_words
from dagster_project.outputs.xlsx_rows import RowsWorksheet

SCHEMA = "marts"
TEMPLATES = Path(__file__).parent / "templates"
LOCAL = ZoneInfo("Asia/Shanghai")
RANKING_COLUMNS = [
    "group_code", "group_name", "category", "rank_in_category", "rank_overall", "unit_code", "unit_name",
    "total_score", "grade", "grade_reason", "base_score", "qualitative_score", "bonus", "deductions", "vetoed",
    "establishment", "required_key_tasks", "stage", "as_of",
]  # fmt: skip
INDICATOR_COLUMNS = [
    "group_code", "category", "rank_in_category", "unit_code", "unit_name",
    "s_key_work", "s_reform", "s_fiscal", "s_market_service", "s_grassroots_service", "s_excellence",
]  # fmt: skip
# column → the label table of its codes (transform/labels.TABLES), in every sheet that has it
LABELLED = {
    "grade": "grade", "category": "category", "stage": "stage", "light": "light", "latest_light": "light",
    "reason": "reason", "latest_light_reason": "reason", "status": "status", "signal": "signal", "check": "check",
    "clue": "clue", "issue": "issue", "indicator_code": "code", "excluded_reason": "excluded_reason",
}  # fmt: skip
PERCENT = {"completion", "establishment_use", "workload_saturation"}  # 0–1 values, with s_*, *_rate, *_share
LIGHT_COLOURS = {"green": ("#2DA44E", "#FFFFFF"), "yellow": ("#D4A72C", "#1F2328"), "red": ("#CF222E", "#FFFFFF")}


@dataclass(frozen=True)
class Sheet:
    title: str
    table: str
    order: str  # SQL order by of the sheet's rows
    labels: tuple[tuple[str, str], ...] = ()  # (column, label table) only in this sheet
    hidden: tuple[str, ...] = ()  # columns the sheet leaves out


DETAIL_SHEETS = [
    Sheet("得分明细", "score_line_items", "unit_code, line_no", (("code", "code"),)),
    Sheet("任务得分", "task_scores", "unit_code, task_id"),
    Sheet("红黄绿灯", "task_lights", "unit_code, task_id, quarter"),
    Sheet("负面清单", "negative_list", "unit_code, kind, item_key", (("kind", "kind"),)),
    Sheet("投入产出", "unit_efficiency", "unit_code"),
    Sheet("编制信号", "staffing_signals", "unit_code, signal"),
    Sheet("实名制核对", "register_crosschecks", 'unit_code, "check", subject_key'),
]
OPTIONAL_SHEETS = [  # when the publication has the mart
    Sheet("失实线索", "report_clues", "unit_code, clue, task_id"),
    Sheet("DEA", "unit_dea", "group_code, category, unit_code"),
    # the office reads detail (Chinese); reason holds rejection reasons, '+'-joined
    Sheet("数据问题", "unit_data_issues", "unit_code", (("reason", "rejection"),), hidden=("detail_en",)),
]


class ExportError(Exception):
    """Nothing to export: no publication, or no published year Y."""


@cache
def texts() -> dict[str, Any]:
    return yaml.safe_load((TEMPLATES / "workbook_texts.yml").read_text(encoding="utf-8"))


def column_labels(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column → its Chinese label: the description's part before ' — ' (the column name if none)."""
    rows = con.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ?", [SCHEMA, table]
    ).fetchall()
    return {name: (comment or name).split(" — ")[0].strip() or name for name, comment in rows}


@contextmanager
def published_year(publish_dir: Path, year: int, error: type[Exception]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published snapshot, which must hold a ranking of `year`;
    else `error` with what there is (no snapshot, or the published years)."""
    snapshot = publish_dir / "kaohe.duckdb"
    if not snapshot.exists():
        raise error(f"no published snapshot at {snapshot}; run `kaohe run` first (or pass --publish DIR)")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        years = [r[0] for r in con.execute(f"select distinct year from {SCHEMA}.unit_scores order by 1").fetchall()]
        if year not in years:
            raise error(f"no published ranking of {year} in {snapshot} (published years: {years or 'none'})")
        yield con
    finally:
        con.close()


def scores_with_region(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """unit_scores of `year` with the evaluating body's name, by body, category and rank."""
    return con.execute(
        f"""
        select scores.*, regions.region_name as group_name
        from {SCHEMA}.unit_scores as scores
        left join {SCHEMA}.dim_region as regions on scores.group_code = regions.region_code
        where scores.year = ?
        order by scores.group_code, scores.category, scores.rank_in_category
        """,
        [year],
    ).df()


def ranking(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    frame = scores_with_region(con, year)
    thresholds = dict(
        con.execute(
            f"select parameter, value from {SCHEMA}.dim_methodology where year = ? "
            "and parameter in ('grade1_min_total', 'grade3_below_total')",
            [year],
        ).fetchall()
    )
    low, top = thresholds.get("grade3_below_total"), thresholds.get("grade1_min_total")
    frame["grade_reason"] = [grade_reason(row, top, low) for row in frame.to_dict("records")]
    return frame  # every column of unit_scores: the ranking and the indicator sheets pick theirs


def _parameters(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, float]:
    return dict(con.execute(f"select parameter, value from {SCHEMA}.dim_methodology where year = ?", [year]).fetchall())


def _published(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_name from duckdb_tables() where schema_name = ?", [SCHEMA]).fetchall()
    return {name for (name,) in rows}


@dataclass
class _Book:
    """The workbook being written, with the formats it shares between sheets."""

    book: Any
    names: Labels
    unit_names: dict[str, str]

    def __post_init__(self) -> None:
        add = self.book.add_format
        self.header = add({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter", "border": 1})
        self.formats = {
            "score": add({"num_format": "0.00"}),
            "percent": add({"num_format": "0.0%"}),
            "integer": add({"num_format": "0"}),
            "number": add({"num_format": "#,##0.00"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "timestamp": add({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "text": add({}),
        }
        self.lights = {
            self.names.label("light", code): add({"bg_color": bg, "font_color": fg})
            for code, (bg, fg) in LIGHT_COLOURS.items()
        }


def _kind(column: str, series: pd.Series) -> str:
    """How a column's numbers are shown."""
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_datetime64_any_dtype(series):
        times = series.dropna()
        return "date" if len(times) == 0 or (times.dt.normalize() == times).all() else "timestamp"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series) or str(series.dtype).startswith("decimal"):
        if column.startswith(("s_", "p_")) or column in PERCENT or column.endswith(("_rate", "_share")):
            return "percent"
        if "score" in column or "points" in column or column in ("bonus", "deductions", "total", "cap"):
            return "score"
        return "number"
    if (
        series.dtype == object
        and len(series.dropna())
        and all(type(v).__name__ == "date" for v in series.dropna().head(50))
    ):
        return "date"
    return "text"


def _shown(
    frame: pd.DataFrame, book: _Book, labels: dict[str, str], extra: tuple[tuple[str, str], ...]
) -> pd.DataFrame:
    """The frame as the sheet shows it: codes labelled, the unit's name beside its code, yes/no for
    booleans, local times without a time zone."""
    t = texts()
    shown = frame.copy()
    for column, domain in (LABELLED | dict(extra)).items():  # a sheet's own label table first
        if column in shown:  # each code labelled once; NA (an interim grade) stays empty
            codes = shown[column].dropna().unique()
            shown[column] = shown[column].map({code: _label(book.names, domain, code) for code in codes}).astype(object)
    if "component" in shown:
        shown["component"] = shown["component"].map(lambda v: t["component"].get(v, v))
    if "unit_code" in shown and "unit_name" not in shown:
        shown.insert(shown.columns.get_loc("unit_code") + 1, "unit_name", shown["unit_code"].map(book.unit_names))
        labels.setdefault("unit_name", "单位名称")
    for column in shown.columns:
        series = shown[column]
        if pd.api.types.is_bool_dtype(series) or (
            series.dtype == object and series.map(type).eq(bool).all() and len(series)
        ):
            shown[column] = series.map({True: t["yes"], False: t["no"]})
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            shown[column] = series.dt.tz_convert(LOCAL).dt.tz_localize(None)
    return shown


def _label(names: Labels, domain: str, code: Any) -> Any:
    """A code's label; a row's rejection reasons ('bad_type+duplicate_key') each by theirs."""
    if domain == "rejection" and isinstance(code, str) and "+" in code:
        return "、".join(str(names.label(domain, part)) for part in code.split("+"))
    return names.label(domain, code)


def _write(book: _Book, title: str, frame: pd.DataFrame, labels: dict[str, str]) -> None:
    """One sheet: header of Chinese column names, the rows, number formats by column, coloured
    lights, frozen header, filters, widths, A4 landscape with the header repeated on every page."""
    ws = book.book.add_worksheet(title, worksheet_class=RowsWorksheet)
    headers = [chinese_name(labels.get(c, c)) for c in frame.columns]
    for index, column in enumerate(frame.columns):
        kind = _kind(column, frame[column])
        sample = [headers[index], *(str(v) for v in frame[column].head(300).dropna())]
        width = min(max(max(display_width(v) for v in sample) + 2, 8), 50)
        if kind in ("date", "timestamp"):
            width = max(width, 12 if kind == "date" else 20)
        ws.set_column(index, index, width, book.formats[kind])
    ws.write_row(0, 0, headers, book.header)
    columns = (frame.iloc[:, index] for index in range(len(frame.columns)))
    ws.write_columns(1, 0, [column.astype(object).where(column.notna(), None).tolist() for column in columns])
    last_row, last_col = len(frame), max(len(frame.columns) - 1, 0)
    for index, column in enumerate(frame.columns):
        if column in ("light", "latest_light") and len(frame):
            for text, fmt in book.lights.items():
                ws.conditional_format(
                    1, index, last_row, index, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt}
                )
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, last_row, last_col)
    ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # as wide as one page, as many pages down as it takes
    ws.set_header(f"&L{title}&R&P / &N")


def _cover(book: _Book, con: duckdb.DuckDBPyConnection, year: int, frame: pd.DataFrame, counts: dict[str, int]) -> None:
    """Which publication, as of which day, which deliveries, and how to read the workbook."""
    t = texts()
    record = con.execute(
        f"select run_id, max(published_at), max(as_of), max(inputs_fingerprint) "
        f"from {SCHEMA}.publication group by run_id"
    ).fetchone() or ("—", None, None, None)
    stages = sorted(set(frame["stage"]), key=lambda s: book.names.order("stage", s))
    stage = stages[-1] if stages else None
    if stage != "year_end":
        status = t["status_interim"]
    elif "ranking_status" in frame and (frame["ranking_status"] == "provisional").any():
        status = t["status_provisional"]
    else:
        status = t["status_final"]
    deliveries = [t["deliveries_unknown"]]
    if "source_loads" in _published(con):
        found = con.execute(
            f"select delivery, count(*) from {SCHEMA}.source_loads group by delivery order by delivery"
        ).fetchall()
        deliveries = [t["delivery_row"].format(delivery=d, tables=n) for d, n in found] or deliveries
    d_y = max(frame["as_of"]) if len(frame) else None
    rows: list[tuple[str, Any, str]] = [
        (t["year"], year, "integer"),
        (t["run_id"], record[0], "text"),
        (t["run_as_of"], record[2], "date"),
        (t["d_y"], pd.Timestamp(d_y).date() if d_y is not None else None, "date"),
        (t["stage"], book.names.label("stage", stage), "text"),
        (t["ranking_status"], status, "text"),
        *((t["deliveries"] if i == 0 else "", d, "text") for i, d in enumerate(deliveries)),
        (t["fingerprint"], record[3], "text"),
        (t["published_at"], record[1], "timestamp"),
        (t["generated_at"], datetime.now(LOCAL).replace(tzinfo=None, microsecond=0), "timestamp"),
        *((t["sheets"] if i == 0 else "", t["sheet_row"].format(sheet=s, rows=f"{n:,}"), "text")
          for i, (s, n) in enumerate(counts.items())),
        *((t["how_to_read"] if i == 0 else "", line, "text") for i, line in enumerate(t["how"])),
    ]  # fmt: skip
    ws = book.book.get_worksheet_by_name(t["cover_sheet"])
    title = book.book.add_format({"bold": True, "font_size": 16})
    ws.write(0, 0, t["cover_title"].format(year=year), title)
    ws.write_row(2, 0, [t["item"], t["value"]], book.header)
    for index, (item, value, kind) in enumerate(rows, start=3):
        ws.write(index, 0, item, book.header if item else None)
        if value is None:
            ws.write_blank(index, 1, None)
        else:
            ws.write(index, 1, value, book.formats[kind])
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 90)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 1)


def export(publish_dir: Path, year: int, out: Path) -> dict[str, int]:
    """Write the workbook of `year` from the publication in `publish_dir`; sheet → data rows."""
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; give the workbook's file name, e.g. {out / 'ranking.xlsx'}")
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"--out {out}: the workbook is written as .xlsx; give a name ending in .xlsx")
    t = texts()
    counts: dict[str, int] = {}

    def write(path: Path) -> None:
        with published_year(publish_dir, year, ExportError) as con:
            workbook = xlsxwriter.Workbook(
                str(path), {"strings_to_urls": False, "nan_inf_to_errors": True, "constant_memory": True}
            )
            units = dict(con.execute(f"select unit_code, unit_name from {SCHEMA}.dim_unit").fetchall())
            book = _Book(workbook, read_labels(con, SCHEMA), {k: v for k, v in units.items() if v})
            workbook.add_worksheet(t["cover_sheet"])
            score_labels = column_labels(con, "unit_scores") | {
                "group_name": "考核组别名称",
                "grade_reason": "等次说明",
            }
            frame = ranking(con, year)
            sheet = t["ranking_sheet"].format(year=year)
            _write(book, sheet, _shown(frame[RANKING_COLUMNS], book, score_labels, ()), score_labels)
            counts[sheet] = len(frame)
            _write(book, t["indicator_sheet"], _shown(frame[INDICATOR_COLUMNS], book, score_labels, ()), score_labels)
            counts[t["indicator_sheet"]] = len(frame)
            present = _published(con)
            for spec in [*DETAIL_SHEETS, *(s for s in OPTIONAL_SHEETS if s.table in present)]:
                rows = con.execute(
                    f"select * from {SCHEMA}.{spec.table} where year = ? order by {spec.order}", [year]
                ).df()
                labels = column_labels(con, spec.table)
                if spec.table == "score_line_items":
                    params = _parameters(con, year)
                    rows["rule"] = [
                        rule_words(book.names, c, "zh", params, r)
                        for c, r in zip(rows["code"], rows["rule"], strict=True)
                    ]
                shown = rows.drop(columns=["year", *(c for c in spec.hidden if c in rows)])
                _write(book, spec.title, _shown(shown, book, labels, spec.labels), labels)
                counts[spec.title] = len(rows)
            # docs/methodology.md §14 (imported here: the section module imports scorecard_data, which imports this one)
            from dagster_project.analysis.certainty_section import UNCERTAIN_SHEET, uncertain_grades

            uncertain = uncertain_grades(con, year)
            if uncertain is not None:
                certainty_labels = score_labels | column_labels(con, "grade_stability")
                _write(book, UNCERTAIN_SHEET, _shown(uncertain, book, certainty_labels, ()), certainty_labels)
                counts[UNCERTAIN_SHEET] = len(uncertain)
            _cover(book, con, year, frame, counts)
            workbook.worksheets()[0].activate()
            try:
                workbook.close()
            except xlsxwriter.exceptions.FileCreateError as exc:  # the OSError it wraps: a one-line error
                raise exc.args[0] if isinstance(exc.args[0], OSError) else OSError(str(exc)) from None

    write_atomically(out, write, ExportError)
    return counts


def display_width(text: str) -> int:
    """Characters as a spreadsheet shows them: a CJK character is two columns wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_atomically(out: Path, write: Callable[[Path], object], error: type[Exception]) -> None:
    """`write(path)` to a staged file beside `out`, then put it in place: a reader never opens half
    a file. A folder that cannot be made or written is `error`, naming `out`."""
    staged = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write(staged)
        staged.replace(out)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise error(f"cannot write {out}: {exc.strerror or exc}") from None
