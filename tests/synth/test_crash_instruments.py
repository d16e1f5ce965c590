"""The alts added for the synthetic crash trade on their real grids with the alt bracket table."""

from __future__ import annotations

from fractions import Fraction

from harness.assembly import build_instrument
from harness.venue.profiles.binance_usdm import BINANCE_USDM


def test_sui_and_atom_notional_on_their_grids() -> None:
    sui, atom = BINANCE_USDM.instruments["SUIUSDT"], BINANCE_USDM.instruments["ATOMUSDT"]
    # 10 SUI at 3.4000: 100 lots x 34,000 ticks = 34 USDT = 3.4e9 units of 1e-8 USDT
    assert sui.price_to_ticks(Fraction("3.4")) == 34_000
    assert sui.notional_units(100, 34_000) == 3_400_000_000
    # 2.5 ATOM at 4.001: 250 lots x 4,001 ticks = 10.0025 USDT
    assert atom.notional_units(250, 4_001) == 1_000_250_000
    assert build_instrument("SUIUSDT", None) is sui


def test_alt_brackets_by_hand() -> None:
    table = BINANCE_USDM.instruments["SUIUSDT"].brackets
    tier = table.bracket_for(Fraction(6_000))
    # second tier: 50x, MMR 1%; cum = 5,000 x (1% - 0.5%) = 25 USDT
    assert (tier.tier, tier.max_leverage, tier.mmr, tier.cum) == (2, 50, Fraction(1, 100), 25)
    assert table.bracket_for(Fraction(4_999)).max_leverage == 75
    assert table.tiers[-1].max_leverage == 1 and table.tiers[-1].mmr == Fraction(1, 2)
