"""Queue position of resting sim orders, and fills from public prints and crossing data."""

from __future__ import annotations

from harness.venue.exchange.l2book import ASK, BID
from harness.venue.exchange.matching import MatchingEngine
from harness.venue.exchange.orders import PUBLIC, Fill, Liquidity, Order, TimeInForce
from harness.venue.exchange.queue_position import QueueModel
from tests.venue.test_matching import BUY, SELL, P, fills, kinds, make, of, order, seed


def rest_bid(engine: MatchingEngine, account: str, qty: int, price: int, ts: int = 1) -> Order:
    events = engine.submit(order(account, BUY, qty, price), ts)
    assert kinds(events) == ["accepted"]
    resting = engine.order(events[0].order_id)
    assert resting is not None
    return resting


def test_queue_starts_behind_the_visible_size_and_prints_advance_it() -> None:
    engine = make()
    seed(engine, [(P - 1, 10)], [(P, 5)])
    mine = rest_bid(engine, "a", 3, P - 1)
    assert mine.queue_ahead == 10

    assert engine.on_trade(P - 1, 4, SELL, 2) == []
    assert mine.queue_ahead == 6
    events = engine.on_trade(P - 1, 8, SELL, 3)
    assert fills(events) == [("a", P - 1, 2, Liquidity.MAKER, PUBLIC)]
    assert mine.queue_ahead == 0 and mine.leaves == 1


def test_buy_prints_do_not_touch_resting_bids() -> None:
    engine = make()
    seed(engine, [(P - 1, 1)], [(P, 5)])
    mine = rest_bid(engine, "a", 3, P - 1)
    assert engine.on_trade(P, 50, BUY, 2) == []
    assert mine.queue_ahead == 1 and mine.leaves == 3


def test_size_decreases_count_only_under_the_proportional_model() -> None:
    results: dict[QueueModel, tuple[int, int]] = {}
    for model in (QueueModel.TRADES_ONLY, QueueModel.PROPORTIONAL):
        engine = make(queue_model=model)
        seed(engine, [(P - 1, 10)], [(P, 5)])
        mine = rest_bid(engine, "a", 3, P - 1)
        engine.on_depth(BID, P - 1, 20, 2)  # ten lots join behind
        assert mine.queue_ahead == 10
        engine.on_trade(P - 1, 4, SELL, 3)
        assert mine.queue_ahead == 6
        # 20 -> 12: the print explains 4, the other 4 are cancels. Proportional: 6/20 of them
        # were ahead of us, rounded down: 4 * 6 // 20 = 1.
        engine.on_depth(BID, P - 1, 12, 4)
        ahead = mine.queue_ahead
        events = engine.on_trade(P - 1, 7, SELL, 5)
        results[model] = (ahead, sum(f.qty for f in of(events, Fill)))
    # (queue ahead after the update, lots filled by the next print of 7)
    assert results == {QueueModel.TRADES_ONLY: (6, 1), QueueModel.PROPORTIONAL: (5, 2)}


def test_proportional_cancels_split_between_ahead_and_behind() -> None:
    engine = make(queue_model=QueueModel.PROPORTIONAL)
    seed(engine, [(P - 1, 10)], [(P, 5)])
    mine = rest_bid(engine, "a", 3, P - 1)
    engine.on_depth(BID, P - 1, 20, 2)
    engine.on_depth(BID, P - 1, 10, 3)  # ten cancels, half of them ahead
    assert mine.queue_ahead == 5


def test_a_level_smaller_than_the_queue_ahead_caps_it_in_both_models() -> None:
    for model in (QueueModel.TRADES_ONLY, QueueModel.PROPORTIONAL):
        engine = make(queue_model=model)
        seed(engine, [(P - 1, 10)], [(P, 5)])
        mine = rest_bid(engine, "a", 3, P - 1)
        engine.on_depth(BID, P - 1, 3, 2)
        assert mine.queue_ahead == 3
        # The level vanishing on our side is not a fill (it may be cancels), only a promotion.
        assert engine.on_depth(BID, P - 1, 0, 3) == []
        assert mine.queue_ahead == 0 and mine.leaves == 3


def test_a_print_fills_sim_orders_in_time_priority_past_their_queues() -> None:
    engine = make()
    seed(engine, [(P - 1, 5)], [(P, 5)])
    first = rest_bid(engine, "alice", 2, P - 1)
    second = rest_bid(engine, "bob", 4, P - 1, ts=2)
    assert (first.queue_ahead, second.queue_ahead) == (5, 5)
    events = engine.on_trade(P - 1, 8, SELL, 3)
    # Five public lots, then alice's two, then one for bob.
    assert [(f.account, f.qty) for f in of(events, Fill)] == [("alice", 2), ("bob", 1)]
    assert second.queue_ahead == 0 and second.leaves == 3


def test_a_print_through_the_price_fills_up_to_its_size_best_price_first() -> None:
    engine = make()
    seed(engine, [(P - 2, 4)], [(P, 5)])
    inside = rest_bid(engine, "a", 3, P - 1)  # improves the public best bid
    behind = rest_bid(engine, "b", 5, P - 2, ts=2)
    assert behind.queue_ahead == 4
    events = engine.on_trade(P - 3, 5, SELL, 3)
    assert fills(events) == [
        ("a", P - 1, 3, Liquidity.MAKER, PUBLIC),
        ("b", P - 2, 2, Liquidity.MAKER, PUBLIC),
    ]
    assert inside.leaves == 0 and behind.leaves == 3 and behind.queue_ahead == 0


def test_an_opposite_level_appearing_through_a_resting_order_fills_it_at_its_price() -> None:
    engine = make()
    seed(engine, [(P - 5, 1)], [(P + 5, 1)])
    mine = rest_bid(engine, "a", 5, P - 1)
    events = engine.on_depth(ASK, P - 1, 3, 2)
    assert fills(events) == [("a", P - 1, 3, Liquidity.MAKER, PUBLIC)]
    assert engine.visible(ASK, P - 1) == 0
    # An ask below our bid: we fill at our own price, and only take what we need.
    events = engine.on_depth(ASK, P - 2, 4, 3)
    assert fills(events) == [("a", P - 1, 2, Liquidity.MAKER, PUBLIC)]
    assert mine.leaves == 0
    assert engine.consumed(ASK, P - 2) == 2 and engine.visible(ASK, P - 2) == 2


def test_a_snapshot_keeps_queue_places_capped_and_crosses_resting_orders() -> None:
    engine = make()
    seed(engine, [(P - 1, 10), (P - 2, 10)], [(P, 5)])
    near = rest_bid(engine, "a", 3, P - 1)
    far = rest_bid(engine, "b", 3, P - 2, ts=2)
    events = engine.on_snapshot([(P - 2, 4)], [(P - 1, 1), (P + 1, 5)], 3)
    assert fills(events) == [("a", P - 1, 1, Liquidity.MAKER, PUBLIC)]
    assert near.queue_ahead == 0 and near.leaves == 2
    assert far.queue_ahead == 4


def test_sim_taker_taking_public_lots_ahead_moves_resting_orders_up() -> None:
    engine = make()
    seed(engine, [(P - 1, 5)], [(P, 5)])
    mine = rest_bid(engine, "a", 3, P - 1)
    events = engine.submit(order("c", SELL, 3, P - 1, tif=TimeInForce.IOC), 2)
    assert [f.counterparty for f in of(events, Fill)] == [PUBLIC]
    assert mine.queue_ahead == 2
    assert engine.visible(BID, P - 1) == 2
