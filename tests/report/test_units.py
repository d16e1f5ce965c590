"""Exact formatting of ticks and quote units for the pages and the console."""

from __future__ import annotations

from fractions import Fraction

from harness.report.units import decimal_text, price, price_places, usdt


def test_money_is_shown_in_usdt_rounded_half_away_from_zero() -> None:
    assert usdt(123_456_789) == "1.23"
    assert usdt(100_000_000_000_000) == "1,000,000.00"
    assert usdt(-4_225_000_000) == "-42.25"
    assert usdt(500_000) == "0.01"  # 0.005 rounds up
    assert usdt(-400_000) == "0.00"  # no "-0.00"
    assert usdt(1_854_234_000, 4) == "18.5423"


def test_prices_keep_the_tick_decimals() -> None:
    assert price(617_001, Fraction(1, 10)) == "61,700.1"
    assert price(617_000, Fraction(1, 10)) == "61,700.0"
    assert price(12_345, Fraction(1, 10_000)) == "1.2345"
    assert price_places(Fraction(5, 10)) == 1
    assert price_places(Fraction(1)) == 0
    assert decimal_text(Fraction(1, 3), 3, grouped=False) == "0.333"
