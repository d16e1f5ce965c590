"""The venue: matching engines, accounts, mark price and funding, journaling every state change.

Engines answer with events; the venue settles fills in the ledger, tells engines about position
changes (which may cut reduce-only orders, giving more events), journals everything in the order
it happened and sends each agent its own events down its response link. Requests arrive when their
uplink delivers them, so they carry `env.now`; market data arrives from the Tape, which may run
ahead of the clock, so everything it causes carries the tick's timestamp.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import simpy

from harness import journal as jk
from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.venue.exchange.l2book import ASK, BID
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import (
    PUBLIC,
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Fill,
    Liquidity,
    OrderType,
    Reason,
    Rejected,
    Request,
    Side,
    Triggered,
)
from harness.venue.exchange.requests import Amend, Cancel, CancelAll, Submit, VenueRequest
from harness.venue.guardrails.gate import Guardrails, GuardrailSettings
from harness.venue.ledger.accounts import EXTERNAL, FillResult, Ledger
from harness.venue.ledger.funding import (
    average_premium,
    impact_price,
    premium_index,
    rate_e8_toward_zero,
)
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.mark_price import MarkMethod, MarkPrice
from harness.venue.liquidation.adl import AdlMethod
from harness.venue.liquidation.insurance_fund import InsuranceFund, Record
from harness.venue.liquidation.liquidator import Liquidator, LiquidatorSettings
from harness.venue.liquidation.queue import LiquidationQueue
from harness.venue.liquidation.risk_engine import DEFAULT_WARNING_LEVELS, RiskEngine

HOUR_NS = 3_600_000_000_000
PREMIUM_SAMPLE_NS = 5_000_000_000

Responder = Callable[[Event, int], object]


@dataclass(frozen=True)
class VenueSettings:
    mark_method: MarkMethod = "binance"
    mark_interval_ns: int = 1_000_000_000
    journal_mark_every_ns: int = 1_000_000_000
    index_proxy: str = "mid"
    """What stands in for the index when the data has none: the book's mid or the last trade."""
    clearance_fee: Fraction = Fraction(5, 1000)
    liquidations_per_s: int = 10
    insurance_fund_units: int = 0
    warning_levels: tuple[Fraction, ...] = tuple(DEFAULT_WARNING_LEVELS)
    adl_method: AdlMethod = AdlMethod.BINANCE
    guardrails: GuardrailSettings = field(default_factory=GuardrailSettings)


