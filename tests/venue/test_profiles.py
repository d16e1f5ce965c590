"""Venue profiles and the model registries: lookup errors, user-registered models, and the
Binance USD-M profile carrying the numbers the worked examples (MECHANICS.md) are computed with."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from fractions import Fraction

import pytest

from harness.units import NS_PER_S
from harness.venue.gateway.rate_limits import Limits
from harness.venue.ledger.accounts import Account, Position
from harness.venue.ledger.mark_price import (
    MARK_METHODS,
    BinanceMark,
    MarkPrice,
    MarkSample,
    MarkSettings,
)
from harness.venue.liquidation.adl import ADL_RANKINGS, AdlContext, rank
from harness.venue.liquidation.liquidator import LiquidatorSettings
from harness.venue.profiles import PROFILES, default_profile
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT
from harness.venue.venue import VenueSettings
from tests.venue.test_adl import MARK, SYM, shorts


@MARK_METHODS.register("test-last-trade")
class LastTrade:
    """A user's method: the last trade price, nothing else."""

    def __init__(self, settings: MarkSettings) -> None:
        self.settings = settings

    def mark(self, sample: MarkSample) -> int | None:
        return sample.last


@ADL_RANKINGS.register("test-largest-first")
class LargestFirst:
    """A user's ranking: the biggest position goes first, whatever its PnL."""

    def score(self, ctx: AdlContext, account: Account, pos: Position) -> Fraction | None:
        return Fraction(abs(pos.qty))


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown venue profile 'ftx' \(known: binance-usdm"):
        PROFILES.get("ftx")
    with pytest.raises(ValueError, match=r"unknown mark method 'vwap' \(known: binance, recorded"):
        MarkPrice("vwap", 8 * 3_600 * NS_PER_S)
    with pytest.raises(KeyError, match=r"unknown ADL ranking 'random' \(known: binance, bitmex"):
        rank(shorts(), SYM, -1, MARK, {SYM: MARK}, "random")


def test_a_user_registered_mark_method_is_used() -> None:
    mark = MarkPrice("test-last-trade", 8 * 3_600 * NS_PER_S)
    assert mark.sample(now_ns=0, mid2=2 * 600_010, last=600_100) == 600_100
    assert mark.sample(now_ns=1, mid2=2 * 600_010, last=None) == 600_100  # None keeps the last
    assert isinstance(mark.method, LastTrade)
    assert mark.method.settings == MarkSettings(8 * 3_600 * NS_PER_S, 30)


def test_a_user_registered_adl_ranking_is_used() -> None:
    ranking = rank(shorts(), SYM, -1, MARK, {SYM: MARK}, "test-largest-first", exclude=("h",))
    # Sizes 100 (s4), 500 (s1), 2,000 (s2), 300 (s3): by size, not the Binance order s1..s4.
    assert [c.account_id for c in ranking] == ["s2", "s1", "s3", "s4"]
    assert ranking[0].score == 2_000


def test_the_default_profile_is_binance_usdm_and_immutable() -> None:
    assert default_profile() is BINANCE_USDM is PROFILES.get("binance-usdm")
    with pytest.raises(FrozenInstanceError):
        BINANCE_USDM.clearance_fee = Fraction(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        BINANCE_USDM.instruments["XYZUSDT"] = BTCUSDT  # type: ignore[index]


def test_binance_usdm_carries_the_worked_example_numbers() -> None:
    p = BINANCE_USDM
    btc = p.instrument("BTCUSDT")
    assert (btc.tick_size, btc.lot_size) == (Fraction(1, 10), Fraction(1, 1000))
    # MECHANICS 1, table 2024: tier 1 is 0-300,000 at 150x and 0.40%; tier 3's cum is 1,500.
    first, third = btc.brackets.tiers[0], btc.brackets.tiers[2]
    assert (first.cap, first.max_leverage, first.mmr) == (300_000, 150, Fraction(4, 1000))
    assert third.cum == 1_500
    assert p.bracket_table("binance-btcusdt-2021").tiers[0].max_leverage == 125
    # MECHANICS 8: regular 0.0200% maker / 0.0500% taker; rebates down to -0.005%.
    assert (p.fees.rate("regular", True), p.fees.rate("regular", False)) == (20_000, 50_000)
    assert p.fees.rate("mm3", True) == -5_000
    # MECHANICS 4: 8 h, I = 0.01%, clamp 0.05%, impact notional 200 x 150 = 30,000.
    f = p.funding
    assert (f.interval_hours, f.interest, f.clamp) == (8, Fraction(1, 10_000), Fraction(5, 10_000))
    assert btc.impact_notional == 30_000
    assert p.premium_index_every_ns == 5 * NS_PER_S
    # MECHANICS 3: price bands of 5%, the binance mark over 30 one-second samples.
    assert (btc.price_band, btc.market_take_bound) == (Fraction(5, 100), Fraction(5, 100))
    assert (p.mark_method, p.mark_premium_samples, p.mark_interval_ns) == ("binance", 30, NS_PER_S)
    # MECHANICS 5 and 6: 0.5% clearance fee, Binance ADL ranking, 2,400 / 300 / 1,200 limits.
    assert (p.clearance_fee, p.adl_ranking) == (Fraction(5, 1000), "binance")
    limits = p.rate_limits
    assert (limits.weight_1m, limits.orders_10s, limits.orders_1m) == (2_400, 300, 1_200)


def test_the_profile_names_registered_models() -> None:
    assert BINANCE_USDM.mark_method in MARK_METHODS
    assert BINANCE_USDM.adl_ranking in ADL_RANKINGS


def test_defaults_not_yet_read_from_the_profile_agree_with_it() -> None:
    """The venue settings and the gateway's limits still declare their own defaults; until the
    assembly passes the profile's, they must not drift from it."""
    p = BINANCE_USDM
    limits = p.rate_limits
    assert Limits() == Limits(limits.weight_1m, limits.orders_10s, limits.orders_1m)
    settings = VenueSettings()
    assert (settings.clearance_fee, settings.adl_method) == (p.clearance_fee, p.adl_ranking)
    assert (settings.mark_method, settings.mark_interval_ns) == (p.mark_method, p.mark_interval_ns)
    binance_mark = MarkPrice("binance", 8 * 3_600 * NS_PER_S).method
    assert isinstance(binance_mark, BinanceMark) and binance_mark.window == p.mark_premium_samples
    liquidator = LiquidatorSettings()
    assert (liquidator.clearance_fee, liquidator.adl_method) == (p.clearance_fee, p.adl_ranking)


def test_an_unlisted_symbol_gets_the_venue_terms_and_the_default_table() -> None:
    alt = BINANCE_USDM.contract("NEWUSDT", Fraction(1, 1000), Fraction(1, 10))
    assert alt.brackets is BINANCE_USDM.bracket_tables["binance-btcusdt-2024"]
    assert (alt.fees, alt.funding, alt.min_notional) == (BTCUSDT.fees, BTCUSDT.funding, 5)
    assert alt.units_per_lot_tick == 10_000  # 0.001 x 0.1 x 1e8
    with pytest.raises(ValueError, match="unknown bracket table 'nope'"):
        BINANCE_USDM.bracket_table("nope")


def test_scenario_names_its_profile_and_an_unknown_one_is_refused() -> None:
    from harness.config.scenario import ScenarioError, loads_scenario

    base = (
        '[data]\nsymbols = ["BTCUSDT"]\n'
        'start = "2024-08-08T23:55:00Z"\nend = "2024-08-08T23:56:00Z"\n'
    )
    assert loads_scenario(base).venue.profile == "binance-usdm"
    with pytest.raises(ScenarioError, match=r"venue\.profile.*binance-usdm"):
        loads_scenario(base + '[venue]\nprofile = "nowhere"\n')
