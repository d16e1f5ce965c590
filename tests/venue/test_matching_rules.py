"""Stops, reduce-only, price protection, min notional and the open-order limit."""

from __future__ import annotations

from fractions import Fraction

from harness.venue.exchange.orders import (
    Accepted,
    Amended,
    Cancelled,
    Expired,
    Fill,
    OrderType,
    Reason,
    Rejected,
    TimeInForce,
    Triggered,
    TriggerSource,
)
from tests.venue.test_matching import BUY, SELL, P, Positions, kinds, make, of, order, seed


def test_a_mark_stop_ignores_prints_and_fires_on_the_mark() -> None:
    engine = make()
    seed(engine, [(P - 11, 1), (P - 12, 5)], [(P, 5)])
    engine.on_mark(P, 0)
    engine.on_trade(P, 1, SELL, 0)
    request = order(
        "a", SELL, 3, type=OrderType.STOP_MARKET, stop_price=P - 10, trigger=TriggerSource.MARK
    )
    stop_id = engine.submit(request, 1)[0].order_id
    assert engine.on_trade(P - 20, 1, SELL, 2) == []
    assert engine.order(stop_id) is not None

    events = engine.on_mark(P - 10, 3)
    assert kinds(events) == ["triggered", "fill", "fill"]
    trig = of(events, Triggered)[0]
    assert trig.source is TriggerSource.MARK and trig.trigger_price == P - 10
    assert [(f.price, f.qty) for f in of(events, Fill)] == [(P - 11, 1), (P - 12, 2)]
    assert engine.order(stop_id) is None


def test_a_last_price_stop_ignores_the_mark_and_fires_on_a_print() -> None:
    engine = make()
    seed(engine, [(P - 11, 5)], [(P + 11, 5)])
    engine.on_trade(P, 1, BUY, 0)
    request = order(
        "a", BUY, 2, type=OrderType.STOP_MARKET, stop_price=P + 10, trigger=TriggerSource.LAST
    )
    stop_id = engine.submit(request, 1)[0].order_id
    assert engine.on_mark(P + 30, 2) == []
    events = engine.on_trade(P + 10, 1, BUY, 3)
    assert kinds(events) == ["triggered", "fill"]
    assert of(events, Fill)[0].price == P + 11
    assert engine.order(stop_id) is None


def test_a_stop_that_would_fire_at_once_is_rejected() -> None:
    engine = make()
    engine.on_mark(P, 0)
    request = order(
        "a", SELL, 1, type=OrderType.STOP_MARKET, stop_price=P + 1, trigger=TriggerSource.MARK
    )
    assert of(engine.submit(request, 1), Rejected)[0].reason is Reason.STOP_WOULD_TRIGGER


def test_a_fired_stop_limit_rests_as_a_limit_order() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    engine.on_trade(P, 1, BUY, 0)
    request = order("a", SELL, 2, P - 3, type=OrderType.STOP_LIMIT, stop_price=P - 2)
    stop_id = engine.submit(request, 1)[0].order_id
    events = engine.on_trade(P - 2, 1, SELL, 2)
    assert kinds(events) == ["triggered"]
    live = engine.order(stop_id)
    assert live is not None and live.triggered and live.price == P - 3
    # Now it is an ordinary resting ask that a print can fill.
    events = engine.on_trade(P - 3, 2, BUY, 3)
    assert [(f.order_id, f.qty) for f in of(events, Fill)] == [(stop_id, 2)]


