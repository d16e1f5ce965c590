"""The matching engine's inbound queue: finite service rate per symbol, overload and timeouts.

Each symbol's engine serves one message at a time, every message taking the same service time
(1 s / `service_rate_per_s`, rounded up to whole ns): an M/D/1-style queue. It is kept as a single
"server free at" timestamp: a message admitted at `now` starts at `max(now, free_at)` and
completes one service time later, which becomes the new `free_at`. Completion times are decided
on admission, so the caller schedules delivery to the engine with `env.call_at(completion, ...)`
and no SimPy process or queue object is needed. Messages complete in admission order (FIFO), so a
query admitted after an order is answered after that order reached the engine.

Depth at `now` is the number of admitted messages not yet completed. Because the pending messages
form one busy period ending at `free_at`, that is `ceil((free_at - now) / service_ns)`.

Overload. At `overload_depth` or more, new orders (and amends) are refused with OVERLOADED
(the venue's -1008 style throttle), never queued. Cancels and queries always pass. Reduce-only
and close-position orders pass when `exits_pass_overload` is on (the policy since Oct 2025);
with it off they are refused like any new order, as before.

Timeouts. A message whose completion would come more than `timeout_ns` after `now` times out at
the gateway. A seeded `unknown_share` of those answer 503 "unknown status" at `now + timeout_ns`;
of these, a seeded `unknown_executes` share still reaches the engine at its completion (the order
may execute, the client cannot tell) and the rest are lost (they take no service time). The other
timeouts simply wait their turn. The draws come from one named stream, in admission order.

Measures, for the run's summary: the depth every message met on arrival (`arrival_depths`), and
the time the queue spent at or above `overload_depth` (`overloaded_ns`, up to `overloaded_until`).
Depth at time t is at least L exactly while t < free_at - (L - 1) x service, so each admission
extends that union of intervals without any sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final

import numpy as np

NS_PER_S: Final = 1_000_000_000


class Kind(StrEnum):
    """How the overload policy sees a message."""

    NEW_ORDER = "NEW_ORDER"
    EXIT = "EXIT"  # reduce-only or close-position
    AMEND = "AMEND"
    CANCEL = "CANCEL"
    QUERY = "QUERY"


@dataclass(frozen=True, slots=True)
class QueueSettings:
    service_rate_per_s: int = 2_000
    overload_depth: int | None = 2_000
    """Depth at which new orders are refused; None never refuses."""
    exits_pass_overload: bool = True
    timeout_ns: int = 5 * NS_PER_S
    unknown_share: Fraction = Fraction(1, 2)
    unknown_executes: Fraction = Fraction(1, 2)

    def __post_init__(self) -> None:
        if self.service_rate_per_s < 1:
            raise ValueError("service_rate_per_s must be >= 1")
        if self.overload_depth is not None and self.overload_depth < 1:
            raise ValueError("overload_depth must be >= 1 (or None)")
        if self.timeout_ns < 1:
            raise ValueError("timeout_ns must be >= 1")
        for share in (self.unknown_share, self.unknown_executes):
            if not 0 <= share <= 1:
                raise ValueError(f"shares are between 0 and 1, got {share}")

    @property
    def service_ns(self) -> int:
        return -(-NS_PER_S // self.service_rate_per_s)


@dataclass(frozen=True, slots=True)
class Admitted:
    """Queued; reaches the engine at `completion_ns` after `queue_delay_ns` of waiting."""

    completion_ns: int
    queue_delay_ns: int
    depth: int


@dataclass(frozen=True, slots=True)
class Overloaded:
    """Refused on arrival, not queued: the order certainly did not execute."""

    depth: int


@dataclass(frozen=True, slots=True)
class Unknown:
    """Timed out: the client hears 503 at `answer_ns`; `completion_ns` is when the message still
    reaches the engine, or None when it was lost."""

    answer_ns: int
    completion_ns: int | None
    depth: int


Admission = Admitted | Overloaded | Unknown


def _draw(rng: np.random.Generator, share: Fraction) -> bool:
    """True with probability `share`, exactly (an integer draw, not a float comparison)."""
    if share.denominator == 1:  # 0 or 1: certain, and no draw is spent
        return share == 1
    return int(rng.integers(share.denominator)) < share.numerator


class EngineQueue:
    """One symbol's inbound queue; see the module docstring."""

    __slots__ = (
        "_free_at",
        "_rng",
        "arrival_depths",
        "overloaded_ns",
        "overloaded_until",
        "service_ns",
        "settings",
        "symbol",
    )

    def __init__(self, symbol: str, settings: QueueSettings, rng: np.random.Generator) -> None:
        self.symbol = symbol
        self.settings = settings
        self.service_ns = settings.service_ns
        self._rng = rng
        self._free_at = 0
        self.arrival_depths: list[int] = []
        self.overloaded_ns = 0
        self.overloaded_until = 0

    def overloaded(self, depth: int) -> bool:
        """True when a queue this deep refuses new orders."""
        limit = self.settings.overload_depth
        return limit is not None and depth >= limit

    def depth(self, now: int) -> int:
        pending = self._free_at - now
        return -(-pending // self.service_ns) if pending > 0 else 0

    def admit(self, kind: Kind, now: int) -> Admission:
        settings = self.settings
        depth = self.depth(now)
        self.arrival_depths.append(depth)
        if self.overloaded(depth) and self._refused_when_overloaded(kind):
            return Overloaded(depth)
        start = max(now, self._free_at)
        completion = start + self.service_ns
        if completion - now > settings.timeout_ns and _draw(self._rng, settings.unknown_share):
            executes = _draw(self._rng, settings.unknown_executes)
            if executes:
                self._serve_until(completion, now)
            return Unknown(now + settings.timeout_ns, completion if executes else None, depth)
        self._serve_until(completion, now)
        return Admitted(completion, start - now, depth)

    def _serve_until(self, completion: int, now: int) -> None:
        self._free_at = completion
        limit = self.settings.overload_depth
        if limit is None:
            return
        until = completion - (limit - 1) * self.service_ns
        begin = max(now, self.overloaded_until)
        if until > begin:
            self.overloaded_ns += until - begin
            self.overloaded_until = until

    def _refused_when_overloaded(self, kind: Kind) -> bool:
        if kind is Kind.NEW_ORDER or kind is Kind.AMEND:
            return True
        return kind is Kind.EXIT and not self.settings.exits_pass_overload
