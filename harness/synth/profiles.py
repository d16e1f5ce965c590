"""Per-symbol market profiles: price level, book grid and depth, trade sizes and calm volatility.

Figures are round numbers of the right order for each market in October 2025 (docs/synth.md says
where they come from); the grid and sizes are in the instrument's own ticks and lots, so a replay
reads the rows back on the exact grid the venue trades.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from harness.synth.book import BookSpec
from harness.venue.profiles import default_profile


@dataclass(frozen=True)
class Profile:
    symbol: str
    start_price: float
    """Mid at the start of a generated tape, in USDT."""
    grid_ticks: int
    levels: int
    level_lots: float
    trade_lots: float
    trades_per_s: float
    """Calm trade rate."""
    annual_vol: float
    """Calm annualised volatility."""

    def spec(self) -> BookSpec:
        instrument = default_profile().instrument(self.symbol)
        return BookSpec(
            symbol=self.symbol,
            ticks_per_unit=_per_unit(instrument.tick_size),
            lots_per_unit=_per_unit(instrument.lot_size),
            grid_ticks=self.grid_ticks,
            levels=self.levels,
            level_lots=self.level_lots,
            trade_lots=self.trade_lots,
        )


def _per_unit(step: Fraction) -> int:
    per = 1 / step
    if per.denominator != 1:
        raise ValueError(f"step {step} does not divide one unit")
    return per.numerator


PROFILES: dict[str, Profile] = {
    p.symbol: p
    for p in (
        # 5 USDT levels (0.4 bp) over 1.3% a side, 1.5 BTC at the touch: ~1,000 BTC within 1%.
        Profile("BTCUSDT", 117_000.0, 50, 300, 1_500, 20, 40.0, 0.45),
        # 0.2 USDT levels (0.5 bp) over 1.4% a side.
        Profile("ETHUSDT", 4_350.0, 20, 300, 30_000, 300, 30.0, 0.60),
        # 0.0002 USDT levels (0.6 bp) over 1.8% a side, ~3,000 SUI (10k USDT) at the touch.
        Profile("SUIUSDT", 3.40, 2, 300, 30_000, 1_000, 8.0, 0.90),
        # One-tick levels (2.5 bp) over 5% a side, ~2,000 ATOM (8k USDT) at the touch.
        Profile("ATOMUSDT", 4.00, 1, 200, 200_000, 3_000, 4.0, 0.90),
    )
}


def profile(symbol: str) -> Profile:
    try:
        return PROFILES[symbol]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"no synthetic profile for {symbol} (known: {known})") from None
