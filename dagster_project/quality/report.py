"""The quality report of a run: one self-contained HTML page (no external CSS or JS, so it
renders on an intranet without internet), written next to the snapshot it judged: in Chinese
(quality.html) and in English beside it (quality-en.html). Its first lines say what happened and
which publication BI now sees; then failed steps, failed and warned checks (with the units they
concern), the trend, the passed checks by layer, and the quarantine: each rejected cell with its
value (personal data withheld) and, for a row rejected because its parent was, the parent row.
The page's words are in report_texts.yml; reasons are labelled from the label tables."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str  # ERROR (blocking) or WARN
    description: str = ""
    failing_rows: int | None = None
    source: str = "dbt"  # dbt | great_expectations | dagster
    # what the check found, as figures the report words in the page's language (check_detail):
    # a GX suite's SuiteOutcome.facts(), the share check's {"over": [...]}; else the description
    facts: dict | None = field(default=None, compare=False, hash=False)


def outcome_of(evaluation) -> CheckOutcome:
    """A Dagster AssetCheckEvaluation (dbt test, ingestion check or GX suite) as a CheckOutcome."""
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    failing = meta.get("dagster_dbt/failed_row_count", meta.get("unexpected_count"))
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        name=evaluation.check_name,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        description=evaluation.description or "",
        failing_rows=int(failing) if isinstance(failing, int | float) else None,
        source=str(meta.get("source", "dbt" if "dagster_dbt/failed_row_count" in meta else "dagster")),
        facts=meta.get("detail") if isinstance(meta.get("detail"), dict) else None,
    )


def blocking_failures(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    return [o for o in outcomes if not o.passed and o.severity == "ERROR"]


def run_check_outcomes(instance, run_id: str) -> list[CheckOutcome]:
    """Every asset-check evaluation of a run so far (dbt tests, ingestion and GX checks)."""
    import dagster as dg

    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    return [outcome_of(record.event_log_entry.dagster_event.event_specific_data) for record in records]


def report_path(publish_dir: str | Path, run_id: str) -> Path:
    return Path(publish_dir) / "runs" / run_id / "docs" / "quality.html"


VERDICT_BLOCKED = "blocked: nothing published"
VERDICT_FAILED = "failed: not published (a step of the run failed, see below)"
VERDICT_PASSED_NOT_PUBLISHED = "passed the gate; not published (the publishing step did not complete)"
VERDICT_PUBLISHED = "passed: published"


STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,-apple-system,"Segoe UI",sans-serif;
margin:2rem;color:#1f2328;max-width:1600px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;table-layout:fixed}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;white-space:normal}
th{background:#f6f8fa}.fail{color:#b42318;font-weight:600}.warn{color:#9a6700;font-weight:600}
.pass{color:#1a7f37}.summary{margin:1rem 0;padding:.75rem;border-radius:6px;background:#f6f8fa}
.verdict{font-size:1.1rem;font-weight:700;margin:0 0 .3rem}.notice{margin:1rem 0;padding:.75rem;
border-radius:6px;background:#fff8c5;border:1px solid #d4a72c}
.tech{color:#656d76;font-size:.8rem;display:block}col.status{width:8rem}col.table{width:14%}
col.check{width:30%}col.by{width:7rem}col.rows{width:5rem}details{margin:.5rem 0}
summary{cursor:pointer;font-weight:600}.trends{display:flex;flex-wrap:wrap;gap:1.5rem}
figure.trend{margin:0}figcaption{font-size:.85rem;color:#656d76}svg{background:#f6f8fa}
"""
LANGUAGES = ("zh", "en")
SHOWN_QUARANTINE_ROWS = 20  # per table on the page; the CSV beside it has them all
SHOWN_UNITS = 10  # named per unmet expectation; the rest counted
HISTORY_FILE = "report_history.jsonl"  # in <publish>/ (not runs/: only run folders there)
TREND_RUNS = 30
LAYER_ORDER = (
    "ingest",
    "staging",
    "snapshots",
    "methodology",
    "reference",
    "labels",
    "intermediate",
    "marts",
    "publish",
)


@cache
def texts() -> dict[str, dict]:
    return yaml.safe_load((Path(__file__).with_name("report_texts.yml")).read_text(encoding="utf-8"))


