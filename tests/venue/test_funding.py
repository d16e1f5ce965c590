"""Funding rate against MECHANICS.md section 4, impact prices, and payment rounding."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from harness.venue.ledger.funding import (
    average_premium,
    funding_payment_units,
    funding_rate,
    impact_price,
    premium_index,
    rate_e8_toward_zero,
)
from harness.venue.ledger.instruments import exact
from harness.venue.profiles.binance_usdm import BINANCE_USDM

F = Fraction
FUNDING = BINANCE_USDM.funding
BASE = {"interest": FUNDING.interest, "clamp_band": FUNDING.clamp}
"""The profile's interest and clamp: MECHANICS 4's worked examples use them."""


@pytest.mark.parametrize(
    ("premium", "rate"),
    [("-0.10%", "-0.05%"), ("-0.02%", "0.01%"), ("0.03%", "0.01%"), ("0.10%", "0.05%")],
)
def test_mechanics_examples(premium: str, rate: str) -> None:
    assert funding_rate(exact(premium), **BASE) == exact(rate)


def test_rate_equals_interest_inside_the_band() -> None:
    for bp in range(-4, 7):
        assert funding_rate(F(bp, 10_000), **BASE) == F(1, 10_000)
    assert funding_rate(F(7, 10_000), **BASE) == F(2, 10_000)


def test_interval_scaling_then_cap() -> None:
    assert funding_rate(exact("0.10%"), **BASE, interval_hours=4) == exact("0.025%")
    assert funding_rate(exact("0.10%"), **BASE, interval_hours=1) == exact("0.00625%")
    bounds = {"cap": exact("0.3%"), "floor": exact("-0.3%")}
    assert funding_rate(exact("3%"), **BASE, **bounds) == exact("0.3%")
    assert funding_rate(exact("-3%"), **BASE, **bounds) == exact("-0.3%")
    params = replace(FUNDING, interval_hours=4, cap=exact("0.02%"))
    assert params.rate(exact("0.10%")) == exact("0.02%")


def test_impact_price_walks_the_book() -> None:
    # 200 USDT: all of 1 @ 100, then 100 USDT of the 101 level (100/101 units).
    levels = [(F(100), F(1)), (F(101), F(2)), (F(102), F(5))]
    assert impact_price(levels, F(200)) == F(200) / (1 + F(100, 101))
    assert impact_price(levels, F(100)) == 100
    assert impact_price(levels, F(10_000)) is None


def test_premium_index() -> None:
    assert premium_index(F(101), F(102), F(100)) == F(1, 100)
    assert premium_index(F(98), F(99), F(100)) == F(-1, 100)
    assert premium_index(F(99), F(101), F(100)) == 0


def test_average_premium_weights_late_samples() -> None:
    assert average_premium([F(1), F(4)]) == F(1 + 8, 3)
    assert average_premium([F(1), F(4)], time_weighted=False) == F(5, 2)


def test_published_rate_truncates_toward_zero() -> None:
    assert rate_e8_toward_zero(exact("0.01%")) == 10_000
    assert rate_e8_toward_zero(F(1, 3 * 10**7)) == 3
    assert rate_e8_toward_zero(F(-1, 3 * 10**7)) == -3


def test_payment_direction_and_rounding() -> None:
    value = 60_000 * 10**8  # 1 BTC long at 60,000
    assert funding_payment_units(value, 10_000) == 6 * 10**8  # long pays 6 USDT at 0.01%
    assert funding_payment_units(-value, 10_000) == -6 * 10**8  # short receives 6
    assert funding_payment_units(value, -10_000) == -6 * 10**8  # negative rate: long receives
    # 3 units x 0.5e-8... rounds up for the payer and towards zero for the receiver.
    assert funding_payment_units(3, 50_000_000) == 2
    assert funding_payment_units(-3, 50_000_000) == -1
