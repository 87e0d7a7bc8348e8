"""Where dbt is and its manifest: needed before the Dagster definitions can load (DESIGN.md,
"The dbt manifest must exist before definitions load"). `python -m dagster_project.dbt_manifest`
builds it; `make` does so at install, `kaohe run` when a dbt file changed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def prepare_manifest() -> Path:
    """`dbt parse` when the manifest is missing or older than a file of the dbt project."""
    manifest = MANIFEST
    sources = [
        p
        for p in DBT_PROJECT_DIR.rglob("*")
        if p.suffix in {".sql", ".yml", ".csv", ".md"} and "target" not in p.parts and "logs" not in p.parts
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
