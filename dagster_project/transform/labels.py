"""The label tables: what each published code is called, in Chinese and English, and in which order
it is shown. One source: the label seeds (dbt/seeds/labels), which dbt loads as the published
`dim_*` tables. Pages read them from the publication they show; a report written before anything
is published (a failed gate) reads the seed files themselves.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.core.settings import DBT_PROJECT_DIR

LANGUAGES = ("zh", "en")
SEED_DIR = DBT_PROJECT_DIR / "seeds" / "labels"
# domain (the column name pages know the codes by) → its label table (a seed of that name)
TABLES: dict[str, str] = {
    "stage": "dim_stage",
    "light": "dim_light",
    "reason": "dim_light_reason",
    "grade": "dim_grade",
    "signal": "dim_signal",
    "check": "dim_check",
    "code": "dim_score_line",
    "clue": "dim_clue",
    "excluded_reason": "dim_dea_exclusion",
    "issue": "dim_issue",
    "status": "dim_task_status",
    "kind": "dim_negative_kind",
    "category": "dim_category",
    "incident_kind": "dim_incident_kind",
    "rejection": "dim_rejection_reason",
}
INTEGER_CODES = {"grade"}


@dataclass(frozen=True)
class Labels:
    """domain → code → its row (label_zh, label_en, sort_order and, for score lines, rule_zh/rule_en)."""

    rows: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)

    def label(self, domain: str, code: Any, lang: str = "zh") -> Any:
        """The label of `code` (the code itself when the table has no row for it)."""
        row = self.rows.get(domain, {}).get(_key(domain, code))
        return code if row is None else row[f"label_{lang}"]

    def order(self, domain: str, code: Any) -> int:
        row = self.rows.get(domain, {}).get(_key(domain, code))
        return 10_000 if row is None else int(row["sort_order"])

    def rule(self, code: str, lang: str, numbers: dict[str, float]) -> str | None:
        """A score line's rule in words with the year's numbers (`{points_each}`, `{cap}`, parameters)."""
        row = self.rows.get("code", {}).get(code)
        if row is None:
            return None
        return row[f"rule_{lang}"].format_map(_Numbers(numbers))

    def codes(self, domain: str) -> list[Any]:
        """The codes of `domain` in display order."""
        return sorted(self.rows.get(domain, {}), key=lambda c: self.order(domain, c))


class _Numbers(dict):
    """Numbers shown as people write them (0.2, 3), a missing one as its placeholder."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

    def __getitem__(self, key: str) -> str:
        value = super().get(key)
        return self.__missing__(key) if value is None else f"{float(value):g}"


def _key(domain: str, code: Any) -> Any:
    if domain in INTEGER_CODES and code is not None:
        try:
            return int(code)
        except (TypeError, ValueError):
            return code
    return code


def _index(domain: str, records: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {_key(domain, r["code"]): r for r in records}


def seed_labels(seed_dir: Path = SEED_DIR) -> Labels:
    """The label tables as the seeds hold them."""
    rows = {}
    for domain, seed in TABLES.items():
        with (seed_dir / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
            rows[domain] = _index(domain, list(csv.DictReader(handle)))
    return Labels(rows)


def read_labels(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> Labels:
    """The label tables of a publication (or warehouse); a table it lacks (a publication older than
    the label tables) comes from the seeds."""
    tables = con.execute("select table_name from duckdb_tables() where schema_name = ?", [schema]).fetchall()
    present = {name for (name,) in tables}
    seeds = None
    rows = {}
    for domain, table in TABLES.items():
        if table in present:
            cursor = con.execute(f"select * from {schema}.{table}")
            names = [d[0] for d in cursor.description]
            rows[domain] = _index(domain, [dict(zip(names, r, strict=True)) for r in cursor.fetchall()])
        else:
            seeds = seeds or seed_labels()
            rows[domain] = seeds.rows[domain]
    return Labels(rows)