def english_path(path: Path) -> Path:
    """The English page beside the Chinese one (quality.html → quality-en.html)."""
    return path.with_name(f"{path.stem}-en{path.suffix}")


def check_titles(lang: str = "zh") -> dict[str, str]:
    """Check name → what it asserts, in plain words in `lang`: dbt tests from the manifest
    (core/check_words.py), GX suites from their files (gx_<suite>: `description_zh` and
    `description`), the ingestion's own check."""
    from dagster_project.core.dbt_project import dbt_test_descriptions
    from dagster_project.ingest.assets import QUARANTINE_SHARE_LIMIT
    from dagster_project.quality.suites import load_suites

    titles = dbt_test_descriptions(lang=lang, value_labels=value_labels() if lang == "zh" else None)
    key = "description_zh" if lang == "zh" else "description"
    titles.update({f"gx_{suite['name']}": suite.get(key) or suite.get("description", "") for suite in load_suites()})
    titles["quarantine_share_within_limit"] = texts()[lang]["quarantine_check"].format(
        limit=f"{QUARANTINE_SHARE_LIMIT:.0%}"
    )
    return titles


def value_labels():
    """(column, codes) → the codes' Chinese labels, for a check of accepted values: from the label
    table of the column's name when it labels every code, else from any label table that does, else
    from the Chinese labels of a contract's enum that has them all; None when none has them all."""
    from dagster_project.ingest.contracts import load_contracts
    from dagster_project.transform.labels import seed_labels

    labels = seed_labels()
    enums = [
        dict(zip(column.enum, column.labels, strict=True))
        for contract in load_contracts().values()
        for column in contract.columns
        if column.enum and column.labels
    ]

    def lookup(column: str, codes) -> list[str] | None:
        for domain in sorted(labels.rows, key=lambda d: d != column):
            found = [labels.label(domain, code) for code in codes]
            if all(label != code for label, code in zip(found, codes, strict=True)):
                return [str(label) for label in found]
        for enum in enums:
            if all(str(code) in enum for code in codes):
                return [enum[str(code)] for code in codes]
        return None

    return lookup


class InForce(NamedTuple):
    """What the loads in force hold, for the report; a part is None when it cannot be read now."""

    quarantine: pd.DataFrame | None  # rejected cells: file, line, column, value (personal ones hashed), reason, parent
    loads: tuple[int, int] | None  # rows read, rows quarantined
    clues: list[tuple[int, str, int]] | None = None  # report_clues: year, clue, rows (None: not built)


NOTHING_IN_FORCE = InForce(None, None)


