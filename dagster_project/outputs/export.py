"""`kaohe export --year Y --out ranking.xlsx`: the published results of a year as the office's
workbook — the ranking of each category group first, then one sheet per detail table.

Everything comes from the published snapshot (never the working warehouse), so the workbook is
what `current` says was published. Headers are the Chinese labels of the published columns (the
part of each column's description before " — ": the dbt project's YAML, carried as DuckDB
comments), codes get their Chinese labels (category, grade, light, signal, …) and each ranking
row names its evaluating body (GB/T 2260 name of group_code, from `dim_region`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dagster_project.outputs.labels import Labels, grade_reason, read_labels

SCHEMA = "marts"
SHEET_LABELS = (
    "grade",
    "category",
    "stage",
    "light",
    "reason",
    "kind",
    "signal",
    "clue",
    "excluded_reason",
)  # code columns shown by label
RANKING_COLUMNS = [
    "group_code", "group_name", "category", "rank_in_category", "rank_overall", "unit_code", "unit_name",
    "total_score", "grade", "grade_reason", "base_score", "qualitative_score", "bonus", "deductions", "vetoed",
    "establishment", "required_key_tasks", "stage", "as_of",
]  # fmt: skip
INDICATOR_COLUMNS = [
    "group_code", "category", "rank_in_category", "unit_code", "unit_name",
    "s_key_work", "s_reform", "s_fiscal", "s_market_service", "s_grassroots_service", "s_excellence",
]  # fmt: skip


@dataclass(frozen=True)
class Sheet:
    title: str
    table: str
    order: str  # SQL order by of the sheet's rows


DETAIL_SHEETS = [
    Sheet("得分明细", "score_line_items", "unit_code, line_no"),
    Sheet("任务得分", "task_scores", "unit_code, task_id"),
    Sheet("红黄绿灯", "task_lights", "unit_code, task_id, quarter"),
    Sheet("负面清单", "negative_list", "unit_code, kind, item_key"),
    Sheet("投入产出", "unit_efficiency", "unit_code"),
    Sheet("编制信号", "staffing_signals", "unit_code, signal"),
    Sheet("实名制核对", "register_crosschecks", 'unit_code, "check", subject_key'),
    Sheet("失实线索", "report_clues", "unit_code, clue, task_id"),
    Sheet("DEA", "unit_dea", "group_code, category, unit_code"),
]
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


class ExportError(Exception):
    """Nothing to export: no publication, or no published year Y."""


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


def _write(ws: Worksheet, frame: pd.DataFrame, labels: dict[str, str], names: Labels) -> None:
    """Header row of labels, the rows with code labels, frozen header, filters, column widths."""
    shown = frame.copy()
    for column in SHEET_LABELS:
        if column in shown:
            shown[column] = shown[column].map(lambda v, c=column: names.label(c, v))
    if "vetoed" in shown:
        shown["vetoed"] = shown["vetoed"].map({True: "是", False: "否"})
    ws.append([labels.get(c, c) for c in shown.columns])
    for record in shown.itertuples(index=False):
        ws.append([_cell(v) for v in record])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(shown.columns), 1))}{len(shown) + 1}"
    for index, column in enumerate(shown.columns, start=1):
        values = [labels.get(column, column), *(str(v) for v in shown[column].head(500) if v is not None)]
        width = max(display_width(v) for v in values)
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


def _cell(value):
    """A value as openpyxl takes it: lists as text, missing values (None, NaN, NA, NaT) empty."""
    if isinstance(value, list | tuple | dict | np.ndarray):
        return ", ".join(str(v) for v in value) if not isinstance(value, dict) else str(value)
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def display_width(text: str) -> int:
    """Characters as a spreadsheet shows them: a CJK character is two columns wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def export(publish_dir: Path, year: int, out: Path) -> dict[str, int]:
    """Write the workbook of `year` from the publication in `publish_dir`; sheet → data rows."""
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; give the workbook's file name, e.g. {out / 'ranking.xlsx'}")
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"--out {out}: the workbook is written as .xlsx; give a name ending in .xlsx")
    with published_year(publish_dir, year, ExportError) as con:
        book = Workbook()
        counts: dict[str, int] = {}
        score_labels = column_labels(con, "unit_scores") | {"group_name": "考核组别名称", "grade_reason": "等次说明"}
        frame = ranking(con, year)
        names = read_labels(con, SCHEMA)
        _write(book.active, frame[RANKING_COLUMNS], score_labels, names)
        book.active.title = f"{year}年度排名"
        counts[book.active.title] = len(frame)
        _write(book.create_sheet("指标完成度"), frame[INDICATOR_COLUMNS], score_labels, names)
        counts["指标完成度"] = len(frame)
        for sheet in DETAIL_SHEETS:
            rows = con.execute(
                f"select * from {SCHEMA}.{sheet.table} where year = ? order by {sheet.order}", [year]
            ).df()
            _write(book.create_sheet(sheet.title), rows.drop(columns=["year"]), column_labels(con, sheet.table), names)
            counts[sheet.title] = len(rows)
        # docs/methodology.md §14 (imported here: the section module imports scorecard_data, which imports this one)
        from dagster_project.analysis.certainty_section import UNCERTAIN_SHEET, uncertain_grades

        uncertain = uncertain_grades(con, year)
        if uncertain is not None:
            certainty_labels = score_labels | column_labels(con, "grade_stability")
            _write(book.create_sheet(UNCERTAIN_SHEET), uncertain, certainty_labels, names)
            counts[UNCERTAIN_SHEET] = len(uncertain)
    write_atomically(out, book.save, ExportError)
    return counts


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
