"""Robust statistics in exact arithmetic: median, MAD, robust z-score, EWMA, quantile rank.

Feature values are integers; results are Fractions or integers, never floats, so a score is the
same bit for bit on every machine. The MAD is scaled by 1.4826 so that, for normal data, the
robust z reads like a classic z-score.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

MAD_TO_SIGMA = Fraction(14826, 10000)


def median(ordered: Sequence[int]) -> Fraction:
    """Median of an ascending sequence (the mean of the two middle values when even)."""
    n = len(ordered)
    if n == 0:
        raise ValueError("median of no values")
    middle = n // 2
    if n % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def mad(values: Sequence[int], center: Fraction) -> Fraction:
    """Median absolute deviation from `center`, in integers scaled by the center's denominator
    (a median is whole or a half), which is many times faster than sorting Fractions."""
    if not values:
        raise ValueError("MAD of no values")
    d, n = center.denominator, center.numerator
    deviations = sorted(abs(value * d - n) for value in values)
    return median(deviations) / d


def robust_scale(
    spread: Fraction, center: Fraction, floor: int, relative_floor: Fraction
) -> Fraction:
    """1.4826 x MAD, but never below an absolute floor or a share of the baseline's size: a
    series that never moves (MAD 0) must not make its first small move an infinite outlier."""
    return max(MAD_TO_SIGMA * spread, Fraction(floor), relative_floor * abs(center), Fraction(1))


def robust_z(value: int | Fraction, center: Fraction, scale: Fraction) -> Fraction:
    return (value - center) / scale


def ewma(previous: int | None, value: int, shift: int) -> int:
    """Integer EWMA with weight 1/2^shift on the new value, rounded toward minus infinity.

    A Fraction EWMA would grow its denominator by 2^shift each step; integers stay small."""
    if previous is None:
        return value
    return previous + ((value - previous) >> shift)


def quantile_rank(value: int | Fraction, population: Sequence[int | Fraction]) -> Fraction:
    """Share of `population` below `value`, ties counting half (the mid-rank definition)."""
    if not population:
        raise ValueError("quantile rank in an empty population")
    below = sum(1 for other in population if other < value)
    equal = sum(1 for other in population if other == value)
    return Fraction(2 * below + equal, 2 * len(population))


def hundredths(value: Fraction) -> int:
    """A score as an integer number of hundredths, rounded toward zero (journal-ready)."""
    scaled = value * 100
    return int(scaled)  # int() of a Fraction truncates toward zero


def decimal_text(numerator: int, scale: int, places: int = 2) -> str:
    """`numerator / scale` as a fixed-point decimal string, rounded half away from zero."""
    sign = "-" if numerator * scale < 0 else ""
    quantum = 10**places
    n, d = abs(numerator) * quantum, abs(scale)
    whole = (2 * n + d) // (2 * d)
    integer, fraction = divmod(whole, quantum)
    return f"{sign}{integer}.{fraction:0{places}d}" if places else f"{sign}{integer}"
