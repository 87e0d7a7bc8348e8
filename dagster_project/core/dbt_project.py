"""Where dbt is, its manifest and its parse state. The manifest is needed before the Dagster
definitions can load (docs/architecture.md, "The dbt manifest must exist before definitions load"):
`python -m dagster_project.core.dbt_project` builds it; `make` does so at install, `kaohe run` when a
dbt file changed. The parse state (partial_parse.msgpack) is kept reusable between dbt commands,
and the folders dbt commands leave in dbt/target are pruned."""

from __future__ import annotations

import hashlib
import json
import os
import pprint
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.core.check_words import ValueLabels, describe_test
from dagster_project.core.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from dagster_project.core.resources import KaoheSettings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
PARTIAL_PARSE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
# dagster-dbt's unique target paths: "<op name>-<7 hex>-<7 hex>", or "<7 hex>" outside a step
COMMAND_FOLDER = re.compile(r"(?:[A-Za-z0-9_]+-[0-9a-f]{7}-)?[0-9a-f]{7}")
PROJECT_FOLDERS = ("models", "macros", "seeds", "snapshots", "tests")  # dbt_project.yml's *-paths
KEEP_COMMAND_FOLDERS = 5  # target folders of past dbt commands kept for debugging
IN_USE_SECONDS = 3600  # a folder written to within the last hour may belong to a running command


def prune_command_folders(keep: int = KEEP_COMMAND_FOLDERS, target: Path = MANIFEST.parent) -> list[Path]:
    """dagster-dbt gives each dbt command its own folder in dbt/target (compiled SQL, run results,
    its dbt.log: ~15 MB for a nightly build); keep the newest `keep`, else they pile up forever.
    The run log keeps each command's output. A folder written to within the last hour is never
    removed: another process (dagster dev, a run on another warehouse) may be using it."""
    folders = [p for p in target.iterdir() if p.is_dir() and COMMAND_FOLDER.fullmatch(p.name)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    settled = time.time() - IN_USE_SECONDS
    old = [folder for folder in folders[keep:] if folder.stat().st_mtime < settled]
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old


def dbt_executable() -> str:
    """`kaohe-dbt` beside this interpreter (dbt that dies with the run that started it,
    dbt_child.py), else the dbt installed beside it (a venv installed before kaohe-dbt existed),
    else the one on PATH."""
    for name in ("kaohe-dbt", "dbt"):
        beside = Path(sys.executable).with_name(name)
        if beside.exists():
            return str(beside)
    return shutil.which("dbt") or "dbt"


def prepare_manifest() -> Path:
    """`dbt parse` when the manifest is missing or older than a file of the dbt project."""
    manifest = MANIFEST
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"] + [
        p
        for folder in PROJECT_FOLDERS
        for p in (DBT_PROJECT_DIR / folder).rglob("*")
        if p.suffix in {".sql", ".yml", ".csv", ".md"}
    ]
    if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            check=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
    return manifest


def profile_hash(warehouse: Path) -> str:
    """dbt's hash of the connection of profiles.yml for `warehouse` (dbt.parser.manifest: the
    connection info of the credentials, sorted and pretty-printed, SHA-256)."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    credentials = DuckDBCredentials.from_dict({"path": str(warehouse), "database": warehouse.stem, "schema": "main"})
    return hashlib.sha256(pprint.pformat(sorted(credentials.connection_info())).encode()).hexdigest()


def adopt_parse_state(warehouse: Path, into: Path | None = None) -> None:
    """Let the next dbt command partially parse on another warehouse path. dbt parses the whole
    project again when the profile's hash differs from the saved state's, and the path of
    the warehouse is part of it, though what dbt parses depends on it only through the database
    name (the file's stem), written into every node. So when the saved state's nodes carry the
    same database name, its profile hash is set to this warehouse's. Should the profile differ
    in anything else, the hash computed here differs from dbt's and dbt parses in full, as it
    would have anyway. `into`: write the adopted state there (a scratch target folder) instead."""
    if not PARTIAL_PARSE.exists():
        return
    import msgpack  # dagster-dbt's own dependency (it edits this file the same way for seeds)

    data = msgpack.unpackb(PARTIAL_PARSE.read_bytes(), raw=False, strict_map_key=False)
    nodes = data.get("nodes", {}).values()
    databases = {node.get("database") for node in nodes if node.get("resource_type") == "model"}
    wanted = profile_hash(warehouse)
    checksum = data.get("state_check", {}).get("profile_hash", {})
    if into is not None:
        if databases == {warehouse.stem}:
            checksum["checksum"] = wanted
        into.write_bytes(msgpack.packb(data))
        return
    if databases != {warehouse.stem} or checksum.get("checksum") == wanted:
        return
    checksum["checksum"] = wanted
    _replace_parse_state(msgpack.packb(data))


def _replace_parse_state(state: bytes) -> None:
    """Swap dbt/target/partial_parse.msgpack atomically (a dbt command may be copying it)."""
    staged = PARTIAL_PARSE.with_name(f".partial_parse.{os.getpid()}.tmp")
    staged.write_bytes(state)
    os.replace(staged, PARTIAL_PARSE)


def keep_parse_state(target_path: Path) -> None:
    """After a dbt command (its target folder): its parse state becomes the one the next command
    starts from (dagster-dbt copies dbt/target/partial_parse.msgpack into each command's target
    folder; the one written at install was parsed for another warehouse path), and old command
    folders are pruned (prune_command_folders)."""
    state = target_path / "partial_parse.msgpack"
    if state.exists():
        _replace_parse_state(state.read_bytes())
    prune_command_folders()


@contextmanager
def dbt_parameters(kaohe: KaoheSettings, snapshot_at: str = "") -> Iterator[None]:
    """The run's parameters for the dbt commands started inside: env vars the macros read when
    executing (as_of(), snapshot time). Not `--vars`: dbt parses the whole project again whenever
    a var differs from the last parse, and as_of is a new date every night."""
    values = {
        "KAOHE_WAREHOUSE": str(Path(kaohe.warehouse).resolve()),  # profiles.yml
        "KAOHE_AS_OF": kaohe.as_of_text(),
        "KAOHE_SNAPSHOT_AT": snapshot_at,
    }
    before = {name: os.environ.get(name) for name in values}
    adopt_parse_state(Path(kaohe.warehouse).resolve())
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_test_descriptions(
    manifest: Path = MANIFEST, lang: str = "en", value_labels: ValueLabels | None = None
) -> dict[str, str]:
    """Each dbt test's name → what it asserts in plain words, in `lang` (check_words.describe_test;
    `value_labels` names accepted values in Chinese)."""
    if not manifest.exists():
        return {}
    parsed = json.loads(manifest.read_text(encoding="utf-8"))
    return {
        n["name"]: describe_test(n, lang, parsed, value_labels)
        for n in parsed["nodes"].values()
        if n["resource_type"] == "test"
    }


if __name__ == "__main__":
    print(prepare_manifest())
