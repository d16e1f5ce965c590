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


STRESS = """
[risk]
threshold = 1.5
lead_score = 1.5
warmup_samples = 3
[gateway]
service_rate_per_s = 20
orders_10s = 30
[[gateway.tightening]]
at = "2024-08-08T23:55:30Z"
factor = 0.2
[[agents]]
name = "mm"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = { qty_lots = 1 }
fee_tier = "mm3"
"""


@pytest.fixture(scope="session")
def stressed_run(capture_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The liquidating scenario with a quoting market maker behind a slow engine (20 messages a
    second) and tight order limits cut 5x at 23:55:30, and a sensitive risk monitor: every
    chart of the report has data (rejects, limits, queue depth, alerts before liquidations)."""
    folder = tmp_path_factory.mktemp("stressed")
    scenario = write_scenario(folder, capture_db, name="stressed")
    scenario.write_text(scenario.read_text(encoding="utf-8") + STRESS, encoding="utf-8")
    out = folder / "run"
    result = CliRunner().invoke(main, ["replay", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
