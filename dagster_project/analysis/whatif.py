"""What-if of a methodology change (docs/methodology.md §14): `kaohe whatif PROPOSAL_DIR --year Y`.

A proposal is CSV files named like the methodology seeds (dbt/seeds/methodology), with the seeds'
columns; each row replaces the seed row of year Y with the same key (the columns of the seed's
unique_combination test). The seeds with the proposal in place are checked like the seeds; a bad
proposal is refused naming the rule, the file and the line, and nothing is written. §1–§9 are then
recomputed by the project's own dbt models in a scratch copy of the working warehouse, on the
evaluation date of the published ranking of Y, and compared with that publication. Nothing
published and nothing in the working warehouse changes."""

from __future__ import annotations

import csv
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from dagster_project.analysis.scratch import AnalysisError, published_year, read_only, run_dbt, scratch_folder
from dagster_project.core.settings import DBT_PROJECT_DIR
from dagster_project.transform.labels import read_labels

SEED_DIR = DBT_PROJECT_DIR / "seeds" / "methodology"
TOLERANCE = 1e-9
# Rules on single values of methodology_parameters: (low, high) inclusive, None = unbounded.
PARAMETER_RANGES = {
    "qualitative_share": (0, 1),
    "grade1_share": (0, 1),
    "execution_target_rate": (0, 1),
    "grade1_min_total": (0, 100),
    "grade3_below_total": (0, 100),
    "default_difficulty": (0.5, 1.5),
    "stability_draws": (1, None),
}
# Rules on the columns of a seed: share-like values within [0, 1], others at least 0 (or above 0).
SHARE_COLUMNS = {
    ("methodology_reviewer_groups", "weight"),
    ("methodology_fiscal_parts", "weight"),
    ("methodology_award_levels", "points"),
}
NON_NEGATIVE_COLUMNS = {
    ("methodology_indicators", "weight"),
    ("methodology_deductions", "points_each"),
    ("methodology_deductions", "cap"),
}
POSITIVE_COLUMNS = {("methodology_staffing_ratio", "posts_per_key_task")}
SUMS = {  # seed → (column, total the rows of a year add up to)
    "methodology_indicators": ("weight", 100.0),
    "methodology_fiscal_parts": ("weight", 1.0),
}


class ProposalRefused(AnalysisError):
    """A proposal that breaks a rule of the seeds; the message names the rule, file and line."""


@dataclass
class Seed:
    name: str
    columns: list[str]
    key: list[str]
    types: dict[str, str]
    rows: pd.DataFrame  # every row of the seed file, as text
    proposed: pd.DataFrame = field(default_factory=pd.DataFrame)  # proposal rows (text), column `line`


def seeds() -> dict[str, Seed]:
    """The methodology seeds: columns and rows from the CSV files, key and types from their YAML."""
    declared = {}
    for path in SEED_DIR.glob("*.yml"):
        for seed in yaml.safe_load(path.read_text(encoding="utf-8")).get("seeds", []):
            key = next(
                (t[name]["arguments"]["columns"] for t in seed.get("data_tests", []) if isinstance(t, dict)
                 for name in ("unique_combination", "primary_key") if name in t),
                ["year"],
            )  # fmt: skip
            declared[seed["name"]] = (key, seed.get("config", {}).get("column_types", {}))
    found = {}
    for path in sorted(SEED_DIR.glob("methodology_*.csv")):
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
        key, types = declared.get(path.stem, (["year"], {}))
        found[path.stem] = Seed(path.stem, list(rows.columns), key, types, rows)
    return found


