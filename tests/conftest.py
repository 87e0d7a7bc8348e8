"""Shared fixtures: small generated deliveries, made once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.synthetic.dirty import inject
from dagster_project.synthetic.generator import generate
from dagster_project.synthetic.writer import MANIFEST_FILE, write_delivery

os.environ.setdefault("KAOHE_PII_KEY", "kaohe-test-key-of-at-least-32-bytes")
# In-process runs of the suite use an in-memory Dagster instance (runner.keeps_history); the
# console-script tests run with the default, recording their runs in DAGSTER_HOME.
os.environ.setdefault("KAOHE_RUN_HISTORY", "0")

SMALL_SCALE = 0.1
SEED = 7

# The longest files first: pytest-xdist (--dist loadfile) hands whole files to the workers in
# collection order as each one frees up, so the two workers end together instead of one waiting
# for the other's last long file. The rest keep their order.
LONGEST_FIRST = (
    "test_publish.py",
    "test_ranking_truth.py",
    "test_nightly.py",
    "test_cli.py",
    "test_history.py",
    "test_one_writer.py",
    "test_generator.py",
    "test_scorecard.py",
    "test_crash.py",
    "test_sample_scores.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def small_tables() -> dict[str, pd.DataFrame]:
    return generate(scale=SMALL_SCALE, seed=SEED)


PLANTED_ID_COLUMN = "身份证号码"


@pytest.fixture(scope="session")
def small_delivery(tmp_path_factory, small_tables) -> Path:
    """The clean small delivery; its persons file also carries the ID numbers a second time, in a
    column outside the contract (as real exports do), which must never be stored in clear."""
    out = tmp_path_factory.mktemp("delivery")
    write_delivery(small_tables, out)
    persons = out / "staffing" / "persons.csv"
    frame = pd.read_csv(persons, dtype=str, keep_default_na=False)
    frame[PLANTED_ID_COLUMN] = frame["id_number"]
    frame.to_csv(persons, index=False, lineterminator="\n")
    return out


@pytest.fixture(scope="session")
def dirty_delivery(tmp_path_factory, small_tables) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    tables, manifest = inject(small_tables, SEED)
    write_delivery(tables, out)
    manifest.to_csv(out / MANIFEST_FILE, index=False)
    return out


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The Dagster definitions need dbt's manifest before they import (docs/architecture.md)."""
    from dagster_project.core.dbt_project import prepare_manifest

    return prepare_manifest()


def settings_for(tmp: Path, sources: Path, as_of: str = "2024-01-31", **extra):
    from dagster_project.core.resources import KaoheSettings

    return KaoheSettings(
        sources_dir=str(sources),
        warehouse=str(tmp / "warehouse" / "kaohe.duckdb"),
        publish_dir=str(tmp / "warehouse" / "published"),
        as_of=as_of,
        **extra,
    )


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory, small_delivery, dbt_manifest):
    """One nightly run of the clean small delivery; tests copy its warehouse before changing it."""
    from dagster_project.runner import run_nightly

    tmp = tmp_path_factory.mktemp("clean_run")
    settings = settings_for(tmp, small_delivery)
    report = run_nightly(settings)
    return settings, report


@pytest.fixture(scope="session")
def sample_published(tmp_path_factory, dbt_manifest):
    """The hand-checked sample (sources/sample), run and published once as of 2024-01-31 (2023 is
    a final, year-end ranking): (folder, settings, report). Tests copy it before changing it."""
    from dagster_project.core.settings import PROJECT_ROOT
    from dagster_project.runner import run_nightly

    tmp = tmp_path_factory.mktemp("sample_published")
    settings = settings_for(tmp, PROJECT_ROOT / "sources" / "sample")
    report = run_nightly(settings)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    return tmp, settings, report


def run_dbt(args: list[str], warehouse: Path, target: Path, reuse_parse_state: bool = False):
    """dbt of this environment on `warehouse` (its own target folder), output captured; with
    `reuse_parse_state`, dbt starts from the project's parse state (adopted for `warehouse`)
    instead of parsing the whole project again."""
    import subprocess

    from dagster_project.core.dbt_project import adopt_parse_state, dbt_executable
    from dagster_project.core.settings import DBT_PROJECT_DIR

    if reuse_parse_state:
        target.mkdir(parents=True, exist_ok=True)
        adopt_parse_state(warehouse, into=target / "partial_parse.msgpack")

    return subprocess.run(
        [dbt_executable(), *args, "--target-path", str(target),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        capture_output=True, text=True,
        env={**os.environ, "KAOHE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )  # fmt: skip
