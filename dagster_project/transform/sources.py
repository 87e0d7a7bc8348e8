"""Render the dbt sources and the staging models' YAML from the source contracts.

`python -m dagster_project.transform.sources` rewrites, per system, `dbt/models/staging/<system>/`
`_<system>__sources.yml` (the raw tables) and `_<system>__models.yml` (the staging views: column
docs, and the tests the contract implies — not_null for required columns, the key's uniqueness,
accepted_values for enums, relationships for references). A test fails when the committed files
differ from what the contracts give, so a contract change (a new enum value, a new key) reaches
ingestion and the staging tests together: the contracts stay the single source of truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from dagster_project.core.settings import DBT_PROJECT_DIR
from dagster_project.ingest.contracts import SYSTEMS, Column, Contract, load_contracts
from dagster_project.ingest.load import RAW, raw_column, raw_table

SYSTEM_LABELS = {
    "staffing": "机构编制实名制管理系统 — the real-name staffing register",
    "finance": "部门预算与执行 — departmental budgets and execution",
    "performance": "综合考核信息系统 — the performance evaluation system",
}
# Columns ingestion adds to every raw table; their descriptions are doc blocks
# (dbt/models/staging/_staging__docs.md), written once.
LOAD_METADATA = [
    ("_load_id", '{{ doc("raw_load_id") }}'),
    ("_file", '{{ doc("raw_file") }}'),
    ("_line", '{{ doc("raw_line") }}'),
    ("_file_sha256", '{{ doc("raw_file_sha256") }}'),
    ("_loaded_at", '{{ doc("raw_loaded_at") }}'),
    ("_extra", '{{ doc("raw_extra") }}'),
]
HEADER = "# Generated from sources/contracts by `python -m dagster_project.transform.sources`; do not edit.\n"


def _column_doc(column: Column) -> str:
    doc = f"{column.zh} — {column.description}"
    if column.pii:
        doc += " (keyed HMAC-SHA256 hash; the clear value never enters the warehouse)"
    return doc


def render(system: str, contracts: dict[str, Contract] | None = None) -> str:
    tables = []
    for contract in (contracts or load_contracts()).values():
        if contract.system != system:
            continue
        columns = [{"name": raw_column(contract, c.name), "description": _column_doc(c)} for c in contract.columns]
        columns += [{"name": n, "description": d} for n, d in LOAD_METADATA]
        tables.append(
            {
                "name": contract.table,
                "identifier": raw_table(contract),
                "description": f"{contract.label} — every load of `{system}/{contract.table}` "
                f"(key: {', '.join(contract.key)}); staging keeps the current load, and the last accepted "
                "version of a key the current load rejected (carried forward).",
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


STAGING_METADATA = [
    ("load_id", '{{ doc("staging_load_id") }}'),
    ("source_line", '{{ doc("staging_source_line") }}'),
]


def _staging_model(contract: Contract, contracts: dict[str, Contract]) -> dict:
    """The YAML of `stg_<system>__<table>`: the contract's columns as staging names them."""
    staged = {c.name: c for c in contract.columns if c.staged}
    references = {r.columns[0]: contracts[r.table] for r in contract.references if len(r.columns) == 1}
    columns = []
    for column in staged.values():
        spec: dict = {"name": column.staging_name, "description": column.staged_doc or _column_doc(column)}
        tests: list = []
        if column.enum:
            tests.append({"accepted_values": {"arguments": {"values": list(column.enum)}}})
        if column.name in references:
            target = references[column.name]
            (field,) = target.key
            tests.append(
                {"relationships": {"arguments": {"to": f"ref('stg_{target.system}__{target.table}')", "field": field}}}
            )
        if tests:
            spec["data_tests"] = tests
        columns.append(spec)
    columns += [{"name": name, "description": doc} for name, doc in STAGING_METADATA]
    # one test for the grain and the required columns (dbt/macros/test_primary_key.sql)
    key = [staged[name].staging_name for name in contract.key]
    required = [c.staging_name for c in staged.values() if c.required and c.staging_name not in key]
    name = f"stg_{contract.system}__{contract.table}"
    model_tests = [
        {"primary_key": {"name": f"primary_key_{name}", "arguments": {"columns": key, "required": required}}}
    ]
    return {
        "name": name,
        "description": f"{contract.label} — current load of `{contract.system}/{contract.table}`, typed.",
        "columns": columns,
        "data_tests": model_tests,
    }


