"""Where dbt is and its manifest: needed before the Dagster definitions can load (DESIGN.md,
"The dbt manifest must exist before definitions load"). `python -m dagster_project.dbt_manifest`
builds it; `make` does so at install, `kaohe run` when a dbt file changed."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# dagster-dbt's unique target paths: "<op name>-<7 hex>-<7 hex>", or "<7 hex>" outside a step
COMMAND_FOLDER = re.compile(r"(?:[A-Za-z0-9_]+-[0-9a-f]{7}-)?[0-9a-f]{7}")
PROJECT_FOLDERS = ("models", "macros", "seeds", "snapshots", "tests")  # dbt_project.yml's *-paths
KEEP_COMMAND_FOLDERS = 5  # target folders of past dbt commands kept for debugging


def prune_command_folders(keep: int = KEEP_COMMAND_FOLDERS) -> list[Path]:
    """dagster-dbt gives each dbt command its own folder in dbt/target (compiled SQL, run results,
    its dbt.log: ~15 MB for a nightly build); keep the newest `keep`, else they pile up forever.
    The run log keeps each command's output."""
    target = MANIFEST.parent
    folders = [p for p in target.iterdir() if p.is_dir() and COMMAND_FOLDER.fullmatch(p.name)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return folders[keep:]


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


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


if __name__ == "__main__":
    print(prepare_manifest())