def read_proposal(folder: Path, year: int, known: dict[str, Seed]) -> dict[str, Seed]:
    """The proposal's rows, each checked on its own (file name, columns, year, key, numbers)."""
    if not folder.is_dir():
        raise ProposalRefused(f"the proposal folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise ProposalRefused(f"the proposal folder {folder} holds no CSV file named like a methodology seed")
    for path in files:
        seed = known.get(path.stem)
        if seed is None:
            raise ProposalRefused(
                f"{path.name}: not a methodology seed (rule: a proposal file is named like a seed: "
                + ", ".join(f"{name}.csv" for name in known)
                + ")"
            )
        try:
            rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ProposalRefused(f"{path.name}: not a readable UTF-8 CSV ({exc})") from None
        if sorted(rows.columns) != sorted(seed.columns):
            raise ProposalRefused(
                f"{path.name} line 1: columns {', '.join(rows.columns)} (rule: the seed's columns, "
                f"{', '.join(seed.columns)})"
            )
        rows = rows[seed.columns].assign(line=range(2, len(rows) + 2))
        for row in rows.itertuples(index=False):
            where = f"{path.name} line {row.line}"
            if row.year.strip() != str(year):
                raise ProposalRefused(f"{where}: year {row.year!r} (rule: a proposal's rows are for year {year})")
            for column in seed.key:
                if not getattr(row, column).strip():
                    raise ProposalRefused(f"{where}: {column} is empty (rule: every key column is filled)")
            for column, kind in seed.types.items():
                _check_type(where, column, kind, getattr(row, column))
        duplicated = rows[rows.duplicated(seed.key, keep=False)]
        if len(duplicated):
            lines = ", ".join(str(n) for n in duplicated["line"])
            raise ProposalRefused(
                f"{path.name} lines {lines}: the same key ({', '.join(seed.key)}) twice (rule: one row per key)"
            )
        seed.proposed = rows
    return {name: seed for name, seed in known.items() if len(seed.proposed)}


def _check_type(where: str, column: str, kind: str, value: str) -> None:
    text = value.strip()
    if not text:
        return
    kind = kind.lower()
    if kind in ("double", "integer") or kind.startswith("decimal"):
        try:
            number = float(text)
        except ValueError:
            raise ProposalRefused(f"{where}: {column} {value!r} is not a number (rule: {column} is {kind})") from None
        if not math.isfinite(number) or (kind == "integer" and number != int(number)):
            raise ProposalRefused(f"{where}: {column} {value!r} (rule: {column} is {kind})")
    elif kind == "boolean" and text.lower() not in ("true", "false"):
        raise ProposalRefused(f"{where}: {column} {value!r} (rule: {column} is true or false)")


def parameter_year(known: dict[str, Seed], year: int) -> int:
    """The seed year in force for `year`: the latest year ≤ it of methodology_parameters, else the
    earliest (int_evaluation_years)."""
    years = sorted({int(y) for y in known["methodology_parameters"].rows["year"]})
    earlier = [y for y in years if y <= year]
    return earlier[-1] if earlier else years[0]


def merged(known: dict[str, Seed], proposal: dict[str, Seed], year: int) -> dict[str, pd.DataFrame]:
    """Year `year`'s rows of every seed with the proposal's rows in place (a year without rows of
    its own starts from the rows of the year in force), each with the proposal line it came from
    (0 = the seed). Refuses a proposal row whose key has no seed row to replace."""
    source = parameter_year(known, year)
    result = {}
    for name, seed in known.items():
        base = seed.rows[seed.rows["year"] == str(year if year == source else source)].copy()
        base["year"] = str(year)
        base["line"] = 0
        if name in proposal:
            rows = proposal[name].proposed
            keys = base.set_index(seed.key).index
            for row in rows.itertuples(index=False):
                key = tuple(getattr(row, c).strip() for c in seed.key)
                if key not in keys:
                    shown = ", ".join(f"{c} {v}" for c, v in zip(seed.key, key, strict=True) if c != "year")
                    raise ProposalRefused(
                        f"{name}.csv line {row.line}: unknown code ({shown}) (rule: a proposal row replaces a "
                        f"seed row of {source} with the same key; known: "
                        + "; ".join(", ".join(k[1:]) for k in keys)
                        + ")"
                    )
            stripped = rows.assign(**{c: rows[c].str.strip() for c in seed.key})
            base = pd.concat([base.set_index(seed.key).drop(index=stripped.set_index(seed.key).index),
                              stripped.set_index(seed.key)]).reset_index()[[*seed.columns, "line"]]  # fmt: skip
        result[name] = base
    check(result, year)
    return result


def check(rows: dict[str, pd.DataFrame], year: int) -> None:
    """The rules of the seeds on the merged rows of `year` (docs/methodology.md §4–§9, §14)."""

    def refuse(name: str, frame: pd.DataFrame, rule: str, what: str) -> None:
        lines = sorted(int(n) for n in frame["line"] if n)
        where = f"{name}.csv " + (f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}" if lines else "")
        raise ProposalRefused(f"{where.strip()}: {what} (rule: {rule})")

    for (name, column), (low, high, words) in (
        *[((n, c), (0.0, 1.0, "within [0, 1]")) for n, c in SHARE_COLUMNS],
        *[((n, c), (0.0, None, "at least 0")) for n, c in NON_NEGATIVE_COLUMNS],
        *[((n, c), (TOLERANCE, None, "above 0")) for n, c in POSITIVE_COLUMNS],
    ):
        frame = rows.get(name)
        if frame is None:
            continue
        values = pd.to_numeric(frame[column].replace("", None))
        bad = frame[(values < low) | ((values > high) if high is not None else False)]
        if len(bad):
            refuse(name, bad.head(1), f"{column} {words}", f"{column} {bad[column].iloc[0]}")
    for name, (column, total) in SUMS.items():
        frame = rows.get(name)
        if frame is not None and abs(pd.to_numeric(frame[column]).sum() - total) > TOLERANCE:
            refuse(name, frame, f"the {column}s of a year sum to {total:g}",
                   f"the {column}s of {year} sum to {pd.to_numeric(frame[column]).sum():g}")  # fmt: skip
    parameters = rows.get("methodology_parameters")
    if parameters is not None:
        for parameter, (low, high) in PARAMETER_RANGES.items():
            row = parameters[parameters["parameter"] == parameter]
            if row.empty:
                continue
            value = float(row["value"].iloc[0])
            if value < low or (high is not None and value > high):
                words = f"within [{low:g}, {high:g}]" if high is not None else f"at least {low:g}"
                refuse("methodology_parameters", row, f"{parameter} {words}", f"{parameter} {value:g}")
        values = parameters.set_index("parameter")["value"]
        lines = ["grade1_min_total", "grade3_below_total"]
        if set(lines) <= set(values.index) and float(values["grade3_below_total"]) > float(values["grade1_min_total"]):
            refuse(
                "methodology_parameters",
                parameters[parameters["parameter"].isin(lines)],
                "grade3_below_total ≤ grade1_min_total",
                "the grade-3 line is above the grade-1 line",
            )  # fmt: skip


@dataclass
class WhatIf:
    """The result of a what-if: units of the proposal, the comparison, and what it was run on."""

    year: int
    as_of: str
    proposal: pd.DataFrame  # marts.unit_scores of year Y under the proposal
    comparison: pd.DataFrame  # one row per unit: published vs proposal
    moved_lines: pd.DataFrame  # lines that changed, of the units whose grade changes
    groups: pd.DataFrame  # per category group: units, grade changes, rank correlation
    summary: dict[str, object]
    changed_rows: list[str]  # the proposal's rows, as "file line N: key → values"


def whatif(proposal_dir: Path, year: int, warehouse: Path, publish_dir: Path, out: Path, as_of: str | None = None):
    """`kaohe whatif`: check the proposal, recompute year `year` in a scratch copy of the working
    warehouse, write OUT/unit_scores.csv, comparison.xlsx and comparison.html."""
    known = seeds()
    proposal = read_proposal(Path(proposal_dir), year, known)
    rows = merged(known, proposal, year)
    publication, published_as_of = published_year(Path(publish_dir), year)
    as_of = as_of or published_as_of
    with scratch_folder("whatif") as folder:
        scratch = folder / Path(warehouse).name
        _copy_warehouse(Path(warehouse), scratch)
        drift = _working_differs(scratch, publication, year)
        con = duckdb.connect(str(scratch))
        try:
            for name, frame in rows.items():
                table = f"methodology.{name}"
                values = frame[known[name].columns].replace("", None)
                con.execute(f"delete from {table} where year = ?", [year])
                con.register("proposal_rows", values)
                con.execute(f"insert into {table} by name select * from proposal_rows")
                con.unregister("proposal_rows")
        finally:
            con.close()
        run_dbt(scratch, ["run", "--quiet", "--select", "+unit_scores", "+score_line_items"], {"KAOHE_AS_OF": as_of})
        con = read_only(scratch, "the scratch warehouse")
        try:
            after = con.execute("select * from marts.unit_scores where year = ? order by all", [year]).df()
            after_lines = con.execute("select * from marts.score_line_items where year = ?", [year]).df()
        finally:
            con.close()
    con = read_only(publication, "the publication")
    try:
        before = con.execute("select * from marts.unit_scores where year = ?", [year]).df()
        before_lines = con.execute("select * from marts.score_line_items where year = ?", [year]).df()
        labels = read_labels(con)
    finally:
        con.close()
    result = compare(year, as_of, before, after, before_lines, after_lines)
    result.summary["working_differs"] = drift
    result.changed_rows = [
        f"{name}.csv line {row['line']}: " + ", ".join(f"{c} {row[c]}" for c in known[name].columns if c != "year")
        for name, seed in proposal.items()
        for row in seed.proposed.to_dict("records")
    ]
    _write(result, Path(out), labels)
    return result


def _copy_warehouse(warehouse: Path, scratch: Path) -> None:
    """A copy of the working warehouse, taken while a read-only connection keeps writers out."""
    con = read_only(warehouse, "the working warehouse")
    try:
        shutil.copyfile(warehouse, scratch)
    finally:
        con.close()


def _working_differs(scratch: Path, publication: Path, year: int) -> int:
    """Units of `year` whose total, rank or grade in the working warehouse differ from the
    publication: the data are then not those of the published ranking (a final ranking kept
    against drift, a run not yet published), and the what-if shows that difference too."""
    con = duckdb.connect(str(scratch), read_only=True)
    try:
        con.execute(f"attach '{publication}' as published (read_only)")
        return con.execute(
            """
            select count(*) from (
                select unit_code, total_score, rank_in_category, grade from marts.unit_scores where year = $1
                except
                select unit_code, total_score, rank_in_category, grade from published.marts.unit_scores where year = $1
            )
            """,
            [year],
        ).fetchone()[0]
    finally:
        con.close()


KEYS = ["year", "unit_code"]
LINE_KEY = ["unit_code", "component", "code", "item_key"]


def compare(year, as_of, before, after, before_lines, after_lines) -> WhatIf:
    columns = ["total_score", "rank_in_category", "rank_overall", "grade"]
    both = before[[*KEYS, "unit_name", "group_code", "category", *columns]].merge(
        after[[*KEYS, *columns]], on=KEYS, how="outer", suffixes=("_published", "_proposal"), indicator=True
    )
    for column in ("total_score_published", "total_score_proposal"):
        both[column] = both[column].astype(float)
    both["total_change"] = (both["total_score_proposal"] - both["total_score_published"]).round(2)
    both["rank_change"] = both["rank_in_category_published"] - both["rank_in_category_proposal"]  # + = up
    both["grade_changes"] = both["grade_published"].fillna(0) != both["grade_proposal"].fillna(0)
    both = both.sort_values(["group_code", "category", "rank_in_category_proposal", "unit_code"]).drop(columns="_merge")
    lines = before_lines[[*LINE_KEY, "points"]].merge(
        after_lines[[*LINE_KEY, "points"]], on=LINE_KEY, how="outer", suffixes=("_published", "_proposal")
    )
    lines[["points_published", "points_proposal"]] = lines[["points_published", "points_proposal"]].fillna(0.0)
    lines["change"] = lines["points_proposal"] - lines["points_published"]
    moving = set(both.loc[both["grade_changes"], "unit_code"])
    moved = lines[lines["unit_code"].isin(moving) & (lines["change"].abs() > TOLERANCE)].copy()
    moved["order"] = -moved["change"].abs()
    moved = moved.sort_values(["unit_code", "order"]).drop(columns="order")
    groups = []
    for (group, category), frame in both.groupby(["group_code", "category"], sort=True):
        rho = frame["rank_in_category_published"].corr(frame["rank_in_category_proposal"], method="spearman")
        groups.append({"group_code": group, "category": category, "units": len(frame),
                       "grade_changes": int(frame["grade_changes"].sum()),
                       "rank_changes": int((frame["rank_change"] != 0).sum()),
                       "rank_correlation": None if len(frame) < 2 or pd.isna(rho) else float(rho)})  # fmt: skip
    groups = pd.DataFrame(groups)
    ranked = groups.dropna(subset=["rank_correlation"])
    correlation = (
        float((ranked["rank_correlation"] * ranked["units"]).sum() / ranked["units"].sum()) if len(ranked) else None
    )
    movers = both.assign(size=both["rank_change"].abs(), shift=both["total_change"].abs())
    movers = movers[(movers["size"] > 0) | (movers["shift"] > 0)].sort_values(["size", "shift"], ascending=False)
    summary = {
        "year": year,
        "as_of": as_of,
        "units": len(both),
        "grade_changes": int(both["grade_changes"].sum()),
        "grade_up": int((both["grade_proposal"] < both["grade_published"]).sum()),
        "grade_down": int((both["grade_proposal"] > both["grade_published"]).sum()),
        "rank_changes": int((both["rank_change"] != 0).sum()),
        "total_changes": int((both["total_change"] != 0).sum()),
        "rank_correlation": correlation,
        "largest_movers": [
            f"{r['unit_name'] if isinstance(r['unit_name'], str) else r['unit_code']}"
            f"（排名 {int(r['rank_change']):+d}，总分 {r['total_change']:+.2f}）"
            for r in movers.head(10).to_dict("records")
        ],
    }
    return WhatIf(year, as_of, after, both, moved, groups, summary, [])


# Chinese headers of the comparison (the workbook and the page).
HEADERS = {
    "group_code": "考核组别", "category": "考核类别", "unit_code": "统一社会信用代码", "unit_name": "机构名称",
    "total_score_published": "现行总分", "total_score_proposal": "方案总分", "total_change": "总分变化",
    "rank_in_category_published": "现行类别排名", "rank_in_category_proposal": "方案类别排名",
    "rank_change": "排名上升", "rank_overall_published": "现行组内排名", "rank_overall_proposal": "方案组内排名",
    "grade_published": "现行等次", "grade_proposal": "方案等次", "grade_changes": "等次变化",
    "component": "构成", "code": "项目", "item_key": "明细键", "points_published": "现行得分",
    "points_proposal": "方案得分", "change": "变化", "units": "单位数", "grade_changes_count": "等次变化单位数",
    "rank_changes": "排名变化单位数", "rank_correlation": "排名相关系数 (Spearman)",
}  # fmt: skip
COMPARISON_COLUMNS = [
    "group_code", "category", "unit_code", "unit_name", "total_score_published", "total_score_proposal",
    "total_change", "rank_in_category_published", "rank_in_category_proposal", "rank_change", "grade_published",
    "grade_proposal", "grade_changes",
]  # fmt: skip


COMPONENTS = {"indicator": "指标", "qualitative": "定性评议", "bonus": "加分", "deduction": "扣分", "floor": "保底"}


def _labelled(frame: pd.DataFrame, labels) -> pd.DataFrame:
    shown = frame.copy()
    if "component" in shown:
        shown["component"] = shown["component"].map(lambda c: COMPONENTS.get(c, c))
    if "category" in shown:
        shown["category"] = shown["category"].map(lambda c: labels.label("category", c))
    for column in ("grade_published", "grade_proposal"):
        if column in shown:
            shown[column] = shown[column].map(lambda g: "" if pd.isna(g) else labels.label("grade", int(g)))
    if "code" in shown:
        shown["code"] = shown["code"].map(lambda c: labels.label("code", c))
    if "grade_changes" in shown and shown["grade_changes"].dtype == bool:
        shown["grade_changes"] = shown["grade_changes"].map({True: "是", False: ""})
    return shown


def _summary_rows(result: WhatIf) -> list[tuple[str, object]]:
    s = result.summary
    rho = s["rank_correlation"]
    rows = [
        ("考核年度", s["year"]),
        ("评价基准日", s["as_of"]),
        ("参评单位", s["units"]),
        ("等次变化单位", s["grade_changes"]),
        ("其中升等", s["grade_up"]),
        ("其中降等", s["grade_down"]),
        ("类别排名变化单位", s["rank_changes"]),
        ("总分变化单位", s["total_changes"]),
        ("排名相关系数 (Spearman，按类别组单位数加权)", "" if rho is None else round(rho, 4)),
        ("变动最大的单位", "、".join(s["largest_movers"])),
    ]
    if s.get("working_differs"):
        rows.append(("注意", f"工作库与已发布排名有 {s['working_differs']} 个单位不同：比较中也含数据差异"))
    rows += [("方案内容", line) for line in result.changed_rows]
    return rows


def _write(result: WhatIf, out: Path, labels) -> None:
    """OUT/unit_scores.csv, comparison.xlsx, comparison.html; written beside, then moved in."""
    out.mkdir(parents=True, exist_ok=True)
    staged = out / ".whatif-staged"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    try:
        result.proposal.to_csv(staged / "unit_scores.csv", index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        comparison = _labelled(result.comparison[COMPARISON_COLUMNS], labels)
        moved = _labelled(
            result.moved_lines.merge(result.comparison[["unit_code", "unit_name"]], on="unit_code", how="left")[
                ["unit_code", "unit_name", "component", "code", "item_key", "points_published", "points_proposal",
                 "change"]
            ], labels,
        )  # fmt: skip
        groups = _labelled(result.groups.rename(columns={"grade_changes": "grade_changes_count"}), labels)
        changing = comparison[result.comparison["grade_changes"].to_numpy()]
        with pd.ExcelWriter(staged / "comparison.xlsx", engine="openpyxl") as writer:
            pd.DataFrame(_summary_rows(result), columns=["项目", "内容"]).to_excel(
                writer, sheet_name="摘要", index=False
            )
            comparison.rename(columns=HEADERS).to_excel(writer, sheet_name="单位对比", index=False)
            changing.rename(columns=HEADERS).to_excel(writer, sheet_name="等次变化", index=False)
            moved.rename(columns=HEADERS).to_excel(writer, sheet_name="变动明细", index=False)
            groups.rename(columns=HEADERS).to_excel(writer, sheet_name="类别组", index=False)
        (staged / "comparison.html").write_text(_page(result, comparison, moved, groups), encoding="utf-8")
        for path in staged.iterdir():
            path.replace(out / path.name)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _page(result: WhatIf, comparison: pd.DataFrame, moved: pd.DataFrame, groups: pd.DataFrame) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("dagster_project.analysis"), autoescape=select_autoescape())
    sections = []
    for (group, category), frame in comparison.groupby(["group_code", "category"], sort=False):
        row = groups[(groups["group_code"] == group) & (groups["category"] == category)].iloc[0]
        sections.append({"group": group, "category": category, "rows": frame.to_dict("records"),
                         "correlation": row["rank_correlation"], "changes": row["grade_changes_count"]})  # fmt: skip
    return env.get_template("whatif.html.j2").render(
        summary=_summary_rows(result), headers=HEADERS, columns=COMPARISON_COLUMNS[2:], sections=sections,
        moved=moved.to_dict("records"), moved_columns=list(moved.columns), year=result.year,
    )  # fmt: skip
