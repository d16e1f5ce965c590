"""Waiting stop orders of one trigger source, indexed by stop price.

A buy stop fires when the reference price rises to its stop price or above, a sell stop when it
falls to its stop price or below (the venues' STOP semantics; take-profit variants are not
modelled). `buy_at` and `sell_at` are the nearest stop prices on each side, kept up to date so the
trade hot path decides with two integer comparisons that nothing fires.
"""

from __future__ import annotations

from typing import Final

from sortedcontainers import SortedDict

from harness.venue.exchange.orders import Order, Side

NEVER: Final = 1 << 62  # beyond any price in ticks


def would_fire(side: Side, stop_price: int, reference: int) -> bool:
    return reference >= stop_price if side is Side.BUY else reference <= stop_price


class StopBook:
    __slots__ = ("_buys", "_sells", "buy_at", "sell_at")

    def __init__(self) -> None:
        # Keys sort the stop that fires first to the front; the order id breaks ties by age.
        self._buys: SortedDict = SortedDict()  # (stop_price, order_id) -> Order
        self._sells: SortedDict = SortedDict()  # (-stop_price, order_id) -> Order
        self.buy_at = NEVER
        self.sell_at = -NEVER

    def __len__(self) -> int:
        return len(self._buys) + len(self._sells)

    def add(self, order: Order) -> None:
        stop = _stop_price(order)
        if order.side is Side.BUY:
            self._buys[(stop, order.order_id)] = order
        else:
            self._sells[(-stop, order.order_id)] = order
        self._refresh()

    def remove(self, order: Order) -> None:
        stop = _stop_price(order)
        if order.side is Side.BUY:
            self._buys.pop((stop, order.order_id), None)
        else:
            self._sells.pop((-stop, order.order_id), None)
        self._refresh()

    def pop_fired(self, reference: int) -> list[Order]:
        """Remove and return the stops this price fires: buys (lowest stop first), then sells."""
        fired: list[Order] = []
        while self._buys and self._buys.peekitem(0)[0][0] <= reference:
            fired.append(self._buys.popitem(0)[1])
        while self._sells and -self._sells.peekitem(0)[0][0] >= reference:
            fired.append(self._sells.popitem(0)[1])
        if fired:
            self._refresh()
        return fired

    def _refresh(self) -> None:
        self.buy_at = self._buys.peekitem(0)[0][0] if self._buys else NEVER
        self.sell_at = -self._sells.peekitem(0)[0][0] if self._sells else -NEVER


def _stop_price(order: Order) -> int:
    if order.stop_price is None:
        raise ValueError(f"order {order.order_id} has no stop price")
    return order.stop_price
