"""Requests that arrive after the world changed: what the engine does with them.

Latency links will deliver these later; here the engine sees them in the order they arrive.
"""

from __future__ import annotations

import random

from harness.venue.exchange.l2book import ASK, BID
from harness.venue.exchange.matching import MatchingEngine
from harness.venue.exchange.orders import (
    Accepted,
    Amended,
    Cancelled,
    Event,
    Fill,
    Liquidity,
    OrderStatus,
    OrderType,
    Reason,
    Rejected,
    Request,
    Side,
    StpMode,
    TimeInForce,
)
from harness.venue.exchange.queue_position import QueueModel
from tests.venue.test_matching import BUY, SELL, P, Positions, kinds, make, of, order, seed


def test_a_cancel_after_a_partial_fill_cancels_the_rest_and_the_fill_stands() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    oid = engine.submit(order("a", BUY, 5, P - 1), 1)[0].order_id
    filled = engine.on_trade(P - 1, 2, SELL, 2)  # happens while the cancel is in flight
    assert [f.qty for f in of(filled, Fill)] == [2]

    events = engine.cancel(oid, 3)
    assert kinds(events) == ["cancelled"]
    cancelled = of(events, Cancelled)[0]
    assert (cancelled.leaves, cancelled.reason) == (3, Reason.USER_CANCEL)
    again = of(engine.cancel(oid, 4), Rejected)[0]
    assert (again.reason, again.request) == (Reason.UNKNOWN_ORDER, Request.CANCEL)


def test_a_cancel_after_a_complete_fill_is_unknown() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    oid = engine.submit(order("a", BUY, 2, P - 1), 1)[0].order_id
    engine.on_trade(P - 1, 2, SELL, 2)
    assert of(engine.cancel(oid, 3), Rejected)[0].reason is Reason.UNKNOWN_ORDER


def test_a_post_only_order_the_book_moved_through_in_flight_is_rejected_on_arrival() -> None:
    engine = make()
    seed(engine, [(P - 2, 5)], [(P, 5)])
    # The client saw the ask at P and sent a bid at P-1; on the way, asks dropped to P-1.
    engine.on_depth(ASK, P - 1, 3, 1)
    events = engine.submit(order("a", BUY, 2, P - 1, tif=TimeInForce.GTX), 2)
    assert kinds(events) == ["rejected"]
    assert of(events, Rejected)[0].reason is Reason.POST_ONLY_WOULD_TAKE
    assert engine.visible(ASK, P - 1) == 3


def test_a_reduce_only_exit_after_the_position_shrank_is_cut_or_refused() -> None:
    positions = Positions(a=5)
    engine = make(positions)
    seed(engine, [(P - 1, 10)], [(P + 1, 10)])
    # A liquidation took 3 lots while the exit was in flight: the caller's position says 2.
    positions["a"] = 2
    events = engine.submit(order("a", SELL, 5, type=OrderType.MARKET, reduce_only=True), 1)
    assert of(events, Accepted)[0].qty == 2
    assert [f.qty for f in of(events, Fill)] == [2]
    positions["a"] = 0
    late = engine.submit(order("a", SELL, 5, type=OrderType.MARKET, reduce_only=True), 2)
    assert of(late, Rejected)[0].reason is Reason.REDUCE_ONLY_WOULD_INCREASE


def test_a_resting_reduce_only_order_is_cut_in_the_same_call_as_the_fill_that_shrank_it() -> None:
    positions = Positions(a=5)
    engine = make(positions)
    seed(engine, [(P - 5, 10)], [(P + 5, 10)])
    exit_id = engine.submit(order("a", SELL, 3, P + 1), 1)[0].order_id
    tp_id = engine.submit(order("a", SELL, 5, P + 3, reduce_only=True), 2)[0].order_id
    # A buyer lifts our plain exit; position_of still says 5 until the caller applies the fill.
    events = engine.on_trade(P + 1, 3, BUY, 3)
    assert [(f.order_id, f.qty) for f in of(events, Fill)] == [(exit_id, 3)]
    cut = of(events, Amended)[0]
    assert (cut.order_id, cut.qty, cut.reason) == (tp_id, 2, Reason.REDUCE_ONLY_CUT)
    positions["a"] = 2
    # An aggressive exit for the rest leaves nothing to reduce: the take-profit goes.
    events = engine.submit(order("a", SELL, 2, type=OrderType.MARKET), 4)
    assert [c.order_id for c in of(events, Cancelled)] == [tp_id]
    assert engine.open_orders("a") == []


def test_an_amend_below_what_already_filled_cancels_the_rest() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    oid = engine.submit(order("a", BUY, 5, P - 1), 1)[0].order_id
    engine.on_trade(P - 1, 3, SELL, 2)  # the client meant 5 -> 2 but 3 already filled
    events = engine.amend(oid, 3, new_qty=2)
    assert kinds(events) == ["cancelled"]
    cancelled = of(events, Cancelled)[0]
    assert (cancelled.reason, cancelled.leaves) == (Reason.AMEND_BELOW_FILLED, 2)
    assert engine.order(oid) is None


