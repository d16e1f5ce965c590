"""Strategies used only by tests: they record what they were shown, to check against the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy, TradeUpdate
from harness.venue.exchange.orders import Side
from harness.venue.gateway.gateway import GatewayReject


class Recorder(Strategy):
    """Keeps every delivery with the time it arrived; all instances of a run are listed in RUNS."""

    RUNS: list[Recorder] = []  # noqa: RUF012 - the test reads the instance back from here

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.books: list[tuple[int, BookUpdate]] = []
        self.trades: list[tuple[int, TradeUpdate]] = []
        self.timers: list[tuple[int, str]] = []
        Recorder.RUNS.append(self)

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer("tick", 1_000_000_000)

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        self.books.append((ctx.now, book))

    def on_trade(self, ctx: Context, trade: TradeUpdate) -> None:
        self.trades.append((ctx.now, trade))

    def on_timer(self, ctx: Context, name: str) -> None:
        self.timers.append((ctx.now, name))
        ctx.set_timer(name, 1_000_000_000)


class FeedWatcher(Recorder):
    """A Recorder that also keeps what it was told about its market-data link and its throttled
    requests; it buys one lot at its first book, to exercise the gateway."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.feed: list[tuple[int, bool]] = []
        self.throttled: list[tuple[int, str]] = []
        self.bought = False

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        super().on_book(ctx, book)
        if not self.bought:
            self.bought = True
            ctx.client.market(book.symbol, Side.BUY, 1)

    def on_feed_status(self, ctx: Context, stale: bool) -> None:
        self.feed.append((ctx.now, stale))

    def on_throttled(self, ctx: Context, reject: GatewayReject) -> None:
        self.throttled.append((ctx.now, str(reject.reason)))
