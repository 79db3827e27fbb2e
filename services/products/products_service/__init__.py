"""Products API: financial instrument reference data (FIRDS-like)."""
