"""Wiring one strategy to the venue: its links, its account, its feed and its timers.

The feed is published from the venue's book at scheduled instants, never from inside a tick: the
Tape applies every tick stamped at or before an instant before the instant's events run, so what
is published at t is the book as of t, and the market-data link adds the delay on top.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from harness.agents.client import OrderClient
from harness.agents.strategy import BookUpdate, Context, Strategy, TradeUpdate
from harness.sim.clock import SimEnv
from harness.sim.latency import LinkLatencies, agent_links
from harness.sim.scenario import AgentConfig
from harness.venue.instruments import QUOTE_SCALE, Instrument
from harness.venue.l2book import ASK, BID
from harness.venue.orders import Event, Fill, Rejected
from harness.venue.venue import Market, Venue

FEED_DEPTH = 10


def load_strategy(reference: str, params: Mapping[str, Any]) -> Strategy:
    """Instantiate `package.module:Class` with its params."""
    module_name, _, class_name = reference.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{reference} is not a harness Strategy subclass")
    return cls(params)


def usdt_units(amount: Decimal) -> int:
    units = amount * QUOTE_SCALE
    if units != units.to_integral_value():
        raise ValueError(f"{amount} USDT is finer than 1e-8")
    return int(units)


class AgentRuntime:
    def __init__(
        self,
        env: SimEnv,
        venue: Venue,
        config: AgentConfig,
        latencies: LinkLatencies,
        instruments: Mapping[str, Instrument],
        end: int,
    ) -> None:
        self.env = env
        self.venue = venue
        self.name = config.name
        self.end = end
        self.strategy = load_strategy(config.strategy, config.params)
        self.links = agent_links(
            env,
            config.name,
            latencies,
            market_data=self._on_market_data,
            orders=venue.on_request,
            responses=self._on_response,
        )
        self.client = OrderClient(config.name, self.links.orders.send)
        rng = env.streams.get(f"agent:{config.name}")
        self.ctx = Context(config.name, self.client, instruments, rng, self)
        venue.open_account(
            config.name,
            usdt_units(config.balance),
            leverage=config.leverage,
            isolated=config.margin_mode == "isolated",
            fee_tier=config.fee_tier,
            responder=lambda event, ts: self.links.responses.send(event, at=ts),
        )
        self.every_tick = config.feed == "every_tick"
        self.conflation_ns = config.conflation_ns
        self._dirty: dict[str, bool] = {}
        self._pending_publish: set[int] = set()
        for symbol, market in venue.markets.items():
            self._dirty[symbol] = False
            market.book_listeners.append(self._book_listener(symbol))
            market.trade_listeners.append(self._trade_listener(symbol))
        self.fills = 0
        self.rejects = 0

    def start(self) -> None:
        self.strategy.on_start(self.ctx)
        if not self.every_tick:
            self.env.process(self._conflated())

    # --- feed ----------------------------------------------------------------------------------
    def _book_listener(self, symbol: str) -> Any:
        def changed(ts: int) -> None:
            self._dirty[symbol] = True
            if self.every_tick:
                # One publication per instant with changes, once every tick of it is applied;
                # rows replayed before the window (rebuilding the book) at the window's start.
                at = max(ts, self.env.now)
                if at not in self._pending_publish:
                    self._pending_publish.add(at)
                    self.env.call_at(at, lambda: self._publish_at(at))

        return changed

    def _trade_listener(self, symbol: str) -> Any:
        send = self.links.market_data.send

        def traded(ts: int, price: int, qty: int, side: int) -> None:
            send(TradeUpdate(ts, symbol, price, qty, side), at=ts)

        return traded

    def _publish_at(self, ts: int) -> None:
        self._pending_publish.discard(ts)
        self._publish()

    def _publish(self) -> None:
        now = self.env.now
        for symbol, dirty in self._dirty.items():
            if dirty:
                self._dirty[symbol] = False
                self.links.market_data.send(_book_update(now, symbol, self.venue.markets[symbol]))

    def _conflated(self) -> Any:
        while self.env.now + self.conflation_ns < self.end:
            yield self.env.timeout(self.conflation_ns)
            self._publish()

    def _on_market_data(self, message: BookUpdate | TradeUpdate) -> None:
        if isinstance(message, BookUpdate):
            self.strategy.on_book(self.ctx, message)
        else:
            self.strategy.on_trade(self.ctx, message)

    # --- responses and timers ------------------------------------------------------------------
    def _on_response(self, event: Event) -> None:
        if isinstance(event, Fill):
            self.fills += 1
            self.ctx.positions[event.symbol] = (
                self.ctx.positions.get(event.symbol, 0) + int(event.side) * event.qty
            )
            self.strategy.on_fill(self.ctx, event)
        elif isinstance(event, Rejected):
            self.rejects += 1
            self.strategy.on_reject(self.ctx, event)
        else:
            self.strategy.on_order_update(self.ctx, event)

    def set_timer(self, name: str, delay_ns: int) -> None:
        when = self.env.now + delay_ns
        if when < self.end:
            self.env.call_at(when, lambda: self.strategy.on_timer(self.ctx, name))


def _book_update(ts: int, symbol: str, market: Market) -> BookUpdate:
    book = market.engine.book
    return BookUpdate(
        ts,
        symbol,
        tuple(book.levels(BID, FEED_DEPTH)),
        tuple(book.levels(ASK, FEED_DEPTH)),
    )
