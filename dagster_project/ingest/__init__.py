"""Ingestion: contracts, readers, loads into raw with quarantine, deliveries and the Dagster ingest assets."""
