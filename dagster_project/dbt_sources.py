"""Render the dbt source definitions from the source contracts.

`python -m dagster_project.dbt_sources` rewrites `dbt/models/staging/<system>/_<system>__sources.yml`;
a test fails when the committed files differ from what the contracts give, so the contracts stay
the single source of truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from dagster_project.contracts import SYSTEMS, Column, load_contracts
from dagster_project.ingest.load import RAW, raw_column, raw_table
from dagster_project.settings import DBT_PROJECT_DIR

SYSTEM_LABELS = {
    "staffing": "机构编制实名制管理系统 — the real-name staffing register",
    "finance": "部门预算与执行 — departmental budgets and execution",
    "performance": "综合考核信息系统 — the performance evaluation system",
}
LOAD_METADATA = [
    ("_load_id", "Load that delivered the row (raw.loads.load_id) 装载批次"),
    ("_file", "Delivered file the row came from 来源文件"),
    ("_line", "Line of the row in that file (header = line 1) 文件行号"),
    ("_file_sha256", "SHA-256 of the delivered file 文件哈希"),
    ("_loaded_at", "When the file was loaded 装载时间"),
    ("_extra", "Extra columns of the file, as JSON (kept, not used) 额外列"),
]
HEADER = "# Generated from sources/contracts by `python -m dagster_project.dbt_sources`; do not edit.\n"


def _column_doc(column: Column) -> str:
    doc = f"{column.zh} — {column.description}"
    if column.pii:
        doc += " (keyed HMAC-SHA256 hash; the clear value never enters the warehouse)"
    return doc


def render(system: str) -> str:
    tables = []
    for contract in load_contracts().values():
        if contract.system != system:
            continue
        columns = [{"name": raw_column(contract, c.name), "description": _column_doc(c)} for c in contract.columns]
        columns += [{"name": n, "description": d} for n, d in LOAD_METADATA]
        tables.append(
            {
                "name": contract.table,
                "identifier": raw_table(contract),
                "description": f"{contract.label} — every load of `{system}/{contract.table}` "
                f"(key: {', '.join(contract.key)}); staging keeps the current load only.",
                "meta": {"contract": f"sources/contracts/{system}/{contract.table}.yml"},
                "columns": columns,
            }
        )
    spec = {
        "version": 2,
        "sources": [
            {
                "name": system,
                "schema": RAW,
                "description": SYSTEM_LABELS[system],
                "tables": tables,
            }
        ],
    }
    return HEADER + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)


def source_files() -> dict[Path, str]:
    return {
        DBT_PROJECT_DIR / "models" / "staging" / system / f"_{system}__sources.yml": render(system)
        for system in SYSTEMS
    }


def main() -> int:
    for path, text in source_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
