"""The matching engine of one symbol: sim orders against the recorded public book and each other.

The public book is rebuilt from data and cannot react to sim orders, so the engine layers three
approximations on it, each simple to state (where one flatters the sim trader, it says so):

- Consumed liquidity. A sim taker walks the visible levels; what it takes from a public level is
  remembered as `consumed` and subtracted from that level's size until the data next sets the level
  (`on_depth` or a snapshot), which resets it: the data's new size is the best estimate there is
  (optimistic when the update merely restates lots the sim already took). With a replenishment
  half-life set, updates do not reset it: the taken size decays instead (see `replenishment`),
  so a forced liquidation's footprint outlives the next update.
- Queue position. A resting sim order joins the back of the public queue at its price (behind
  every public lot visible when it arrived, ahead of later ones); see `queue_position` for how
  prints and depth updates advance it under the `trades_only` (default, the slower) and
  `proportional` models. A sim taker reaching that price meets, in order, the public lots ahead
  of each sim order, then the order, then the public lots behind the last one.
- Crossing data. A resting sim order is filled as maker, at its own price:
  * by a public print on the side it rests on, at its price (whatever of the print reaches past
    the queue ahead) or through it (a print at a worse price means the aggressor swept every better
    level; the sim orders there share the print's size, best price first, queue ahead ignored);
  * when the data shows an opposite level at or through its price (a public ask at or below a sim
    bid): the incoming public order would have hit the sim order first, so the sim order takes
    up to that level's size, which is then consumed. An uncrossed public book holds no bid at or
    above a public ask, so the sim order is treated as first in its queue. A sim order left
    across a level takes each new size the data sets there. A level being removed on the sim
    order's own side is not a fill: that may be cancels; a fill needs a print or a cross.

Other choices, all deterministic:
- Prints only touch sim orders on the side they hit (a sell-aggressor print fills resting buys).
- Self-trade prevention follows the taker's mode whatever the maker's: EXPIRE_MAKER expires the
  own resting order and the taker carries on behind it, EXPIRE_TAKER expires the taker's rest and
  leaves the maker, EXPIRE_BOTH does both, NONE lets the account trade with itself.
- Stops fire on the mark (`on_mark`) or the last price: public prints, and sim taker fills when
  `sim_fills_move_last` is set, so stop cascades through a thin book can happen inside the sim.
  Stops fired by one price run buys first (lowest stop first), then sells (highest stop first);
  a stop that would fire at once on arrival is rejected (STOP_WOULD_TRIGGER).
- Reduce-only: `position_of(account, symbol)` must return the position before the events of the
  current call; the engine adds the fills it makes within the call. At the end of every call it
  cuts (keeping priority) or cancels the resting reduce-only orders of every account it filled;
  the caller reports other position changes (liquidation, ADL) with `on_position_change`. Each
  reduce-only order is cut to the whole position on its own (orders are not netted against each
  other). A reduce-only maker never fills past the position; with nothing left to reduce it is
  cancelled instead. Waiting stops are checked when they fire, not when the position changes.
- Amend: lowering the quantity keeps priority; raising it or changing the price sends the order to
  the back (a new price may also trade at once). A new quantity at or below the filled quantity
  cancels the rest (AMEND_BELOW_FILLED, the fills stand), and a post-only order whose new price
  would take is cancelled, both as Binance USD-M does. Price band or min-notional failures reject
  the amend and keep the order. Only limit orders (and fired stop-limits) can be amended.
- Open-order limit: orders that can rest (GTC, GTX, stops) count and are limited; IOC, FOK and
  market orders never rest and are never refused for it.
- Min notional is checked on arrival at the limit price (stop price for stop-market, the mark or
  else the best opposite price for market orders); reduce-only orders are exempt.
- Price band and market take bound need a mark; before the first `on_mark` they are not applied.
- Events come back in causal order: acceptance, then each match as it happens (taker fill, then
  maker fill), then the taker's end (expiry or resting), then reduce-only adjustments, then fired
  stops with their own events, repeated until nothing more fires.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final, Protocol

from sortedcontainers import SortedDict

from harness.venue.exchange import queue_position
from harness.venue.exchange.l2book import ASK, BID, L2Book
from harness.venue.exchange.orders import (
    PUBLIC,
    Accepted,
    Amended,
    Cancelled,
    Event,
    Expired,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Reason,
    Rejected,
    Request,
    Side,
    StpMode,
    TimeInForce,
    Triggered,
    TriggerSource,
)
from harness.venue.exchange.queue_position import QueueModel
from harness.venue.exchange.replenishment import decayed
from harness.venue.exchange.stops import NEVER, StopBook, would_fire

PositionOf = Callable[[str, str], int]


class InstrumentLike(Protocol):
    @property
    def tick_size(self) -> Fraction: ...

    @property
    def lot_size(self) -> Fraction: ...

    @property
    def min_notional(self) -> Fraction: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Venue rules for one symbol. Bands are fractions of the mark (1/20 is 5%); None disables."""

    symbol: str
    tick_size: Fraction
    lot_size: Fraction
    min_notional: Fraction = Fraction(5)
    max_open_orders: int = 200
    price_band: Fraction | None = Fraction(5, 100)
    market_take_bound: Fraction | None = Fraction(5, 100)
    queue_model: QueueModel = QueueModel.TRADES_ONLY
    default_trigger: TriggerSource = TriggerSource.LAST
    default_stp: StpMode = StpMode.EXPIRE_MAKER
    sim_fills_move_last: bool = True
    replenish_half_life_ns: int | None = None
    """None: consumed liquidity comes back when the data next sets the level; else it decays."""

    @classmethod
    def from_instrument(cls, symbol: str, instrument: InstrumentLike) -> EngineConfig:
        """Venue defaults for the rest; `dataclasses.replace` the result to change them."""
        return cls(
            symbol=symbol,
            tick_size=instrument.tick_size,
            lot_size=instrument.lot_size,
            min_notional=instrument.min_notional,
        )


