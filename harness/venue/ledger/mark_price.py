"""Mark price methods behind one `Protocol`, registered by name in `MARK_METHODS`.

Built in: `binance`, `recorded` and `mid`. Binance (MECHANICS.md section 3): mark =
median(P1, P2, last) where P1 = index * (1 + funding rate * time to next funding / funding
interval) and P2 = index + the moving average of (mid - index) over the last samples (one a
second, 30 on Binance: the profile's `mark_premium_samples`). Everything is in integer ticks; the
fractions in between are exact and the result is rounded half up to a whole tick, so the mark is
reproducible and comparable with trigger prices in ticks.

A user adds a method without editing the venue: a class with `mark(sample)` and a constructor
taking `MarkSettings`, registered with `@MARK_METHODS.register("name")` (docs/profiles.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Protocol

from harness.registry import Registry
from harness.units import Ticks

MarkMethod = Literal["binance", "recorded", "mid"]
"""The built-in names, for the venue settings' annotation; any name in `MARK_METHODS` works."""


@dataclass(frozen=True, slots=True)
class MarkSettings:
    """What a method may need to know about its symbol, fixed for the run."""

    funding_interval_ns: int
    premium_samples: int
    """How many samples the basis moving average spans (`binance`)."""


@dataclass(frozen=True, slots=True)
class MarkSample:
    """The market as the venue sees it at one sampling instant, in ticks.

    `mid2` is bid + ask (twice the mid, so a half-tick mid stays exact), None without a two-sided
    book; `index` None means the scenario has no index source and the mid stands in for it."""

    now_ns: int
    mid2: int | None
    last: int | None
    index: Fraction | None
    recorded: int | None
    funding_rate: Fraction
    next_funding_ns: int | None


class MarkPriceMethod(Protocol):
    """One way of making a symbol's mark out of a sample; it may keep state between samples."""

    def mark(self, sample: MarkSample) -> int | None:
        """The mark in ticks, or None to keep the previous mark (no data for a new one)."""
        ...


MARK_METHODS: Registry[Callable[[MarkSettings], MarkPriceMethod]] = Registry("mark method")


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


@MARK_METHODS.register("binance")
class BinanceMark:
    """median(P1, P2, last), with P2's basis averaged over the last `premium_samples` samples."""

    __slots__ = ("_basis", "_basis_sum", "interval_ns", "window")

    def __init__(self, settings: MarkSettings) -> None:
        self.interval_ns = settings.funding_interval_ns
        self.window = settings.premium_samples
        self._basis: deque[Fraction] = deque()
        self._basis_sum = Fraction(0)

    def mark(self, sample: MarkSample) -> int | None:
        if sample.mid2 is None:
            return None
        mid = Fraction(sample.mid2, 2)
        idx = mid if sample.index is None else sample.index
        basis = mid - idx
        self._basis.append(basis)
        self._basis_sum += basis
        if len(self._basis) > self.window:
            self._basis_sum -= self._basis.popleft()
        p2 = idx + self._basis_sum / len(self._basis)
        to_next = 0 if sample.next_funding_ns is None else sample.next_funding_ns - sample.now_ns
        p1 = funding_basis_price(idx, sample.funding_rate, to_next, self.interval_ns)
        last_price = Fraction(sample.last) if sample.last is not None else mid
        return round_half_up(median3(p1, p2, last_price))


@MARK_METHODS.register("recorded")
class RecordedMark:
    """The venue's recorded mark prices, as the store holds them."""

    def __init__(self, settings: MarkSettings) -> None:
        del settings  # the recorded mark needs nothing about the symbol

    def mark(self, sample: MarkSample) -> int | None:
        return sample.recorded


@MARK_METHODS.register("mid")
class MidMark:
    """The book's mid, rounded half up to a tick."""

    def __init__(self, settings: MarkSettings) -> None:
        del settings

    def mark(self, sample: MarkSample) -> int | None:
        return None if sample.mid2 is None else round_half_up(Fraction(sample.mid2, 2))


class MarkPrice:
    """One symbol's mark, fed one sample a second by the venue; keeps the last mark when the
    method has none."""

    __slots__ = ("last_mark", "method")

    def __init__(self, method: str, funding_interval_ns: int, premium_samples: int = 30) -> None:
        """`premium_samples` defaults to Binance's 30 until the venue passes its profile's."""
        try:
            factory = MARK_METHODS.get(method)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        self.method: MarkPriceMethod = factory(MarkSettings(funding_interval_ns, premium_samples))
        self.last_mark: Ticks | None = None

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
        """Update and return the mark in ticks (None until there is enough data)."""
        sample = MarkSample(now_ns, mid2, last, index, recorded, funding_rate, next_funding_ns)
        mark = self.method.mark(sample)
        if mark is not None:
            self.last_mark = Ticks(mark)
        return self.last_mark
