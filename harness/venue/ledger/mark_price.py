"""Mark price methods: Binance's median of three, the recorded mark, or the mid.

Binance (MECHANICS.md section 3): mark = median(P1, P2, last) where
P1 = index * (1 + funding rate * time to next funding / funding interval) and
P2 = index + the moving average of (mid - index) sampled once a second over the last 30 samples.
Everything is in integer ticks; the fractions in between are exact and the result is rounded half
up to a whole tick, so the mark is reproducible and comparable with trigger prices in ticks.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import Final, Literal

MarkMethod = Literal["binance", "recorded", "mid"]
MARK_METHODS: Final = ("binance", "recorded", "mid")
PREMIUM_SAMPLES: Final = 30


def round_half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def median3(a: Fraction, b: Fraction, c: Fraction) -> Fraction:
    return max(min(a, b), min(max(a, b), c))


def funding_basis_price(
    index: Fraction, funding_rate: Fraction, to_next_funding_ns: int, interval_ns: int
) -> Fraction:
    """P1: the index carried by the share of the funding rate still to accrue."""
    remaining = Fraction(max(0, min(to_next_funding_ns, interval_ns)), interval_ns)
    return index * (1 + funding_rate * remaining)


class MarkPrice:
    """One symbol's mark, fed one sample a second by the venue."""

    __slots__ = ("_basis", "_basis_sum", "interval_ns", "last_mark", "method")

    def __init__(self, method: MarkMethod, funding_interval_ns: int) -> None:
        if method not in MARK_METHODS:
            raise ValueError(f"unknown mark method {method!r}; known: {', '.join(MARK_METHODS)}")
        self.method = method
        self.interval_ns = funding_interval_ns
        self._basis: deque[Fraction] = deque()
        self._basis_sum = Fraction(0)
        self.last_mark: int | None = None

    def sample(
        self,
        *,
        now_ns: int,
        mid2: int | None,
        last: int | None,
        index: Fraction | None = None,
        recorded: int | None = None,
        funding_rate: Fraction = Fraction(0),
        next_funding_ns: int | None = None,
    ) -> int | None:
        """Update and return the mark in ticks (None until there is enough data).

        `mid2` is bid + ask in ticks (twice the mid, so a half-tick mid stays exact); `index`
        defaults to the mid when the scenario has no index source (the documented proxy).
        """
        mark: int | None
        if self.method == "recorded":
            mark = recorded if recorded is not None else self.last_mark
        elif mid2 is None:
            mark = self.last_mark
        elif self.method == "mid":
            mark = round_half_up(Fraction(mid2, 2))
        else:
            mid = Fraction(mid2, 2)
            mark = self._binance(now_ns, mid, last, index, funding_rate, next_funding_ns)
        self.last_mark = mark
        return mark

    def _binance(
        self,
        now_ns: int,
        mid: Fraction,
        last: int | None,
        index: Fraction | None,
        funding_rate: Fraction,
        next_funding_ns: int | None,
    ) -> int:
        idx = mid if index is None else index
        basis = mid - idx
        self._basis.append(basis)
        self._basis_sum += basis
        if len(self._basis) > PREMIUM_SAMPLES:
            self._basis_sum -= self._basis.popleft()
        p2 = idx + self._basis_sum / len(self._basis)
        to_next = (next_funding_ns - now_ns) if next_funding_ns is not None else 0
        p1 = funding_basis_price(idx, funding_rate, to_next, self.interval_ns)
        last_price = Fraction(last) if last is not None else mid
        return round_half_up(median3(p1, p2, last_price))
