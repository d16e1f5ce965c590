"""A price-level (L2) book: size per price on each side, best price first.

Keys are whatever the caller orders prices by: integer ticks inside the venue, or the store's
floats when rebuilding a recorded book for inspection (the same decimal string always gives the
same float, so levels replace each other exactly).

Each side is a plain dict of size per price plus a sorted list of its ranks (`side * price`,
worst first, so the best level is last on both sides). Most updates only change the size of a
level that already exists, which is then a single dict store; the rank list is touched (with a
bisection) only when a level appears or disappears, and since levels come and go mostly near the
touch, keeping the best last makes those list inserts and deletes move few entries. A general
sorted container costs Python-level calls on every update, and the book is updated on every
market-data message while its order is read far less often (the touch, feed publication, impact
walks, takers).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Generic, TypeVar

P = TypeVar("P", int, float)
Q = TypeVar("Q", int, float)

BID = 1
ASK = -1


class L2Book(Generic[P, Q]):
    __slots__ = ("_ask_ranks", "_asks", "_bid_ranks", "_bids")

    def __init__(self) -> None:
        self._bids: dict[P, Q] = {}
        self._asks: dict[P, Q] = {}
        # Ascending `side * price`: bid prices, and negated ask prices.
        self._bid_ranks: list[P] = []
        self._ask_ranks: list[P] = []

    def level_maps(self) -> tuple[dict[P, Q], list[P], dict[P, Q], list[P]]:
        """Bid sizes, bid ranks, ask sizes, ask ranks: for hot loops that inline set_level.

        A caller writing through these must keep each rank list exactly the sorted
        `side * price` of its dict's keys, as set_level does.
        """
        return self._bids, self._bid_ranks, self._asks, self._ask_ranks

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bid_ranks.clear()
        self._ask_ranks.clear()

    def set_level(self, side: int, price: P, qty: Q) -> None:
        """Set the size at a level; a size of zero (or less) removes it."""
        if side == BID:
            levels, ranks, rank = self._bids, self._bid_ranks, price
        else:
            levels, ranks, rank = self._asks, self._ask_ranks, -price
        if qty > 0:
            if price not in levels:
                insort(ranks, rank)
            levels[price] = qty
        elif levels.pop(price, None) is not None:
            del ranks[bisect_left(ranks, rank)]

    def qty_at(self, side: int, price: P) -> Q | None:
        return (self._bids if side == BID else self._asks).get(price)

    def best(self, side: int) -> tuple[P, Q] | None:
        if side == BID:
            if not self._bid_ranks:
                return None
            price = self._bid_ranks[-1]
            return price, self._bids[price]
        if not self._ask_ranks:
            return None
        price = -self._ask_ranks[-1]
        return price, self._asks[price]

    def best_bid(self) -> tuple[P, Q] | None:
        return self.best(BID)

    def best_ask(self) -> tuple[P, Q] | None:
        return self.best(ASK)

    def levels(self, side: int, depth: int | None = None) -> Iterator[tuple[P, Q]]:
        """Levels of one side, best first."""
        if depth is not None and depth < 0:
            raise ValueError("depth must be None or >= 0")
        ranks = self._bid_ranks if side == BID else self._ask_ranks
        best_first = reversed(ranks) if depth is None else iter(ranks[: -depth - 1 : -1])
        if side == BID:
            bids = self._bids
            return ((price, bids[price]) for price in best_first)
        asks = self._asks
        return ((-rank, asks[-rank]) for rank in best_first)

    def depth(self, side: int) -> int:
        return len(self._bids if side == BID else self._asks)

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]
