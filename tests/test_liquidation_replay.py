"""A replay of the bundled capture with a levered population: the liquidation path end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.scenario import loads_scenario
from harness.replay import ReplayError, RunResult, run_scenario

SCENARIO = """
name = "population-run"
seed = 11
[data]
db = "{db}"
exchange = "binance-usdm"
symbols = ["BTCUSDT"]
start = "2024-08-08T23:54:17Z"
end = "2024-08-08T23:56:00Z"
[liquidation]
insurance_fund = 100
[population]
count = 400
leverages = [50, 100, 125]
entry_spread = 0.01
notional_min = 1000
notional_max = 400000
{extra}
"""


@pytest.fixture(scope="module")
def db(capture_db: Path) -> Path:
    """The session's store of the bundled capture (replays only read it)."""
    return capture_db


def _run(db: Path, extra: str = "") -> RunResult:
    return run_scenario(loads_scenario(SCENARIO.format(db=db, extra=extra), source="t.toml"))


@pytest.fixture(scope="module")
def run(db: Path) -> RunResult:
    return _run(db)


def test_a_levered_population_is_liquidated_with_money_conserved(run: RunResult) -> None:
    summary = run.summary()
    records = list(run.journal.records())
    opened = [r for r in records if r.kind == "balance" and r.fields["reason"] == "population"]
    assert len(opened) == 400
    assert summary["conservation_gap_units"] == 0
    # Entries 1% around the price at 50x-125x: some start past maintenance and go at once.
    assert summary["liquidations"] > 10
    assert summary["margin_calls"] > 0
    # Every account forced to reduce has a band entry and a place in the cascade.
    band, graph = summary["liquidation_band"], summary["cascade"]
    triggered = [a for step in graph["steps"] for a in step["triggered"]]
    assert len(triggered) == len(set(triggered)) == graph["accounts"]
    assert set(band) <= set(triggered) and len(band) > 10
    assert graph["depth"] >= 1 and graph["notional_units"] > 0
    for entry in band.values():
        if entry["warning_ts"] is not None:
            assert entry["warning_to_reduction_ns"] == entry["reduction_ts"] - entry["warning_ts"]
    # The journal tells the story: each liquidator order follows the step that sent it.
    for i, r in enumerate(records):
        if r.kind == "order_accepted" and r.account == "@liquidator":
            assert records[i - 1].kind == "liquidation"


def test_a_bad_population_entry_is_a_replay_error(db: Path) -> None:
    extra = (
        '[[population.accounts]]\nname = "z"\nsymbol = "BTCUSDT"\nside = "long"\n'
        "qty = 0.0001\nentry = 60000\n"
    )
    with pytest.raises(ReplayError, match=r"population.accounts\[0\]"):
        _run(db, extra)
    too_levered = extra.replace("qty = 0.0001", "qty = 20\nleverage = 100")  # 1.2M: tier 3
    with pytest.raises(ReplayError, match=r"population.accounts\[0\].leverage: .* at most 75x"):
        _run(db, too_levered)
    agent = '[[agents]]\nname = "pop000"\nstrategy = "tests.strategies:Recorder"\n'
    with pytest.raises(ReplayError, match="account pop000 exists"):
        _run(db, agent)


def test_the_population_run_is_deterministic_and_its_seed_matters(db: Path, run: RunResult) -> None:
    assert _run(db).fingerprint == run.fingerprint
    other = run_scenario(
        loads_scenario(SCENARIO.format(db=db, extra="").replace("seed = 11", "seed = 12"))
    )
    assert other.fingerprint != run.fingerprint
