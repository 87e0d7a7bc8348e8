"""dbt in this process (docs/architecture.md, "dbt runs in-process").

dagster-dbt runs each dbt command as a child process, which pays for importing dbt and loading its
manifest every time. kaohe runs dbt-core's `dbtRunner` in the process of the step instead, with
the manifest parsed once per process (and again only when `dbt/target/manifest.json` changes), and
keeps everything else of dagster-dbt: the same arguments and selection for the step's assets, the
same conversion of each dbt result into an asset materialization or an asset check
(`DbtCoreCliEventMessage.to_default_asset_events`), the same target folder per command.

Two things a child process did by itself are done here:
- dbt-duckdb keeps its DuckDB database open at class level after a command (made for in-memory
  databases); it is closed after every command, else the warehouse file stays locked and the
  next step, the sensor or a reader would meet DuckDB's own lock instead of kaohe's.
- one command at a time per process: dbt's flags and adapters are global to the process.
"""

from __future__ import annotations

import gc
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import orjson

from dagster_project.core.dbt_project import MANIFEST, PARTIAL_PARSE

# dbt's structured events that carry a node's result (what dagster-dbt turns into Dagster events)
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
_ONE_COMMAND = threading.Lock()
_MANIFEST_CACHE: dict[tuple[int, int, str], Any] = {}


def parsed_manifest(project_dir: Path, profiles_dir: Path, warehouse: Path) -> Any:
    """dbt's Manifest for `warehouse`, parsed once per process and version of the project: `dbt
    parse` in this process, which starts from the kept parse state (adopt_parse_state) and so
    re-reads only what changed. Keyed by the manifest file (rewritten when a dbt file changes,
    dbt_project.prepare_manifest) and the warehouse's name (the database every node carries).
    A Manifest read back from manifest.json would not do: it lacks what compiling a generic test
    needs."""
    from dbt.cli.main import dbtRunner

    stat = MANIFEST.stat() if MANIFEST.exists() else None
    key = (stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0, warehouse.stem)
    if key not in _MANIFEST_CACHE:
        target = MANIFEST.parent / uuid.uuid4().hex[:7]  # a command folder (prune_command_folders)
        target.mkdir(parents=True, exist_ok=True)
        if PARTIAL_PARSE.exists():
            shutil.copyfile(PARTIAL_PARSE, target / PARTIAL_PARSE.name)
        result = dbtRunner().invoke(["parse", *_common_args(project_dir, profiles_dir, target), "--quiet"])
        if not result.success:
            raise dg.Failure(description=f"dbt parse failed: {result.exception}", allow_retries=False)
        _MANIFEST_CACHE.clear()
        _MANIFEST_CACHE[key] = result.result
    return _MANIFEST_CACHE[key]


def _common_args(project_dir: Path, profiles_dir: Path, target: Path) -> list[str]:
    return [
        "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir),
        "--target-path", str(target), "--log-path", str(target),
        "--log-format", "text", "--no-use-colors", "--no-send-anonymous-usage-stats", "--no-version-check",
    ]  # fmt: skip


def close_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between commands (see the module's doc)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
        if environment is not None:
            environment.close()
    gc.collect()  # the database is released when its last Python handle is collected


@dataclass
class InProcessInvocation:
    """A dbt command (`args` without the project's paths) run in this process on the warehouse of
    KAOHE_WAREHOUSE, as kaohe's steps use it: its Dagster events as they come (`stream`), or just
    its end (`wait`); its target folder and artifacts. `manifest` is the manifest's JSON, for
    dagster-dbt's events."""

    args: list[str]
    project_dir: Path
    profiles_dir: Path
    target_path: Path
    manifest: Mapping[str, Any]
    translator: Any
    context: Any
    project: Any
    raise_on_error: bool
    success: bool | None = None
    error: BaseException | None = None
    _events: queue.Queue = field(default_factory=queue.Queue)

    def _invoke(self) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        def on_event(message) -> None:
            if message.info.name in RESULT_EVENTS:
                self._events.put(msg_to_dict(message))

        try:
            with _ONE_COMMAND:
                warehouse = Path(os.environ.get("KAOHE_WAREHOUSE", "kaohe.duckdb"))
                try:
                    manifest = parsed_manifest(self.project_dir, self.profiles_dir, warehouse)
                    result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(
                        [*self.args, *_common_args(self.project_dir, self.profiles_dir, self.target_path)]
                    )
                finally:
                    close_warehouse()
            self.success = result.success
            self.error = result.exception
        except BaseException as exc:  # shown by the step, with its traceback
            self.success, self.error = False, exc
        finally:
            self._events.put(None)

    def stream(self) -> Iterator[Any]:
        """The Dagster events of the command's results, while dbt runs in a thread of this process."""
        from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

        worker = threading.Thread(target=self._invoke, name="dbt", daemon=True)
        worker.start()
        while (raw := self._events.get()) is not None:
            event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from event.to_default_asset_events(
                manifest=self.manifest,
                dagster_dbt_translator=self.translator,
                context=self.context,
                target_path=self.target_path,
                project=self.project,
            )
        worker.join()
        self._raise_on_error()

    def wait(self) -> InProcessInvocation:
        self._invoke()
        self._raise_on_error()
        return self

    def _raise_on_error(self) -> None:
        if self.raise_on_error and not self.success:
            raise dg.Failure(
                description=f"dbt {self.args[0]} failed: {self.error or 'see the run log'}",
                allow_retries=False,
            )

    def get_artifact(self, artifact: str) -> dict[str, Any]:
        return orjson.loads((self.target_path / artifact).read_bytes())
