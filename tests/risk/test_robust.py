"""Robust statistics against hand computations."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.risk.robust import (
    decimal_text,
    ewma,
    hundredths,
    mad,
    median,
    quantile_rank,
    robust_scale,
    robust_z,
)


def test_median_odd_and_even() -> None:
    assert median([1, 3, 10]) == 3
    assert median([1, 3, 10, 20]) == Fraction(13, 2)
    with pytest.raises(ValueError):
        median([])


def test_mad_around_whole_and_half_centers() -> None:
    # 10, 12, 11, 13, 10: median 11, deviations 1, 1, 0, 2, 1 -> MAD 1.
    assert mad([10, 12, 11, 13, 10], Fraction(11)) == 1
    # 1, 2, 4, 7 around 3: deviations 2, 1, 1, 4 -> (1 + 2) / 2.
    assert mad([1, 2, 4, 7], Fraction(3)) == Fraction(3, 2)
    # Around a half: 1, 2, 4, 7 around 5/2 -> deviations 3/2, 1/2, 3/2, 9/2 -> 3/2.
    assert mad([1, 2, 4, 7], Fraction(5, 2)) == Fraction(3, 2)


def test_scale_never_below_its_floors() -> None:
    assert robust_scale(Fraction(10), Fraction(100), 5, Fraction(1, 4)) == Fraction(25)
    assert robust_scale(Fraction(100), Fraction(100), 5, Fraction(1, 4)) == Fraction(14826, 100)
    assert robust_scale(Fraction(0), Fraction(0), 0, Fraction(0)) == 1
    assert robust_z(30, Fraction(11), Fraction(5)) == Fraction(19, 5)


def test_integer_ewma_floors_toward_minus_infinity() -> None:
    assert ewma(None, 7, 3) == 7
    assert ewma(10, 30, 3) == 12  # 10 + 20 // 8
    assert ewma(10, 0, 3) == 8  # 10 + (-10 // 8) = 10 - 2


def test_quantile_rank_counts_ties_half() -> None:
    assert quantile_rank(5, [1, 5, 5, 9]) == Fraction(1, 2)
    assert quantile_rank(10, [1, 5, 5, 9]) == 1
    assert quantile_rank(0, [1, 5]) == 0


def test_fixed_point_text() -> None:
    assert decimal_text(1, 3) == "0.33"
    assert decimal_text(2, 3) == "0.67"
    assert decimal_text(-5, 2, 0) == "-3"
    assert decimal_text(125, 100, 1) == "1.3"
    assert hundredths(Fraction(-19, 5)) == -380
    assert hundredths(Fraction(2, 3)) == 66