def _flat(account: str, symbol: str) -> int:
    return 0


class _Level:
    """Resting sim orders at one price, in time priority (dicts keep insertion order)."""

    __slots__ = ("orders", "price", "traded")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: dict[int, Order] = {}
        # Lots printed here since the last depth update (so `proportional` does not count them
        # again as cancels when the update shows the level smaller).
        self.traded = 0


_TAKE_PUBLIC: Final = 0
_MATCH: Final = 1
_STP_MAKER: Final = 2
_RO_MAKER: Final = 3


@dataclass(slots=True)
class _Plan:
    """What a taker would do, worked out before anything changes (so FOK can refuse cleanly)."""

    steps: list[tuple[int, int, int, Order | None]] = field(default_factory=list)
    qty: int = 0
    halted_by_stp: bool = False
    beyond_limit: bool = False


class MatchingEngine:
    """One symbol's venue book. Every method returns the events it caused, in causal order."""

    def __init__(
        self,
        config: EngineConfig,
        position_of: PositionOf | None = None,
        next_order_id: Callable[[], int] | None = None,
    ) -> None:
        """`next_order_id` lets several engines share one id sequence across symbols."""
        self.config = config
        self.symbol = config.symbol
        self.book: L2Book[int, int] = L2Book()
        (
            self._book_bids,
            self._book_bid_ranks,
            self._book_asks,
            self._book_ask_ranks,
        ) = self.book.level_maps()
        self.mark: int | None = None
        self.last: int | None = None
        self._position_of = position_of if position_of is not None else _flat
        self._next_id = next_order_id if next_order_id is not None else itertools.count(1).__next__
        self._match_ids = itertools.count(1)
        self._min_pq = math.ceil(config.min_notional / (config.tick_size * config.lot_size))
        # Price protection from the latest mark: (lowest sell, highest buy) in ticks.
        self._band: tuple[int, int] | None = None
        self._bound: tuple[int, int] | None = None
        # Resting sim orders by price level, best first (bids keyed by negated price).
        self._rest_bids: SortedDict = SortedDict()
        self._rest_asks: SortedDict = SortedDict()
        # Best resting sim prices, cached so the hot paths decide with integer comparisons.
        self._best_bid = -NEVER
        self._best_ask = NEVER
        self._consumed_bids: dict[int, int] = {}
        self._consumed_asks: dict[int, int] = {}
        # Decay model only: (lots, since) per consumed price, and the latest instant read.
        self._half_life = config.replenish_half_life_ns
        self._follow_data = self._half_life is None
        self._taken_bids: dict[int, tuple[int, int]] = {}
        self._taken_asks: dict[int, tuple[int, int]] = {}
        self._replenished_at = 0
        self._open: dict[int, Order] = {}
        self._by_account: dict[str, dict[int, Order]] = {}
        self._by_client: dict[tuple[str, str], Order] = {}
        self._stops = {TriggerSource.MARK: StopBook(), TriggerSource.LAST: StopBook()}
        self._last_stops = self._stops[TriggerSource.LAST]
        # Position change per account from fills made in the current call.
        self._deltas: dict[str, int] = {}
        self._out: list[Event] = []
        self._ts = 0

    # ---- public market data (hot path) ------------------------------------------------------

    def on_depth(self, side: int, price: int, qty: int, ts: int) -> list[Event]:
        """A public level's new visible size (0 removes it)."""
        # The book update is inlined (as L2Book.set_level does it, whose rank for this price is
        # -key): this runs once per level of every depth message.
        if side == BID:
            key = -price
            levels = self._book_bids
            ranks = self._book_bid_ranks
            same = self._rest_bids
            consumed = self._consumed_bids
        else:
            key = price
            levels = self._book_asks
            ranks = self._book_ask_ranks
            same = self._rest_asks
            consumed = self._consumed_asks
        if same and key in same:
            return self._depth_at_sim_level(side, price, qty, ts)
        if consumed and self._follow_data:
            consumed.pop(price, None)
        if qty > 0:
            if price not in levels:
                insort(ranks, -key)
            levels[price] = qty
            if price >= self._best_ask if side == BID else price <= self._best_bid:
                self._ts = ts
                self._cross(side, price, qty)
                return self._finish()
        elif levels.pop(price, None) is not None:
            del ranks[bisect_left(ranks, -key)]
        return []

    def on_depth_levels(
        self,
        sides: list[int],
        prices: list[int],
        qtys: list[int],
        ts: int,
        handle: Callable[[list[Event], int], object],
    ) -> None:
        """The levels of one depth message, in order; events go to `handle` as each level makes
        them, so what one level causes (a reduce-only cut) is settled before the next applies.

        Most levels touch no sim order and cross nothing: those are applied here inline, and
        only the rest take `on_depth`. This loop runs for every level of the
        tape, so its per-level cost is the replay's floor.
        """
        bids, bid_ranks = self._book_bids, self._book_bid_ranks
        asks, ask_ranks = self._book_asks, self._book_ask_ranks
        rest_bids, rest_asks = self._rest_bids, self._rest_asks
        consumed_bids, consumed_asks = self._consumed_bids, self._consumed_asks
        follow_data = self._follow_data
        # Only the slow path (or `handle`, through it) moves the best resting sim prices.
        best_bid, best_ask = self._best_bid, self._best_ask
        for side, price, qty in zip(sides, prices, qtys, strict=True):
            if side == BID:
                if (rest_bids and -price in rest_bids) or (qty > 0 and price >= best_ask):
                    events = self.on_depth(side, price, qty, ts)
                    if events:
                        handle(events, ts)
                    best_bid, best_ask = self._best_bid, self._best_ask
                    continue
                if consumed_bids and follow_data:
                    consumed_bids.pop(price, None)
                if qty > 0:
                    if price not in bids:
                        insort(bid_ranks, price)
                    bids[price] = qty
                elif bids.pop(price, None) is not None:
                    del bid_ranks[bisect_left(bid_ranks, price)]
            else:
                if (rest_asks and price in rest_asks) or (qty > 0 and price <= best_bid):
                    events = self.on_depth(side, price, qty, ts)
                    if events:
                        handle(events, ts)
                    best_bid, best_ask = self._best_bid, self._best_ask
                    continue
                if consumed_asks and follow_data:
                    consumed_asks.pop(price, None)
                if qty > 0:
                    if price not in asks:
                        insort(ask_ranks, -price)
                    asks[price] = qty
                elif asks.pop(price, None) is not None:
                    del ask_ranks[bisect_left(ask_ranks, -price)]

    def _depth_at_sim_level(self, side: int, price: int, qty: int, ts: int) -> list[Event]:
        self._ts = ts
        level = self._rest(side)[-side * price]
        queue_position.resize(
            level.orders.values(),
            self.book.qty_at(side, price) or 0,
            max(qty, 0),
            level.traded,
            self.config.queue_model,
        )
        level.traded = 0
        if self._follow_data:
            self._consumed(side).pop(price, None)
        self.book.set_level(side, price, qty)
        if qty > 0 and self._crosses_sim(side, price):
            self._cross(side, price, qty)
        return self._finish()

    def on_trade(self, price: int, qty: int, aggressor: int, ts: int) -> list[Event]:
        """A public print; `aggressor` is the taker's side (Side.BUY lifts asks)."""
        self.last = price
        reaches = self._best_bid >= price if aggressor == Side.SELL else self._best_ask <= price
        stops = self._last_stops
        if not reaches and stops.buy_at > price and stops.sell_at < price:
            return []
        self._ts = ts
        if reaches:
            self._print(-aggressor, price, qty)
        return self._finish()

    def on_snapshot(
        self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], ts: int
    ) -> list[Event]:
        """Replace the public book; sim queues keep their place, capped by the new sizes."""
        self._ts = ts
        self.clear()
        for price, qty in bids:
            self.book.set_level(BID, price, qty)
        for price, qty in asks:
            self.book.set_level(ASK, price, qty)
        for side, rest in ((BID, self._rest_bids), (ASK, self._rest_asks)):
            for level in rest.values():
                level.traded = 0
                size = self.book.qty_at(side, level.price) or 0
                queue_position.resize(level.orders.values(), 0, size, 0, QueueModel.TRADES_ONLY)
        for side in (BID, ASK):
            for price, qty in self.book.levels(side):
                if not self._crosses_sim(side, price):
                    break
                self._cross(side, price, qty)
        return self._finish()

    def clear(self) -> None:
        """Forget the public book (a data gap); resting sim orders stay."""
        self.book.clear()
        self._consumed_bids.clear()
        self._consumed_asks.clear()
        self._taken_bids.clear()
        self._taken_asks.clear()

    def on_mark(self, price: int, ts: int) -> list[Event]:
        self._ts = ts
        self.mark = price
        band, bound = self.config.price_band, self.config.market_take_bound
        if band is not None:
            self._band = (math.ceil(price * (1 - band)), math.floor(price * (1 + band)))
        if bound is not None:
            self._bound = (math.ceil(price * (1 - bound)), math.floor(price * (1 + bound)))
        return self._finish()

    # ---- sim requests -----------------------------------------------------------------------

    def submit(self, request: OrderRequest, ts: int) -> list[Event]:
        self._ts = ts
        order = self._new_order(request, ts)
        reason = self._admit(order)
        plan = _Plan()
        if reason is None and not order.is_stop:
            reason, plan = self._check_active(order)
        if reason is not None:
            order.move(OrderStatus.REJECTED)
            self._out.append(self._rejected(order, Request.SUBMIT, reason))
            return self._finish()
        order.move(OrderStatus.ACCEPTED)
        self._out.append(
            Accepted(
                *self._head(order),
                order.side,
                order.type,
                order.tif,
                order.price,
                order.stop_price,
                order.qty,
                order.reduce_only,
            )
        )
        if order.is_stop:
            self._register(order)
            self._stops[order.trigger].add(order)
        else:
            self._work(order, plan)
        return self._finish()

    def cancel(self, order_id: int, ts: int) -> list[Event]:
        """Cancel what is left; fills already made stand. A closed order gives UNKNOWN_ORDER."""
        self._ts = ts
        order = self._open.get(order_id)
        if order is None:
            self._out.append(self._unknown(order_id, "", "", Request.CANCEL))
        else:
            self._close(order, OrderStatus.CANCELLED, Reason.USER_CANCEL)
        return self._finish()

    def cancel_by_client_id(self, account: str, client_id: str, ts: int) -> list[Event]:
        self._ts = ts
        order = self._by_client.get((account, client_id))
        if order is None:
            self._out.append(self._unknown(0, client_id, account, Request.CANCEL))
        else:
            self._close(order, OrderStatus.CANCELLED, Reason.USER_CANCEL)
        return self._finish()

    def cancel_all(self, account: str, ts: int) -> list[Event]:
        """Cancel the account's open orders here (waiting stops included), oldest first."""
        self._ts = ts
        for order in list(self._by_account.get(account, {}).values()):
            self._close(order, OrderStatus.CANCELLED, Reason.CANCEL_ALL)
        return self._finish()

    def amend(
        self, order_id: int, ts: int, new_qty: int | None = None, new_price: int | None = None
    ) -> list[Event]:
        """Change a resting limit order's total quantity and/or price (see the module notes)."""
        self._ts = ts
        order = self._open.get(order_id)
        if order is None:
            self._out.append(self._unknown(order_id, "", "", Request.AMEND))
        elif order.is_waiting_stop or order.is_market:
            self._out.append(self._rejected(order, Request.AMEND, Reason.NOT_AMENDABLE))
        else:
            self._amend(order, new_qty, new_price)
        return self._finish()

    def on_position_change(self, account: str, position: int, ts: int) -> list[Event]:
        """The account's position (signed lots) changed outside this engine's fills."""
        self._ts = ts
        self._fit_reduce_only(account, position)
        return self._finish()

    # ---- queries ----------------------------------------------------------------------------

    def order(self, order_id: int) -> Order | None:
        """An open order (resting or a waiting stop); closed orders are forgotten."""
        return self._open.get(order_id)

    def order_by_client_id(self, account: str, client_id: str) -> Order | None:
        return self._by_client.get((account, client_id))

    def open_orders(self, account: str) -> list[Order]:
        return list(self._by_account.get(account, {}).values())

    def consumed(self, side: int, price: int) -> int:
        return self._consumed_reader(side, self._ts)(price)

    def visible(self, side: int, price: int) -> int:
        """Public size at a level that a sim taker could still take."""
        return max(0, (self.book.qty_at(side, price) or 0) - self.consumed(side, price))

    def best_visible(self, side: int, ts: int) -> int | None:
        """The best public price a sim taker could still take at `ts`: where the venue's own
        quotes are once sim takers (forced liquidations among them) have eaten levels."""
        missing = self._consumed_reader(side, ts)
        for price, qty in self.book.levels(side):
            if qty > missing(price):
                return price
        return None

    def _consumed_reader(self, side: int, ts: int) -> Callable[[int], int]:
        """Lots sim takers took and that have not come back, per price of `side`, as of `ts`.

        The decay model keeps (lots, since) per price and works out what is still missing when a
        price is read, so its cost follows the levels read, not the levels ever consumed. Time
        never goes back: a read at an earlier `ts` sees the latest instant read so far.
        """
        consumed = self._consumed(side)
        half_life = self._half_life
        if half_life is None:
            return lambda price: consumed.get(price, 0)
        self._replenished_at = now = max(self._replenished_at, ts)
        taken = self._taken_bids if side == BID else self._taken_asks

        def missing(price: int) -> int:
            entry = taken.get(price)
            if entry is None:
                return 0
            lots = decayed(entry[0], now - entry[1], half_life)
            if not lots:
                del taken[price]
            return lots

        return missing

    def _take(self, side: int, price: int, lots: int) -> None:
        """Sim takers took `lots` of the public level at `price`."""
        if self._half_life is None:
            consumed = self._consumed(side)
            consumed[price] = consumed.get(price, 0) + lots
            return
        still = self._consumed_reader(side, self._ts)(price)
        taken = self._taken_bids if side == BID else self._taken_asks
        taken[price] = (still + lots, self._ts)

    # ---- crossing data ----------------------------------------------------------------------

    def _print(self, side: int, price: int, qty: int) -> None:
        """A public print of `qty` at `price` hit the `side` of the book."""
        rest = self._rest(side)
        budget = qty
        # Sim levels at the print's price or better for the aggressor, best first.
        for key in list(rest.irange(maximum=-side * price)):
            level = rest.get(key)
            if level is None:
                continue
            orders = list(level.orders.values())
            if level.price == price:
                fills = queue_position.print_fills(orders, budget)
                queue_position.advance(orders, qty)
                level.traded += qty
            else:
                for order in orders:
                    order.queue_ahead = 0
                fills = queue_position.print_fills(orders, budget)
            for order, reach in fills:
                lots = self._maker_cap(order, reach)
                if lots:
                    self._fill_from_public(order, lots)
                    budget -= lots

    def _cross(self, public_side: int, price: int, size: int) -> None:
        """A public level at `price` reaches through resting sim orders of the other side."""
        rest = self._rest(-public_side)
        used = 0
        for key in list(rest.irange(maximum=public_side * price)):
            level = rest.get(key)
            if level is None:
                continue
            for order in list(level.orders.values()):
                order.queue_ahead = 0
                lots = self._maker_cap(order, min(order.leaves, size - used))
                if lots:
                    self._fill_from_public(order, lots)
                    used += lots
                if used == size:
                    break
            if used == size:
                break
        if used:
            self._take(public_side, price, used)

    def _crosses_sim(self, public_side: int, price: int) -> bool:
        return price >= self._best_ask if public_side == BID else price <= self._best_bid

    def _fill_from_public(self, order: Order, lots: int) -> None:
        assert order.price is not None
        self._fill(order, order.price, lots, Liquidity.MAKER, PUBLIC, 0, next(self._match_ids))
        if order.leaves == 0:
            self._remove(order)

    def _maker_cap(self, order: Order, lots: int) -> int:
        """Lots a resting order may fill; a reduce-only one with nothing left to reduce goes."""
        if not order.reduce_only or lots <= 0:
            return lots
        room = -order.side * self._position(order.account)
        if room <= 0:
            self._close(order, OrderStatus.CANCELLED, Reason.REDUCE_ONLY_WOULD_INCREASE)
            return 0
        return min(lots, room)

    # ---- order flow -------------------------------------------------------------------------

    def _new_order(self, request: OrderRequest, ts: int) -> Order:
        order_id = self._next_id()
        market = request.type is OrderType.MARKET or request.type is OrderType.STOP_MARKET
        return Order(
            order_id=order_id,
            client_id=request.client_id if request.client_id is not None else f"sim-{order_id}",
            account=request.account,
            side=request.side,
            type=request.type,
            qty=request.qty,
            price=request.price,
            tif=TimeInForce.IOC if market else request.tif,
            reduce_only=request.reduce_only,
            stop_price=request.stop_price,
            trigger=request.trigger or self.config.default_trigger,
            stp=request.stp or self.config.default_stp,
            ts=ts,
        )

    def _admit(self, order: Order) -> Reason | None:
        """Checks on arrival that do not depend on the book (the book's come in _check_active)."""
        if order.qty <= 0 or (order.stop_price is not None) != order.is_stop:
            return Reason.INVALID_ORDER
        if (order.price is None) != order.is_market:
            return Reason.INVALID_ORDER
        if (order.price is not None and order.price <= 0) or (
            order.stop_price is not None and order.stop_price <= 0
        ):
            return Reason.INVALID_ORDER
        if (order.account, order.client_id) in self._by_client:
            return Reason.DUPLICATE_CLIENT_ID
        can_rest = order.is_stop or order.tif is TimeInForce.GTC or order.tif is TimeInForce.GTX
        if can_rest and len(self._by_account.get(order.account, ())) >= self.config.max_open_orders:
            return Reason.MAX_OPEN_ORDERS
        if order.reduce_only:
            room = -order.side * self._position(order.account)
            if room <= 0:
                return Reason.REDUCE_ONLY_WOULD_INCREASE
            if not order.is_stop and order.qty > room:
                order.qty = room
        else:
            reference = order.price
            if reference is None:
                reference = order.stop_price if order.is_stop else self._reference(order.side)
            if reference is not None and reference * order.qty < self._min_pq:
                return Reason.MIN_NOTIONAL
        if order.is_stop:
            assert order.stop_price is not None
            now = self.mark if order.trigger is TriggerSource.MARK else self.last
            if now is not None and would_fire(order.side, order.stop_price, now):
                return Reason.STOP_WOULD_TRIGGER
        return None

    def _check_active(self, order: Order) -> tuple[Reason | None, _Plan]:
        """Checks for an order about to trade: price band, post-only, FOK; plans the match."""
        if order.is_market:
            limit = None
            if self._bound is not None:
                limit = self._bound[1] if order.side is Side.BUY else self._bound[0]
        else:
            assert order.price is not None
            limit = order.price
            if not self._band_ok(order.side, limit):
                return Reason.PRICE_BAND, _Plan()
            if order.tif is TimeInForce.GTX:
                takes = self._would_take(order.side, limit)
                return (Reason.POST_ONLY_WOULD_TAKE if takes else None), _Plan()
        plan = self._plan(order, limit)
        if order.tif is TimeInForce.FOK and plan.qty < order.leaves:
            return Reason.FOK_NOT_FILLABLE, plan
        return None, plan

    def _work(self, order: Order, plan: _Plan) -> None:
        """Execute the plan; then the rest expires or rests, as the order's type says."""
        self._execute(order, plan)
        if order.leaves == 0:
            self._unregister(order)
        elif plan.halted_by_stp:
            self._close(order, OrderStatus.EXPIRED, Reason.STP_EXPIRED)
        elif order.is_market:
            reason = Reason.MARKET_TAKE_BOUND if plan.beyond_limit else Reason.NO_LIQUIDITY
            self._close(order, OrderStatus.EXPIRED, reason)
        elif order.tif is TimeInForce.IOC or order.tif is TimeInForce.FOK:
            self._close(order, OrderStatus.EXPIRED, Reason.IOC_REMAINDER)
        else:
            self._rest_order(order)

    def _plan(self, taker: Order, limit: int | None) -> _Plan:
        plan = _Plan()
        steps = plan.steps
        sgn = int(taker.side)  # price * sgn grows as prices get worse for the taker
        remaining = taker.leaves
        deltas: dict[str, int] = {}
        for price, available, level in self._merged(-taker.side):
            if remaining == 0:
                break
            if limit is not None and price * sgn > limit * sgn:
                plan.beyond_limit = True
                break
            taken = 0
            for maker in level.orders.values() if level is not None else ():
                ahead = min(maker.queue_ahead, available) - taken
                if ahead > 0:
                    lots = min(remaining, ahead)
                    steps.append((_TAKE_PUBLIC, price, lots, None))
                    taken += lots
                    remaining -= lots
                    if remaining == 0:
                        break
                if maker.account == taker.account and taker.stp is not StpMode.NONE:
                    if taker.stp is not StpMode.EXPIRE_TAKER:
                        steps.append((_STP_MAKER, price, 0, maker))
                    if taker.stp is not StpMode.EXPIRE_MAKER:
                        plan.halted_by_stp = True
                        break
                    continue
                lots = min(remaining, maker.leaves)
                if maker.reduce_only:
                    room = -maker.side * (
                        self._position(maker.account) + deltas.get(maker.account, 0)
                    )
                    if room <= 0:
                        steps.append((_RO_MAKER, price, 0, maker))
                        continue
                    lots = min(lots, room)
                steps.append((_MATCH, price, lots, maker))
                deltas[maker.account] = deltas.get(maker.account, 0) + maker.side * lots
                remaining -= lots
                if remaining == 0:
                    break
            if plan.halted_by_stp:
                break
            lots = min(remaining, available - taken)
            if lots > 0:
                steps.append((_TAKE_PUBLIC, price, lots, None))
                remaining -= lots
        plan.qty = taker.leaves - remaining
        return plan

    def _execute(self, taker: Order, plan: _Plan) -> None:
        opposite = -taker.side
        taken: dict[int, int] = {}
        last: int | None = None
        for kind, price, lots, maker in plan.steps:
            if kind == _TAKE_PUBLIC:
                self._fill(taker, price, lots, Liquidity.TAKER, PUBLIC, 0, next(self._match_ids))
                self._take(opposite, price, lots)
                taken[price] = taken.get(price, 0) + lots
                last = price
                continue
            assert maker is not None
            if kind == _MATCH:
                match_id = next(self._match_ids)
                self._fill(
                    taker, price, lots, Liquidity.TAKER, maker.account, maker.order_id, match_id
                )
                self._fill(
                    maker, price, lots, Liquidity.MAKER, taker.account, taker.order_id, match_id
                )
                if maker.leaves == 0:
                    self._remove(maker)
                last = price
            elif kind == _STP_MAKER:
                self._close(maker, OrderStatus.EXPIRED, Reason.STP_EXPIRED)
            else:
                self._close(maker, OrderStatus.CANCELLED, Reason.REDUCE_ONLY_WOULD_INCREASE)
        rest = self._rest(opposite)
        for price, lots in taken.items():
            level = rest.get(-opposite * price)
            if level is not None:
                queue_position.advance(level.orders.values(), lots)
        if last is not None and self.config.sim_fills_move_last:
            self.last = last

    def _merged(self, side: int) -> Iterator[tuple[int, int, _Level | None]]:
        """(price, public lots left, sim level) for one side, best first, public and sim merged."""
        missing = self._consumed_reader(side, self._ts)
        sgn = -side
        public = self.book.levels(side)
        sim = iter(self._rest(side).values())
        pub = next(public, None)
        level: _Level | None = next(sim, None)
        while pub is not None or level is not None:
            if pub is not None and (level is None or pub[0] * sgn < level.price * sgn):
                yield pub[0], max(0, pub[1] - missing(pub[0])), None
                pub = next(public, None)
            elif pub is not None and level is not None and pub[0] == level.price:
                yield pub[0], max(0, pub[1] - missing(pub[0])), level
                pub, level = next(public, None), next(sim, None)
            elif level is not None:
                yield level.price, 0, level
                level = next(sim, None)

    def _would_take(self, side: int, price: int) -> bool:
        for level_price, available, level in self._merged(-side):
            if level_price * side > price * side:
                return False
            if available > 0 or level is not None:
                return True
        return False

    def _amend(self, order: Order, new_qty: int | None, new_price: int | None) -> None:
        assert order.price is not None
        qty = order.qty if new_qty is None else new_qty
        price = order.price if new_price is None else new_price
        if (new_qty is None and new_price is None) or qty <= 0 or price <= 0:
            self._out.append(self._rejected(order, Request.AMEND, Reason.INVALID_ORDER))
            return
        if qty <= order.filled:
            self._close(order, OrderStatus.CANCELLED, Reason.AMEND_BELOW_FILLED)
            return
        if order.reduce_only:
            room = -order.side * self._position(order.account)
            if room <= 0:
                self._close(order, OrderStatus.CANCELLED, Reason.REDUCE_ONLY_WOULD_INCREASE)
                return
            qty = min(qty, order.filled + room)
        if price != order.price and not self._band_ok(order.side, price):
            self._out.append(self._rejected(order, Request.AMEND, Reason.PRICE_BAND))
            return
        if not order.reduce_only and price * qty < self._min_pq:
            self._out.append(self._rejected(order, Request.AMEND, Reason.MIN_NOTIONAL))
            return
        if price != order.price:
            if order.tif is TimeInForce.GTX and self._would_take(order.side, price):
                self._close(order, OrderStatus.CANCELLED, Reason.POST_ONLY_WOULD_TAKE)
                return
            self._unrest(order)
            order.price, order.qty = price, qty
            self._out.append(self._amended(order, Reason.USER_AMEND, kept_priority=False))
            self._work(order, self._plan(order, price))
        elif qty > order.qty:
            self._unrest(order)
            order.qty = qty
            self._out.append(self._amended(order, Reason.USER_AMEND, kept_priority=False))
            self._rest_order(order)
        else:
            order.qty = qty
            self._out.append(self._amended(order, Reason.USER_AMEND, kept_priority=True))

    # ---- stops and reduce-only --------------------------------------------------------------

    def _finish(self) -> list[Event]:
        """Close a call: settle reduce-only orders and fire stops until nothing changes."""
        while True:
            for account in list(self._deltas):
                self._fit_reduce_only(account, self._position(account))
            if not self._fire_stops():
                break
        self._deltas.clear()
        out, self._out = self._out, []
        return out

    def _fire_stops(self) -> bool:
        fired = False
        for source, reference in ((TriggerSource.MARK, self.mark), (TriggerSource.LAST, self.last)):
            stops = self._stops[source]
            if reference is None or (stops.buy_at > reference and stops.sell_at < reference):
                continue
            for order in stops.pop_fired(reference):
                fired = True
                self._trigger(order, source, reference)
        return fired

    def _trigger(self, order: Order, source: TriggerSource, reference: int) -> None:
        order.triggered = True
        self._out.append(Triggered(*self._head(order), source, reference))
        if order.reduce_only:
            room = -order.side * self._position(order.account)
            if room <= 0:
                self._close(order, OrderStatus.EXPIRED, Reason.REDUCE_ONLY_WOULD_INCREASE)
                return
            if order.leaves > room:
                order.qty = order.filled + room
                self._out.append(self._amended(order, Reason.REDUCE_ONLY_CUT, kept_priority=True))
        reason, plan = self._check_active(order)
        if reason is not None:
            self._close(order, OrderStatus.EXPIRED, reason)
        else:
            self._work(order, plan)

    def _fit_reduce_only(self, account: str, position: int) -> None:
        orders = self._by_account.get(account)
        if not orders:
            return
        for order in list(orders.values()):
            if not order.reduce_only or order.is_waiting_stop:
                continue
            room = -order.side * position
            if room <= 0:
                self._close(order, OrderStatus.CANCELLED, Reason.REDUCE_ONLY_WOULD_INCREASE)
            elif order.leaves > room:
                order.qty = order.filled + room
                self._out.append(self._amended(order, Reason.REDUCE_ONLY_CUT, kept_priority=True))

    # ---- bookkeeping ------------------------------------------------------------------------

    def _position(self, account: str) -> int:
        return self._position_of(account, self.symbol) + self._deltas.get(account, 0)

    def _reference(self, side: int) -> int | None:
        if self.mark is not None:
            return self.mark
        best = self.book.best(-side)
        return None if best is None else best[0]

    def _band_ok(self, side: int, price: int) -> bool:
        if self._band is None:
            return True
        return price <= self._band[1] if side == Side.BUY else price >= self._band[0]

    def _rest(self, side: int) -> SortedDict:
        return self._rest_bids if side == BID else self._rest_asks

    def _consumed(self, side: int) -> dict[int, int]:
        return self._consumed_bids if side == BID else self._consumed_asks

    def _fill(
        self,
        order: Order,
        price: int,
        lots: int,
        liquidity: Liquidity,
        counterparty: str,
        counter_order_id: int,
        match_id: int,
    ) -> None:
        order.add_fill(lots)
        self._deltas[order.account] = self._deltas.get(order.account, 0) + order.side * lots
        self._out.append(
            Fill(
                *self._head(order),
                order.side,
                price,
                lots,
                liquidity,
                counterparty,
                counter_order_id,
                order.leaves,
                match_id,
            )
        )

    def _rest_order(self, order: Order) -> None:
        assert order.price is not None
        side, price = order.side, order.price
        rest = self._rest(side)
        key = -side * price
        level = rest.get(key)
        if level is None:
            level = rest[key] = _Level(price)
            self._refresh_best()
        order.queue_ahead = self.visible(side, price)
        level.orders[order.order_id] = order
        self._register(order)

    def _unrest(self, order: Order) -> None:
        if order.price is None:
            return
        rest = self._rest(order.side)
        key = -order.side * order.price
        level = rest.get(key)
        if level is not None:
            level.orders.pop(order.order_id, None)
            if not level.orders:
                del rest[key]
                self._refresh_best()

    def _refresh_best(self) -> None:
        bids, asks = self._rest_bids, self._rest_asks
        self._best_bid = bids.peekitem(0)[1].price if bids else -NEVER
        self._best_ask = asks.peekitem(0)[1].price if asks else NEVER

    def _register(self, order: Order) -> None:
        self._open[order.order_id] = order
        self._by_account.setdefault(order.account, {})[order.order_id] = order
        self._by_client[(order.account, order.client_id)] = order

    def _unregister(self, order: Order) -> None:
        self._open.pop(order.order_id, None)
        orders = self._by_account.get(order.account)
        if orders is not None:
            orders.pop(order.order_id, None)
            if not orders:
                del self._by_account[order.account]
        self._by_client.pop((order.account, order.client_id), None)

    def _remove(self, order: Order) -> None:
        if order.is_waiting_stop:
            self._stops[order.trigger].remove(order)
        else:
            self._unrest(order)
        self._unregister(order)

    def _close(self, order: Order, status: OrderStatus, reason: Reason) -> None:
        self._remove(order)
        order.move(status)
        event = Cancelled if status is OrderStatus.CANCELLED else Expired
        self._out.append(event(*self._head(order), reason, order.leaves))

    def _amended(self, order: Order, reason: Reason, *, kept_priority: bool) -> Amended:
        return Amended(
            *self._head(order),
            order.qty,
            order.price,
            order.leaves,
            kept_priority,
            reason,
        )

    def _rejected(self, order: Order, request: Request, reason: Reason) -> Rejected:
        return Rejected(*self._head(order), request, reason)

    def _head(self, order: Order) -> tuple[int, str, int, str, str]:
        """The fields every order event starts with."""
        return self._ts, self.symbol, order.order_id, order.client_id, order.account

    def _unknown(self, order_id: int, client_id: str, account: str, request: Request) -> Rejected:
        return Rejected(
            self._ts, self.symbol, order_id, client_id, account, request, Reason.UNKNOWN_ORDER
        )
