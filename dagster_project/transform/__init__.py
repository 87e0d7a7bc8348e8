"""The dbt project's Dagster side: the dbt assets, the manifest, the dbt sources generated from the contracts."""
