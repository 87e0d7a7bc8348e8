"""`kaohe run`: the nightly job in this process, through the same Dagster definitions as the
schedule, with a live progress display and a summary at the end."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.core.dbt_project import prepare_manifest
from dagster_project.core.errors import failure_message
from dagster_project.core.fingerprint import publication_in_force
from dagster_project.core.lock import writer_lock
from dagster_project.core.resources import KaoheSettings
from dagster_project.core.settings import PACKAGE_DIR
from dagster_project.core.stale_runs import fail_runs_whose_process_is_gone, process_tags
from dagster_project.quality.report import CheckOutcome, blocking_failures, outcome_of

EventCallback = Callable[[object], None]
PUBLISH_STEP = "publish__snapshot"  # the step key of the publishing asset


@dataclass
class TableSummary:
    table: str
    rows: int
    accepted: int
    rejected: int
    reused: bool
    delivery: str


@dataclass
class RunReport:
    success: bool
    seconds: float
    tables: list[TableSummary] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    run_id: str = ""
    log: Path | None = None
    published: Path | None = None  # the snapshot folder, when this run published one
    report: Path | None = None  # the quality report of the run
    warnings: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)  # each step that succeeded
    up_to_date: str = ""  # the run id of the publication in force, when nothing new was there to publish
    ranking: dict | None = None  # what the published rankings rest on (quality/ranking_notice.py), said first

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return blocking_failures(self.checks)

    @property
    def warned_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.severity != "ERROR"]

    @property
    def exit_code(self) -> int:
        return 0 if self.success and not self.failed_checks else 1


def _progress_logger(callback: EventCallback):
    import dagster as dg

    class _Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", None)
            event = meta.get("dagster_event") if isinstance(meta, dict) else None
            if event is not None:
                callback(event)

    @dg.logger(description="Forwards Dagster events to the kaohe progress display.")
    def progress(_init_context):
        forward = logging.getLogger("kaohe.progress")
        forward.handlers = [_Forward()]
        forward.setLevel(logging.DEBUG)
        forward.propagate = False
        return forward

    return progress


def _file_logger(path: Path):
    """Dagster's own log lines (each step's messages, warnings and errors) into the run log,
    beside dbt's output."""
    import dagster as dg

    @dg.logger(description="Writes the run's log lines to the kaohe run log file.")
    def run_file(_init_context):
        logger = logging.getLogger(f"kaohe.run.{path.name}")
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_TIME))
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
        return logger

    return run_file


LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
LOG_TIME = "%Y-%m-%d %H:%M:%S%z"  # local time with its UTC offset: a log read elsewhere is not ambiguous


@contextlib.contextmanager
def _warnings_into(log, own: list[str]) -> Iterator[None]:
    """Python warnings raised during the run go to the run log, not through the terminal's
    progress line; kaohe's own (e.g. the demo key) also join the run's warnings (printed once in
    the summary)."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        stamp = time.strftime(LOG_TIME)
        log.write(f"{stamp} WARNING {category.__name__}: {message} ({filename}:{lineno})\n")
        if str(filename).startswith(PACKAGE_DIR) and str(message) not in own:
            own.append(str(message))

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


INSTANCE_CONFIG = Path(__file__).resolve().parent / "core" / "dagster.yaml"


def dagster_home(kaohe: KaoheSettings) -> Path:
    """Where the run history lives: DAGSTER_HOME, else `dagster/` beside the warehouse (what
    `make dev` uses too), so the runs of `kaohe run` — their materializations, check results and
    logs — appear in `dagster dev` beside the scheduled ones."""
    home = os.environ.get("DAGSTER_HOME")
    return Path(home).resolve() if home else Path(kaohe.warehouse).resolve().parent / "dagster"


def keeps_history() -> bool:
    """Whether `kaohe run` records its run in DAGSTER_HOME (KAOHE_RUN_HISTORY, default on). Off,
    the run uses an in-memory instance, for throwaway runs such as the test suite's (SQLite
    commits each of a run's hundreds of events)."""
    return os.environ.get("KAOHE_RUN_HISTORY", "1").strip().lower() not in ("0", "false", "no", "off")


