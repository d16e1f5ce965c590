"""An order burster: a bot that floods one symbol's engine with orders and cancels for a while.

From `start` to `end` (ISO instants), every `every_ms` it cancels the orders of its previous
round that the engine accepted and places `orders` new post-only limit orders of `qty_lots`,
`away_ticks` behind the best bid and ask (alternating sides), so they rest without trading: pure
load on the engine's inbound queue, the kind of burst that overloads it (an engine-overload
replay puts several of these beside the traders whose requests must still get through). It only
cancels what it knows was accepted, so once the queue refuses its new orders its cancels dry up
too and the queue hovers at its overload depth while the burst lasts. At `end` it cancels all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy
from harness.sim.clock import parse_instant
from harness.venue.exchange.orders import OrderEvent, Side

MS = 1_000_000


class OrderBurster(Strategy):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.symbol = str(params.get("symbol", "BTCUSDT"))
        self.start = parse_instant(str(params["start"]))
        self.end = parse_instant(str(params["end"]))
        self.every_ns = int(params.get("every_ms", 100)) * MS
        self.orders = int(params.get("orders", 10))
        self.qty = int(params.get("qty_lots", 1))
        self.away = int(params.get("away_ticks", 500))
        if self.end <= self.start or self.every_ns < 1 or self.orders < 1:
            raise ValueError("OrderBurster needs start < end, every_ms >= 1 and orders >= 1")
        self.best: tuple[int, int] | None = None
        self.live: list[str] = []
        """Orders the engine accepted and that are not cancelled yet, oldest first."""
        self.rounds = 0

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer("burst", max(0, self.start - ctx.now))

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        if book.symbol == self.symbol and book.best_bid is not None and book.best_ask is not None:
            self.best = (book.best_bid, book.best_ask)

    def on_timer(self, ctx: Context, name: str) -> None:
        if ctx.now >= self.end:
            ctx.client.cancel_all(self.symbol)
            self.live.clear()
            return
        ctx.set_timer("burst", self.every_ns)
        if self.best is None:
            return
        for client_id in self.live:
            ctx.client.cancel(self.symbol, client_id)
        self.live.clear()
        bid, ask = self.best
        for n in range(self.orders):
            side = Side.BUY if (self.rounds + n) % 2 == 0 else Side.SELL
            price = bid - self.away if side is Side.BUY else ask + self.away
            ctx.client.limit(self.symbol, side, self.qty, price, post_only=True)
        self.rounds += 1

    def on_order_update(self, ctx: Context, event: OrderEvent) -> None:
        if event.kind == "accepted" and ctx.now < self.end:
            self.live.append(event.client_id)
