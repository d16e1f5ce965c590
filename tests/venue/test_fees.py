"""Fee schedule lookups and fee rounding (charges up, rebates towards zero)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.venue.ledger.fees import FeeTier, fee_units, rate_e8
from harness.venue.profiles.binance_usdm import FEES as BINANCE_USDM_FEES

USDT = 10**8


def test_regular_rates_on_a_fill() -> None:
    notional = 60_000 * USDT
    assert BINANCE_USDM_FEES.fee("regular", False, notional) == 30 * USDT  # 0.05%
    assert BINANCE_USDM_FEES.fee("regular", True, notional) == 12 * USDT  # 0.02%


def test_rebate_is_negative_and_rounds_towards_zero() -> None:
    assert BINANCE_USDM_FEES.rate("mm3", True) == -5_000  # -0.005%
    assert BINANCE_USDM_FEES.fee("mm3", True, 60_000 * USDT) == -3 * USDT
    assert fee_units(1, -5_000) == 0  # exact -0.00005 units: no rebate rather than one unit
    assert fee_units(1, 5_000) == 1  # a charge of a fraction of a unit is one unit


def test_rate_e8_refuses_finer_rates() -> None:
    assert rate_e8(Fraction(2, 10_000)) == 20_000
    with pytest.raises(ValueError):
        rate_e8(Fraction(1, 3))


def test_unknown_tier_and_bad_tiers() -> None:
    with pytest.raises(KeyError, match="vip99"):
        BINANCE_USDM_FEES.tier("vip99")
    with pytest.raises(ValueError, match="self-cross"):
        FeeTier(maker=-20_000, taker=10_000)
    with pytest.raises(ValueError):
        FeeTier(maker=0, taker=-1)
