"""The population builder: seeded synthetic draws, explicit lists, opening with money conserved."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest

from harness.assembly import population_settings
from harness.config.scenario import loads_scenario
from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.sim.rng import make_stream
from harness.units import MONEY_SCALE as QUOTE_SCALE
from harness.venue.ledger.accounts import EXTERNAL
from harness.venue.population import (
    PopulationSettings,
    explicit,
    open_population,
    size_grid,
    synthetic,
)
from harness.venue.profiles.binance_usdm import ATOMUSDT, BTCUSDT, ETHUSDT, SUIUSDT
from harness.venue.venue import Venue, VenueSettings

START = 1_723_161_256_000_000_000
INSTRUMENTS = {"BTCUSDT": BTCUSDT, "ETHUSDT": ETHUSDT}
PRICES = {"BTCUSDT": 600_000, "ETHUSDT": 250_000}  # 60,000.0 and 2,500.00


def _config(body: str) -> PopulationSettings:
    text = f'[data]\nsymbols = ["BTCUSDT", "ETHUSDT"]\n[population]\n{body}'
    return population_settings(loads_scenario(text).population)


def _venue() -> Venue:
    return Venue(SimEnv(START, seed=1), Journal(), INSTRUMENTS, VenueSettings())


def test_size_grid_is_eighths_of_an_octave() -> None:
    grid = size_grid(Decimal(1000), Decimal(2000))
    assert len(grid) == 9 and grid[0] == 1000 and grid[-1] == 2000
    assert grid[4] == pytest.approx(1000 * 2**0.5)


def test_synthetic_draws_follow_the_settings_and_the_seed() -> None:
    config = _config(
        "count = 2000\nlong_share = 0.7\nisolated_share = 0.25\nmulti_symbol_share = 0.5\n"
        "leverages = [10, 125]\nleverage_weights = [3, 1]\nentry_spread = 0.01\n"
        "notional_min = 1000\nnotional_max = 2000000\n"
    )
    members = synthetic(config, INSTRUMENTS, PRICES, make_stream(3, "population"))
    again = synthetic(config, INSTRUMENTS, PRICES, make_stream(3, "population"))
    other = synthetic(config, INSTRUMENTS, PRICES, make_stream(4, "population"))
    assert members == again and members != other
    assert [m.name for m in members[:2]] == ["pop0000", "pop0001"]
    holdings = [h for m in members for h in m.holdings]
    isolated = sum(m.holdings[0].isolated for m in members)
    multi = sum(len(m.holdings) == 2 for m in members)
    assert 0.22 < isolated / 2000 < 0.28
    assert 0.33 < multi / 2000 < 0.42  # half of the ~75% cross accounts
    assert all(len(m.holdings) == 1 for m in members if m.holdings[0].isolated)
    assert 0.67 < sum(h.lots > 0 for h in holdings) / len(holdings) < 0.73
    levels = Counter(h.leverage for h in holdings)
    assert levels[10] > 2 * levels[125] > 0
    for m in members:
        for h in m.holdings:
            inst = INSTRUMENTS[h.symbol]
            notional = Fraction(abs(inst.notional_units(h.lots, h.entry)), QUOTE_SCALE)
            # The bracket of a position caps its leverage: 125x only in the first tier.
            assert h.leverage <= inst.brackets.bracket_for(notional).max_leverage
            assert abs(h.entry - PRICES[h.symbol]) <= PRICES[h.symbol] // 100 + 1
        # The deposit is the initial margin at entry, rounded up per position.
        assert m.deposit == sum(
            -(-abs(INSTRUMENTS[h.symbol].notional_units(h.lots, h.entry)) // h.leverage)
            for h in m.holdings
        )


def test_multi_symbol_counts_and_per_symbol_leverage_weights() -> None:
    symbols = {"BTCUSDT": BTCUSDT, "SUIUSDT": SUIUSDT, "ATOMUSDT": ATOMUSDT}
    prices = {"BTCUSDT": 1_170_000, "SUIUSDT": 34_000, "ATOMUSDT": 4_000}
    scenario = loads_scenario(
        '[data]\nsymbols = ["BTCUSDT", "SUIUSDT", "ATOMUSDT"]\n[population]\n'
        "count = 3000\nisolated_share = 0\nmulti_symbol_share = 0.5\n"
        "multi_symbol_counts = [2, 3]\nleverages = [5, 50]\nleverage_weights = [1, 0]\n"
        "notional_min = 1000\nnotional_max = 2000\n"
        "symbol_leverage_weights = { SUIUSDT = [1, 3], ATOMUSDT = [0, 1] }\n"
    )
    config = population_settings(scenario.population)
    members = synthetic(config, symbols, prices, make_stream(3, "population"))
    assert members == synthetic(config, symbols, prices, make_stream(3, "population"))
    held = Counter(len(m.holdings) for m in members)
    # Half the accounts hold several symbols, as many two as three.
    assert 0.45 < (held[2] + held[3]) / 3000 < 0.55
    assert 0.4 < held[2] / (held[2] + held[3]) < 0.6
    pairs = Counter(tuple(h.symbol for h in m.holdings) for m in members if len(m.holdings) == 2)
    # Every pair of symbols is drawn, in the population's symbol order.
    assert set(pairs) == {("BTCUSDT", "SUIUSDT"), ("BTCUSDT", "ATOMUSDT"), ("SUIUSDT", "ATOMUSDT")}
    assert min(pairs.values()) > 200
    leverage = {
        s: Counter(h.leverage for m in members for h in m.holdings if h.symbol == s)
        for s in symbols
    }
    assert set(leverage["BTCUSDT"]) == {5}  # leverage_weights: only 5x
    assert set(leverage["ATOMUSDT"]) == {50}  # its own weights: only 50x
    assert 2.5 < leverage["SUIUSDT"][50] / leverage["SUIUSDT"][5] < 3.5


def test_multi_symbol_counts_left_out_keeps_earlier_populations() -> None:
    body = "count = 300\nmulti_symbol_share = 0.5\n"
    before = _config(body)
    spelled = _config(body + "multi_symbol_counts = []\n")
    assert synthetic(before, INSTRUMENTS, PRICES, make_stream(5, "population")) == synthetic(
        spelled, INSTRUMENTS, PRICES, make_stream(5, "population")
    )
    # With two symbols, counts [2] hold both: the same accounts, drawn after every other stream.
    both = _config(body + "multi_symbol_counts = [2]\n")
    assert [
        m.holdings for m in synthetic(both, INSTRUMENTS, PRICES, make_stream(5, "population"))
    ] == [m.holdings for m in synthetic(before, INSTRUMENTS, PRICES, make_stream(5, "population"))]


def test_explicit_entries_with_one_name_are_one_cross_account_on_two_symbols() -> None:
    config = _config(
        '[[population.accounts]]\nname = "x"\nsymbol = "BTCUSDT"\nside = "long"\n'
        "qty = 1\nentry = 60000\nleverage = 50\n"
        '[[population.accounts]]\nname = "x"\nsymbol = "ETHUSDT"\nside = "short"\n'
        "qty = 2\nentry = 2500\nbalance = 700\n"
    )
    (member,) = explicit(config, INSTRUMENTS)
    # 1 BTC at 60,000 / 50 = 1,200 USDT of margin, plus the 700 given for the ETH entry.
    assert member.deposit == 1_900 * QUOTE_SCALE
    assert [(h.symbol, h.lots, h.entry, h.leverage) for h in member.holdings] == [
        ("BTCUSDT", 1_000, 600_000, 50),
        ("ETHUSDT", -2_000, 250_000, 20),
    ]
    bad = _config(
        '[[population.accounts]]\nname = "y"\nsymbol = "BTCUSDT"\nside = "long"\n'
        "qty = 0.0005\nentry = 60000\n"
    )
    with pytest.raises(ValueError, match=r"population.accounts\[0\]"):
        explicit(bad, INSTRUMENTS)


def test_bad_population_settings_name_their_key() -> None:
    with pytest.raises(ValueError, match=r"population\.leverage_weights"):
        _config("leverages = [10, 20]\nleverage_weights = [1]\n")
    with pytest.raises(ValueError, match=r"population\.symbol_leverage_weights\.ETHUSDT"):
        _config("leverages = [10, 20]\nsymbol_leverage_weights = { ETHUSDT = [1] }\n")


def test_ten_thousand_accounts_open_with_money_conserved_and_indexed() -> None:
    config = _config("count = 10000\nnotional_max = 500000\n")
    venue = _venue()
    members = synthetic(config, INSTRUMENTS, PRICES, make_stream(9, "population"))
    started = time.perf_counter()  # wall-clock ok: a speed bound, not journaled
    open_population(venue, members, "regular", START)
    assert time.perf_counter() - started < 20  # wall-clock ok
    venue.ledger.check_conservation()
    # The outside market holds the other side of every position.
    for symbol in INSTRUMENTS:
        held = sum(venue.ledger.position(m.name, symbol).qty for m in members)
        assert venue.ledger.position(EXTERNAL, symbol).qty == -held
    # Registered in the risk index: a 30% fall makes every long of 5x or more in BTC due.
    marks = {"BTCUSDT": 420_000, "ETHUSDT": 250_000}
    due = {d.account_id for d in venue.risk.check("BTCUSDT", marks, START).due}
    longs = {
        m.name
        for m in members
        if len(m.holdings) == 1
        and m.holdings[0].symbol == "BTCUSDT"
        and m.holdings[0].lots > 0
        and m.holdings[0].leverage >= 5
    }
    assert longs and longs <= due
    records = list(venue.journal.records())
    assert sum(r.kind == "position" for r in records) == sum(len(m.holdings) for m in members)
