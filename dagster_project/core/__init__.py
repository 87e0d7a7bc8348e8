"""What every step shares: settings and the Dagster resource, the writer lock, errors, the event log, national codes."""