def read_in_force(warehouse: str | Path) -> InForce:
    """The rejected cells of the loads in force, each with its value (personal columns only as the
    keyed hash the ingestion stored) and, for a dangling reference, the rejected parent row it points
    to; and their rows read and quarantined, over one read-only connection. Nothing when the
    warehouse cannot be read now (another writer) or holds no raw schema yet."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except (duckdb.Error, OSError):
        return NOTHING_IN_FORCE
    try:
        quarantine = con.execute(
            """
            select q.system || '.' || split_part(q.table_name, '.', -1) as source_table, q.delivery, q.file,
                q.line, q.column_name, q.value, q.reason
            from raw.quarantine as q inner join raw.current_loads as c using (load_id)
            order by source_table, q.line, q.column_name
            """
        ).df()
        rejected_rows = con.execute(
            """
            select r.system || '.' || split_part(r.table_name, '.', -1) as source_table, r.line, r.row_json,
                (select string_agg(distinct q.reason, ',' order by q.reason) from raw.quarantine as q
                 where q.load_id = r.load_id and q.line = r.line) as reasons
            from raw.quarantine_rows as r inner join raw.current_loads as c using (load_id)
            """
        ).df()
        read, rejected = con.execute(
            "select coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
            "from raw.loads inner join raw.current_loads using (load_id)"
        ).fetchone()
    except duckdb.Error:  # no raw schema yet: nothing was ever loaded
        con.close()
        return NOTHING_IN_FORCE
    try:
        clues = con.execute(
            "select year, clue, count(*) from marts.report_clues group by year, clue order by year, clue"
        ).fetchall()
    except duckdb.Error:  # not built in this run (dbt failed before it)
        clues = None
    finally:
        con.close()
    quarantine["parent"] = _parents(quarantine, rejected_rows)
    return InForce(quarantine, (int(read), int(rejected)), clues)


def _parents(quarantine: pd.DataFrame, rejected_rows: pd.DataFrame) -> list[tuple | None]:
    """For each dangling reference, (parent table, its rejected line, its reasons) when the parent row
    was itself rejected in the loads in force; None otherwise. The child's value is the parent's key
    as the ingestion wrote it (personal key columns hashed alike on both sides)."""
    from dagster_project.ingest.contracts import load_contracts

    contracts = load_contracts()
    keys: dict[str, dict[str, tuple[int, str]]] = {}
    for row in rejected_rows.itertuples():
        contract = contracts.get(row.source_table)
        if contract is None:
            continue
        cells = json.loads(row.row_json)
        key = "+".join(str(cells.get(k) or "") for k in contract.key)
        keys.setdefault(row.source_table, {})[key] = (int(row.line), row.reasons or "")
    out: list[tuple | None] = []
    for row in quarantine.itertuples():
        contract = contracts.get(row.source_table)
        found = None
        if row.reason == "dangling_reference" and contract is not None:
            ref = next((r for r in contract.references if "+".join(r.columns) == row.column_name), None)
            if ref is not None and (hit := keys.get(ref.table, {}).get(str(row.value))) is not None:
                found = (ref.table, *hit)
        out.append(found)
    return out


def record_trend_point(history: Path, point: dict) -> list[dict]:
    """Put this run's point into the history file (its last report wins) and return the last
    TREND_RUNS points, oldest first."""
    points = []
    if history.exists():
        for line in history.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a killed run: skipped, rewritten below
                continue
            if item.get("run_id") != point["run_id"]:
                points.append(item)
    points.append(point)
    staged = history.with_name(f".{history.name}.tmp")
    staged.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in points), encoding="utf-8")
    staged.replace(history)
    return points[-TREND_RUNS:]


def _sparkline(points: list[dict], key: str, label: str, colour: str, t: dict) -> str:
    """One small inline SVG bar chart (no script, no internet) of `key` over the runs."""
    values = [p.get(key) for p in points]
    known = [v for v in values if isinstance(v, int | float)]
    top = max(known, default=0) or 1
    width, height, bar = 300, 60, 300 / max(len(values), 1)
    bars = []
    for i, (value, p) in enumerate(zip(values, points, strict=True)):
        if not isinstance(value, int | float):
            continue
        h = max(1.0, height * value / top) if value else 1.0
        tip = html.escape(f"{p.get('written_at', '')} · {t['run']} {p['run_id'][:8]}: {value:,}")
        bars.append(
            f"<rect x='{i * bar:.1f}' y='{height - h:.1f}' width='{max(bar - 1, 1):.1f}' height='{h:.1f}' "
            f"fill='{colour}'><title>{tip}</title></rect>"
        )
    caption = t["trend_caption"].format(label=label, last=f"{known[-1]:,}" if known else "—", top=f"{top:,}")
    return (
        f"<figure class=trend><figcaption>{html.escape(caption)}</figcaption>"
        f"<svg width='{width}' height='{height}' role='img' aria-label='{html.escape(label)}'>{''.join(bars)}</svg>"
        "</figure>"
    )


def _trend_section(points: list[dict], t: dict) -> str:
    if not points:
        return ""
    return (
        f"<h2>{html.escape(t['trend'].format(n=len(points)))}</h2><div class=trends>"
        + _sparkline(points, "rows", t["trend_rows"], "#0969da", t)
        + _sparkline(points, "quarantined", t["trend_quarantined"], "#9a6700", t)
        + _sparkline(points, "failed", t["trend_failed"], "#b42318", t)
        + "</div>"
    )


def bi_publication(publish_dir: Path) -> dict | None:
    """The publication BI opens now (`<publish>/kaohe.duckdb`, the current snapshot): its run, when
    it was published and as of which day; None when there is none (or it cannot be read)."""
    import duckdb

    snapshot = publish_dir / "kaohe.duckdb"
    if not snapshot.exists():
        return None
    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except (duckdb.Error, OSError):
        return None
    try:
        row = con.execute(
            "select run_id, max(published_at), max(as_of) from marts.publication group by run_id"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return None if row is None else {"run_id": row[0], "published_at": row[1], "as_of": row[2]}


def write_report(
    path: Path,
    run_id: str,
    outcomes: list[CheckOutcome],
    verdict: str,
    as_of: str,
    failures: list[str] = (),
    in_force: InForce = NOTHING_IN_FORCE,
    notices: list[str] = (),
    ranking: str = "",
) -> Path:
    """The page in Chinese at `path`, in English beside it (english_path); `failures` are the run's
    failed steps, each 'step: what happened'; `in_force` (read_in_force) the quarantined cells, also
    written beside it as quarantine.csv, and the rows read and quarantined, a point of the trend
    kept in <publish>/report_history.jsonl; `ranking` (ranking_notice.notice_html) what the rankings
    rest on, and `notices` (plain text), go at the top, under the verdict."""
    quarantine, loads, clues = in_force
    path.parent.mkdir(parents=True, exist_ok=True)
    written = datetime.now().astimezone()
    failed = [o for o in outcomes if not o.passed and o.severity == "ERROR"]
    warned = [o for o in outcomes if not o.passed and o.severity != "ERROR"]
    point = {
        "run_id": run_id,
        "written_at": f"{written:%Y-%m-%d %H:%M %Z}",
        "verdict": verdict,
        "rows": loads[0] if loads else None,
        "quarantined": loads[1] if loads else None,
        "failed": len(failed),
        "warned": len(warned),
    }
    publish_dir = path.parents[3]  # <publish>/runs/<run>/docs/quality.html
    points = record_trend_point(publish_dir / HISTORY_FILE, point)
    if quarantine is not None and not quarantine.empty:
        shown = quarantine.drop(columns=["parent"], errors="ignore")
        shown.to_csv(path.parent / "quarantine.csv", index=False, encoding="utf-8-sig")  # Excel opens it right
    page = _Page(
        run_id, outcomes, verdict, as_of, list(failures), quarantine, loads, points, written,
        bi_publication(publish_dir), list(notices), {lang: check_titles(lang) for lang in LANGUAGES}, clues, ranking,
    )  # fmt: skip
    for lang, target in (("zh", path), ("en", english_path(path))):
        target.write_text(page.render(lang), encoding="utf-8")
    return path


@dataclass
class _Page:
    run_id: str
    outcomes: list[CheckOutcome]
    verdict: str
    as_of: str
    failures: list[str]
    quarantine: pd.DataFrame | None
    loads: tuple[int, int] | None
    points: list[dict]
    written: datetime
    bi: dict | None
    notices: list[str]
    titles: dict[str, dict[str, str]]  # lang → check name → title (check_titles)
    clues: list[tuple[int, str, int]] | None = None
    ranking: str = ""  # HTML made by ranking_notice.notice_html

    def render(self, lang: str) -> str:
        t = texts()[lang]
        failed = [o for o in self.outcomes if not o.passed and o.severity == "ERROR"]
        warned = [o for o in self.outcomes if not o.passed and o.severity != "ERROR"]
        passed = [o for o in self.outcomes if o.passed]
        layers: dict[str, list[CheckOutcome]] = {}
        for o in sorted(passed, key=lambda o: (o.asset, o.name)):
            layers.setdefault(o.asset.split("/")[0], []).append(o)
        sections = []
        if failed or warned:
            sections.append(
                f"<h2>{html.escape(t['failed_checks'])}</h2>" + _table([*failed, *warned], self.titles[lang], t)
            )
        for key in [*(k for k in LAYER_ORDER if k in layers), *sorted(k for k in layers if k not in LAYER_ORDER)]:
            title = t["passed_checks"].format(layer=t["layers"].get(key, key), n=len(layers[key]))
            sections.append(
                f"<details><summary>{html.escape(title)}</summary>{_table(layers[key], self.titles[lang], t)}</details>"
            )
        counts = t["counts"].format(passed=len(passed), failed=len(failed), warned=len(warned))
        notices = "".join(f"<div class=notice>{html.escape(n)}</div>" for n in self.notices)
        return f"""<!doctype html>
