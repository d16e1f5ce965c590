"""A levered long with a client-side stop-loss and a take-profit ladder it keeps re-laying.

It buys `qty_lots` at the first book it sees, then keeps `levels` reduce-only take-profit sells
from `tp_ticks` above the best ask, one tick apart, moving them (cancel and place) whenever the
best ask moves: an order-hungry habit that never meets a normal venue's limits but breaks a
tightened one. The stop is kept by the strategy, as many bots do, not by the venue: when the best
bid falls to `stop_ticks` below the entry it cancels the ladder and sends a reduce-only market
sell for the whole position. That exit has to cross the gateway at the worst moment, which is
what the rate-limit tightening replay measures. An exit the client gave up on (or the engine
refused) is sent again on the next book update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy
from harness.venue.exchange.orders import Fill, OrderEvent, Rejected, Side
from harness.venue.gateway.gateway import GatewayReject


class StopLossTrader(Strategy):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.symbol = str(params.get("symbol", "BTCUSDT"))
        self.qty = int(params.get("qty_lots", 100))
        self.stop_ticks = int(params.get("stop_ticks", 200))
        self.tp_ticks = int(params.get("tp_ticks", 50))
        self.levels = int(params.get("levels", 4))
        self.entry_sent = False
        self.stop: int | None = None
        self.ladder: dict[str, int] = {}
        self.ladder_ask: int | None = None
        self.exit_id: str | None = None
        self.done = False

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        if book.symbol != self.symbol or book.best_bid is None or book.best_ask is None:
            return
        if not self.entry_sent:
            ctx.client.market(self.symbol, Side.BUY, self.qty)
            self.entry_sent = True
            return
        position = ctx.position(self.symbol)
        if self.stop is None or self.done or position <= 0:
            return
        if book.best_bid <= self.stop:
            if self.exit_id is None:
                self._cancel_ladder(ctx)
                self.exit_id = ctx.client.market(self.symbol, Side.SELL, position, reduce_only=True)
            return
        if book.best_ask != self.ladder_ask:
            self._cancel_ladder(ctx)
            self.ladder_ask = book.best_ask
            qty = max(1, position // self.levels)
            for level in range(self.levels):
                price = book.best_ask + self.tp_ticks + level
                client_id = ctx.client.limit(self.symbol, Side.SELL, qty, price, reduce_only=True)
                self.ladder[client_id] = price

    def _cancel_ladder(self, ctx: Context) -> None:
        for client_id in self.ladder:
            ctx.client.cancel(self.symbol, client_id)
        self.ladder.clear()
        self.ladder_ask = None

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if self.stop is None and fill.side is Side.BUY and fill.leaves == 0:
            self.stop = fill.price - self.stop_ticks
        if self.stop is not None and ctx.position(self.symbol) <= 0:
            self.done = True
        if fill.leaves == 0:
            self.ladder.pop(fill.client_id, None)

    def on_order_update(self, ctx: Context, event: OrderEvent) -> None:
        if event.kind in ("cancelled", "expired"):
            self.ladder.pop(event.client_id, None)

    def on_reject(self, ctx: Context, reject: Rejected) -> None:
        self._failed(reject.client_id)

    def on_throttled(self, ctx: Context, reject: GatewayReject) -> None:
        self._failed(reject.client_id)

    def _failed(self, client_id: str) -> None:
        if client_id == self.exit_id:
            self.exit_id = None  # sent again on the next book update
        elif self.ladder.pop(client_id, None) is not None:
            self.ladder_ask = None  # re-laid on the next book update
