"""Wiring one strategy to the venue: its links, its account, its feed and its timers.

The feed is published from the venue's book at scheduled instants, never from inside a tick: the
Tape applies every tick stamped at or before an instant before the instant's events run, so what
is published at t is the book as of t, and the market-data link adds the delay on top.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.agents.resilient_client import ResilientClient, RetryPolicy
from harness.agents.strategy import BookUpdate, Context, Strategy, TradeUpdate
from harness.sim.clock import SimEnv
from harness.sim.latency import LinkLatencies, agent_links
from harness.venue.exchange.l2book import ASK, BID
from harness.venue.exchange.orders import Event, Fill, Rejected
from harness.venue.gateway.gateway import Body, GatewayReject
from harness.venue.gateway.runtime import GatewayRuntime
from harness.venue.ledger.instruments import Instrument
from harness.venue.venue import Market, Venue

FEED_DEPTH = 10


@dataclass(frozen=True)
class AgentSettings:
    """One agent as the run needs it: defaults filled in, money in units, faults on its links."""

    name: str
    strategy: str
    """`package.module:Class`."""
    params: Mapping[str, Any]
    balance_units: int
    leverage: int
    isolated: bool
    fee_tier: str
    every_tick: bool
    """Every recorded book update reaches the agent, instead of the conflated feed."""
    conflation_ns: int
    client: str
    """careful or naive (see `RetryPolicy`)."""
    key: str
    ip: str
    connection: str
    """The websocket connection id, or "" when the agent trades over REST."""
    pace_ns: int
    """Spacing the client keeps between messages on its websocket connection (0 over REST)."""
    latencies: LinkLatencies
    """The link models with the scheduled latency and loss faults that hit this agent."""
    disconnects: tuple[tuple[int, int], ...]
    """(start, end) of the market-data disconnects that hit this agent, in time order."""


def load_strategy(reference: str, params: Mapping[str, Any]) -> Strategy:
    """Instantiate `package.module:Class` with its params."""
    module_name, _, class_name = reference.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{reference} is not a harness Strategy subclass")
    return cls(params)


class AgentRuntime:
    """One agent: requests go up its order link to the gateway, whose answers and the venue's
    events come down its response link to its client, which hands order events on here."""

    def __init__(
        self,
        env: SimEnv,
        venue: Venue,
        gateway: GatewayRuntime,
        settings: AgentSettings,
        instruments: Mapping[str, Instrument],
        end: int,
    ) -> None:
        self.env = env
        self.venue = venue
        self.settings = settings
        self.name = name = settings.name
        self.end = end
        self.strategy = load_strategy(settings.strategy, settings.params)
        self.links = agent_links(
            env,
            name,
            settings.latencies,
            market_data=self._on_market_data,
            orders=gateway.on_request,
            responses=self._on_link_response,
        )
        self.client = ResilientClient(
            env,
            name,
            settings.key,
            settings.ip,
            self.links.orders.send,
            env.streams.get(f"client:{name}"),
            RetryPolicy(naive=settings.client == "naive"),
            on_event=self._on_response,
            on_give_up=self._on_give_up,
            connection=settings.connection,
            pace_ns=settings.pace_ns,
        )
        gateway.connect(name, self.links.responses.send)
        self._disconnects = settings.disconnects
        self._stale = False
        rng = env.streams.get(f"agent:{name}")
        self.ctx = Context(name, self.client, instruments, rng, self)
        venue.open_account(
            name,
            settings.balance_units,
            leverage=settings.leverage,
            isolated=settings.isolated,
            fee_tier=settings.fee_tier,
            responder=lambda event, ts: self.links.responses.send(event, at=ts),
        )
        self.every_tick = settings.every_tick
        self.conflation_ns = settings.conflation_ns
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
        for down, up in self._disconnects:
            if self.env.now <= down < self.end:
                self.env.call_at(down, self._disconnected)
            if self.env.now <= up < self.end:
                self.env.call_at(up, self._reconnected)

    # --- market-data disconnects ----------------------------------------------------------------
    def _down(self, ts: int) -> bool:
        """Whether the market-data link is down at `ts` (callers first check there are faults:
        this runs for every trade and book update)."""
        return any(down <= ts < up for down, up in self._disconnects)

    def _disconnected(self) -> None:
        if not self._stale:
            self._stale = True
            self.strategy.on_feed_status(self.ctx, True)

    def _reconnected(self) -> None:
        """Back up: the whole book goes out again, a fresh snapshot."""
        for symbol in self._dirty:
            self._dirty[symbol] = True
        self._publish()

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
            if not (self._disconnects and self._down(ts)):
                send(TradeUpdate(ts, symbol, price, qty, side), at=ts)

        return traded

    def _publish_at(self, ts: int) -> None:
        self._pending_publish.discard(ts)
        self._publish()

    def _publish(self) -> None:
        now = self.env.now
        if self._disconnects and self._down(now):
            return
        for symbol, dirty in self._dirty.items():
            if dirty:
                self._dirty[symbol] = False
                self.links.market_data.send(_book_update(now, symbol, self.venue.markets[symbol]))

    def _conflated(self) -> Any:
        while self.env.now + self.conflation_ns < self.end:
            yield self.env.timeout(self.conflation_ns)
            self._publish()

    def _on_market_data(self, message: BookUpdate | TradeUpdate) -> None:
        if self._disconnects and self._down(self.env.now):
            return  # in flight when the link dropped
        if self._stale and isinstance(message, BookUpdate):
            self._stale = False
            self.strategy.on_feed_status(self.ctx, False)
        if isinstance(message, BookUpdate):
            self.strategy.on_book(self.ctx, message)
        else:
            self.strategy.on_trade(self.ctx, message)

    # --- responses and timers ------------------------------------------------------------------
    def _on_link_response(self, message: Any) -> None:
        self.client.on_response(message)

    def _on_give_up(self, body: Body, reject: GatewayReject) -> None:
        self.strategy.on_throttled(self.ctx, reject)

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
