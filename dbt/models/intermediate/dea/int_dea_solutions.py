"""The efficiency frontier of every year-end ranking (docs/methodology.md §12): per (year,
group_code, category), the linear programs of dagster_project/analysis/dea.py (scipy's HiGHS) on
the configured inputs and outputs. A Python model: SQL has no linear-program solver."""

def model(dbt, session):
    dbt.config(materialized="table")
    from dagster_project.analysis.dea import dea_groups

    measures = dbt.ref("int_dea_measures").df()
    configuration = dbt.ref("int_dea_configuration").df()
    return dea_groups(measures, configuration)
