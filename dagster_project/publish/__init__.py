"""Write-audit-publish: the snapshot, the Dagster publish assets, the inputs fingerprint, retention, comparisons."""
