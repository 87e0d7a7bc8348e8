"""The `kaohe` command line: generate | run | prune | explain | export | scorecard | scorecards | dea |
stability | whatif | demo."""

from __future__ import annotations

import importlib.metadata
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dagster_project.core import settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kaohe — the agency performance warehouse (机关单位绩效考核).",
)
# Lines are never wrapped by kaohe: paths and task ids stay whole in a narrow terminal, and piped
# output (a CI log, `| tee`) is not cut at 80 columns; tables take the width they need.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 240)


def _resolved(variable: str, path: Path) -> str:
    return f"{variable}, now {path}"


# Help shows where each default path resolves from here (the environment, else the working folder).
SOURCES_DEFAULT = _resolved("KAOHE_SOURCES_DIR", settings.sources_dir())
WAREHOUSE_DEFAULT = _resolved("KAOHE_WAREHOUSE", settings.warehouse_path())
PUBLISH_DEFAULT = _resolved("KAOHE_PUBLISH_DIR", settings.publish_dir())
WarehouseOption = Annotated[Path | None, typer.Option(help=f"Working DuckDB warehouse (default: {WAREHOUSE_DEFAULT}).")]
PublishOption = Annotated[Path | None, typer.Option(help=f"Publication folder (default: {PUBLISH_DEFAULT}).")]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """kaohe's own warnings as one line on stderr ('warning: …'), never Python's raw
    `file:line: UserWarning:` text; other libraries' warnings are not the operator's business
    here (during a run they go to the run log, runner.py)."""
    if str(filename).startswith(settings.PACKAGE_DIR):
        err_console.print(f"[yellow]warning:[/yellow] {message}")


