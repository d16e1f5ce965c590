"""The Strategy API: a plain class with callbacks, acting only through its order client.

Everything a strategy sees arrives over its latency links (book and trades down the market-data
link, order events down the response link), so it never sees the future: at time t it knows the
book as the venue published it at t minus the link's delay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.venue.exchange.orders import Fill, OrderEvent, Rejected

if TYPE_CHECKING:
    from harness.agents.client import OrderClient
    from harness.venue.gateway.gateway import GatewayReject
    from harness.venue.ledger.instruments import Instrument


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """Top levels of one symbol's public book, best first, in ticks and lots."""

    ts: int
    symbol: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]

    @property
    def best_bid(self) -> int | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> int | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    ts: int
    symbol: str
    price: int
    qty: int
    side: int


class Context:
    """What a strategy may use besides its callbacks' arguments."""

    def __init__(
        self,
        name: str,
        client: OrderClient,
        instruments: Mapping[str, Instrument],
        rng: np.random.Generator,
        runtime: Any,
    ) -> None:
        self.name = name
        self.client = client
        self.instruments = instruments
        self.rng = rng
        self._runtime = runtime
        self.positions: dict[str, int] = {}
        """Lots per symbol as known from the fills received so far (not the venue's truth)."""

    @property
    def now(self) -> int:
        now: int = self._runtime.env.now
        return now

    def set_timer(self, name: str, delay_ns: int) -> None:
        """`on_timer(ctx, name)` after `delay_ns` of simulated time."""
        self._runtime.set_timer(name, delay_ns)

    def position(self, symbol: str) -> int:
        return self.positions.get(symbol, 0)


class Strategy:
    """Override the callbacks you need; the defaults do nothing."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def on_start(self, ctx: Context) -> None:
        """Once, at the start of the window, before any market data."""

    def on_book(self, ctx: Context, book: BookUpdate) -> None:
        """A book update delivered through the market-data link."""

    def on_trade(self, ctx: Context, trade: TradeUpdate) -> None:
        """A public trade delivered through the market-data link."""

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        """One of this agent's orders traded (partially or fully)."""

    def on_order_update(self, ctx: Context, event: OrderEvent) -> None:
        """Accepted, cancelled, expired, triggered or amended."""

    def on_reject(self, ctx: Context, reject: Rejected) -> None:
        """A request was refused; `reject.reason` says why."""

    def on_timer(self, ctx: Context, name: str) -> None:
        """A timer set with `ctx.set_timer` fired."""

    def on_throttled(self, ctx: Context, reject: GatewayReject) -> None:
        """The client gave up on a request the gateway refused (rate limit, ban, overload, key
        or IP): it never reached the engine. `reject.client_id` names the order, if any. After
        an UNKNOWN_STATUS the order may still have executed; its events come if it did."""

    def on_feed_status(self, ctx: Context, stale: bool) -> None:
        """The market-data link dropped (`stale`: the last book seen is out of date and nothing
        arrives) or is back (the book update that follows is a fresh full one)."""
