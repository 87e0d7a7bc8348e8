"""Shared fixtures: small generated deliveries, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dagster_project.synthetic.dirty import inject
from dagster_project.synthetic.generator import generate
from dagster_project.synthetic.writer import MANIFEST_FILE, write_delivery

SMALL_SCALE = 0.1
SEED = 7


@pytest.fixture(scope="session")
def small_tables() -> dict[str, pd.DataFrame]:
    return generate(scale=SMALL_SCALE, seed=SEED)


@pytest.fixture(scope="session")
def small_delivery(tmp_path_factory, small_tables) -> Path:
    out = tmp_path_factory.mktemp("delivery")
    write_delivery(small_tables, out)
    return out


@pytest.fixture(scope="session")
def dirty_delivery(tmp_path_factory, small_tables) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    tables, manifest = inject(small_tables, SEED)
    write_delivery(tables, out)
    manifest.to_csv(out / MANIFEST_FILE, index=False)
    return out
