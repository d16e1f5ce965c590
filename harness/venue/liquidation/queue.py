"""The liquidation engine's queue: finite throughput per symbol, in a documented order.

Real engines process liquidations one after another, and in a crash they queue while the book
empties (MECHANICS 5). Here each symbol's engine starts at most one liquidation per
`1 / rate_per_s` seconds: `pop(symbol, now)` hands out the next item when the engine is free at
`now` and marks it busy for one interval; `next_free_ns(symbol)` says when to ask again, so a
SimPy process can sleep until then. Nothing here reads a clock: times are passed in.

Order: highest margin ratio first (a ratio that is unbounded, because the margin balance is gone,
before any finite one), then earliest entry, then arrival order. The ratio is the one at entry;
the liquidator re-checks the account when it gets to it. An (account, symbol) already waiting is
not queued twice.

Records (kind `liquidation`): `step` "queued" with the queue length after, and "dequeued" with
the wait in ns and the queue length after.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from fractions import Fraction

from harness import journal as jk
from harness.venue.liquidation.insurance_fund import Record, record

SECOND_NS = 1_000_000_000


@dataclass(frozen=True, order=True)
class QueueItem:
    priority: tuple[int, Fraction, int, int] = field(repr=False)
    account_id: str = field(compare=False)
    symbol: str = field(compare=False)
    ratio: Fraction | None = field(compare=False)
    """Margin ratio at entry; None when the margin balance was not positive."""
    entered_ns: int = field(compare=False)


class LiquidationQueue:
    def __init__(self, rate_per_s: int = 10, rates: dict[str, int] | None = None) -> None:
        """`rate_per_s`: liquidations each symbol's engine starts per second; `rates` overrides
        it per symbol."""
        for rate in [rate_per_s, *(rates or {}).values()]:
            if rate < 1:
                raise ValueError("a liquidation rate must be at least 1 per second")
        self.rate_per_s = rate_per_s
        self.rates = dict(rates or {})
        self._heaps: dict[str, list[QueueItem]] = {}
        self._waiting: dict[tuple[str, str], QueueItem] = {}
        self._next_free: dict[str, int] = {}
        self._arrivals = itertools.count()

    def interval_ns(self, symbol: str) -> int:
        """Engine time one liquidation takes, rounded up so the rate is never exceeded."""
        return -(-SECOND_NS // self.rates.get(symbol, self.rate_per_s))

    def __len__(self) -> int:
        return len(self._waiting)

    def length(self, symbol: str) -> int:
        return len(self._heaps.get(symbol, ()))

    def waiting(self, account_id: str, symbol: str) -> bool:
        return (account_id, symbol) in self._waiting

    def push(self, account_id: str, symbol: str, ratio: Fraction | None, ts: int) -> Record | None:
        """Queue an account found due on `symbol`; None if it is already waiting there."""
        key = (account_id, symbol)
        if key in self._waiting:
            return None
        unbounded = 0 if ratio is None else 1
        priority = (unbounded, -(ratio or Fraction(0)), ts, next(self._arrivals))
        item = QueueItem(priority, account_id, symbol, ratio, ts)
        heapq.heappush(self._heaps.setdefault(symbol, []), item)
        self._waiting[key] = item
        return record(
            ts,
            jk.LIQUIDATION,
            account_id,
            symbol,
            step="queued",
            ratio="inf" if ratio is None else str(ratio),
            queue_length=self.length(symbol),
        )

    def next_free_ns(self, symbol: str) -> int:
        """The earliest time the symbol's engine can start the next liquidation."""
        return self._next_free.get(symbol, 0)

    def pop(self, symbol: str, now: int) -> tuple[QueueItem, Record] | None:
        """The next item if the engine is free at `now` (which it then books for one interval)."""
        heap = self._heaps.get(symbol)
        if not heap or self.next_free_ns(symbol) > now:
            return None
        item = heapq.heappop(heap)
        del self._waiting[(item.account_id, item.symbol)]
        self._next_free[symbol] = now + self.interval_ns(symbol)
        return item, record(
            now,
            jk.LIQUIDATION,
            item.account_id,
            symbol,
            step="dequeued",
            wait_ns=now - item.entered_ns,
            queue_length=len(heap),
        )