def test_an_amend_above_what_already_filled_keeps_the_fills_and_shrinks_the_rest() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    oid = engine.submit(order("a", BUY, 5, P - 1), 1)[0].order_id
    engine.on_trade(P - 1, 3, SELL, 2)
    amended = of(engine.amend(oid, 3, new_qty=4), Amended)[0]
    assert (amended.qty, amended.leaves, amended.kept_priority) == (4, 1, True)
    live = engine.order(oid)
    assert live is not None and live.status is OrderStatus.PARTIALLY_FILLED
    assert of(engine.amend(999, 4, new_qty=1), Rejected)[0].reason is Reason.UNKNOWN_ORDER


def _check(engine: MatchingEngine, events: list[Event], filled: dict[int, int]) -> None:
    """Invariants that must hold after every call, whatever happened."""
    by_match: dict[int, list[Fill]] = {}
    for event in events:
        if isinstance(event, Fill):
            filled[event.order_id] = filled.get(event.order_id, 0) + event.qty
            by_match.setdefault(event.match_id, []).append(event)
    for pair in by_match.values():
        if len(pair) == 2:
            taker, maker = pair
            assert (taker.liquidity, maker.liquidity) == (Liquidity.TAKER, Liquidity.MAKER)
            assert taker.side == -maker.side
            assert (taker.price, taker.qty) == (maker.price, maker.qty)
        else:
            assert len(pair) == 1
    best_bid = best_ask = None
    for account in ("a", "b", "c"):
        for live in engine.open_orders(account):
            assert live.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
            assert 0 < live.leaves <= live.qty and live.filled == filled.get(live.order_id, 0)
            if live.is_waiting_stop:
                continue
            assert live.price is not None
            assert 0 <= live.queue_ahead <= engine.visible(live.side, live.price)
            # No visible public liquidity may sit at or through a resting sim order.
            for price, _ in engine.book.levels(-live.side):
                if (price - live.price) * live.side > 0:
                    break
                assert engine.visible(-live.side, price) == 0
            if live.side is Side.BUY:
                best_bid = live.price if best_bid is None else max(best_bid, live.price)
            else:
                best_ask = live.price if best_ask is None else min(best_ask, live.price)
    assert best_bid is None or best_ask is None or best_bid < best_ask


def _random_session(seed_value: int, model: QueueModel) -> list[Event]:
    rng = random.Random(seed_value)
    positions = Positions()
    engine = make(positions, queue_model=model, max_open_orders=8)
    seed(engine, [(P - i, rng.randint(1, 9)) for i in range(1, 6)], [(P + i, 5) for i in range(6)])
    filled: dict[int, int] = {}
    log: list[Event] = []
    for ts in range(1, 600):
        roll = rng.random()
        side = rng.choice((BUY, SELL))
        price = P + rng.randint(-4, 4)
        live = [o.order_id for account in "abc" for o in engine.open_orders(account)]
        target = rng.choice(live) if live and rng.random() < 0.8 else rng.randint(1, ts)
        if roll < 0.35:
            # Public data stays uncrossed around P: bids below it, asks above.
            book_side = rng.choice((BID, ASK))
            level = P - book_side * rng.randint(1, 6)
            events = engine.on_depth(book_side, level, rng.choice((0, 1, 4, 9)), ts)
        elif roll < 0.5:
            hit = P + side * rng.randint(0, 6)
            events = engine.on_trade(hit, rng.randint(1, 6), side, ts)
        elif roll < 0.55:
            events = engine.on_mark(price, ts)
        elif roll < 0.85:
            kind = rng.choice(list(OrderType))
            events = engine.submit(
                order(
                    rng.choice("abc"),
                    side,
                    rng.randint(1, 6),
                    None if kind in (OrderType.MARKET, OrderType.STOP_MARKET) else price,
                    type=kind,
                    tif=rng.choice(list(TimeInForce)),
                    reduce_only=rng.random() < 0.2,
                    stop_price=price + side * 3 if kind.startswith("STOP") else None,
                    stp=rng.choice(list(StpMode)),
                ),
                ts,
            )
        elif roll < 0.92:
            events = engine.cancel(target, ts)
        else:
            new_price = price if rng.random() < 0.5 else None
            events = engine.amend(target, ts, new_qty=rng.randint(1, 6), new_price=new_price)
        _check(engine, events, filled)
        for event in events:
            if isinstance(event, Fill):
                positions[event.account] = positions.get(event.account, 0) + event.side * event.qty
        log += events
    return log


def test_random_sessions_keep_the_invariants_and_replay_identically() -> None:
    for seed_value in range(6):
        model = (QueueModel.TRADES_ONLY, QueueModel.PROPORTIONAL)[seed_value % 2]
        first = _random_session(seed_value, model)
        assert any(isinstance(event, Fill) for event in first)
        assert first == _random_session(seed_value, model)