def _version(value: bool) -> None:
    if value:
        console.print(f"kaohe {importlib.metadata.version('kaohe')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print kaohe's version and exit.")
    ] = False,
) -> None:
    """kaohe — the agency performance warehouse (机关单位绩效考核)."""
    warnings.showwarning = _show_warning


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the delivery into.")],
    scale: Annotated[float, typer.Option(help="1 = Jiangsu + 13 cities; 10 adds the counties.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 20231231,
    year: Annotated[int, typer.Option(help="Evaluation year the delivery covers.")] = 2023,
    dirty: Annotated[bool, typer.Option(help="Inject every kind of contract violation and write a manifest.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    encoding: Annotated[str, typer.Option(help="utf-8, or gbk/gb18030 (gbk is written as gb18030).")] = "utf-8",
    headers: Annotated[str, typer.Option(help="Header language: en (contract names) or zh (中文表头).")] = "en",
) -> None:
    """Write a deterministic synthetic delivery of all 14 source tables."""
    from dagster_project.synthetic.dirty import inject
    from dagster_project.synthetic.generator import generate as build
    from dagster_project.synthetic.writer import MANIFEST_FILE, DeliveryTooLarge, write_delivery

    started = time.perf_counter()
    with console.status(f"generating scale {scale:g} (seed {seed}, year {year})…"):
        if headers not in ("en", "zh"):
            err_console.print(f"[red]error:[/red] --headers {headers!r}: en or zh")
            raise typer.Exit(2)
        try:
            tables = build(scale=scale, seed=seed, year=year)
            manifest = None
            if dirty:
                tables, manifest = inject(tables, seed)
        except ValueError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        out.mkdir(parents=True, exist_ok=True)
        meta = {"generator": "kaohe", "scale": scale, "seed": seed, "year": year, "dirty": dirty}
        try:
            write_delivery(tables, out, fmt=fmt, encoding=encoding, headers=headers, metadata=meta)
        except (DeliveryTooLarge, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        if manifest is not None:
            manifest.to_csv(out / MANIFEST_FILE, index=False, lineterminator="\n")
    summary = Table(title=f"delivery written to {out}", show_edge=False)
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    for name, frame in tables.items():
        summary.add_row(name, f"{len(frame):,}")
    console.print(summary)
    if manifest is not None:
        console.print(f"dirty: {len(manifest)} rows expected in quarantine, listed in {out / MANIFEST_FILE}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")


RunSourcesOption = Annotated[
    Path | None, typer.Option(help=f"A delivery, or an inbox of deliveries (default: {SOURCES_DEFAULT}).")
]
RunAsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Evaluation date YYYY-MM-DD (default: today in Asia/Shanghai).")
]
RunYearOption = Annotated[
    int | None, typer.Option(help="Recompute this year only; other years are carried over from the publication.")
]
RunReopenOption = Annotated[
    int | None, typer.Option(help="Publish a changed final (year-end) ranking of this year as a new revision.")
]
RunReasonOption = Annotated[
    str | None,
    typer.Option(help="Why the final ranking is reopened, or accepted incomplete (required with both)."),
]
RunAcceptIncompleteOption = Annotated[
    int | None,
    typer.Option(
        "--accept-incomplete",
        metavar="YEAR",
        help="Make the provisional year-end ranking of YEAR that this run computes final as it is, although "
        "some units' data are incomplete (only ranking_status changes; recorded with --reason).",
    ),
]
RunAcceptShrinkOption = Annotated[
    list[str] | None,
    typer.Option(
        "--accept-shrink",
        metavar="TABLE",
        help="Accept this table (persons or staffing.persons) delivered empty or with under half the rows "
        "of its current load; repeatable.",
    ),
]
RunDemoKeyOption = Annotated[
    bool,
    typer.Option(
        "--demo-key",
        help="Hash personal data with the public demo key instead of KAOHE_PII_KEY: for the "
        "embedded sample only (the publication records it).",
    ),
]
RunHistoryOption = Annotated[
    bool | None,
    typer.Option(
        "--history/--no-history",
        help="Record the run in DAGSTER_HOME (default: beside the warehouse) so `dagster dev` shows it "
        "(default: on, or KAOHE_RUN_HISTORY=0 for off).",
        show_default=False,
    ),
]
RunForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Build, check and publish even when the files in force, as-of date, options and code are "
        "those of the publication in force (such a run is otherwise skipped after ingestion).",
    ),
]


@app.command()
def run(
    sources: RunSourcesOption = None,
    warehouse: WarehouseOption = None,
    publish: PublishOption = None,
    as_of: RunAsOfOption = None,
    year: RunYearOption = None,
    reopen: RunReopenOption = None,
    reason: RunReasonOption = None,
    accept_incomplete: RunAcceptIncompleteOption = None,
    accept_shrink: RunAcceptShrinkOption = None,
    demo_key: RunDemoKeyOption = False,
    history: RunHistoryOption = None,
    force: RunForceOption = False,
) -> None:
    """Run the whole nightly job in this process: ingest, dbt build with its tests, quality gate, publish."""
    from dagster_project.core.lock import WarehouseLocked
    from dagster_project.core.resources import KaoheSettings
    from dagster_project.runner import run_nightly

    _check_run_options(as_of, accept_shrink, reopen, accept_incomplete, reason)
    kaohe = KaoheSettings.from_env(
        sources_dir=str(sources) if sources else None,
        warehouse=str(warehouse) if warehouse else None,
        publish_dir=str(publish) if publish else None,
        as_of=as_of,
        reopen_year=reopen,
        reopen_reason=reason,
        accept_incomplete_year=accept_incomplete,
        accept_incomplete_reason=reason,
        only_year=year,
        demo_key=demo_key,
        accept_shrink=accept_shrink,
        force=force,
    )
    _check_key(kaohe)
    console.print(
        f"kaohe run: sources [bold]{kaohe.sources_dir}[/bold] → warehouse [bold]{kaohe.warehouse}[/bold], "
        f"as of {kaohe.evaluation_date()}"
    )
    try:
        with _Progress() as progress:
            report = run_nightly(kaohe, on_event=progress.on_event, history=history)
    except WarehouseLocked as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from None
    _print_report(report)
    raise typer.Exit(report.exit_code)


def _check_run_options(
    as_of: str | None,
    accept_shrink: list[str] | None,
    reopen: int | None,
    accept_incomplete: int | None,
    reason: str | None,
) -> None:
    """Options `kaohe run` refuses before anything starts (exit code 2), each with what to do."""
    from datetime import date

    from dagster_project.ingest.contracts import load_contracts

    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            err_console.print(f"[red]error:[/red] --as-of {as_of!r} is not a date (YYYY-MM-DD)")
            raise typer.Exit(2) from None
    known = {name for c in load_contracts().values() for name in (c.name, c.table)}
    unknown = sorted(set(accept_shrink or ()) - known)
    if unknown:
        err_console.print(
            f"[red]error:[/red] --accept-shrink {', '.join(unknown)}: no such table ({', '.join(sorted(known))})"
        )
        raise typer.Exit(2)
    if reopen is not None and not (reason or "").strip():
        err_console.print("[red]error:[/red] --reopen needs --reason TEXT: every revision of a final ranking says why")
        raise typer.Exit(2)
    if accept_incomplete is not None and not (reason or "").strip():
        err_console.print(
            "[red]error:[/red] --accept-incomplete needs --reason TEXT: the acceptance is recorded with it"
        )
        raise typer.Exit(2)


def _check_key(kaohe) -> None:
    """A run without a usable personal-data key stops here (exit code 2), before anything is read."""
    from dagster_project.core.settings import MissingPiiKey

    try:
        with warnings.catch_warnings():  # the demo key's warning is printed once, in the run's summary
            warnings.simplefilter("ignore")
            kaohe.pii_key()
    except MissingPiiKey as exc:
        err_console.print(f"[red]error:[/red] {exc}\n(for the embedded sample only: kaohe run --demo-key)")
        raise typer.Exit(2) from None


class _Progress:
    """Live progress of the Dagster steps on a terminal; quiet elsewhere (CI logs)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} assets, {task.fields[checks]} checks"),
            TimeElapsedColumn(),
            console=Console(file=sys.stdout),  # bound now: the run redirects stdout to its log
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("starting", total=None, checks=0)

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def on_event(self, event) -> None:
        kind = event.event_type_value
        if kind == "STEP_START":
            self.progress.update(self.task, description=f"running {event.step_key}")
        elif kind == "ASSET_MATERIALIZATION":
            self.progress.advance(self.task)
        elif kind == "ASSET_CHECK_EVALUATION":
            checks = self.progress.tasks[0].fields["checks"] + 1
            self.progress.update(self.task, checks=checks)
        elif kind == "STEP_FAILURE":
            self.progress.console.print(f"[red]failed:[/red] {event.step_key}")


def _print_report(report) -> None:
    from dagster_project.quality.ranking_notice import RankingNotice, notice_lines

    if report.ranking:  # said first: what the published rankings rest on (docs/methodology.md §9)
        notice = RankingNotice.from_json(report.ranking)
        for line in notice_lines(notice):
            style = "bold yellow" if notice.provisional_years and not line.startswith(" ") else None
            console.print(line, style=style, soft_wrap=True, markup=False, highlight=False)
    if report.tables:
        loads = Table(title="loads", show_edge=False)
        for column, justify in (
            ("table", "left"),
            ("delivery", "left"),
            ("rows", "right"),
            ("accepted", "right"),
            ("quarantined", "right"),
            ("", "left"),
        ):
            loads.add_column(column, justify=justify)
        for t in report.tables:
            loads.add_row(
                t.table,
                t.delivery,
                f"{t.rows:,}",
                f"{t.accepted:,}",
                f"{t.rejected:,}",
                "same file as before" if t.reused else "",
            )
        console.print(loads)
    passed = sum(c.passed for c in report.checks)
    console.print(f"checks: {passed} passed, {len(report.failed_checks)} failed, {len(report.warned_checks)} warnings")
    for check in report.failed_checks:
        console.print(f"  [red]FAILED[/red] {check.asset} · {check.name}: {check.description}")
    for check in report.warned_checks:
        console.print(f"  [yellow]warning[/yellow] {check.asset} · {check.name}: {check.description}")
    for failure in report.failures:
        console.print(f"  [red]error[/red] {failure}")
    for warning in report.warnings:
        console.print(f"  [yellow]warning[/yellow] {warning}")
    if report.up_to_date:
        console.print(
            f"nothing new: the files in force, the as-of date, the options and the code are those of publication "
            f"{report.up_to_date}, which stays current (dbt, the gate and publishing skipped; --force redoes them)"
        )
    if report.published:
        console.print(f"published: {report.published}  (quality report: {report.published / 'docs' / 'quality.html'})")
    elif report.report:
        console.print(f"[red]nothing published[/red]; the last good snapshot stays. Quality report: {report.report}")
    if report.step_seconds:
        console.print(
            "time per step: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.step_seconds.items()),
            soft_wrap=True,
        )
    verdict = "[green]succeeded[/green]" if report.exit_code == 0 else "[red]failed[/red]"
    console.print(f"run {verdict} in {report.seconds:.1f} s; dbt and Dagster log: {report.log}")


@app.command()
def prune(
    keep: Annotated[int, typer.Option(help="Publications, and deliveries whose raw loads, to keep.")] = 30,
    warehouse: WarehouseOption = None,
    publish: PublishOption = None,
) -> None:
    """Remove old run folders (never current, never one that published a final ranking) and the raw
    rows of loads neither current nor among the newest deliveries. Each run does this too (KAOHE_KEEP)."""
    from dagster_project.core.lock import WarehouseLocked, writer_lock
    from dagster_project.core.settings import publish_dir, warehouse_path
    from dagster_project.publish.retention import prune as run_prune

    if keep < 1:
        err_console.print("[red]error:[/red] --keep must be at least 1")
        raise typer.Exit(2)
    target, folder = warehouse or warehouse_path(), publish or publish_dir()
    try:
        with writer_lock(target):
            result = run_prune(folder, target, keep)
    except WarehouseLocked as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from None
    console.print(
        f"removed {len(result.removed_runs)} run folder(s) from {folder / 'runs'}; pruned "
        f"{len(result.pruned_loads)} raw load(s), {result.rows_deleted:,} rows, from {target}"
    )


@app.command()
def explain(
    unit_code: Annotated[str, typer.Argument(help="Unified social credit code of the unit.")],
    year: Annotated[int, typer.Option(help="Evaluation year.")],
    lang: Annotated[str, typer.Option(help="Language: zh (Chinese) or en (English).")] = "zh",
    publish: PublishOption = None,
) -> None:
    """Explain one unit's published score line by line: rules, tasks, source keys, rank and grade."""
    from dagster_project.core.settings import publish_dir
    from dagster_project.outputs.explain import ExplainError
    from dagster_project.outputs.explain import explain as run_explain

    try:
        run_explain(publish or publish_dir(), unit_code, year, console, lang)
    except ExplainError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def export(
    year: Annotated[int, typer.Option(help="Evaluation year.")],
    out: Annotated[Path, typer.Option(help="The workbook to write (.xlsx).")] = Path("ranking.xlsx"),
    publish: PublishOption = None,
) -> None:
    """Write the published results of a year as the office's Excel workbook: the ranking of each
    category group with Chinese labels, then indicators, line items, tasks, lights, negative list,
    efficiency, staffing signals and register cross-checks."""
    from dagster_project.core.settings import publish_dir
    from dagster_project.outputs.export import ExportError
    from dagster_project.outputs.export import export as run_export

    try:
        counts = run_export(publish or publish_dir(), year, out)
    except ExportError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"wrote {out}: " + ", ".join(f"{sheet} {rows:,}" for sheet, rows in counts.items()), soft_wrap=True)


