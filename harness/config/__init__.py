"""Scenario files read and validated at the edge: `harness.assembly` hands the settings on, and
nothing under venue/, risk/ or agents/ imports this package (tests/test_layout.py checks)."""
