"""Liquidation and bankruptcy prices against MECHANICS.md section 2, and the ADL scores."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.venue.ledger.margin import (
    LONG,
    SHORT,
    adl_ranking,
    binance_adl_score,
    bitmex_adl_score,
    initial_margin,
    liquidation_price,
    liquidation_price_entry_mm,
    liquidation_price_fixed,
    liquidation_price_formula,
    maintenance_margin,
    margin_ratio,
)
from harness.venue.profiles.binance_usdm import BINANCE_USDM

F = Fraction


def rounds_to(value: Fraction | None, published: str) -> bool:
    """True when `value` rounds (half up) to the published decimal at its number of places."""
    assert value is not None
    places = len(published.split(".")[1]) if "." in published else 0
    half = F(1, 2 * 10**places)
    return F(published) - half <= value < F(published) + half


def test_example_1_binance_published() -> None:
    result = liquidation_price_fixed(LONG, F("0.02"), F(50_000), F(500), F("0.004"), F(0))
    assert rounds_to(result.price, "25100.40")
    assert rounds_to(result.price, "25100.402")
    assert result.bankruptcy == 25_000
    assert result.tier is None


def test_example_2_isolated_long_tier_2() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2021")
    result = liquidation_price(LONG, F(1), F(60_000), F(6_000), table)
    assert rounds_to(result.price, "54221.106")
    assert result.bankruptcy == 54_000
    assert (result.tier, result.mmr, result.cum) == (2, F("0.005"), F(50))


def test_example_3_recomputes_in_the_next_bracket() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2021")
    tier1 = table.tiers[0]
    first = liquidation_price_formula(SHORT, F(1), F(49_000), F(2_450), tier1.mmr, tier1.cum)
    assert rounds_to(first, "51245.02")
    assert first > tier1.cap  # so the venue recomputes with tier 2
    result = liquidation_price(SHORT, F(1), F(49_000), F(2_450), table)
    assert rounds_to(result.price, "51243.781")
    assert result.tier == 2


def test_example_4_isolated_long_tier_3() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2024")
    result = liquidation_price(LONG, F(10), F(100_000), F(100_000), table)
    assert rounds_to(result.price, "90437.846")
    assert result.tier == 3


def test_example_5_cross_with_other_positions() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2024")
    result = liquidation_price(
        LONG, F(10), F(100_000), F(50_000), table, other_mm=F(2_000), other_upnl=F(-3_000)
    )
    assert rounds_to(result.price, "95973.830")
    assert result.tier == 3
    # Bankruptcy: the balance (wallet + other UPnL = 47,000) is gone 4,700 below entry.
    assert result.bankruptcy == 95_300


def test_example_6_bybit_isolated_50x() -> None:
    qty, entry, mmr = F(1), F(20_000), F("0.005")
    im = initial_margin(qty * entry, 50)
    assert im == 400
    assert qty * entry * mmr == 100
    result = liquidation_price_entry_mm(LONG, qty, entry, im, mmr)
    assert result.price == 19_700
    assert result.bankruptcy == 19_600


def test_short_entry_mm_mirrors_long() -> None:
    result = liquidation_price_entry_mm(SHORT, F(1), F(20_000), F(400), F("0.005"))
    assert result.price == 20_300


def test_no_liquidation_price_for_an_overcollateralized_long() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2024")
    result = liquidation_price(LONG, F(1), F(60_000), F(70_000), table)
    assert result.price is None
    assert result.bankruptcy is None
    assert result.tier == 1


def test_maintenance_and_ratio() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2024")
    bracket = table.bracket_for(F(1_000_000))
    assert maintenance_margin(F(1_000_000), bracket) == 5_000  # 0.65% - 1,500
    assert margin_ratio(F(5_000), F(10_000)) == F(1, 2)
    assert margin_ratio(F(5_000), F(0)) is None


_TABLES = st.sampled_from(["binance-btcusdt-2024", "binance-btcusdt-2021"])
_SIDES = st.sampled_from([LONG, SHORT])


@given(
    name=_TABLES,
    side=_SIDES,
    qty_lots=st.integers(1, 20_000_000),
    entry=st.integers(1_000, 200_000),
    leverage=st.integers(1, 125),
    other_mm=st.integers(0, 50_000),
    other_upnl=st.integers(-50_000, 50_000),
)
def test_liquidation_price_is_where_balance_meets_maintenance(
    name: str, side: int, qty_lots: int, entry: int, leverage: int, other_mm: int, other_upnl: int
) -> None:
    """The definition, evaluated independently: at LP the margin balance equals the MM of the
    bracket that LP's own notional falls in."""
    table = BINANCE_USDM.bracket_table(name)
    qty = F(qty_lots, 1000)
    wallet = qty * entry / leverage + other_mm
    result = liquidation_price(side, qty, F(entry), wallet, table, F(other_mm), F(other_upnl))
    if result.price is None:
        # At a mark of zero a long is still above maintenance, or a short already below it.
        assert side * (wallet + other_upnl - side * qty * entry - other_mm) >= 0
        return
    lp = result.price
    bracket = table.bracket_for(qty * lp)
    assert bracket.tier == result.tier
    balance = wallet + other_upnl + side * qty * (lp - entry)
    assert balance == other_mm + maintenance_margin(qty * lp, bracket)
    if result.bankruptcy is not None:
        assert wallet + other_upnl + side * qty * (result.bankruptcy - entry) == 0


def test_binance_adl_score_by_hand() -> None:
    # PnL% = 1,000 / 2,000; margin ratio = 100 / 3,000.
    assert binance_adl_score(F(1_000), F(2_000), F(100)) == F(1, 60)
    assert binance_adl_score(F(-500), F(2_000), F(100)) == 0
    # A wallet under 1 USDT divides by 1.
    assert binance_adl_score(F(10), F("0.5"), F(1)) == F(10) * F(1, F("10.5"))


def test_bitmex_adl_score_by_hand() -> None:
    # Long 1 at 100, mark 110, bankrupt at 90: leverage 110/20, PnL% 10%.
    assert bitmex_adl_score(LONG, F(1), F(100), F(110), F(90)) == F(55, 100)
    # Mark 95: leverage 95/5 = 19, PnL% -5%.
    assert bitmex_adl_score(LONG, F(1), F(100), F(95), F(90)) == F(-5, 100) / 19
    # Short 2 at 100, mark 90, bankrupt at 110: leverage 180/40, PnL% +10%.
    assert bitmex_adl_score(SHORT, F(2), F(100), F(90), F(110)) == F(45, 100)
    with pytest.raises(ValueError, match="bankruptcy"):
        bitmex_adl_score(LONG, F(1), F(100), F(89), F(90))


def test_adl_ranking_highest_first_ties_in_order() -> None:
    scores = {"a": F(1, 3), "b": F(1, 2), "c": F(1, 3), "d": F(0)}
    assert adl_ranking(scores) == ["b", "a", "c", "d"]