<html lang="{t["html_lang"]}"><head><meta charset="utf-8">
<title>kaohe {html.escape(t["title"])} {html.escape(self.run_id)}</title>
<style>{STYLE}</style></head><body>
<h1>kaohe {html.escape(t["title"])}</h1>
{self.ranking}
<div class=summary id=summary>
<p class=verdict id=verdict>{html.escape(t["verdicts"].get(self.verdict, self.verdict))}</p>
<p id=bi-sees>{html.escape(self._bi_sees(t))}</p>
{html.escape(t["run"])} <b>{html.escape(self.run_id)}</b> · {html.escape(t["as_of"])} {html.escape(self.as_of)}
· {html.escape(t["written"])} {self.written:%Y-%m-%d %H:%M:%S %Z (UTC%z)}<br>
{html.escape(counts)}<br>{html.escape(self._quarantine_count(t))}{self._clue_count(t, lang)}</div>
<div id=notices>{notices}</div>
{_failures_section(self.failures, t)}
{_trend_section(self.points, t)}
{"".join(sections)}
{_quarantine_section(self.quarantine, t, lang)}
</body></html>
"""

    def _bi_sees(self, t: dict) -> str:
        if self.bi is None:
            return t["bi_nothing"]
        this = t["bi_this_run"] if self.bi["run_id"] == self.run_id else t["bi_other_run"]
        return t["bi_sees"].format(
            run_id=self.bi["run_id"], published_at=f"{self.bi['published_at']:%Y-%m-%d %H:%M}",
            as_of=self.bi["as_of"], this=this,
        )  # fmt: skip

    def _clue_count(self, t: dict, lang: str) -> str:
        """The clues of false results (docs/methodology.md §13) the run found: findings to verify
        offline, not failed checks."""
        if self.clues is None:
            return ""
        from dagster_project.transform.labels import seed_labels

        labels = seed_labels()
        kinds = t["list_sep"].join(f"{year} {labels.label('clue', c, lang)} {n:,}" for year, c, n in self.clues)
        text = t["clues"].format(n=f"{sum(n for *_, n in self.clues):,}", kinds=kinds or "—")
        return f"<br><span id=clues>{html.escape(text)}</span>"

    def _quarantine_count(self, t: dict) -> str:
        if self.quarantine is None:
            return t["quarantine_unreadable"]
        rows = self.loads[1] if self.loads else self.quarantine[["source_table", "line"]].drop_duplicates().shape[0]
        return t["quarantine_count"].format(cells=f"{len(self.quarantine):,}", rows=f"{rows:,}")


def check_detail(o: CheckOutcome, t: dict) -> str:
    """What a check found, in the page's words (`t`): a GX suite's unmet expectations (rows, the
    units named) or the tables over their quarantine share; any other check's own description."""
    facts = o.facts or {}
    if "met" in facts:
        return t["gx_met"].format(n=facts["met"])
    if "failed" in facts:
        return t["item_sep"].join(_unmet(e, t) for e in facts["failed"])
    if "over" in facts:
        if not facts["over"]:
            return t["share_ok"]
        return t["item_sep"].join(_over_share(table, t) for table in facts["over"])
    return o.description


