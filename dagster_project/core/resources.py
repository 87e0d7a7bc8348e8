"""The one resource every step shares: where things are, and the evaluation date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
from pydantic import Field

from dagster_project.core import settings
from dagster_project.core.fingerprint import inputs_fingerprint
from dagster_project.core.lock import writer_lock
from dagster_project.core.settings import DEFAULT_KEEP, MIN_ROWS_SHARE
from dagster_project.core.stale_runs import fail_runs_whose_process_is_gone, process_tags

SHANGHAI = ZoneInfo("Asia/Shanghai")


class KaoheSettings(dg.ConfigurableResource):
    """Paths of the sources inbox (or one delivery), the working warehouse and the publication,
    and `as_of` (docs/methodology.md §11: empty = today in Asia/Shanghai)."""

    sources_dir: str
    warehouse: str
    publish_dir: str
    as_of: str = ""
    reopen_year: int | None = None  # publish a changed final ranking of this year as a new revision
    reopen_reason: str = ""
    only_year: int | None = None  # recompute this year only; others are carried over from the publication
    # make this run's provisional year-end ranking of this year final although incomplete (methodology §9)
    accept_incomplete_year: int | None = None
    accept_incomplete_reason: str = ""
    demo_key: bool = False  # hash personal data with the public demo key (the embedded sample only)
    # tables allowed to arrive empty or under min_rows_share of their current rows
    accept_shrink: list[str] = Field(default_factory=list)
    min_rows_share: float = MIN_ROWS_SHARE  # a smaller table is refused as a likely partial export
    keep: int = DEFAULT_KEEP  # publications (and deliveries' raw loads) kept after each run; see retention.py
    force: bool = False  # compute and publish even when nothing changed since the publication in force

    @classmethod
    def from_env(cls, **overrides: object) -> KaoheSettings:
        values = {
            "sources_dir": str(settings.sources_dir()),
            "warehouse": str(settings.warehouse_path()),
            "publish_dir": str(settings.publish_dir()),
            "min_rows_share": settings.min_rows_share(),
            "keep": settings.keep(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)

    def evaluation_date(self) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        return datetime.now(SHANGHAI).date()

    def as_of_text(self) -> str:
        return self.evaluation_date().isoformat()

    def inputs_fingerprint(self, con: duckdb.DuckDBPyConnection) -> str:
        """What a run would publish from (fingerprint.py): files in force, as_of, options, code."""
        return inputs_fingerprint(
            con,
            as_of=self.as_of_text(),
            pii_key=self.pii_key(),
            demo_key=self.demo_key,
            reopen_year=self.reopen_year,
            reopen_reason=self.reopen_reason,
            only_year=self.only_year,
            accept_year=self.accept_incomplete_year,
            accept_reason=self.accept_incomplete_reason,
        )

    def pii_key(self) -> bytes:
        """The personal-data hash key (settings.pii_key): the demo key only when asked for."""
        return settings.pii_key(demo=self.demo_key)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[KaoheSettings]:
        """A run holds the writer lock from its first step to its last, whoever launched it
        (`kaohe run`, `dagster job execute`, the schedule, the sensor): nobody else's loads can
        land between this run's ingestion and its publication. A missing key stops the run here,
        before anything is read."""
        self.pii_key()
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        instance, run = context.instance, context.run
        if instance is not None and run is not None:
            # before waiting for the lock: a run killed while it waits is known for gone too
            instance.add_run_tags(run.run_id, process_tags())
        with writer_lock(self.warehouse_path):
            if instance is not None and run is not None:
                for run_id in fail_runs_whose_process_is_gone(instance, by=f"run {run.run_id} at its start"):
                    if context.log:
                        context.log.warning(f"run {run_id} marked failed: its process is gone (killed or crashed)")
            yield self

    def lock(self):
        """The warehouse writer lock alone (for steps that read the warehouse file themselves)."""
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        return writer_lock(self.warehouse_path)

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived writing connection, under the warehouse writer lock."""
        with self.lock():
            con = duckdb.connect(str(self.warehouse_path))
            try:
                yield con
            finally:
                con.close()
