"""Funding (MECHANICS section 4) as pure functions over exact fractions.

Prices and rates are `Fraction`s here so that the formulas read like the venue's documentation;
the venue stores a published rate as an integer in parts per 1e8 (`rate_e8_toward_zero`) and
settles payments in integer units of 1e-8 USDT.

Rounding, each with its direction:
- A computed rate is published at 1e-8 resolution by truncating towards zero, so rounding never
  raises what either side pays.
- A payment is the exact notional x rate rounded up (towards +infinity) in "amount paid" terms:
  a payer pays the ceiling, a receiver receives the floor of its exact amount. Open interest
  nets to zero, so the payments sum to a small non-negative remainder that the ledger credits to
  the fee pool; nothing is created or destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from harness.units import RATE_SCALE, Money, RateE8

BASE_INTERVAL_HOURS = 8
"""The formula's rate is per 8 hours; shorter intervals get their share of it."""


def impact_price(
    levels: Iterable[tuple[Fraction | int, Fraction | int]], notional: Fraction
) -> Fraction | None:
    """Average fill price of an order of `notional` quote walked through `levels` (best first).

    That average is the notional divided by the base quantity it buys, the last level partly
    taken. None when the side holds less than `notional`: the venue then has no impact price.
    """
    if notional <= 0:
        raise ValueError("impact notional must be positive")
    remaining = Fraction(notional)
    filled_qty = Fraction(0)
    for raw_price, raw_qty in levels:
        price, qty = Fraction(raw_price), Fraction(raw_qty)
        if price <= 0 or qty <= 0:
            raise ValueError(f"bad level {raw_price} x {raw_qty}")
        level_notional = price * qty
        if level_notional >= remaining:
            filled_qty += remaining / price
            return notional / filled_qty
        remaining -= level_notional
        filled_qty += qty
    return None


def premium_index(impact_bid: Fraction, impact_ask: Fraction, index: Fraction) -> Fraction:
    """[max(0, impact bid - index) - max(0, index - impact ask)] / index."""
    if index <= 0:
        raise ValueError("index price must be positive")
    return (max(Fraction(0), impact_bid - index) - max(Fraction(0), index - impact_ask)) / index


def average_premium(samples: Sequence[Fraction], *, time_weighted: bool = True) -> Fraction:
    """Average of the interval's premium samples, oldest first.

    Binance weights sample i (1-based) by i, so late samples count most; `time_weighted=False`
    gives the plain mean some other venues use.
    """
    if not samples:
        raise ValueError("no premium samples")
    if not time_weighted:
        return sum(samples, Fraction(0)) / len(samples)
    n = len(samples)
    weighted = sum((i * p for i, p in enumerate(samples, start=1)), Fraction(0))
    return weighted / (n * (n + 1) // 2)


def clamp(value: Fraction, low: Fraction, high: Fraction) -> Fraction:
    return max(low, min(high, value))


@dataclass(frozen=True)
class FundingParams:
    """A symbol's funding settings; cap and floor None mean unbounded.

    A venue's values live in its profile (`profiles/binance_usdm.py`), not here."""

    interval_hours: int
    interest: Fraction
    """Interest rate per 8 hours."""
    clamp: Fraction
    """The band around the interest rate that pulls the rate to it."""
    impact_margin: Fraction
    """Impact notional is this many USDT times the symbol's maximum leverage."""
    cap: Fraction | None = None
    floor: Fraction | None = None

    def __post_init__(self) -> None:
        if not 0 < self.interval_hours <= BASE_INTERVAL_HOURS:
            raise ValueError("funding interval must be 1 to 8 hours")
        if self.clamp < 0:
            raise ValueError("clamp band must not be negative")
        if self.cap is not None and self.floor is not None and self.floor > self.cap:
            raise ValueError("funding floor above cap")

    def rate(self, avg_premium: Fraction) -> Fraction:
        return funding_rate(
            avg_premium,
            interest=self.interest,
            clamp_band=self.clamp,
            interval_hours=self.interval_hours,
            cap=self.cap,
            floor=self.floor,
        )


def funding_rate(
    avg_premium: Fraction,
    *,
    interest: Fraction,
    clamp_band: Fraction,
    interval_hours: int = BASE_INTERVAL_HOURS,
    cap: Fraction | None = None,
    floor: Fraction | None = None,
) -> Fraction:
    """F = P + clamp(I - P, -band, +band), scaled to the interval, then bounded by cap/floor.

    The 8-hour rate is divided by 8 / interval for shorter intervals (the venue's 2025 form);
    cap and floor apply last because they are per-interval limits.
    """
    rate = avg_premium + clamp(interest - avg_premium, -clamp_band, clamp_band)
    rate = rate * interval_hours / BASE_INTERVAL_HOURS
    if cap is not None:
        rate = min(rate, cap)
    if floor is not None:
        rate = max(rate, floor)
    return rate


def rate_e8_toward_zero(rate: Fraction) -> RateE8:
    """The rate at the venue's 1e-8 resolution, truncated so no payment grows by rounding."""
    return RateE8(int(rate * RATE_SCALE))


def funding_payment_units(position_value_units: int, rate: int) -> Money:
    """What a position pays (positive) or receives (negative) at a funding time.

    `position_value_units` is signed quantity x mark in 1e-8 USDT (negative for shorts) and
    `rate` is in parts per 1e8, so F > 0 makes longs pay. Rounded up: against the payer, and
    towards zero for the receiver.
    """
    return Money(-((-position_value_units * rate) // RATE_SCALE))
