"""A passive holder: buys a fixed position once the book is known and holds it to the end.

The simplest exposure to the mark, funding and (under stress) liquidation; a baseline for the
other strategies and for the liquidation path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy
from harness.venue.exchange.orders import Fill, Side


class PassiveHolder(Strategy):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.symbol = str(params.get("symbol", "BTCUSDT"))
        self.qty = int(params.get("qty_lots", 10))
        self.side = Side.SELL if str(params.get("side", "long")) == "short" else Side.BUY
        self.sent = False
        self.filled = 0

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        if self.sent or book.symbol != self.symbol or book.best_ask is None:
            return
        ctx.client.market(self.symbol, self.side, self.qty)
        self.sent = True

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.filled += fill.qty
