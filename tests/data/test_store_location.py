"""Where the store lives: --db beats HARNESS_DB, which beats data/harness.duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.data.store import DEFAULT_DB, default_db_path
from tests.conftest import BTCUSDT_CAPTURE


def test_default_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HARNESS_DB", raising=False)
    assert default_db_path() == DEFAULT_DB == Path("data/harness.duckdb")
    target = tmp_path / "env.duckdb"
    monkeypatch.setenv("HARNESS_DB", str(target))
    result = CliRunner().invoke(main, ["ingest", "--dry-run", str(BTCUSDT_CAPTURE)])
    assert result.exit_code == 0, result.output
    assert target.exists()  # the store named by the environment was opened
    other = tmp_path / "flag.duckdb"
    result = CliRunner().invoke(main, ["--db", str(other), "data", "ls"])
    assert "no tick store at" in result.output and str(other) in result.output
