"""A price-level (L2) book: size per price on each side, best price first.

Keys are whatever the caller orders prices by: integer ticks inside the venue, or the store's
floats when rebuilding a recorded book for inspection (the same decimal string always gives the
same float, so levels replace each other exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Generic, TypeVar

from sortedcontainers import SortedDict

P = TypeVar("P", int, float)
Q = TypeVar("Q", int, float)

BID = 1
ASK = -1


class L2Book(Generic[P, Q]):
    __slots__ = ("_asks", "_bids")

    def __init__(self) -> None:
        # Bids keyed by negated price so that both sides iterate best first.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()

    def level_maps(self) -> tuple[SortedDict, SortedDict]:
        """The bid (keyed by negated price) and ask maps, for hot loops that inline set_level."""
        return self._bids, self._asks

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()

    def set_level(self, side: int, price: P, qty: Q) -> None:
        """Set the size at a level; a size of zero (or less) removes it."""
        levels, key = (self._bids, -price) if side == BID else (self._asks, price)
        if qty > 0:
            levels[key] = qty
        else:
            levels.pop(key, None)

    def qty_at(self, side: int, price: P) -> Q | None:
        if side == BID:
            result: Q | None = self._bids.get(-price)
        else:
            result = self._asks.get(price)
        return result

    def best(self, side: int) -> tuple[P, Q] | None:
        levels = self._bids if side == BID else self._asks
        if not levels:
            return None
        key, qty = levels.peekitem(0)
        return (-key if side == BID else key), qty

    def best_bid(self) -> tuple[P, Q] | None:
        return self.best(BID)

    def best_ask(self) -> tuple[P, Q] | None:
        return self.best(ASK)

    def levels(self, side: int, depth: int | None = None) -> Iterator[tuple[P, Q]]:
        """Levels of one side, best first."""
        items = self._bids.items() if side == BID else self._asks.items()
        sign = -1 if side == BID else 1
        for key, qty in islice(items, depth):
            yield sign * key, qty

    def depth(self, side: int) -> int:
        return len(self._bids if side == BID else self._asks)

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]
