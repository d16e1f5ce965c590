"""Tick store: DuckDB schema, ingest of venue recordings, and time-ordered streaming queries."""