LangOption = Annotated[str, typer.Option(help="Language of the page: zh (Chinese) or en (English).")]
PdfOption = Annotated[
    bool, typer.Option("--pdf", help="Also print each page to PDF beside it (needs headless Chromium).")
]
AudienceOption = Annotated[
    str, typer.Option(help="unit (the page sent to the agency) or office (with the evaluation office's sections).")
]


@app.command()
def scorecard(
    unit_code: Annotated[str, typer.Argument(help="Unified social credit code of the unit.")],
    year: Annotated[int, typer.Option(help="Evaluation year.")],
    out: Annotated[
        Path | None, typer.Option(help="The page to write (.html; default scorecard-UNIT-YEAR.html).")
    ] = None,
    lang: LangOption = "zh",
    pdf: PdfOption = False,
    audience: AudienceOption = "unit",
    publish: PublishOption = None,
) -> None:
    """Write one agency's feedback page (在线反馈) from the published results: total, rank and grade
    with the reason, the six indicators against the group, tasks and their quarterly lights, each
    deduction with its rule and sources, staffing and efficiency, and what to improve."""
    from dagster_project.core.settings import publish_dir
    from dagster_project.outputs.scorecard import ScorecardError, write_scorecard

    page = out or Path(f"scorecard-{unit_code}-{year}.html")
    try:
        written = write_scorecard(publish or publish_dir(), unit_code, year, page, lang, pdf, audience)
    except ScorecardError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print("wrote " + ", ".join(str(p) for p in written))


