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

from harness.units import RATE_SCALE, Money, RateE8


def rate_e8(rate: Fraction) -> RateE8:
    """A rate in parts per 1e8; refused when the rate is finer than that, instead of guessing."""
    scaled = rate * RATE_SCALE
    if scaled.denominator != 1:
        raise ValueError(f"rate {rate} is not a whole number of 1e-8")
    return RateE8(scaled.numerator)


def fee_units(notional_units: int, rate: int) -> Money:
    """Fee (positive: paid, negative: rebate) on a fill of `notional_units`, rounded up."""
    if notional_units < 0:
        raise ValueError("notional must not be negative")
    return Money(-((-notional_units * rate) // RATE_SCALE))


@dataclass(frozen=True)
class FeeTier:
    maker: RateE8
    """Parts per 1e8 of maker notional; negative means a rebate."""
    taker: RateE8

    def __post_init__(self) -> None:
        if self.taker < 0:
            raise ValueError("a negative taker fee would pay for taking liquidity")
        if self.maker + self.taker < 0:
            raise ValueError("maker rebate larger than the taker fee lets a self-cross mint money")

    def rate(self, is_maker: bool) -> RateE8:
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

    def rate(self, tier: str, is_maker: bool) -> RateE8:
        return self.tier(tier).rate(is_maker)

    def fee(self, tier: str, is_maker: bool, notional_units: int) -> Money:
        return fee_units(notional_units, self.rate(tier, is_maker))


def tier_from_percent(maker: str, taker: str) -> FeeTier:
    """A tier from percentages as venues print them ("0.0200" means 0.0200%)."""
    return FeeTier(
        maker=rate_e8(Fraction(maker) / 100),
        taker=rate_e8(Fraction(taker) / 100),
    )