def test_sim_fills_move_the_last_price_and_can_fire_a_stop_cascade() -> None:
    engine = make()
    seed(engine, [(P - 1, 1), (P - 3, 1), (P - 6, 10)], [(P + 1, 5)])
    engine.on_trade(P, 1, SELL, 0)
    first = engine.submit(
        order(
            "a", SELL, 2, type=OrderType.STOP_MARKET, stop_price=P - 2, trigger=TriggerSource.LAST
        ),
        1,
    )[0].order_id
    second = engine.submit(
        order(
            "b", SELL, 1, type=OrderType.STOP_MARKET, stop_price=P - 5, trigger=TriggerSource.LAST
        ),
        2,
    )[0].order_id
    # A sim market sell takes P-1: last = P-1, nothing fires yet.
    events = engine.submit(order("c", SELL, 1, type=OrderType.MARKET), 3)
    assert engine.last == P - 1 and not of(events, Triggered)
    # The next one prints at P-3: a's stop fires, its fills print at P-6: b's stop fires too.
    events = engine.submit(order("c", SELL, 1, type=OrderType.MARKET), 4)
    assert [t.order_id for t in of(events, Triggered)] == [first, second]
    assert [(f.account, f.price, f.qty) for f in of(events, Fill)] == [
        ("c", P - 3, 1),
        ("a", P - 6, 2),
        ("b", P - 6, 1),
    ]
    assert engine.last == P - 6


def test_reduce_only_is_cut_to_the_position_and_follows_it_down() -> None:
    positions = Positions(a=5)
    engine = make(positions)
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    events = engine.submit(order("a", SELL, 10, P + 2, reduce_only=True), 1)
    accepted = of(events, Accepted)[0]
    assert accepted.qty == 5
    oid = accepted.order_id

    positions["a"] = 3
    events = engine.on_position_change("a", 3, 2)
    cut = of(events, Amended)[0]
    assert (cut.reason, cut.qty, cut.leaves, cut.kept_priority) == (
        Reason.REDUCE_ONLY_CUT,
        3,
        3,
        True,
    )
    positions["a"] = -1
    events = engine.on_position_change("a", -1, 3)
    assert of(events, Cancelled)[0].reason is Reason.REDUCE_ONLY_WOULD_INCREASE
    assert engine.order(oid) is None

    flat = engine.submit(order("b", BUY, 1, P - 2, reduce_only=True), 4)
    assert of(flat, Rejected)[0].reason is Reason.REDUCE_ONLY_WOULD_INCREASE


def test_reduce_only_makers_cannot_flip_a_position_within_one_sweep() -> None:
    positions = Positions(a=5)
    engine = make(positions)
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    take_profit = engine.submit(order("a", SELL, 5, P, reduce_only=True), 1)[0].order_id
    second = engine.submit(order("a", SELL, 5, P + 1, reduce_only=True), 2)[0].order_id
    events = engine.submit(order("b", BUY, 10, P + 1), 3)
    assert [(f.order_id, f.qty) for f in of(events, Fill) if f.account == "a"] == [(take_profit, 5)]
    assert [(c.order_id, c.reason) for c in of(events, Cancelled)] == [
        (second, Reason.REDUCE_ONLY_WOULD_INCREASE)
    ]
    assert engine.order(events[0].order_id) is not None  # b's rest is resting


def test_price_band_rejects_limits_too_far_through_the_mark() -> None:
    engine = make(price_band=Fraction(5, 100))
    seed(engine, [(P - 5, 10)], [(P + 5, 10)])
    far = P * 2
    assert kinds(engine.submit(order("z", BUY, 1, far, tif=TimeInForce.IOC), 0))[0] == (
        "accepted"  # no mark yet: no band
    )
    engine.on_mark(P, 1)
    high, low = P * 105 // 100, P * 95 // 100  # both exact at P
    for ts, (side, price, ok) in enumerate(
        [(BUY, high, True), (BUY, high + 1, False), (SELL, low, True), (SELL, low - 1, False)]
    ):
        events = engine.submit(order("a", side, 1, price, tif=TimeInForce.IOC), 2 + ts)
        if ok:
            assert kinds(events) == ["accepted", "fill"]
        else:
            assert of(events, Rejected)[0].reason is Reason.PRICE_BAND


def test_a_fired_stop_limit_outside_the_band_expires() -> None:
    engine = make(price_band=Fraction(1, 100))
    engine.on_mark(P, 0)
    request = order(
        "a",
        SELL,
        1,
        P - P // 50,
        type=OrderType.STOP_LIMIT,
        stop_price=P - 10,
        trigger=TriggerSource.MARK,
    )
    oid = engine.submit(request, 1)[0].order_id
    events = engine.on_mark(P - 10, 2)
    assert kinds(events) == ["triggered", "expired"]
    assert of(events, Expired)[0].reason is Reason.PRICE_BAND
    assert engine.order(oid) is None