class Market:
    """One symbol: the Tape's feed target, and the venue's state for it."""

    def __init__(self, venue: Venue, instrument: Instrument, engine: MatchingEngine) -> None:
        self.venue = venue
        self.symbol = instrument.symbol
        self.instrument = instrument
        self.engine = engine
        interval = instrument.funding.interval_hours * HOUR_NS
        self.mark_price = MarkPrice(venue.settings.mark_method, interval)
        self.funding_interval_ns = interval
        self.mark_from_data: int | None = None
        self.index_from_data: int | None = None
        self.rate_from_data: Fraction | None = None
        self.premiums: list[Fraction] = []
        self.book_listeners: list[Callable[[int], None]] = []
        """Told of each instant at which depth rows arrive, once, right after its first row: the
        Tape applies every row of an instant before anything scheduled can run, so hearing of
        the others too could tell a listener nothing new (and would cost a call per level)."""
        self.trade_listeners: list[Callable[[int, int, int, int], None]] = []
        self._book_heard_at: int | None = None
        self._on_depth = engine.on_depth
        self._on_depth_levels = engine.on_depth_levels

    # --- SymbolFeed: called by the Tape, in tick time ---------------------------------------
    def reset_book(self, ts: int) -> None:
        self.engine.clear()

    def depth(self, ts: int, side: int, price: int, qty: int) -> None:
        self.depth_levels(ts, [side], [price], [qty])

    def depth_levels(self, ts: int, sides: list[int], prices: list[int], qtys: list[int]) -> None:
        """The levels of one depth message in order, in one call rather than one per level.

        Listeners hear of an instant right after its first level applies, so whatever that
        level caused is scheduled before the publication they schedule.
        """
        if ts != self._book_heard_at and sides:
            events = self._on_depth(sides[0], prices[0], qtys[0], ts)
            if events:
                self.venue.handle(events, ts)
            self._book_heard_at = ts
            for listener in self.book_listeners:
                listener(ts)
            sides, prices, qtys = sides[1:], prices[1:], qtys[1:]
        self._on_depth_levels(sides, prices, qtys, ts, self.venue.handle)

    def trade(self, ts: int, price: int, qty: int, side: int) -> None:
        events = self.engine.on_trade(price, qty, side, ts)
        if events:
            self.venue.handle(events, ts)
        for listener in self.trade_listeners:
            listener(ts, price, qty, side)

    def top(self, ts: int, bid: int, bid_qty: int, ask: int, ask_qty: int) -> None:
        """Recorded book tickers are a check on the rebuild, not an input to the venue."""

    def recorded_mark(
        self, ts: int, mark: int, index: int | None, rate: Fraction | None, next_funding: int | None
    ) -> None:
        self.mark_from_data = mark
        self.index_from_data = index
        if rate is not None:
            self.rate_from_data = rate

    def recorded_funding(self, ts: int, rate: Fraction) -> None:
        self.rate_from_data = rate

    # --- prices ------------------------------------------------------------------------------
    def mid2(self, ts: int) -> int | None:
        """Twice the mid of what sim takers can still take: levels they ate do not count, so
        forced executions move the mid, and the mark with it."""
        bid, ask = self.engine.best_visible(BID, ts), self.engine.best_visible(ASK, ts)
        if bid is None or ask is None:
            return None
        return bid + ask

    def index(self) -> Fraction | None:
        """The recorded index, else the scenario's proxy (None for the mid: the mark's default)."""
        if self.index_from_data is not None:
            return Fraction(self.index_from_data)
        if self.venue.settings.index_proxy == "last" and self.engine.last is not None:
            return Fraction(self.engine.last)
        return None

    def sample_mark(self, ts: int) -> int | None:
        index = self.index()
        return self.mark_price.sample(
            now_ns=ts,
            mid2=self.mid2(ts),
            last=self.engine.last,
            index=index,
            recorded=self.mark_from_data,
            funding_rate=self.rate_from_data or Fraction(0),
            next_funding_ns=(ts // self.funding_interval_ns + 1) * self.funding_interval_ns,
        )

    def sample_premium(self, ts: int) -> None:
        inst = self.instrument
        notional = inst.impact_notional
        book = self.engine.book

        def walk(side: int) -> Fraction | None:
            levels = ((inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in book.levels(side))
            return impact_price(levels, notional)

        bid, ask = walk(BID), walk(ASK)
        mid2 = self.mid2(ts)
        if bid is None or ask is None or mid2 is None:
            return
        index_ticks = self.index()
        if index_ticks is None:
            index_ticks = Fraction(mid2, 2)
        self.premiums.append(premium_index(bid, ask, inst.tick_size * index_ticks))


class Venue:
    def __init__(
        self,
        env: SimEnv,
        journal: Journal,
        instruments: Mapping[str, Instrument],
        settings: VenueSettings,
        engine_config: Callable[[Instrument], EngineConfig] | None = None,
    ) -> None:
        self.env = env
        self.journal = journal
        self.settings = settings
        self.ledger = Ledger(instruments.values())
        order_ids = itertools.count(1)
        make_config = engine_config or (lambda i: EngineConfig.from_instrument(i.symbol, i))
        self.markets: dict[str, Market] = {}
        for symbol, inst in instruments.items():
            engine = MatchingEngine(make_config(inst), self._position_of, order_ids.__next__)
            self.markets[symbol] = Market(self, inst, engine)
        self.responders: dict[str, Responder] = {}
        self.marks: dict[str, int] = {}
        self._tracked: dict[int, Side] = {}
        self.fund = InsuranceFund(self.ledger)
        if settings.insurance_fund_units > 0:
            self.journal_record(self.fund.seed(settings.insurance_fund_units, env.now))
        self.risk = RiskEngine(self.ledger, settings.warning_levels)
        self.queue = LiquidationQueue(settings.liquidations_per_s)
        self.liquidator = Liquidator(
            self.ledger,
            {symbol: market.engine for symbol, market in self.markets.items()},
            self.fund,
            LiquidatorSettings(
                clearance_fee=settings.clearance_fee, adl_method=settings.adl_method
            ),
            settle=self.handle,
            emit=self.journal_record,
        )
        self.guardrails = Guardrails(settings.guardrails, self.ledger)
        self._draining: set[str] = set()
        self._pending_taker: Fill | None = None

    def _position_of(self, account: str, symbol: str) -> int:
        if account not in self.ledger.accounts:
            return 0
        return self.ledger.position(account, symbol).qty

    # --- accounts ----------------------------------------------------------------------------
    def open_account(
        self,
        name: str,
        balance_units: int,
        *,
        leverage: int,
        isolated: bool,
        fee_tier: str,
        responder: Responder | None = None,
    ) -> None:
        self.ledger.open_account(name, fee_tier=fee_tier)
        if balance_units > 0:
            self.ledger.deposit(name, balance_units)
        for symbol in self.markets:
            self.ledger.set_leverage(name, symbol, leverage)
            if isolated:
                self.ledger.set_margin_mode(name, symbol, True)
        if responder is not None:
            self.responders[name] = responder
        self.risk.update_account(name)
        self.journal.append(
            self.env.now, jk.BALANCE, name, "", wallet=balance_units, reason="deposit"
        )

    # --- requests from agents, at env.now ----------------------------------------------------
    def on_request(self, message: VenueRequest) -> None:
        ts = self.env.now
        engine = self.markets[message.symbol].engine
        events: list[Event]
        if isinstance(message, Submit):
            rejected = self._guardrail_reject(message, ts) or self._margin_reject(message, ts)
            events = [rejected] if rejected else engine.submit(message.request, ts)
            request = message.request
            for trip in self.guardrails.band_trips(engine, request.side, request.price, events, ts):
                self.journal_record(trip)
        elif isinstance(message, Cancel):
            events = engine.cancel_by_client_id(message.account, message.client_id, ts)
        elif isinstance(message, CancelAll):
            events = engine.cancel_all(message.account, ts)
        elif isinstance(message, Amend):
            order = engine.order_by_client_id(message.account, message.client_id)
            if order is None or self.guardrails.halted(message.symbol, ts):
                reason = Reason.UNKNOWN_ORDER if order is None else Reason.HALTED
                events = [
                    Rejected(
                        ts,
                        message.symbol,
                        0,
                        message.client_id,
                        message.account,
                        Request.AMEND,
                        reason,
                    )
                ]
            else:
                events = engine.amend(
                    order.order_id, ts, new_qty=message.qty, new_price=message.price
                )
                trips = self.guardrails.band_trips(engine, order.side, message.price, events, ts)
                for trip in trips:
                    self.journal_record(trip)
        self.handle(events, ts)

    def _guardrail_reject(self, message: Submit, ts: int) -> Rejected | None:
        """Halt, reduce-only mode and max position (`guardrail_gate`); the trip is journaled."""
        request = message.request
        mark = self.marks.get(message.symbol)
        price = request.price if request.price is not None else mark
        marks = self._marks_or(price, message.symbol) if price is not None else self.marks
        refused = self.guardrails.admit(message.symbol, request, price, marks, ts)
        if refused is None:
            return None
        reason, trip = refused
        if trip is not None:
            self.journal_record(trip)
        client_id = request.client_id or ""
        return Rejected(ts, message.symbol, 0, client_id, request.account, Request.SUBMIT, reason)

    def _margin_reject(self, message: Submit, ts: int) -> Rejected | None:
        request = message.request
        market = self.markets[message.symbol]
        mark = self.marks.get(message.symbol)
        price = request.price if request.price is not None else request.stop_price
        if price is None:
            price = mark if mark is not None else market.engine.last
        if price is None or request.qty <= 0:
            return None  # the engine rejects what cannot be priced
        check = self.ledger.initial_margin_check(
            request.account,
            message.symbol,
            int(request.side),
            request.qty,
            price,
            self._marks_or(price, message.symbol),
            reduce_only=request.reduce_only,
        )
        if check.ok:
            return None
        return Rejected(
            ts,
            message.symbol,
            0,
            request.client_id or "",
            request.account,
            Request.SUBMIT,
            Reason.INSUFFICIENT_MARGIN,
        )

    def _marks_or(self, fallback: int, symbol: str) -> dict[str, int]:
        marks = dict(self.marks)
        marks.setdefault(symbol, fallback)
        return marks

    # --- engine events -----------------------------------------------------------------------
    def handle(self, events: list[Event], ts: int) -> None:
        for event in events:
            if isinstance(event, Fill):
                self._fill(event, ts)
            else:
                self._journal_event(event, ts)
                self._track(event)
            responder = self.responders.get(event.account)
            if responder is not None:
                responder(event, ts)

    def _fill(self, fill: Fill, ts: int) -> None:
        if fill.counterparty == PUBLIC:
            result = self.ledger.apply_fill(
                fill.account,
                fill.symbol,
                int(fill.side),
                fill.qty,
                fill.price,
                fill.liquidity is Liquidity.MAKER,
                order_id=self._ledger_order(fill),
            )
            self._settled(fill, result, ts)
            return
        if fill.liquidity is Liquidity.TAKER:
            self._pending_taker = fill
            return
        taker = self._pending_taker
        assert taker is not None and taker.match_id == fill.match_id, "maker fill without taker"
        self._pending_taker = None
        taker_result, maker_result = self.ledger.apply_match(
            fill.symbol,
            fill.qty,
            fill.price,
            taker.account,
            int(taker.side),
            fill.account,
            taker_order_id=self._ledger_order(taker),
            maker_order_id=self._ledger_order(fill),
        )
        self._settled(taker, taker_result, ts)
        self._settled(fill, maker_result, ts)

    def _ledger_order(self, fill: Fill) -> int | None:
        """The order id the ledger knows (resting limits), so it releases their margin."""
        return fill.order_id if fill.order_id in self._tracked else None

    def _settled(self, fill: Fill, result: FillResult, ts: int) -> None:
        self.journal.append(
            ts,
            jk.FILL,
            fill.account,
            fill.symbol,
            order_id=fill.order_id,
            client_id=fill.client_id,
            side=int(fill.side),
            price=fill.price,
            qty=fill.qty,
            liquidity=str(fill.liquidity),
            counterparty=fill.counterparty,
            leaves=fill.leaves,
            match_id=fill.match_id,
        )
        self.journal.append(ts, jk.FEE, fill.account, fill.symbol, fee=result.fee)
        self.journal.append(
            ts,
            jk.POSITION,
            fill.account,
            fill.symbol,
            before=result.position_before,
            after=result.position_after,
            realized_pnl=result.realized_pnl,
        )
        self._track(fill)
        self.risk.update_account(fill.account)
        if result.position_after != result.position_before:
            engine = self.markets[fill.symbol].engine
            more = engine.on_position_change(fill.account, result.position_after, ts)
            if more:
                self.handle(more, ts)

    def _journal_event(self, event: Event, ts: int) -> None:
        head: dict[str, jk.Value] = {"order_id": event.order_id, "client_id": event.client_id}
        if isinstance(event, Accepted):
            self.journal.append(
                ts,
                jk.ORDER_ACCEPTED,
                event.account,
                event.symbol,
                **head,
                side=int(event.side),
                type=str(event.order_type),
                tif=str(event.tif),
                price=event.price if event.price is not None else 0,
                stop_price=event.stop_price if event.stop_price is not None else 0,
                qty=event.qty,
                reduce_only=event.reduce_only,
            )
        elif isinstance(event, Rejected):
            self.journal.append(
                ts,
                jk.ORDER_REJECTED,
                event.account,
                event.symbol,
                **head,
                request=str(event.request),
                reason=str(event.reason),
            )
        elif isinstance(event, Cancelled | Expired):
            kind = jk.ORDER_CANCELLED if isinstance(event, Cancelled) else jk.ORDER_EXPIRED
            self.journal.append(
                ts,
                kind,
                event.account,
                event.symbol,
                **head,
                reason=str(event.reason),
                leaves=event.leaves,
            )
        elif isinstance(event, Triggered):
            self.journal.append(
                ts,
                jk.ORDER_TRIGGERED,
                event.account,
                event.symbol,
                **head,
                source=str(event.source),
                trigger_price=event.trigger_price,
            )
        elif isinstance(event, Amended):
            self.journal.append(
                ts,
                jk.ORDER_AMENDED,
                event.account,
                event.symbol,
                **head,
                qty=event.qty,
                price=event.price if event.price is not None else 0,
                leaves=event.leaves,
                kept_priority=event.kept_priority,
                reason=str(event.reason),
            )

    def _track(self, event: Event) -> None:
        """Keep the ledger's open orders (which count toward initial margin) in step.

        The ledger consumes an order on each fill that names it; the venue registers resting
        limit orders when accepted, re-registers them when amended and removes them when they
        end without filling.
        """
        order_id = event.order_id
        if isinstance(event, Accepted):
            if event.order_type is OrderType.LIMIT and event.price is not None:
                self._register(event, event.side, event.qty, event.price)
        elif isinstance(event, Fill):
            if event.leaves == 0:
                self._tracked.pop(order_id, None)
        elif isinstance(event, Amended) and order_id in self._tracked:
            side = self._tracked.pop(order_id)
            self.ledger.remove_order(order_id)
            if event.leaves > 0 and event.price is not None:
                self._register(event, side, event.leaves, event.price)
        elif isinstance(event, Cancelled | Expired) and order_id in self._tracked:
            del self._tracked[order_id]
            self.ledger.remove_order(order_id)

    def _register(self, event: Event, side: Side, qty: int, price: int) -> None:
        reduce_only = isinstance(event, Accepted) and event.reduce_only
        self.ledger.add_order(
            event.order_id, event.account, event.symbol, int(side), qty, price, reduce_only
        )
        self._tracked[event.order_id] = side

    # --- periodic processes ------------------------------------------------------------------
    def mark_process(self, end: int) -> Generator[simpy.Event, Any, None]:
        """Sample every symbol's mark on the mark interval; journal it on its own cadence."""
        env = self.env
        interval = self.settings.mark_interval_ns
        every = self.settings.journal_mark_every_ns
        next_journal = env.now
        guardrails = self.guardrails
        while env.now + interval < end:
            yield env.timeout(interval)
            ts = env.now
            for change in guardrails.apply_schedule(ts):
                self.journal_record(change)
                self._reindex(str(change["symbol"]))
            for symbol, market in self.markets.items():
                mark = market.sample_mark(ts)
                if mark is None:
                    continue
                self.marks[symbol] = mark
                trip = guardrails.on_mark(symbol, mark, ts)
                if trip is not None:
                    self.journal_record(trip)
                # A halted engine hears no mark, so nothing triggers there (guardrail_gate).
                events = [] if guardrails.halted(symbol, ts) else market.engine.on_mark(mark, ts)
                if events:
                    self.handle(events, ts)
                if ts >= next_journal:
                    self.journal.append(
                        ts, jk.MARK, "", symbol, mark=mark, last=market.engine.last or 0
                    )
            if len(self.marks) == len(self.markets):
                for symbol in self.markets:
                    self._check_margins(symbol, ts)
            if ts >= next_journal:
                next_journal = ts + every

    def funding_process(self, end: int) -> Generator[simpy.Event, Any, None]:
        """Premium samples every 5 s; settlement at each funding time inside the window."""
        env = self.env
        while env.now + PREMIUM_SAMPLE_NS < end:
            yield env.timeout(PREMIUM_SAMPLE_NS - env.now % PREMIUM_SAMPLE_NS)
            ts = env.now
            for symbol, market in self.markets.items():
                market.sample_premium(ts)
                if ts % market.funding_interval_ns == 0:
                    self._settle_funding(symbol, market, ts)

    def _settle_funding(self, symbol: str, market: Market, ts: int) -> None:
        mark = self.marks.get(symbol)
        if mark is None:
            return
        if market.rate_from_data is not None:
            rate = market.rate_from_data
        elif market.premiums:
            rate = market.instrument.funding.rate(average_premium(market.premiums))
        else:
            return
        market.premiums.clear()
        result = self.ledger.apply_funding(symbol, rate_e8_toward_zero(rate), mark)
        for account, paid in result.payments.items():
            self.journal.append(
                ts, jk.FUNDING, account, symbol, rate_e8=result.rate, mark=mark, paid=paid
            )
            self.risk.update_account(account)

    # --- the liquidation path --------------------------------------------------------------------
    def journal_record(self, entry: Record) -> None:
        fields = {k: v for k, v in entry.items() if k not in ("ts", "kind", "account", "symbol")}
        self.journal.append(
            int(entry["ts"]),
            str(entry["kind"]),
            str(entry["account"]),
            str(entry["symbol"]),
            **fields,
        )

    def _check_margins(self, symbol: str, ts: int) -> None:
        """Margin calls for the band, and accounts due for liquidation into the queue."""
        check = self.risk.check(symbol, self.marks, ts)
        for entry in check.records:
            self.journal_record(entry)
        for due in check.due:
            if not due.isolated and self._cross_waiting(due.account_id):
                continue  # the cross account is liquidated whole, from one queue
            queued = self.queue.push(due.account_id, due.symbol, due.ratio, ts)
            if queued is not None:
                self.journal_record(queued)
                self._schedule_drain(due.symbol)

    def _cross_waiting(self, account_id: str) -> bool:
        positions = self.ledger.account(account_id).positions
        return any(
            self.queue.waiting(account_id, symbol)
            for symbol, pos in positions.items()
            if pos.qty and not pos.isolated
        )

    def _reindex(self, symbol: str) -> None:
        """Re-index every account holding `symbol` (its brackets changed)."""
        for account_id, account in self.ledger.accounts.items():
            pos = account.positions.get(symbol)
            if pos is not None and pos.qty:
                self.risk.update_account(account_id)

    def _schedule_drain(self, symbol: str) -> None:
        if symbol in self._draining:
            return
        self._draining.add(symbol)
        at = max(self.env.now, self.queue.next_free_ns(symbol))
        at = max(at, self.guardrails.halted_until(symbol))  # a halted engine liquidates nothing
        self.env.call_at(at, lambda: self._drain(symbol))

    def _drain(self, symbol: str) -> None:
        """Start the next liquidation of `symbol` (the engine's throughput allows one per slot)."""
        self._draining.discard(symbol)
        now = self.env.now
        if self.guardrails.halted(symbol, now):
            self._schedule_drain(symbol)
            return
        popped = self.queue.pop(symbol, now)
        if popped is not None:
            item, dequeued = popped
            self.journal_record(dequeued)
            # The liquidator journals its records itself (`emit`), in step with the engine's.
            for entry in self.liquidator.liquidate(item.account_id, symbol, self.marks, now):
                if entry["kind"] == jk.ADL and entry["account"] != EXTERNAL:
                    self.risk.update_account(str(entry["account"]))
            for entry in self.liquidator.reset_negative_balances(item.account_id, now):
                self.journal_record(entry)
            self.risk.update_account(item.account_id)
        if self.queue.length(symbol):
            self._schedule_drain(symbol)