def render_models(system: str, contracts: dict[str, Contract] | None = None) -> str:
    contracts = contracts or load_contracts()
    models = [_staging_model(c, contracts) for c in contracts.values() if c.system == system]
    spec = {"version": 2, "models": models}
    return HEADER + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)


def render_enum_macro(contracts: dict[str, Contract] | None = None) -> str:
    """`enum_code(table, column)`: the staging expression that turns a delivered Chinese enum
    label (docs/sources.md) into its code; raw keeps the text as delivered."""
    lines = [
        "{#- " + HEADER.strip("# \n") + " -#}",
        "{% macro enum_code(table, column) -%}",
        "{%- set labels = {",
    ]
    for contract in (contracts or load_contracts()).values():
        for column in contract.columns:
            if column.labels:
                pairs = ", ".join(f"'{label}': '{code}'" for label, code in column.label_codes.items())
                lines.append(f"    '{contract.name}.{column.name}': {{{pairs}}},")
    lines += [
        "} -%}",
        "case {{ column }}{% for label, code in labels[table ~ '.' ~ column].items() %} "
        "when '{{ label }}' then '{{ code }}'{% endfor %} else {{ column }} end",
        "{%- endmacro %}",
        "",
    ]
    return "\n".join(lines)


def render_keys(contracts: dict[str, Contract] | None = None) -> str:
    """The macro `contract_key(system, table)`: each table's key as raw columns, for the
    carry-forward of dbt/macros/current_rows.sql."""
    keys = {c.name: [raw_column(c, k) for k in c.key] for c in (contracts or load_contracts()).values()}
    lines = [f"        {name!r}: {key!r}," for name, key in sorted(keys.items())]
    return (
        "{#- " + HEADER.strip("# \n") + " -#}\n"
        "{% macro contract_key(system, table) -%}\n"
        "    {%- set keys = {\n" + "\n".join(lines) + "\n    } -%}\n"
        "    {{ return(keys[system ~ '.' ~ table]) }}\n"
        "{%- endmacro %}\n"
    )


def render_column_labels(contracts: dict[str, Contract] | None = None) -> str:
    """The macro `contract_column_labels()`: (table_name, column_name, label_zh) of every contract
    column, as the quarantine names them, for wording the rejected rows in Chinese
    (dbt/models/intermediate/data_issues/int_rejected_rows.sql)."""
    rows = [
        (contract.name, column.name, (column.zh or column.name).replace("'", "''"))
        for contract in sorted((contracts or load_contracts()).values(), key=lambda c: c.name)
        for column in contract.columns
    ]
    values = ",\n".join(f"        ('{table}', '{name}', '{label}')" for table, name, label in rows)
    return (
        "{#- " + HEADER.strip("# \n") + " -#}\n"
        "{% macro contract_column_labels() -%}\n"
        "    select * from (values\n" + values + "\n    ) as labels (table_name, column_name, label_zh)\n"
        "{%- endmacro %}\n"
    )


def source_files() -> dict[Path, str]:
    """Every generated file and its text."""
    files = {
        DBT_PROJECT_DIR / "macros" / "enum_code.sql": render_enum_macro(),
        DBT_PROJECT_DIR / "macros" / "contract_keys.sql": render_keys(),
        DBT_PROJECT_DIR / "macros" / "contract_column_labels.sql": render_column_labels(),
    }
    for system in SYSTEMS:
        folder = DBT_PROJECT_DIR / "models" / "staging" / system
        files[folder / f"_{system}__sources.yml"] = render(system)
        files[folder / f"_{system}__models.yml"] = render_models(system)
    return files


def main() -> int:
    for path, text in source_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
