"""The dbt project declares what is published (meta.publish of the marts): every mart, each
`by_year` one keyed by year, read from dbt's manifest."""

from __future__ import annotations

import json

from dagster_project.core.dbt_project import MANIFEST
from dagster_project.publish.snapshot import BY_YEAR, HISTORY, RECORD, WHOLE, published_marts, published_tables
from dagster_project.transform.labels import TABLES as LABEL_TABLES


def test_every_mart_is_published_and_each_by_year_mart_has_a_year_column(dbt_manifest):
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"].values()
    models = {n["name"]: n for n in nodes if n["resource_type"] == "model"}
    label_tables = set(LABEL_TABLES.values())  # seeds, loaded into the marts schema
    marts = {name for name, n in models.items() if n["fqn"][1] == "marts"} | label_tables
    declared = published_marts()
    assert (
        set(declared) == marts
        and {"unit_scores", "score_line_items", "grade_stability", "unit_data_issues", "unit_incidents", *label_tables}
        <= marts
    )
    whole = {
        "dim_region",
        "dim_unit",
        "quarantine",
        "source_loads",
        "dim_deduction",
        *label_tables,
    }  # dim_deduction: of dim_score_line
    assert {name for name, how in declared.items() if how == WHOLE} == whole
    for name, how in declared.items():
        if how == BY_YEAR:
            assert "year" in models[name]["columns"], name
    assert label_tables.isdisjoint(models)  # a label table is its seed, no model copies it


def test_every_published_table_is_declared_with_its_grain_types_and_descriptions(dbt_manifest):
    tables = published_tables()
    assert {t.name for t in tables.values() if t.how == HISTORY} == {
        "ranking_revisions", "ranking_revision_units", "ranking_drift", "ranking_acceptances"
    }  # fmt: skip
    assert [t.name for t in tables.values() if t.how == RECORD] == ["publication"]
    assert tables["unit_scores"].grain == ("year", "unit_code")  # its primary_key test
    assert tables["dim_unit"].grain == ("unit_code",)  # its unique test
    assert tables["register_crosschecks"].grain == ("year", "unit_code", "check", "subject_key")
    assert tables["ranking_revision_units"].grain == ("year", "revision", "unit_code")  # meta.grain
    assert tables["unit_data_issues"].grain == ("year", "unit_code", "issue_no")
    assert tables["unit_incidents"].grain == ("year", "unit_code", "incident_id")
    # every table but the quarantine (a row per rejected cell, no key) has a grain of its columns
    for table in tables.values():
        assert table.description, table.name
        assert set(table.grain) <= set(table.columns), table.name
        assert table.grain or table.name == "quarantine", table.name
        for column, (data_type, description) in table.columns.items():
            assert data_type and description, (table.name, column)
    assert (
        tables["ranking_drift"].ddl().startswith('"year" integer, "unit_code" varchar, "published_total" decimal(9,2)')
    )
