"""End-to-end replays of the bundled capture: determinism, strategies, and no look-ahead."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from harness.config.scenario import loads_scenario
from harness.data.book_replay import rebuild_at
from harness.journal import Journal
from harness.replay import ReplayError, RunResult, run_scenario
from tests.strategies import Recorder

START = "2024-08-08T23:54:17Z"
END = "2024-08-08T23:57:00Z"

AGENTS = """
[[agents]]
name = "mm"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = { qty_lots = 5 }
fee_tier = "mm3"

[[agents]]
name = "trend"
strategy = "harness.agents.examples.trend_taker:TrendTaker"
params = { qty_lots = 200, threshold_ticks = 150, stop_ticks = 100 }
leverage = 50

[[agents]]
name = "holder"
strategy = "harness.agents.examples.passive_holder:PassiveHolder"
params = { qty_lots = 20 }
"""


@pytest.fixture(scope="module")
def db(capture_db: Path) -> Path:
    """The session's store of the bundled capture (replays only read it)."""
    return capture_db


def _scenario_text(db: Path, agents: str = AGENTS, end: str = END, extra: str = "") -> str:
    return f"""
name = "test-run"
seed = 7
{extra}
[data]
db = "{db}"
exchange = "binance-usdm"
symbols = ["BTCUSDT"]
start = "{START}"
end = "{end}"
{agents}
"""


def _run(db: Path, **kwargs: str) -> RunResult:
    return run_scenario(loads_scenario(_scenario_text(db, **kwargs), source="test.toml"))


def test_two_processes_print_the_same_fingerprint(db: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(_scenario_text(db))
    lines = []
    for run in ("a", "b"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "replay",
                str(scenario),
                "--out",
                str(tmp_path / run),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        lines.append(out[-1])
    assert lines[0] == lines[1]
    assert lines[0].startswith("fingerprint: ") and len(lines[0]) == len("fingerprint: ") + 64
    journal = Journal.read_parquet(tmp_path / "a" / "journal.parquet")
    assert f"fingerprint: {journal.fingerprint()}" == lines[0]
    assert (tmp_path / "b" / "summary.json").exists()


def test_example_strategies_trade_and_money_is_conserved(db: Path) -> None:
    result = _run(db)
    kinds = Counter(record.kind for record in result.journal.records())
    assert result.conservation_gap == 0
    assert kinds["mark"] > 100  # one a second over ~163 s
    fills = [r for r in result.journal.records() if r.kind == "fill"]
    mm_fills = [r for r in fills if r.account == "mm"]
    # The market maker only ever rests post-only quotes: every fill of it is a maker fill.
    assert len(mm_fills) > 20
    assert {r.fields["liquidity"] for r in mm_fills} == {"MAKER"}
    accepted = [r for r in result.journal.records() if r.kind == "order_accepted"]
    assert {r.fields["tif"] for r in accepted if r.account == "mm"} == {"GTX"}
    # Rebates: the mm3 tier pays makers, so its fees are negative in total.
    assert result.agents["mm"]["fees_paid_units"] < 0
    # The holder bought its 20 lots once and holds them.
    assert result.agents["holder"]["position_lots"] == 20
    assert [r.fields["qty"] for r in fills if r.account == "holder"] == [20]
    # The trend taker entered with a market order and protected it with a stop.
    trend_orders = [r.fields["type"] for r in accepted if r.account == "trend"]
    assert trend_orders[:2] == ["MARKET", "STOP_MARKET"]


def test_a_strategy_never_sees_the_future(db: Path) -> None:
    Recorder.RUNS.clear()
    agents = """
[[agents]]
name = "rec"
strategy = "tests.strategies:Recorder"
latency.market_data = { model = "constant", ns = 7_000_000 }
"""
    _run(db, agents=agents, end="2024-08-08T23:55:17Z")
    (recorder,) = Recorder.RUNS
    assert len(recorder.books) > 400  # ~600 conflation ticks of 100 ms with changes
    assert len(recorder.trades) > 100
    con = duckdb.connect(str(db), read_only=True)
    try:
        for arrived, book in recorder.books[::40]:
            assert arrived == book.ts + 7_000_000  # published at ts, delivered 7 ms later
            truth = rebuild_at(con, "BTCUSDT", book.ts)
            bid, ask = truth.book.best_bid(), truth.book.best_ask()
            assert bid is not None and ask is not None
            assert book.bids[0] == (round(bid[0] * 10), round(bid[1] * 1000))
            assert book.asks[0] == (round(ask[0] * 10), round(ask[1] * 1000))
    finally:
        con.close()
    assert all(arrived == trade.ts + 7_000_000 for arrived, trade in recorder.trades)
    assert [name for _, name in recorder.timers[:3]] == ["tick"] * 3
    assert [t for t, _ in recorder.timers[:2]] == [
        1_723_161_258_000_000_000,
        1_723_161_259_000_000_000,
    ]


def test_seed_changes_latency_draws_and_so_the_fingerprint(db: Path) -> None:
    agents = AGENTS.replace(
        'fee_tier = "mm3"',
        'fee_tier = "mm3"\nlatency.orders = { model = "lognormal", median_ms = 3, sigma = 0.5 }',
    )
    first = run_scenario(loads_scenario(_scenario_text(db, agents=agents), source="a.toml"))
    other = run_scenario(
        loads_scenario(
            _scenario_text(db, agents=agents).replace("seed = 7", "seed = 8"), source="b.toml"
        )
    )
    again = run_scenario(loads_scenario(_scenario_text(db, agents=agents), source="a.toml"))
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != other.fingerprint


def test_missing_data_is_a_clear_error(db: Path) -> None:
    text = _scenario_text(db).replace('symbols = ["BTCUSDT"]', 'symbols = ["ETHUSDT"]')
    with pytest.raises(ReplayError, match="no depth data for ETHUSDT on binance-usdm"):
        run_scenario(loads_scenario(text, source="x.toml"))


def test_every_tick_feed_after_warm_up_publishes_from_the_window_start(db: Path) -> None:
    Recorder.RUNS.clear()
    agents = """
[[agents]]
name = "rec"
strategy = "tests.strategies:Recorder"
feed = "every_tick"
latency.market_data = { model = "constant", ns = 1_000_000 }
"""
    result = _run(db, agents=agents, end="2024-08-08T23:54:27Z")
    (recorder,) = Recorder.RUNS
    start = 1_723_161_257_000_000_000
    # The book rebuilt before the window is published at its start, never in the past.
    assert recorder.books[0][1].ts == start
    assert all(
        book.ts >= start and arrived == book.ts + 1_000_000 for arrived, book in recorder.books
    )
    # Every tick instant with a depth change gets its own publication (many more than conflated).
    assert len(recorder.books) > 150
    assert result.conservation_gap == 0