def _unmet(e: dict, t: dict) -> str:
    technical = f"{e['type']}({e['column']}) on {e['frame']}"
    what = t["gx_what"].format(zh=e.get("zh") or "", technical=technical) or technical
    said = t["gx_unmet"].format(what=what, rows=f"{e['rows']:,}") + (t["gx_warn"] if e.get("warn") else "")
    units = e.get("units") or []
    if units:
        named = t["list_sep"].join(units[:SHOWN_UNITS])
        more = t["more_units"].format(n=len(units) - SHOWN_UNITS) if len(units) > SHOWN_UNITS else ""
        said += t["gx_units"].format(units=named + more)
    return said


def _over_share(o: dict, t: dict) -> str:
    table = t["share_table"].format(label=o.get("label") or o["table"], table=o["table"])
    said = t["share_over"].format(
        table=table, rejected=f"{o['rejected']:,}", read=f"{o['read']:,}", share=f"{o['share']:.1%}",
        limit=f"{o['limit']:.0%}",
    )  # fmt: skip
    return said if o["blocking"] else said + t["share_warning"].format(least=o["least"])


def _table(outcomes: list[CheckOutcome], titles: dict[str, str], t: dict) -> str:
    rows = []
    for o in outcomes:
        status = "pass" if o.passed else ("fail" if o.severity == "ERROR" else "warn")
        count = "" if o.failing_rows is None else f"{o.failing_rows:,}"
        title = titles.get(o.name) or o.name
        detail = "" if o.passed and o.source == "dbt" else check_detail(o, t)
        rows.append(
            f"<tr><td class={status}>{html.escape(t['status_' + status])}</td><td>{html.escape(o.asset)}</td>"
            f"<td>{html.escape(title)}<span class=tech>{html.escape(o.name)}</span></td>"
            f"<td>{html.escape(t['sources'].get(o.source, o.source))}</td><td>{count}</td>"
            f"<td>{html.escape(detail)}</td></tr>"
        )
    head = "".join(f"<th>{html.escape(t[k])}</th>" for k in ("status", "table", "check", "by", "rows", "detail"))
    return (
        "<table><colgroup><col class=status><col class=table><col class=check><col class=by><col class=rows>"
        f"<col></colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


@cache
def _personal_columns() -> dict[str, set[str]]:
    """source table → its personal columns (their cells are shown withheld, never as the hash)."""
    from dagster_project.ingest.contracts import load_contracts

    return {name: {c.name for c in contract.columns if c.pii} for name, contract in load_contracts().items()}


def _value(row, t: dict) -> str:
    if set(str(row.column_name).split("+")) & _personal_columns().get(row.source_table, set()):
        return t["personal"]
    return t["empty"] if row.value is None or row.value != row.value or row.value == "" else str(row.value)


def _quarantine_section(quarantine: pd.DataFrame | None, t: dict, lang: str) -> str:
    if quarantine is None:
        return ""
    title = f"<h2 id=quarantine>{html.escape(t['quarantine'])}</h2>"
    if quarantine.empty:
        return f"{title}<p>{html.escape(t['no_quarantine'])}</p>"
    from dagster_project.transform.labels import seed_labels

    labels = seed_labels()
    intro = t["quarantine_intro"].format(
        cells=f"{len(quarantine):,}", csv="quarantine.csv", shown=SHOWN_QUARANTINE_ROWS
    )
    parts = [
        title,
        f"<p>{html.escape(intro).replace('quarantine.csv', '<a href=quarantine.csv>quarantine.csv</a>')}</p>",
    ]
    head = "".join(f"<th>{html.escape(t[k])}</th>" for k in ("file", "line", "column", "value", "reason", "parent"))
    for table, rows in quarantine.groupby("source_table", sort=True):
        reasons = rows["reason"].value_counts().sort_index()
        summary = f"{table}: {len(rows):,} — " + ", ".join(
            f"{labels.label('rejection', r, lang)} {n:,}" for r, n in reasons.items()
        )
        body = []
        for r in rows.head(SHOWN_QUARANTINE_ROWS).itertuples():
            parent = ""
            if r.reason == "dangling_reference":
                found = getattr(r, "parent", None)
                if found:
                    names = "、" if lang == "zh" else ", "
                    why = names.join(labels.label("rejection", x, lang) for x in found[2].split(",") if x)
                    parent = t["parent_row"].format(table=found[0], line=found[1], reasons=why)
                else:
                    parent = t["parent_missing"]
            body.append(
                f"<tr class=rejected data-table='{html.escape(table)}' data-line='{r.line}' data-reason='{r.reason}'>"
                f"<td>{html.escape(str(r.file))}</td><td>{r.line}</td><td>{html.escape(str(r.column_name))}</td>"
                f"<td class=value>{html.escape(_value(r, t))}</td>"
                f"<td>{html.escape(labels.label('rejection', r.reason, lang))}</td>"
                f"<td class=parent>{html.escape(parent)}</td></tr>"
            )
        parts.append(
            f"<details open><summary>{html.escape(summary)}</summary><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></details>"
        )
    return "".join(parts)


def _failures_section(failures: list[str], t: dict) -> str:
    if not failures:
        return ""
    items = "".join(f"<li class=fail>{html.escape(f)}</li>" for f in failures)
    return f"<h2>{html.escape(t['failed_steps'])}</h2><ul>{items}</ul>"
