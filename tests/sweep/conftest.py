"""A store holding the bundled capture, shared by the sweep tests, and a short base scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.ingest import ingest_paths
from harness.data.store import connect
from tests.conftest import BTCUSDT_CAPTURE

START = "2024-08-08T23:54:17Z"
END = "2024-08-08T23:54:47Z"


@pytest.fixture(scope="session")
def capture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep-store") / "ticks.duckdb"
    con = connect(path)
    ingest_paths(con, [BTCUSDT_CAPTURE])
    con.close()
    return path


def base_text(db: Path, agents: bool = True) -> str:
    """30 s of the capture; one market maker on lognormal links, so the seed matters."""
    agent = """
[[agents]]
name = "mm"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = { qty_lots = 5 }
fee_tier = "mm3"
"""
    return f"""
name = "sweep-test"
seed = 11

[data]
db = "{db}"
start = "{START}"
end = "{END}"

[latency]
market_data = {{ model = "lognormal", median_ms = 2, sigma = 0.5 }}
orders = {{ model = "lognormal", median_ms = 3, sigma = 0.5 }}
{agent if agents else ""}"""


@pytest.fixture
def base_scenario(capture_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "base.toml"
    path.write_text(base_text(capture_db), encoding="utf-8")
    return path