def _sqlite_without_fsync_per_event(dbapi_connection, _record) -> None:
    """Dagster's SQLite storage commits each event of a run on its own connection (~200 planned
    events before a run starts, hundreds in a nightly run); with SQLite's default synchronous=FULL
    that is several fsyncs per event.
    NORMAL keeps the rollback journal's guarantees against crashes of the process; only a power
    cut at the wrong moment could damage the run history (never the warehouse or a publication)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("pragma synchronous=normal")
        cursor.close()


def dagster_instance(kaohe: KaoheSettings, history: bool = True):
    import dagster as dg
    import yaml
    from dagster._core.instance.ref import InstanceRef
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from dagster_project.core.event_log import KaoheSqliteEventLogStorage, event_log_storage_config, seed_dagster_home

    if not history:
        return dg.DagsterInstance.ephemeral()
    if not event.contains(Engine, "connect", _sqlite_without_fsync_per_event):
        event.listen(Engine, "connect", _sqlite_without_fsync_per_event)
    home = dagster_home(kaohe)  # absolute (resolved)
    configured = yaml.safe_load(seed_dagster_home(home, INSTANCE_CONFIG).read_text(encoding="utf-8")) or {}
    # the instance of dagster.yaml, with an event log that does not build an engine per event
    # (event_log.py) at this folder's history/runs (also when the folder moved since it was
    # seeded, or was seeded before dagster.yaml named it): same files, so `dagster dev` and any
    # reader of the folder see these runs. A storage dagster.yaml chooses itself (Postgres, say)
    # is used as it is.
    ours = (configured.get("event_log_storage") or {}).get("class") == KaoheSqliteEventLogStorage.__name__
    if configured.keys() & {"storage", "run_storage", "event_log_storage", "schedule_storage"} and not ours:
        return dg.DagsterInstance.from_config(str(home))
    ref = InstanceRef.from_dir(str(home), overrides={"event_log_storage": event_log_storage_config(home)})
    return dg.DagsterInstance.from_ref(ref)


def run_log_path(kaohe: KaoheSettings) -> Path:
    folder = Path(kaohe.warehouse).resolve().parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log"


def export_environment(kaohe: KaoheSettings) -> None:
    """dbt reads the warehouse path from KAOHE_WAREHOUSE: give it the same absolute path."""
    os.environ["KAOHE_WAREHOUSE"] = str(Path(kaohe.warehouse).resolve())
    os.environ["KAOHE_SOURCES_DIR"] = str(Path(kaohe.sources_dir).resolve())
    os.environ["KAOHE_PUBLISH_DIR"] = str(Path(kaohe.publish_dir).resolve())
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def run_nightly(kaohe: KaoheSettings, on_event: EventCallback | None = None, history: bool | None = None) -> RunReport:
    export_environment(kaohe)
    prepare_manifest()

    from dagster_project.definitions import build_definitions

    log_path = run_log_path(kaohe)
    loggers = {"progress": _progress_logger(on_event or (lambda _e: None)), "file": _file_logger(log_path)}
    job = build_definitions(kaohe, loggers=loggers).resolve_job_def("nightly")
    started = time.perf_counter()
    own_warnings: list[str] = []
    # dbt writes its log lines on stdout: into the run log instead, line by line (`tail -f` works).
    with (
        writer_lock(Path(kaohe.warehouse)),
        dagster_instance(kaohe, keeps_history() if history is None else history) as instance,
        log_path.open("a", encoding="utf-8", buffering=1) as log,
        contextlib.redirect_stdout(log),
        _warnings_into(log, own_warnings),
    ):
        recovered = fail_runs_whose_process_is_gone(instance, by="kaohe run at its start")
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}, "file": {}}},
            tags={"kaohe/as_of": kaohe.evaluation_date().isoformat(), **process_tags()},
        )
    report = RunReport(
        success=result.success, seconds=time.perf_counter() - started, run_id=result.run_id, log=log_path
    )
    report.warnings.extend(own_warnings)
    report.warnings.extend(f"run {gone} marked failed: its process is gone (killed or crashed)" for gone in recovered)
    tracebacks, skipped = _read_events(report, result.all_events)
    if result.success and PUBLISH_STEP in skipped:
        # The dbt step found nothing new since the publication in force (fingerprint.py).
        in_force = publication_in_force(Path(kaohe.publish_dir))
        report.up_to_date = in_force.run_id if in_force else "?"
    report.checks = [outcome_of(evaluation) for evaluation in result.get_asset_check_evaluations()]
    if tracebacks:
        with log_path.open("a", encoding="utf-8") as log:
            log.write("\n".join(["", "Unexpected errors of this run, with their tracebacks:", *tracebacks, ""]))
    return report


def _read_events(report: RunReport, events) -> tuple[list[str], set[str]]:
    """The run's events into the report: failures (one line per message), step times, what each
    materialization says; returns the tracebacks of unexpected errors and the skipped steps."""
    tracebacks = []
    failed_steps: dict[str, list[str]] = {}  # message → steps that failed with it (one line for all)
    skipped: set[str] = set()
    for event in events:
        if event.is_step_failure or event.is_run_failure:
            data = event.step_failure_data if event.is_step_failure else event.job_failure_data
            message = failure_message(data)
            user = getattr(data, "user_failure_data", None)
            if data.error and not (user and user.description):
                tracebacks.append(f"{event.step_key or 'run'}: {data.error.to_string()}")
            if event.is_step_failure or not failed_steps:
                failed_steps.setdefault(message, []).append(event.step_key or "run")
        elif event.is_step_skipped:
            skipped.add(event.step_key)
        elif event.is_step_success:
            report.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            _read_materialization(report, event.event_specific_data.materialization)
    report.failures = [f"{', '.join(steps)}: {message}" for message, steps in failed_steps.items()]
    return tracebacks, skipped


def _read_materialization(report: RunReport, materialization) -> None:
    """What a materialization tells the summary: a table loaded, a system file missing, the
    snapshot published (with its ranking notice and kept final rankings), the quality report."""
    table = ".".join(materialization.asset_key.path)
    meta = {k: v.value for k, v in materialization.metadata.items()}
    if "no_file_in" in meta:
        report.warnings.append(
            f"{table}: no file in delivery {meta['no_file_in']}; its last delivered snapshot stays current"
        )
    if "snapshot" in meta:
        report.published = Path(meta["snapshot"])
        report.ranking = meta.get("ranking_notice")
        for year, units in (meta.get("kept_final_years") or {}).items():
            report.warnings.append(
                f"final ranking of {year} kept as published: the latest data would change {units} unit(s) "
                f"(see ranking_drift; rerun with --reopen {year} --reason TEXT to publish a revision)"
            )
    if "report" in meta and "blocking_failures" in meta:
        report.report = Path(meta["report"])
    if "accepted" in meta:
        report.tables.append(
            TableSummary(
                table=table,
                rows=int(meta["rows"]),
                accepted=int(meta["accepted"]),
                rejected=int(meta["rejected"]),
                reused=bool(meta.get("reused")),
                delivery=str(meta.get("delivery", "")),
            )
        )
