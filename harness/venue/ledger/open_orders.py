"""Resting orders the ledger reserves initial margin for, and how much they reserve.

The ledger holds only what margin needs (side, remaining lots, price, reduce-only); the matching
engine holds the orders themselves. Fills consume the remaining lots here so the reservation
shrinks as the order fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harness.units import Money, Side
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.state import LedgerError, OrderId, Position, ceil_div, check_side


@dataclass
class OpenOrder:
    account_id: str
    symbol: str
    side: int
    remaining: int
    price_ticks: int
    reduce_only: bool = False


class OpenOrders:
    """Open orders by id, in the order they were added."""

    def __init__(self) -> None:
        self._orders: dict[OrderId, OpenOrder] = {}

    def add(self, order_id: OrderId, order: OpenOrder) -> None:
        if order_id in self._orders:
            raise LedgerError(f"order {order_id!r} already open")
        if order.remaining <= 0 or order.price_ticks <= 0:
            raise LedgerError("order quantity and price must be positive")
        check_side(order.side)
        self._orders[order_id] = order

    def remove(self, order_id: OrderId) -> None:
        if self._orders.pop(order_id, None) is None:
            raise LedgerError(f"order {order_id!r} is not open")

    def of_account(self, account_id: str) -> list[tuple[OrderId, OpenOrder]]:
        return [(oid, o) for oid, o in self._orders.items() if o.account_id == account_id]

    def of(self, account_id: str, symbol: str) -> Iterator[OpenOrder]:
        for order in self._orders.values():
            if order.account_id == account_id and order.symbol == symbol:
                yield order

    def consume(self, order_id: OrderId, account_id: str, symbol: str, side: int, qty: int) -> None:
        """A fill of `qty` lots of the order: checked against the order, then taken off it."""
        order = self._orders.get(order_id)
        if order is None or (order.account_id, order.symbol, order.side) != (
            account_id,
            symbol,
            side,
        ):
            raise LedgerError(f"fill does not match open order {order_id!r}")
        if qty > order.remaining:
            raise LedgerError(f"fill of {qty} lots exceeds order {order_id!r} remaining")
        order.remaining -= qty
        if order.remaining == 0:
            del self._orders[order_id]


def order_margin(inst: Instrument, pos: Position, orders: Iterable[OpenOrder], mark: int) -> Money:
    """Initial margin for a symbol's resting orders, the worse of the two sides.

    A side's margin covers the lots by which filling all its orders would grow the position,
    valued at mark, plus the open loss of orders priced through the mark (a buy above it or a sell
    below it loses that difference the moment it fills). A simplified model of the venue's rule;
    reduce-only orders reserve nothing.
    """
    worst = 0
    counted = [o for o in orders if not o.reduce_only]
    for side in (Side.BUY, Side.SELL):
        side_orders = [o for o in counted if o.side == side]
        lots = sum(o.remaining for o in side_orders)
        if not lots:
            continue
        growth = max(0, abs(pos.qty + side * lots) - abs(pos.qty))
        margin = ceil_div(inst.notional_units(growth, mark), pos.leverage)
        open_loss = sum(
            inst.notional_units(o.remaining, max(0, side * (o.price_ticks - mark)))
            for o in side_orders
        )
        worst = max(worst, margin + open_loss)
    return Money(worst)
