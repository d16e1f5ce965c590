"""Network links between agents and the venue, with seeded latency models.

Each agent has three one-way links: market data down, orders up, responses down. A link delays
every message by a sampled latency but never lets a message overtake an earlier one on the same
link: like a TCP stream, delivery time is max(send time + sampled delay, previous delivery time).

A message in flight is one SimPy Timeout carrying the message as its value, with the delivery as
its callback: no process per link and no queue, so a message costs one event. Messages due at the
same nanosecond are delivered in send order, because SimPy breaks ties by scheduling order.

Model parameters that are not times (sigma, quantile levels) are floats read from the scenario;
the only float arithmetic on the sampling path is `math.exp` and the quantile interpolation, done
one value at a time in Python so the result does not depend on NumPy's SIMD code paths. Delays
are rounded to whole ns.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import simpy

from harness.sim.clock import SimEnv

MARKET_DATA = "market_data"
ORDERS = "orders"
RESPONSES = "responses"
DIRECTIONS = (MARKET_DATA, ORDERS, RESPONSES)

T = TypeVar("T")

Sampler = Callable[[int], int]
"""Delay in ns for a message sent at the given time."""

_BLOCK = 1024
"""Random numbers drawn per NumPy call: one call per sample would cost more than the sampling."""


def _draws(draw: Callable[[int], np.ndarray[Any, np.dtype[np.float64]]]) -> Iterator[float]:
    while True:
        yield from draw(_BLOCK).tolist()


@dataclass(frozen=True)
class Constant:
    ns: int

    def __post_init__(self) -> None:
        if self.ns < 0:
            raise ValueError(f"latency must be >= 0 ns, got {self.ns}")

    def sampler(self, rng: np.random.Generator) -> Sampler:
        ns = self.ns
        return lambda _now: ns


@dataclass(frozen=True)
class LogNormal:
    """median_ns x exp(sigma x Z), Z standard normal: the usual shape of network delay, with a
    long right tail that grows with sigma."""

    median_ns: int
    sigma: float

    def __post_init__(self) -> None:
        if self.median_ns < 0:
            raise ValueError(f"median must be >= 0 ns, got {self.median_ns}")
        if not 0 <= self.sigma < math.inf:
            raise ValueError(f"sigma must be finite and >= 0, got {self.sigma}")

    def sampler(self, rng: np.random.Generator) -> Sampler:
        median, sigma, exp = self.median_ns, self.sigma, math.exp
        normals = _draws(rng.standard_normal)
        return lambda _now: round(median * exp(sigma * next(normals)))


@dataclass(frozen=True)
class Quantiles:
    """An empirical distribution given by quantile points: `ns[i]` is the `q[i]` quantile, and
    values between points are linearly interpolated (inverse-CDF sampling)."""

    ns: tuple[int, ...]
    q: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.ns) < 2 or len(self.ns) != len(self.q):
            raise ValueError("quantiles need at least two points and as many levels as values")
        if self.q[0] != 0 or self.q[-1] != 1:
            raise ValueError("quantile levels must start at 0 and end at 1")
        if any(b <= a for a, b in pairwise(self.q)):
            raise ValueError("quantile levels must be strictly increasing")
        if self.ns[0] < 0 or any(b < a for a, b in pairwise(self.ns)):
            raise ValueError("quantile values must be >= 0 and non-decreasing")

    def sampler(self, rng: np.random.Generator) -> Sampler:
        values, levels = self.ns, self.q
        uniforms = _draws(rng.random)

        def sample(_now: int) -> int:
            u = next(uniforms)
            i = bisect_right(levels, u) - 1
            lo, hi = values[i], values[i + 1]
            return round(lo + (hi - lo) * (u - levels[i]) / (levels[i + 1] - levels[i]))

        return sample


@dataclass(frozen=True)
class Window:
    """During [start_ns, end_ns) of send time, delay becomes floor(delay x multiply) + add_ns."""

    start_ns: int
    end_ns: int
    add_ns: int = 0
    multiply: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ValueError(f"window ends at {self.end_ns}, not after its start {self.start_ns}")
        if self.add_ns < 0 or self.multiply < 0:
            raise ValueError("a window's add and multiply must be >= 0")


BaseModel = Constant | LogNormal | Quantiles


@dataclass(frozen=True)
class Scheduled:
    """A base model whose delays rise (or fall) inside time windows, such as an incident during
    which a venue's API slowed down. Overlapping windows apply in the order given."""

    base: BaseModel
    windows: tuple[Window, ...]

    def sampler(self, rng: np.random.Generator) -> Sampler:
        base = self.base.sampler(rng)
        windows = tuple((w.start_ns, w.end_ns, w.add_ns, w.multiply) for w in self.windows)

        def sample(now: int) -> int:
            delay = base(now)
            for start, end, add, factor in windows:
                if start <= now < end:
                    delay = delay * factor.numerator // factor.denominator + add
            return delay

        return sample


