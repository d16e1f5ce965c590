"""Runs of the liquidating scenario (tests/liquidating.py), written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.liquidating import write_scenario


def replay(folder: Path, db: Path, **settings: str | int) -> Path:
    """Replay the liquidating scenario through the CLI into `folder/run`; returns the run."""
    scenario = write_scenario(folder, db, **settings)  # type: ignore[arg-type]
    out = folder / "run"
    result = CliRunner().invoke(main, ["replay", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def liquidated_run(capture_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return replay(tmp_path_factory.mktemp("base"), capture_db)


@pytest.fixture(scope="session")
def low_fee_run(capture_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same scenario with a clearance fee of 0.01% instead of 0.5%."""
    return replay(tmp_path_factory.mktemp("low-fee"), capture_db, clearance_fee="0.01%")
