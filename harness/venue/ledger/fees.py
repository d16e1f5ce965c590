"""Trading fees: a maker/taker schedule by account tier, and the fee on one fill in fixed point.

Rates are integers in parts per 1e8 (`RATE_SCALE`), the resolution venues publish them at; a
negative maker rate is a rebate. Amounts are integer units of 1e-8 USDT.

Rounding: the fee is the exact notional x rate rounded up (towards +infinity). A charge therefore
rounds against the account and a rebate (negative fee) rounds towards zero, so the account never
receives more rebate than the exact amount. Whatever is charged goes to the venue's fee pool, so
rounding creates or destroys nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

RATE_SCALE = 10**8
"""Rates stored as integers count parts per 1e8 (0.02% is 20_000)."""


def rate_e8(rate: Fraction) -> int:
    """A rate in parts per 1e8; refused when the rate is finer than that, instead of guessing."""
    scaled = rate * RATE_SCALE
    if scaled.denominator != 1:
        raise ValueError(f"rate {rate} is not a whole number of 1e-8")
    return scaled.numerator


def fee_units(notional_units: int, rate: int) -> int:
    """Fee (positive: paid, negative: rebate) on a fill of `notional_units`, rounded up."""
    if notional_units < 0:
        raise ValueError("notional must not be negative")
    return -((-notional_units * rate) // RATE_SCALE)


@dataclass(frozen=True)
class FeeTier:
    maker: int
    """Parts per 1e8 of maker notional; negative means a rebate."""
    taker: int

    def __post_init__(self) -> None:
        if self.taker < 0:
            raise ValueError("a negative taker fee would pay for taking liquidity")
        if self.maker + self.taker < 0:
            raise ValueError("maker rebate larger than the taker fee lets a self-cross mint money")

    def rate(self, is_maker: bool) -> int:
        return self.maker if is_maker else self.taker


@dataclass(frozen=True)
class FeeSchedule:
    """Fee tiers by name; accounts name their tier, unknown names are an error, not a default."""

    name: str
    tiers: Mapping[str, FeeTier] = field(default_factory=dict)

    def tier(self, name: str) -> FeeTier:
        try:
            return self.tiers[name]
        except KeyError:
            known = ", ".join(self.tiers)
            raise KeyError(f"fee tier {name!r} not in schedule {self.name!r} ({known})") from None

    def rate(self, tier: str, is_maker: bool) -> int:
        return self.tier(tier).rate(is_maker)

    def fee(self, tier: str, is_maker: bool, notional_units: int) -> int:
        return fee_units(notional_units, self.rate(tier, is_maker))


def _bp(maker: str, taker: str) -> FeeTier:
    """A tier from percentages as the venue prints them ("0.0200" means 0.0200%)."""
    return FeeTier(
        maker=rate_e8(Fraction(maker) / 100),
        taker=rate_e8(Fraction(taker) / 100),
    )


BINANCE_USDM_FEES = FeeSchedule(
    name="binance-usdm",
    tiers={
        # Regular and VIP rates of the USD-M schedule without the BNB discount; a setting.
        "regular": _bp("0.0200", "0.0500"),
        "vip1": _bp("0.0160", "0.0400"),
        "vip2": _bp("0.0140", "0.0350"),
        "vip3": _bp("0.0120", "0.0320"),
        "vip4": _bp("0.0100", "0.0300"),
        "vip5": _bp("0.0080", "0.0270"),
        "vip6": _bp("0.0060", "0.0250"),
        "vip7": _bp("0.0040", "0.0220"),
        "vip8": _bp("0.0020", "0.0200"),
        "vip9": _bp("0.0000", "0.0170"),
        # Market-maker programme: maker rebates of 0.001% to 0.005% (MECHANICS section 8);
        # the taker side is illustrative (the top VIP taker rate).
        "mm1": _bp("-0.0010", "0.0170"),
        "mm2": _bp("-0.0030", "0.0170"),
        "mm3": _bp("-0.0050", "0.0170"),
    },
)