@dataclass(frozen=True)
class Loss:
    """During [start_ns, end_ns) of send time, a `share` of the messages is lost on the wire and
    sent again `retransmit_ns` later (a retransmit timeout); the link keeps them in order, so the
    messages behind a lost one wait for it, as on a TCP stream."""

    start_ns: int
    end_ns: int
    share: Fraction
    retransmit_ns: int

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ValueError(f"loss ends at {self.end_ns}, not after its start {self.start_ns}")
        if not 0 <= self.share <= 1 or self.retransmit_ns < 1:
            raise ValueError("a loss needs 0 <= share <= 1 and retransmit_ns >= 1")


@dataclass(frozen=True)
class Lossy:
    """A model whose messages may be lost inside time windows; the draws come from a child of
    the link's stream, so the delays of the base model are the same as without losses."""

    base: BaseModel | Scheduled
    losses: tuple[Loss, ...]

    def sampler(self, rng: np.random.Generator) -> Sampler:
        draws = rng.spawn(1)[0]
        base = self.base.sampler(rng)
        losses = tuple((w.start_ns, w.end_ns, w.share, w.retransmit_ns) for w in self.losses)

        def sample(now: int) -> int:
            delay = base(now)
            for start, end, share, retransmit in losses:
                if start <= now < end:
                    # An exact integer draw per try: lost again with the same share.
                    while int(draws.integers(share.denominator)) < share.numerator:
                        delay += retransmit
                        if share == 1:
                            break
            return delay

        return sample


LatencyModel = Constant | LogNormal | Quantiles | Scheduled | Lossy


@dataclass(frozen=True)
class LinkLatencies:
    """The latency models of one agent's three links."""

    market_data: LatencyModel
    orders: LatencyModel
    responses: LatencyModel


Receiver = Callable[[T], object] | simpy.Store


class Link(Generic[T]):
    """A one-way, order-preserving path with sampled delay; see the module docstring."""

    __slots__ = ("_deliver", "_env", "_last_ns", "_sample", "name")

    def __init__(self, env: SimEnv, name: str, model: LatencyModel, receiver: Receiver[T]) -> None:
        self.name = name
        self._env = env
        self._sample = model.sampler(env.streams.get(f"link:{name}"))
        # Typed loosely because SimPy hands the message back as an untyped event value.
        self._deliver: Callable[[Any], object] = (
            receiver.put if isinstance(receiver, simpy.Store) else receiver
        )
        self._last_ns = env.now

    def send(self, message: T, at: int | None = None) -> int:
        """Put `message` on the wire now (or at `at`, not before now); returns its delivery time.

        `at` is for senders running ahead of the clock, like the Tape applying ticks between
        events: a fill caused by a tick at t is sent at t, never earlier.
        """
        env = self._env
        now = env.now
        sent = now if at is None else at
        if sent < now:
            raise ValueError(f"link {self.name}: cannot send at {sent}, before now ({now})")
        arrival = sent + self._sample(sent)
        arrival = max(arrival, self._last_ns)
        self._last_ns = arrival
        simpy.Timeout(env, arrival - now, message).callbacks.append(self._arrive)
        return arrival

    def _arrive(self, event: simpy.Event) -> None:
        self._deliver(event.value)


class AgentLinks(NamedTuple):
    market_data: Link[Any]
    orders: Link[Any]
    responses: Link[Any]


def agent_links(
    env: SimEnv,
    agent: str,
    latencies: LinkLatencies,
    *,
    market_data: Receiver[Any],
    orders: Receiver[Any],
    responses: Receiver[Any],
) -> AgentLinks:
    """An agent's three links, named `<agent>/<direction>` so each draws from its own stream."""
    return AgentLinks(
        Link(env, f"{agent}/{MARKET_DATA}", latencies.market_data, market_data),
        Link(env, f"{agent}/{ORDERS}", latencies.orders, orders),
        Link(env, f"{agent}/{RESPONSES}", latencies.responses, responses),
    )