def test_min_notional_rejects_small_orders_but_not_reduce_only() -> None:
    positions = Positions(a=1)
    engine = make(positions, min_notional=Fraction(100))  # one lot at P is 60 USDT
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    small = engine.submit(order("b", BUY, 1, P), 1)
    assert of(small, Rejected)[0].reason is Reason.MIN_NOTIONAL
    assert kinds(engine.submit(order("b", BUY, 2, P), 2)) == ["accepted"]
    assert kinds(engine.submit(order("a", SELL, 1, P + 1, reduce_only=True), 3)) == ["accepted"]
    market = engine.submit(order("b", SELL, 1, type=OrderType.MARKET), 4)
    assert of(market, Rejected)[0].reason is Reason.MIN_NOTIONAL


def test_open_order_limit_counts_resting_orders_and_stops_only() -> None:
    engine = make(max_open_orders=2)
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    engine.submit(order("a", BUY, 1, P - 2), 1)
    stop = engine.submit(order("a", BUY, 1, type=OrderType.STOP_MARKET, stop_price=P + 50), 2)[
        0
    ].order_id
    full = engine.submit(order("a", BUY, 1, P - 3), 3)
    assert of(full, Rejected)[0].reason is Reason.MAX_OPEN_ORDERS
    assert kinds(engine.submit(order("a", BUY, 1, P - 3, tif=TimeInForce.IOC), 4))[0] == (
        "accepted"
    )
    assert kinds(engine.submit(order("b", BUY, 1, P - 3), 5)) == ["accepted"]
    engine.cancel(stop, 6)
    assert kinds(engine.submit(order("a", BUY, 1, P - 3), 7)) == ["accepted"]


def test_cancel_all_closes_resting_orders_and_stops_oldest_first() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    ids = [
        engine.submit(order("a", BUY, 1, P - 2), 1)[0].order_id,
        engine.submit(order("a", BUY, 1, type=OrderType.STOP_MARKET, stop_price=P + 50), 2)[
            0
        ].order_id,
        engine.submit(order("a", SELL, 1, P + 2), 3)[0].order_id,
    ]
    engine.submit(order("b", SELL, 1, P + 3), 4)
    events = engine.cancel_all("a", 5)
    assert [(c.order_id, c.reason) for c in of(events, Cancelled)] == [
        (oid, Reason.CANCEL_ALL) for oid in ids
    ]
    assert engine.open_orders("a") == [] and len(engine.open_orders("b")) == 1


def test_a_reduce_only_stop_is_sized_when_it_fires_not_when_the_position_moves() -> None:
    positions = Positions(a=5, b=3)
    engine = make(positions)
    seed(engine, [(P - 11, 10)], [(P + 11, 10)])
    engine.on_trade(P, 1, SELL, 0)

    def stop_loss(account: str) -> int:
        request = order(
            account,
            SELL,
            10,
            type=OrderType.STOP_MARKET,
            stop_price=P - 10,
            trigger=TriggerSource.LAST,
            reduce_only=True,
        )
        accepted = of(engine.submit(request, 1), Accepted)[0]
        assert accepted.qty == 10  # a waiting stop is not cut
        return accepted.order_id

    a_stop, b_stop = stop_loss("a"), stop_loss("b")
    positions["a"], positions["b"] = 2, 0
    assert engine.on_position_change("a", 2, 2) == []
    events = engine.on_trade(P - 10, 1, SELL, 3)
    assert kinds(events) == ["triggered", "amended", "fill", "triggered", "expired"]
    cut = of(events, Amended)[0]
    assert (cut.order_id, cut.qty, cut.reason) == (a_stop, 2, Reason.REDUCE_ONLY_CUT)
    assert of(events, Fill)[0].qty == 2
    expired = of(events, Expired)[0]
    assert (expired.order_id, expired.reason) == (b_stop, Reason.REDUCE_ONLY_WOULD_INCREASE)
