"""A post-only market maker that quotes both sides and cancels fast when the book moves.

It joins the best bid and ask (or stands `offset_ticks` behind them), skews away from inventory,
and replaces a quote as soon as the book it sees moves away from it: rebate income against
adverse selection is exactly what the toxicity analytics measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy
from harness.venue.exchange.orders import Fill, OrderEvent, Rejected, Side
from harness.venue.gateway.gateway import GatewayReject


class PostOnlyMarketMaker(Strategy):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.symbol = str(params.get("symbol", "BTCUSDT"))
        self.qty = int(params.get("qty_lots", 5))
        self.offset = int(params.get("offset_ticks", 0))
        self.max_position = int(params.get("max_position_lots", 50))
        self.quotes: dict[Side, tuple[str, int] | None] = {Side.BUY: None, Side.SELL: None}
        self.live: set[str] = set()
        self.cancels = 0
        self.rejects = 0

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        if book.symbol != self.symbol or book.best_bid is None or book.best_ask is None:
            return
        position = ctx.position(self.symbol)
        wanted = {
            Side.BUY: book.best_bid - self.offset if position < self.max_position else None,
            Side.SELL: book.best_ask + self.offset if position > -self.max_position else None,
        }
        for side, price in wanted.items():
            current = self.quotes[side]
            if current is not None and (price is None or current[1] != price):
                ctx.client.cancel(self.symbol, current[0])
                self.cancels += 1
                self.quotes[side] = None
            if price is not None and self.quotes[side] is None:
                client_id = ctx.client.limit(self.symbol, side, self.qty, price, post_only=True)
                self.quotes[side] = (client_id, price)
                self.live.add(client_id)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if fill.leaves == 0:
            self._forget(fill.client_id)

    def on_order_update(self, ctx: Context, event: OrderEvent) -> None:
        if event.kind in ("cancelled", "expired"):
            self._forget(event.client_id)

    def on_reject(self, ctx: Context, reject: Rejected) -> None:
        self.rejects += 1
        self._forget(reject.client_id)

    def on_throttled(self, ctx: Context, reject: GatewayReject) -> None:
        """A quote the client gave up on is not live: quote that side again."""
        self.rejects += 1
        self._forget(reject.client_id)

    def _forget(self, client_id: str) -> None:
        self.live.discard(client_id)
        for side, quote in self.quotes.items():
            if quote is not None and quote[0] == client_id:
                self.quotes[side] = None
