"""Strategies used only by tests: they record what they were shown, to check against the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.strategy import BookUpdate, Context, Strategy, TradeUpdate


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
