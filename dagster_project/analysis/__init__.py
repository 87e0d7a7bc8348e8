"""The office's tools over the marts: what-if, grade certainty, the DEA frontier."""
