"""The monitor on the calm replay: its false-alert rate (goal: at most 1 an hour), and proof that
watching a run does not change it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from harness.config.scenario import Scenario, load_scenario
from harness.replay import RunResult, run_scenario
from tests.conftest import ROOT

CALM = ROOT / "replays" / "btcusdt-2024-08-08-calm.toml"


@pytest.fixture(scope="module")
def db(capture_db: Path) -> Path:
    """The session's store of the bundled capture (replays only read it)."""
    return capture_db


@pytest.fixture(scope="module")
def watched(db: Path) -> RunResult:
    return run_scenario(load_scenario(CALM), db=db)


def _with_risk(scenario: Scenario, **changes: object) -> Scenario:
    return dataclasses.replace(scenario, risk=dataclasses.replace(scenario.risk, **changes))


def _records(result: RunResult) -> list[tuple[object, ...]]:
    return [
        (r.ts, r.kind, r.account, r.symbol, r.fields)
        for r in result.journal.records()
        if r.kind != "risk_alert"
    ]


def test_calm_replay_alert_rate_and_a_monitor_that_only_adds_records(
    db: Path, watched: RunResult
) -> None:
    scenario = load_scenario(CALM)
    assert watched.risk is not None
    alerts = watched.risk["alerts"]
    # Pinned: no alert in the calm six minutes, so 0 an hour (the goal is at most 1).
    assert (alerts["alerts"], alerts["alerts_per_hour"]) == (0, "0.00")
    assert Fraction(alerts["alerts_per_hour"]) <= 1
    assert alerts["lead_time_s"] is None and alerts["first_liquidation"] is None
    unwatched = run_scenario(_with_risk(scenario, enabled=False), db=db)
    assert unwatched.risk is None
    assert watched.fingerprint == unwatched.fingerprint
    # At threshold 6 without cooldown the fastest mark moves of the window alert (the strongest
    # calm score is 6.75: the default of 8 leaves that margin); the run is otherwise the same.
    touchy = run_scenario(_with_risk(scenario, threshold=Decimal(6), cooldown_ns=0), db=db)
    assert touchy.risk is not None
    rows = touchy.risk["alerts"]["ranked"]
    assert [row["score"] for row in rows] == ["6.75", "6.47", "6.33"]
    assert all(row["symbol"] == "BTCUSDT" and "mark path length" in row["reason"] for row in rows)
    assert touchy.risk["alerts"]["alerts_per_hour"] == "31.40"  # 3 in 344 s
    assert _records(touchy) == _records(unwatched)


def test_calm_replay_trader_analytics(watched: RunResult) -> None:
    result = watched
    assert result.risk is not None
    traders = result.risk["traders"]
    assert list(traders) == ["maker", "trend", "holder"]
    maker = traders["maker"]
    assert list(maker["markouts"]) == ["1s", "10s", "60s"]
    fill_times = [
        r.ts for r in result.journal.records() if r.kind == "fill" and r.account == "maker"
    ]
    # Each horizon measures exactly the maker fills whose horizon ends inside the run.
    for horizon, seconds in (("1s", 1), ("10s", 10), ("60s", 60)):
        due = sum(1 for ts in fill_times if ts + seconds * 1_000_000_000 < result.end)
        assert maker["markouts"][horizon]["fills"] == due > 400
    rebates = -sum(
        int(r.fields["fee"])
        for r in result.journal.records()
        if r.kind == "fee" and r.account == "maker" and int(r.fields["fee"]) < 0
    )
    assert maker["rebate_units"] == rebates > 0
    for horizon, row in maker["markouts"].items():
        assert maker["rebate_plus_maker_markout_units"][horizon] == rebates + row["maker_units"]
    assert maker["funding_paid_units"] == 0  # no funding time inside the window
    # The holder's 20-lot long on 10,000 USDT has no positive liquidation price.
    assert traders["holder"]["liquidation_distance"] == {"BTCUSDT": {"liquidation_price": None}}
