"""The contracts load, cover docs/sources.md, and reject each kind of violation with its reason."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from dagster_project.core.national_codes import gb11643_check_digit, gb32100_check_char
from dagster_project.ingest.contracts import REASONS, load_contracts
from dagster_project.ingest.sql import normalise, validate

SOURCES_TABLES = {
    "staffing": {"units", "establishment", "divisions", "persons"},
    "finance": {"budget", "execution", "perf_goals"},
    "performance": {"roster", "duties", "tasks", "progress", "reviews", "awards", "incidents"},
}


def test_contracts_cover_the_fourteen_tables_of_sources_md():
    contracts = load_contracts()
    found: dict[str, set[str]] = {}
    for contract in contracts.values():
        found.setdefault(contract.system, set()).add(contract.table)
    assert found == SOURCES_TABLES


def test_parents_come_before_children_and_references_are_the_contract_ones():
    names = list(load_contracts())
    refs = {(name, ref.table) for name, contract in load_contracts().items() for ref in contract.references}
    assert refs == {
        ("staffing.establishment", "staffing.units"),
        ("staffing.divisions", "staffing.units"),
        ("staffing.persons", "staffing.units"),
        ("performance.progress", "performance.tasks"),
    }
    for child, parent in refs:
        assert names.index(parent) < names.index(child)


def test_every_column_has_a_chinese_header_and_a_description():
    for contract in load_contracts().values():
        for column in contract.columns:
            assert column.zh and column.description, (contract.name, column.name)
        assert set(contract.key) <= set(contract.column_names)


def test_personal_columns_are_marked():
    persons = load_contracts()["staffing.persons"]
    assert {c.name for c in persons.columns if c.pii} == {"person_id", "id_number", "name"}


@pytest.mark.parametrize(
    ("first17", "expected"),
    [("91350100M000100Y4", "3"), ("91110000600037341", "L")],
)
def test_gb32100_check_character_of_published_codes(first17, expected):
    assert gb32100_check_char(first17) == expected


def test_gb11643_check_digit_of_the_standard_example():
    # The example of GB 11643-1999 itself: 11010519491231002X.
    assert gb11643_check_digit("11010519491231002") == "X"
    assert gb11643_check_digit("44052418800101001") == "4"


def _frame(rows: list[dict], contract) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object)
    for column in contract.column_names:
        if column not in frame:
            frame[column] = ""
    return frame[contract.column_names].fillna("")


UNIT = {
    "unit_code": "91350100M000100Y43",
    "unit_name": "某某局",
    "region_code": "320100",
    "admin_level": "city",
    "unit_type": "agency",
}


def test_each_unit_violation_gets_its_reason():
    contract = load_contracts()["staffing.units"]
    rows = [
        UNIT,
        {**UNIT, "unit_code": "91350100M000100Y44"},  # wrong check character
        {**UNIT, "unit_code": "91350100M000100Y4"},  # 17 characters
        {**UNIT, "unit_code": "X1", "region_code": "990100"},  # not a province
        {**UNIT, "unit_code": "X2", "region_code": "321400"},  # Jiangsu has no city 14
        {**UNIT, "unit_code": "X3", "admin_level": "town"},
        {**UNIT, "unit_code": "X4", "unit_name": ""},
        {**UNIT, "unit_code": "X5", "established_on": "2019/01/01"},
        {**UNIT, "unit_code": "X6", "established_on": "2019-02-30"},
    ]
    result = validate(contract, _frame(rows, contract))
    got = {(r.row, r.column, r.reason) for r in result.violations.itertuples()}
    assert (1, "unit_code", "bad_check_character") in got
    assert (2, "unit_code", "bad_format") in got
    assert (3, "region_code", "unknown_value") in got
    assert (4, "region_code", "unknown_value") in got
    assert (5, "admin_level", "unknown_value") in got
    assert (6, "unit_name", "missing_required") in got
    assert (7, "established_on", "bad_format") in got
    assert (8, "established_on", "bad_type") in got
    assert not [v for v in got if v[0] == 0]
    assert set(result.violations["reason"]) <= set(REASONS)


def test_duplicates_reject_every_row_sharing_the_key_and_children_dangle():
    contracts = load_contracts()
    units = validate(contracts["staffing.units"], _frame([UNIT, UNIT], contracts["staffing.units"]))
    assert list(units.violations["reason"]) == ["duplicate_key", "duplicate_key"]
    assert list(units.violations["column"]) == ["unit_code", "unit_code"]
    est = contracts["staffing.establishment"]
    row = {
        "unit_code": UNIT["unit_code"],
        "staffing_type": "administrative",
        "approved_count": "10",
        "change_reason": "sanding",
        "effective_from": "2019-03-01",
    }
    result = validate(est, _frame([row], est), {"staffing.units": set()})
    assert list(result.violations["reason"]) == ["dangling_reference"]
    assert not validate(est, _frame([row], est), {"staffing.units": {UNIT["unit_code"]}}).violations.size


def test_task_rules_ranges_intervals_and_milestones():
    contracts = load_contracts()
    tasks = contracts["performance.tasks"]
    base = {
        "task_id": "T1",
        "year": "2023",
        "unit_code": "U",
        "indicator_code": "reform",
        "title": "t",
        "origin": "unit_function",
        "milestone_q1": "20",
        "milestone_q2": "50",
        "milestone_q4": "100",
    }
    rows = [
        base,  # q3 missing is allowed
        {**base, "task_id": "T2", "milestone_q2": "10"},  # decreasing past a gap
        {**base, "task_id": "T3", "milestone_q4": "90"},  # q4 must be 100
        {**base, "task_id": "T4", "difficulty": "1.6"},
        {**base, "task_id": "T5", "target_value": "0"},
        {**base, "task_id": "T6", "approved": "是", "year": "二〇二三"},
    ]
    got = {(r.row, r.reason) for r in validate(tasks, _frame(rows, tasks)).violations.itertuples()}
    assert got == {
        (1, "bad_milestones"),
        (2, "bad_milestones"),
        (3, "out_of_range"),
        (4, "out_of_range"),
        (5, "bad_type"),
    }
    divisions = contracts["staffing.divisions"]
    div = {
        "division_code": "D1",
        "unit_code": "U",
        "division_name": "办公室",
        "effective_from": "2020-01-02",
        "effective_to": "2020-01-01",
    }
    result = validate(
        divisions,
        _frame([div, {**div, "division_code": "D2", "effective_to": "2020-01-02"}], divisions),
    )
    assert [(r.row, r.reason) for r in result.violations.itertuples()] == [(0, "bad_interval")]


def test_money_allows_two_decimals_and_negative_only_where_declared():
    contracts = load_contracts()
    budget = contracts["finance.budget"]
    row = {
        "fiscal_year": "2023",
        "unit_code": "U",
        "func_code": "2010101",
        "econ_code": "30101",
        "budget_amount": "100.5",
    }
    rows = [
        row,
        {**row, "econ_code": "30102", "budget_amount": "1.005"},
        {**row, "econ_code": "30103", "budget_amount": "-1"},
        {**row, "econ_code": "3010", "budget_amount": "1"},
    ]
    got = [(r.row, r.column, r.reason) for r in validate(budget, _frame(rows, budget)).violations.itertuples()]
    assert got == [
        (1, "budget_amount", "bad_format"),
        (2, "budget_amount", "out_of_range"),
        (3, "econ_code", "bad_format"),
    ]
    execution = contracts["finance.execution"]
    refund = {
        "fiscal_year": "2023",
        "month": "3",
        "unit_code": "U",
        "func_code": "2010101",
        "econ_code": "30101",
        "amount": "-250.00",
    }
    assert validate(execution, _frame([refund], execution)).violations.empty


def test_normalise_gives_one_text_per_value():
    contracts = load_contracts()
    tasks = contracts["performance.tasks"]
    frame = _frame([{"approved": "是", "difficulty": "1.20", "target_value": "+12", "year": "2023"}], tasks)
    out = normalise(tasks, frame).iloc[0]
    assert (out["approved"], out["difficulty"], out["target_value"]) == ("true", "1.2", "12")
    # a decimal's point and zeros go, never the value: ".0" was once normalised to "" (a null)
    cells = [".0", ".50", "5.", "0.0", "+1.50", "-.5", "-.0", "12", ""]
    decimals = normalise(tasks, _frame([{"target_value": v} for v in cells], tasks))["target_value"].tolist()
    assert decimals == ["0", "0.5", "5", "0", "1.5", "-0.5", "0", "12", ""]
    budget = contracts["finance.budget"]
    money = normalise(budget, _frame([{"budget_amount": "12.5"}], budget)).iloc[0]["budget_amount"]
    assert money == "12.50"


def test_full_width_digits_are_bad_type_not_numbers():
    """Python's \\d takes １２３; pandas cannot parse it and DuckDB's staging cast rejects it, so the
    contract must: the cell is quarantined (bad_type / bad_format), never passed on to crash dbt."""
    contracts = load_contracts()
    budget = contracts["finance.budget"]
    row = {"fiscal_year": "2023", "unit_code": "U", "func_code": "2010101", "econ_code": "30101"}
    rows = [
        {**row, "budget_amount": "100.5"},
        {**row, "econ_code": "30102", "budget_amount": "１００"},  # full-width digits
        {**row, "econ_code": "30103", "fiscal_year": "２０２３", "budget_amount": "1"},
        {**row, "econ_code": "３０１０４", "budget_amount": "1"},
    ]
    got = {(r.row, r.column, r.reason) for r in validate(budget, _frame(rows, budget)).violations.itertuples()}
    assert got == {
        (1, "budget_amount", "bad_type"),
        (2, "fiscal_year", "bad_type"),
        (3, "econ_code", "bad_format"),
    }


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[+-]?[0-9]+$",
        r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        r"^[0-9]{7}$",
        r"^[0-9]{17}[0-9X]$",
    ],
)
def test_duckdb_regular_expressions_match_as_python_does(pattern):
    """The checks run in DuckDB (RE2): on the contracts' patterns, full-width digits and line
    breaks included, a cell matches exactly when Python's re.fullmatch says it does."""
    cells = ["12", "１２３", "+5", "-", ".5", "5.", "2023-01-31", "2023-1-31", "1234567", "", " 7", "x\n7", "7\n",
             "0", "11010519491231002X", "11010519491231002x"]  # fmt: skip
    con = duckdb.connect()
    got = [m for (m,) in con.execute("select regexp_full_match(c, ?) from unnest(?) t(c)", [pattern, cells]).fetchall()]
    assert got == [re.fullmatch(pattern, c) is not None for c in cells]
