"""The dbt sources and the staging models' YAML are generated from the contracts: the committed
files must match them, and a contract change reaches the staging tests."""

from __future__ import annotations

import shutil

import yaml

from dagster_project.ingest.contracts import CONTRACTS_DIR, load_contracts
from dagster_project.transform.sources import render_enum_macro, render_models, source_files


def test_committed_dbt_sources_and_staging_models_match_the_contracts():
    files = source_files()
    # sources and staging models of the three systems; the macros of enum labels, keys and column names
    assert len(files) == 9
    for path, expected in files.items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path} is stale: run `python -m dagster_project.transform.sources`"
        )


def _model(text: str, name: str) -> dict:
    return next(m for m in yaml.safe_load(text)["models"] if m["name"] == name)


def _tests(model: dict, column: str) -> list:
    return next(c for c in model["columns"] if c["name"] == column).get("data_tests", [])


def test_the_staging_tests_follow_the_contract(tmp_path):
    persons = _model(render_models("staffing"), "stg_staffing__persons")
    names = [c["name"] for c in persons["columns"]]
    # personal data: renamed to their keyed hashes, or not carried past raw at all
    assert names[:2] == ["person_key", "identity_key"] and "name" not in names and "id_number" not in names
    ((name, test),) = persons["data_tests"][0].items()  # one test: the grain and the required columns
    assert name == "primary_key" and test["arguments"]["columns"] == ["person_key", "unit_code", "entry_date"]
    assert "status" in test["arguments"]["required"]
    assert "division_code" not in test["arguments"]["required"]  # optional
    assert _tests(persons, "unit_code") == [
        {"relationships": {"arguments": {"to": "ref('stg_staffing__units')", "field": "unit_code"}}}
    ]
    units = _model(render_models("staffing"), "stg_staffing__units")
    assert _tests(units, "unit_code") == []  # a single-column key is the primary_key's too
    assert units["data_tests"][0]["primary_key"]["arguments"]["columns"] == ["unit_code"]

    # a value added to a contract's enum is accepted by the staging test as by ingestion
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    path = contracts / "staffing" / "units.yml"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("[province, city, county]", "[province, city, county, town]")
        .replace("[省级, 市级, 县级]", "[省级, 市级, 县级, 乡镇级]")
    )
    changed = _model(render_models("staffing", load_contracts(contracts)), "stg_staffing__units")
    assert _tests(changed, "admin_level") == [
        {"accepted_values": {"arguments": {"values": ["province", "city", "county", "town"]}}}
    ]


def test_staging_turns_every_chinese_enum_label_into_its_code():
    """The staging macro is generated from the contracts' labels: each label maps to its code."""
    macro = render_enum_macro()
    for contract in load_contracts().values():
        for column in contract.columns:
            for label, code in column.label_codes.items():
                assert f"'{label}': '{code}'" in macro, (contract.name, column.name)
    assert "'staffing.persons.gender': {'男': 'M', '女': 'F'}" in macro
    assert "'performance.reviews.reviewer_group': {'领导评议': 'leaders', '同级互评': 'peers', " in macro