@app.command()
def scorecards(
    year: Annotated[int, typer.Option(help="Evaluation year.")],
    out: Annotated[Path | None, typer.Option(help="Folder of the pages (default scorecards/YEAR).")] = None,
    lang: LangOption = "zh",
    pdf: PdfOption = False,
    audience: AudienceOption = "unit",
    publish: PublishOption = None,
) -> None:
    """Write every ranked agency's feedback page of a year into a folder (UNIT.html each), with an
    index.html listing them by evaluating body, category and rank."""
    from dagster_project.core.settings import publish_dir
    from dagster_project.outputs.scorecard import ScorecardError, write_scorecards

    folder = out or Path("scorecards") / str(year)
    try:
        with console.status(f"writing the {year} scorecards into {folder}…"):
            count = write_scorecards(publish or publish_dir(), year, folder, lang, pdf, audience)
    except ScorecardError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"wrote {count:,} scorecards" + (" and their PDFs" if pdf else "") + f" and {folder / 'index.html'}")


@app.command()
def dea(
    table: Annotated[
        Path, typer.Argument(help="CSV table, one row per unit (UTF-8 or GB18030/GBK; Chinese headers allowed).")
    ],
    id_column: Annotated[str, typer.Option("--id", help="Column naming each unit.")],
    inputs: Annotated[str, typer.Option(help="Input columns, comma-separated (e.g. 编制,支出).")],
    outputs: Annotated[str, typer.Option(help="Output columns, comma-separated.")],
    out: Annotated[Path, typer.Option(help="The CSV to write.")],
    rts: Annotated[str, typer.Option(help="Returns to scale: vrs (BCC) or crs (CCR).")] = "vrs",
    orientation: Annotated[str, typer.Option(help="input (shrink inputs) or output (grow outputs).")] = "input",
) -> None:
    """Efficiency frontier (DEA, docs/methodology.md §12) of any table of at least 2 rows: efficiency,
    peers (id:λ;…), slack_<col> and target_<col> per input and output."""
    from dagster_project.analysis.dea import DeaError, dea_table, write_dea

    def columns(text: str) -> list[str]:
        return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]

    try:
        frame = dea_table(table, id_column, columns(inputs), columns(outputs), rts, orientation)
        write_dea(frame, out)
    except DeaError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    efficient = int((frame["efficiency"] >= 1.0).sum())
    console.print(f"wrote {out}: {len(frame)} units, {efficient} efficient ({rts.upper()}, {orientation} orientation)")


