"""Dagster's SQLite event log, without building a database engine for every event.

`SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection, commits and disposes of
the engine for each event it stores, and again for each `has_table` question (dagster 1.13,
`sqlite_event_log.py`). A run stores hundreds of events, and most of the cost of storing one
is engine creation, connect, close and statement compilation (an engine's compiled-statement
cache dies with it). This storage keeps one engine per database file (the run's shard and the
index shard, a few at a time) and remembers the tables that exist. Same files, same schema, same locking:
every connection still commits per event, under the same lock, so the Dagster webserver and
daemon read the history as before.

It needs the instance folder as an absolute path, which a dagster.yaml cannot derive from its own
location. So a DAGSTER_HOME that kaohe seeds (`seed_dagster_home`: `kaohe run`, `make dev`) gets a
dagster.yaml that names this storage with the folder's absolute path: `dagster dev`, the daemon's
schedule and sensor runs, `dagster job execute` and scripts then all record and read through it.
A folder seeded before, or whose dagster.yaml leaves the storage to Dagster,
still gets it under `kaohe run` (runner.dagster_instance); the other readers use the default
storage on the same files, which reads them as well.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

OPEN_ENGINES = 4  # the index shard and the shards of the runs in flight; older ones are disposed


def event_log_storage_config(dagster_home: Path) -> dict[str, Any]:
    """The instance override for DAGSTER_HOME: the event log where Dagster's default storage keeps
    it (`history/runs`), so the existing history is kept and read by the default storage alike."""
    return {
        "module": "dagster_project.core.event_log",  # not __name__: `python -m` (make dev) runs it as __main__
        "class": KaoheSqliteEventLogStorage.__name__,
        "config": {"base_dir": str(Path(dagster_home).resolve() / "history" / "runs")},
    }


def seed_dagster_home(home: Path, template: Path) -> Path:
    """Write `home/dagster.yaml` when it has none: `template` (kaohe's instance settings) with
    this event log, at `home/history/runs` as an absolute path. If the folder is moved, the path
    in its dagster.yaml has to follow (or the file be deleted, to be written again)."""
    import yaml

    home = Path(home).resolve()
    config_file = home / "dagster.yaml"
    if not config_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        text = template.read_text(encoding="utf-8")
        header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
        config = yaml.safe_load(text) or {}
        config["event_log_storage"] = event_log_storage_config(home)
        note = (
            "#\n# event_log_storage: Dagster's SQLite event log without an engine per event "
            "(dagster_project/core/event_log.py),\n"
            "# at this folder's history/runs: change the path if the folder moves.\n"
        )
        config_file.write_text(header + note + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config_file


class KaoheSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with an engine kept per shard (see the module's docstring); its config
    is the same `base_dir`."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._existing_tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> KaoheSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                pool_size=1,
                max_overflow=0,  # one connection per shard: the storage lock admits one user at a time
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
            while len(self._engines) > OPEN_ENGINES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            if shard not in self._initialized_dbs:
                # once per shard and process, on an engine of its own: _initdb opens several
                # connections at once (alembic check, inspect, create_all)
                once = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=NullPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                self._initdb(once)
                once.dispose()
                self._initialized_dbs.add(shard)
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # asked again and again while events are stored (inside a connection: no lock taken here)
        if table_name in self._existing_tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._existing_tables.add(table_name)
        return found

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
            self._existing_tables.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # before the files go
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


if __name__ == "__main__":  # `make dev`: python -m dagster_project.core.event_log DAGSTER_HOME
    import sys

    print(seed_dagster_home(Path(sys.argv[1]), Path(__file__).with_name("dagster.yaml")))
