"""The one resource every step shares: where things are, and the evaluation date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from dagster_project import settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


class KaoheSettings(dg.ConfigurableResource):
    """Paths of the sources inbox (or one delivery), the working warehouse and the publication,
    and `as_of` (METHODOLOGY §11: empty = today in Asia/Shanghai)."""

    sources_dir: str
    warehouse: str
    publish_dir: str
    as_of: str = ""
    reopen_year: int | None = None  # publish a changed final ranking of this year as a new revision
    reopen_reason: str = ""
    only_year: int | None = None  # recompute this year only; others are carried over from the publication

    @classmethod
    def from_env(cls, **overrides: str | int | None) -> KaoheSettings:
        values = {
            "sources_dir": str(settings.sources_dir()),
            "warehouse": str(settings.warehouse_path()),
            "publish_dir": str(settings.publish_dir()),
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

    def lock(self):
        """The warehouse writer lock alone (for steps that read the warehouse file themselves)."""
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        return settings.writer_lock(self.warehouse_path)

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived writing connection, under the warehouse writer lock."""
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        with settings.writer_lock(self.warehouse_path):
            con = duckdb.connect(str(self.warehouse_path))
            try:
                yield con
            finally:
                con.close()
