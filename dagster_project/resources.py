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

    @classmethod
    def from_env(cls, **overrides: str) -> KaoheSettings:
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
