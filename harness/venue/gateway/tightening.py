"""Rate-limit schedules: limits that change at set times and tighten while markets are stressed.

Venues cut API limits exactly when volatility rises; a scenario says how, in two ways that
combine:

- `Step(at_ns, limits)`: from `at_ns` on, these are the base limits (the latest step at or before
  `now` wins; before the first step the schedule's own base applies);
- rules that scale the base by a `factor` (a Fraction, 1/10 is a 10x tightening) while a measure
  is at or above a threshold, and stop when it falls back below it:
  `VolatilityRule`: realized volatility of the marks over the last `window_ns`, measured as the
  square root of the sum of squared simple returns between consecutive marks in `(now - window,
  now]`, compared exactly (sum of squares against threshold squared, in Fractions);
  `QueueDepthRule`: the deepest engine inbound queue as last reported by the gateway.
  Several active rules multiply. A scaled limit is rounded down, and never below 1.

`limits(now)` answers the gateway's question, and when the answer differs from the last one (at
first, from the base) hands a `limits_changed` record to the sink, stamped `now`: the journal is
in time order, so a step is journaled when the first request after it is decided, with
`since_ns` naming the step's time; a caller wanting the record at the step itself calls
`limits(at)` from a timer (a run does). The record also carries the inputs at that moment, the
deepest queue (`queue_depth`) and the highest realized volatility in millionths
(`volatility_e6`), so the journal says why the limits changed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

from harness.journal import LIMITS_CHANGED, Value
from harness.venue.gateway.gateway import RecordSink, ThrottleRecord
from harness.venue.gateway.rate_limits import Limits


@dataclass(frozen=True, slots=True)
class Step:
    at_ns: int
    limits: Limits


def _check_factor(factor: Fraction) -> None:
    if factor <= 0:
        raise ValueError(f"a scaling factor must be > 0, got {factor}")


@dataclass(frozen=True, slots=True)
class VolatilityRule:
    window_ns: int
    threshold: Fraction
    factor: Fraction

    def __post_init__(self) -> None:
        if self.window_ns < 1 or self.threshold <= 0:
            raise ValueError("a volatility rule needs window_ns >= 1 and threshold > 0")
        _check_factor(self.factor)


@dataclass(frozen=True, slots=True)
class QueueDepthRule:
    threshold: int
    factor: Fraction

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("a queue depth rule needs threshold >= 1")
        _check_factor(self.factor)


Rule = VolatilityRule | QueueDepthRule


class _Marks:
    """One symbol's squared returns inside a rule's window, and their running sum."""

    __slots__ = ("last", "squares", "total")

    def __init__(self) -> None:
        self.last: int | None = None
        self.squares: deque[tuple[int, Fraction]] = deque()
        self.total = Fraction(0)

    def prune(self, now: int, window_ns: int) -> None:
        squares, horizon = self.squares, now - window_ns
        while squares and squares[0][0] <= horizon:
            self.total -= squares.popleft()[1]


class TighteningSchedule:
    """The limits in force over time; implements the gateway's `LimitSource`."""

    def __init__(
        self,
        base: Limits,
        steps: Sequence[Step] = (),
        rules: Sequence[Rule] = (),
        record: RecordSink | None = None,
    ) -> None:
        self.base = base
        self.steps = sorted(steps, key=lambda s: s.at_ns)
        self.rules = tuple(rules)
        self._record = record
        self._marks: list[dict[str, _Marks]] = [{} for _ in self.rules]
        self._depths: dict[str, int] = {}
        self._current = base

    def observe_mark(self, symbol: str, price: int, now: int) -> None:
        """A mark price (ticks) of `symbol` at `now`; marks must come in time order."""
        for rule, marks in zip(self.rules, self._marks, strict=True):
            if not isinstance(rule, VolatilityRule):
                continue
            state = marks.get(symbol)
            if state is None:
                state = marks[symbol] = _Marks()
            if state.last is not None:
                ret = Fraction(price - state.last, state.last)
                state.squares.append((now, ret * ret))
                state.total += ret * ret
            state.last = price
            state.prune(now, rule.window_ns)

    def observe_depth(self, symbol: str, depth: int, now: int) -> None:
        self._depths[symbol] = depth

    def limits(self, now: int) -> Limits:
        base, since = self.base, 0
        for step in self.steps:
            if step.at_ns > now:
                break
            base, since = step.limits, step.at_ns
        factor = Fraction(1)
        causes = ["schedule"] if since else []
        for rule, marks in zip(self.rules, self._marks, strict=True):
            if self._active(rule, marks, now):
                factor *= rule.factor
                causes.append("volatility" if isinstance(rule, VolatilityRule) else "queue_depth")
        limits = scaled(base, factor)
        if limits != self._current:
            self._current = limits
            if self._record is not None:
                fields: dict[str, Value] = {
                    "cause": "+".join(causes) or "base",
                    "factor_den": factor.denominator,
                    "factor_num": factor.numerator,
                    "orders_10s": limits.orders_10s,
                    "orders_1m": limits.orders_1m,
                    "queue_depth": max(self._depths.values(), default=0),
                    "since_ns": since,
                    "volatility_e6": self._volatility_e6(),
                    "weight_1m": limits.weight_1m,
                }
                self._record(ThrottleRecord(now, LIMITS_CHANGED, "", "", fields))
        return limits

    def _volatility_e6(self) -> int:
        """The highest realized volatility the rules see, in millionths, rounded down: the
        input the journal shows next to a change (0 without volatility rules)."""
        worst = Fraction(0)
        for marks in self._marks:
            for state in marks.values():
                worst = max(worst, state.total)
        return isqrt(worst.numerator * 10**12 // worst.denominator)

    def _active(self, rule: Rule, marks: dict[str, _Marks], now: int) -> bool:
        if isinstance(rule, QueueDepthRule):
            return max(self._depths.values(), default=0) >= rule.threshold
        bar = rule.threshold * rule.threshold
        active = False
        for state in marks.values():
            state.prune(now, rule.window_ns)
            active = active or state.total >= bar
        return active


def scaled(limits: Limits, factor: Fraction) -> Limits:
    """Each limit times `factor`, rounded down, never below 1."""

    def scale(value: int) -> int:
        return max(1, value * factor.numerator // factor.denominator)

    return Limits(scale(limits.weight_1m), scale(limits.orders_10s), scale(limits.orders_1m))
