"""Mark price methods against hand-computed values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.venue.ledger.mark_price import MarkPrice, funding_basis_price, median3, round_half_up

HOUR = 3_600_000_000_000


def test_median_of_three_and_rounding() -> None:
    assert median3(Fraction(3), Fraction(1), Fraction(2)) == 2
    assert median3(Fraction(5), Fraction(5), Fraction(1)) == 5
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(7, 3)) == 2
    assert round_half_up(Fraction(-5, 2)) == -2


def test_p1_carries_the_remaining_share_of_funding() -> None:
    # index 600,000 ticks, rate 0.01%, 4 h of an 8 h interval left: 600,000 * (1 + 0.0001 / 2).
    p1 = funding_basis_price(Fraction(600_000), Fraction(1, 10_000), 4 * HOUR, 8 * HOUR)
    assert p1 == 600_030


def test_binance_mark_is_median_of_p1_p2_last_with_30_sample_basis_average() -> None:
    mark = MarkPrice("binance", 8 * HOUR)
    index = Fraction(600_000)
    # Mid sits 10 ticks over the index for 30 s, then 40 ticks over: the average basis moves slowly.
    for second in range(30):
        out = mark.sample(now_ns=second, mid2=2 * 600_010, last=600_100, index=index)
        assert out == 600_010  # P1 = 600,000, P2 = 600,010, last = 600,100
    out = mark.sample(now_ns=30, mid2=2 * 600_040, last=600_100, index=index)
    # P2 = 600,000 + (29 * 10 + 40) / 30 = 600,011; median(600,000, 600,011, 600,100).
    assert out == 600_011


def test_mid_and_recorded_methods() -> None:
    mid = MarkPrice("mid", 8 * HOUR)
    assert mid.sample(now_ns=0, mid2=1_236_007, last=None) == 618_004  # 618,003.5 rounds up
    assert mid.sample(now_ns=1, mid2=None, last=None) == 618_004  # no book: keep the last mark
    recorded = MarkPrice("recorded", 8 * HOUR)
    assert recorded.sample(now_ns=0, mid2=2, last=1, recorded=None) is None
    assert recorded.sample(now_ns=1, mid2=2, last=1, recorded=617_990) == 617_990


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mark method 'vwap'"):
        MarkPrice("vwap", HOUR)  # type: ignore[arg-type]
