"""Where a resting sim order stands in the public queue at its price.

The recorded data shows only a level's total size, never who is in it, so a sim order's place is an
estimate: `queue_ahead` is the number of public lots in front of it. It starts at the visible size
when the order joins the level (the sim order is behind every public lot that existed then, and
ahead of every lot that arrives later). It then shrinks:
- by every public print at its price (the whole print: the data is the truth about public lots);
- by a depth update: under `trades_only` only where the level now holds fewer lots than are
  supposedly ahead (there cannot be more ahead than exist); under `proportional` a size decrease
  not explained by prints since the previous update counts as cancels, spread over the lots ahead
  and behind in proportion to their shares of the old size (rounded down: the queue advances no
  faster than the evidence allows).

A print fills sim orders with the part of its size that reaches past the lots in front of them:
order i (in time priority) stands at `queue_ahead[i] + leaves of the sim orders before it`, and
gets whatever of the print goes beyond that position. The print also removes its full size from
the public lots ahead: no market impact is modelled, the sim fill comes on top of the recorded flow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum

from harness.venue.exchange.orders import Order


class QueueModel(StrEnum):
    TRADES_ONLY = "trades_only"
    PROPORTIONAL = "proportional"


def resize(
    orders: Collection[Order], old_size: int, new_size: int, traded: int, model: QueueModel
) -> None:
    """A depth update moved the level from old_size to new_size, `traded` lots printed since."""
    if model is QueueModel.PROPORTIONAL and old_size > new_size:
        cancelled = old_size - new_size - traded
        if cancelled > 0:
            for order in orders:
                order.queue_ahead -= cancelled * order.queue_ahead // old_size
    for order in orders:
        order.queue_ahead = min(order.queue_ahead, new_size)


def print_fills(orders: Iterable[Order], volume: int) -> list[tuple[Order, int]]:
    """How much of a print of `volume` lots at the orders' price reaches each order."""
    fills: list[tuple[Order, int]] = []
    sim_before = 0
    for order in orders:
        reach = volume - order.queue_ahead - sim_before
        if reach > 0:
            fills.append((order, min(reach, order.leaves)))
        sim_before += order.leaves
    return fills


def advance(orders: Iterable[Order], public_lots: int) -> None:
    """Public lots in front of the orders left the level (printed or taken by a sim taker)."""
    for order in orders:
        order.queue_ahead = max(0, order.queue_ahead - public_lots)
