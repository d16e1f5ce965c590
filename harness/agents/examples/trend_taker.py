"""A levered trend taker: buys (or sells) a breakout with a market order, protected by a stop.

It compares the last trade with the trade `lookback_ms` earlier; a move of `threshold_ticks` or
more opens a position in that direction and places a reduce-only stop-market `stop_ticks` away,
triggered on the mark. One round trip: after the stop (or the end of the window) it stays flat.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import Context, Strategy, TradeUpdate
from harness.venue.exchange.orders import Fill, Side

MS = 1_000_000


class TrendTaker(Strategy):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.symbol = str(params.get("symbol", "BTCUSDT"))
        self.qty = int(params.get("qty_lots", 100))
        self.lookback_ns = int(params.get("lookback_ms", 5_000)) * MS
        self.threshold = int(params.get("threshold_ticks", 100))
        self.stop_ticks = int(params.get("stop_ticks", 150))
        self.trades: deque[tuple[int, int]] = deque()
        self.entered: Side | None = None
        self.entry_sent = False
        self.stop_sent = False

    def on_trade(self, ctx: Context, trade: TradeUpdate) -> None:
        if trade.symbol != self.symbol or self.entry_sent:
            return
        self.trades.append((trade.ts, trade.price))
        while self.trades and self.trades[0][0] < trade.ts - self.lookback_ns:
            self.trades.popleft()
        move = trade.price - self.trades[0][1]
        if abs(move) >= self.threshold:
            side = Side.BUY if move > 0 else Side.SELL
            ctx.client.market(self.symbol, side, self.qty)
            self.entry_sent = True

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if self.stop_sent or self.entered is not None or fill.leaves != 0:
            return
        self.entered = fill.side
        exit_side = Side.SELL if fill.side is Side.BUY else Side.BUY
        stop = fill.price - int(fill.side) * self.stop_ticks
        position = abs(ctx.position(self.symbol))
        ctx.client.stop_market(self.symbol, exit_side, position, stop, reduce_only=True)
        self.stop_sent = True