@app.command()
def stability(
    year: Annotated[int, typer.Option(help="Year of the published year-end ranking.")],
    out: Annotated[Path, typer.Option(help="The CSV to write (the columns of grade_stability).")],
    draws: Annotated[int | None, typer.Option(help="Resampling draws (default: the methodology's, 200).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the methodology's); same seed, same shares.")] = None,
    warehouse: WarehouseOption = None,
    publish: PublishOption = None,
) -> None:
    """Grade certainty (docs/methodology.md §14): resample each unit's reviewers and report how often
    it lands in each grade, and its rank's 5th–95th percentile, for the published ranking of YEAR."""
    from dagster_project.analysis.scratch import AnalysisError
    from dagster_project.analysis.stability import grade_stability

    started = time.monotonic()
    try:
        with console.status(f"resampling the reviews of {year}…"):
            result = grade_stability(
                year, warehouse or settings.warehouse_path(), publish or settings.publish_dir(), out, draws, seed
            )
    except AnalysisError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    uncertain = int((result[["p_grade1", "p_grade2", "p_grade3"]].max(axis=1) <= 0.9).sum())
    console.print(
        f"wrote {out}: {len(result):,} units, {int(result['draws'].iloc[0]):,} draws, {uncertain:,} with no grade "
        f"above 90% ({time.monotonic() - started:.1f} s)"
    )


@app.command()
def whatif(
    proposal: Annotated[
        Path, typer.Argument(help="Folder of CSVs named like the methodology seeds, with their columns.")
    ],
    year: Annotated[int, typer.Option(help="Year of the published ranking to compare with.")],
    out: Annotated[Path, typer.Option(help="Folder for unit_scores.csv, comparison.xlsx and comparison.html.")],
    as_of: Annotated[str | None, typer.Option(help="Evaluation date (default: that of the published ranking).")] = None,
    warehouse: WarehouseOption = None,
    publish: PublishOption = None,
) -> None:
    """What-if of a methodology change (docs/methodology.md §14): recompute YEAR with the proposal's
    seed rows in a scratch copy of the working warehouse and compare with the published ranking;
    nothing published or in the working warehouse changes."""
    from dagster_project.analysis.scratch import AnalysisError
    from dagster_project.analysis.whatif import whatif as run_whatif

    started = time.monotonic()
    try:
        with console.status(f"recomputing {year} under the proposal {proposal}…"):
            result = run_whatif(
                proposal, year, warehouse or settings.warehouse_path(), publish or settings.publish_dir(), out, as_of
            )
    except AnalysisError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    s = result.summary
    if s["working_differs"]:
        warnings.warn(
            f"the working warehouse differs from the published ranking of {year} in {s['working_differs']} unit(s); "
            "the comparison includes those data differences",
            stacklevel=1,
        )
    rho = "—" if s["rank_correlation"] is None else f"{s['rank_correlation']:.4f}"
    console.print(
        f"{s['units']:,} units of {year} (as of {s['as_of']}): {s['grade_changes']:,} change grade "
        f"({s['grade_up']:,} up, {s['grade_down']:,} down), {s['rank_changes']:,} change rank, rank correlation {rho}"
    )
    console.print(f"wrote {out / 'unit_scores.csv'}, {out / 'comparison.xlsx'}, {out / 'comparison.html'} "
                  f"({time.monotonic() - started:.1f} s)")  # fmt: skip


@app.command()
def demo(
    folder: Annotated[Path, typer.Option(help="Where the demo delivery, warehouse and publication go.")] = Path(
        "warehouse/demo"
    ),
    scale: Annotated[float, typer.Option(help="Size of the generated delivery.")] = 1.0,
) -> None:
    """Generate a sample, run the nightly job on it, print the top of the ranking and where things are."""
    import duckdb

    from dagster_project.core.resources import KaoheSettings
    from dagster_project.runner import run_nightly
    from dagster_project.synthetic.generator import generate as build
    from dagster_project.synthetic.writer import write_delivery

    delivery = folder / "delivery"
    if not (delivery / "_READY").exists():
        with console.status(f"generating a scale-{scale:g} delivery into {delivery}…"):
            write_delivery(build(scale=scale), delivery)
    kaohe = KaoheSettings(
        sources_dir=str(delivery.resolve()),
        warehouse=str((folder / "kaohe.duckdb").resolve()),
        publish_dir=str((folder / "published").resolve()),
        demo_key=True,
    )
    with _Progress() as progress:
        report = run_nightly(kaohe, on_event=progress.on_event)
    _print_report(report)
    if report.published:
        con = duckdb.connect(str(Path(kaohe.publish_dir) / "kaohe.duckdb"), read_only=True)
        try:
            top = con.execute(
                "select year, group_code, category, rank_in_category, unit_code, unit_name, total_score, grade "
                "from marts.unit_scores where group_code = '320000' order by year desc, category, rank_in_category "
                "limit 10"
            ).fetchall()
        finally:
            con.close()
        table = Table(title="top of the provincial ranking", show_edge=False)
        for column in ("year", "group", "category", "rank", "unit", "name", "total", "grade"):
            table.add_column(column)
        for row in top:
            table.add_row(*(str(v) for v in row))
        console.print(table)
        if top:
            console.print(f"explain one: kaohe explain {top[0][4]} --year {top[0][0]} --publish {kaohe.publish_dir}")
        console.print(f"BI: open {Path(kaohe.publish_dir) / 'kaohe.duckdb'} read-only, or the Parquet files beside it")
    raise typer.Exit(report.exit_code)
