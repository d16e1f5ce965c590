"""Matching engine: walking the public book, consumed liquidity, order types, priority, STP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any, TypeVar

import pytest

from harness.venue.exchange.l2book import ASK
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import (
    PUBLIC,
    Accepted,
    Cancelled,
    Event,
    Expired,
    Fill,
    IllegalTransitionError,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Reason,
    Rejected,
    Side,
    StpMode,
    TimeInForce,
)

P = 600_000  # 60,000.0 USDT in ticks of 0.1; one lot is 0.001 BTC (60 USDT)
BUY, SELL = Side.BUY, Side.SELL

CONFIG = EngineConfig(
    symbol="BTCUSDT",
    tick_size=Fraction(1, 10),
    lot_size=Fraction(1, 1000),
    min_notional=Fraction(5),
    price_band=None,
    market_take_bound=None,
)

E = TypeVar("E", bound=Event)


class Positions(dict[str, int]):
    """A stand-in for the accounts layer: signed position in lots per account."""

    def __call__(self, account: str, symbol: str) -> int:
        return self.get(account, 0)


def make(positions: Positions | None = None, **settings: Any) -> MatchingEngine:
    return MatchingEngine(dataclasses.replace(CONFIG, **settings), positions)


def seed(
    engine: MatchingEngine, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]
) -> None:
    assert engine.on_snapshot(bids, asks, 0) == []


def order(account: str, side: Side, qty: int, price: int | None = None, **kw: Any) -> OrderRequest:
    return OrderRequest(account=account, side=side, qty=qty, price=price, **kw)


def of(events: Sequence[Event], kind: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, kind)]


def fills(events: Sequence[Event]) -> list[tuple[str, int, int, Liquidity, str]]:
    """(account, price, qty, liquidity, counterparty) of each fill, in order."""
    return [(f.account, f.price, f.qty, f.liquidity, f.counterparty) for f in of(events, Fill)]


def kinds(events: Sequence[Event]) -> list[str]:
    return [event.kind for event in events]


def test_taker_walks_levels_and_consumed_liquidity_stays_taken_until_the_level_updates() -> None:
    engine = make()
    seed(engine, [(P - 1, 10)], [(P, 2), (P + 1, 3), (P + 2, 5)])

    events = engine.submit(order("a", BUY, 10, P + 1, tif=TimeInForce.IOC), 1)
    assert kinds(events) == ["accepted", "fill", "fill", "expired"]
    assert fills(events) == [
        ("a", P, 2, Liquidity.TAKER, PUBLIC),
        ("a", P + 1, 3, Liquidity.TAKER, PUBLIC),
    ]
    assert of(events, Expired)[0].leaves == 5
    assert of(events, Expired)[0].reason is Reason.IOC_REMAINDER
    # The recorded book still shows the levels, but they are used up for sim takers.
    assert engine.book.qty_at(ASK, P) == 2
    assert engine.visible(ASK, P) == 0 and engine.visible(ASK, P + 1) == 0

    again = engine.submit(order("b", BUY, 3, P + 1, tif=TimeInForce.IOC), 2)
    assert fills(again) == []
    assert of(again, Expired)[0].leaves == 3

    # The data sets the best level again: it is available, the untouched P+1 stays consumed.
    assert engine.on_depth(ASK, P, 4, 3) == []
    assert engine.visible(ASK, P) == 4 and engine.visible(ASK, P + 1) == 0
    third = engine.submit(order("b", BUY, 6, P + 2, tif=TimeInForce.IOC), 4)
    assert fills(third) == [
        ("b", P, 4, Liquidity.TAKER, PUBLIC),
        ("b", P + 2, 2, Liquidity.TAKER, PUBLIC),
    ]
    assert engine.consumed(ASK, P + 2) == 2


def test_partial_fill_rests_the_rest_behind_the_public_queue() -> None:
    engine = make()
    seed(engine, [(P - 1, 7)], [(P, 2)])
    events = engine.submit(order("a", BUY, 5, P - 1), 1)
    assert fills(events) == []
    resting = engine.order(events[0].order_id)
    assert resting is not None and resting.queue_ahead == 7

    events = engine.submit(order("a", BUY, 5, P), 2)
    assert kinds(events) == ["accepted", "fill"]
    rested = engine.order(events[0].order_id)
    assert rested is not None
    assert rested.status is OrderStatus.PARTIALLY_FILLED and rested.leaves == 3
    assert rested.queue_ahead == 0  # no public bid at P


def test_market_order_walks_the_book_and_expires_when_it_runs_out() -> None:
    engine = make()
    seed(engine, [(P - 1, 2), (P - 3, 2)], [(P, 1)])
    events = engine.submit(order("a", SELL, 6, type=OrderType.MARKET), 1)
    assert fills(events) == [
        ("a", P - 1, 2, Liquidity.TAKER, PUBLIC),
        ("a", P - 3, 2, Liquidity.TAKER, PUBLIC),
    ]
    assert of(events, Expired)[0].reason is Reason.NO_LIQUIDITY
    assert of(events, Expired)[0].leaves == 2


def test_market_take_bound_stops_the_walk_at_the_band_around_mark() -> None:
    engine = make(market_take_bound=Fraction(1, 100_000))  # 6 ticks at P
    seed(engine, [], [(P + 5, 1), (P + 6, 1), (P + 7, 1)])
    engine.on_mark(P, 0)
    events = engine.submit(order("a", BUY, 3, type=OrderType.MARKET), 1)
    assert [f.price for f in of(events, Fill)] == [P + 5, P + 6]
    expired = of(events, Expired)[0]
    assert expired.reason is Reason.MARKET_TAKE_BOUND and expired.leaves == 1


def test_post_only_is_rejected_when_it_would_take_and_rests_otherwise() -> None:
    engine = make()
    seed(engine, [(P - 1, 5)], [(P, 5)])
    crossing = engine.submit(order("a", BUY, 1, P, tif=TimeInForce.GTX), 1)
    assert kinds(crossing) == ["rejected"]
    assert of(crossing, Rejected)[0].reason is Reason.POST_ONLY_WOULD_TAKE
    assert engine.visible(ASK, P) == 5

    passive = engine.submit(order("a", BUY, 1, P - 1, tif=TimeInForce.GTX), 2)
    assert kinds(passive) == ["accepted"]
    assert engine.order(passive[0].order_id) is not None

    # A resting sim ask is liquidity too.
    engine.submit(order("m", SELL, 1, P - 1 + 1), 3)  # joins the public ask at P
    assert of(engine.submit(order("a", BUY, 1, P, tif=TimeInForce.GTX), 4), Rejected)


def test_fok_is_all_or_nothing() -> None:
    engine = make()
    seed(engine, [], [(P, 2), (P + 1, 3)])
    refused = engine.submit(order("a", BUY, 6, P + 1, tif=TimeInForce.FOK), 1)
    assert kinds(refused) == ["rejected"]
    assert of(refused, Rejected)[0].reason is Reason.FOK_NOT_FILLABLE
    assert engine.visible(ASK, P) == 2 and engine.visible(ASK, P + 1) == 3

    done = engine.submit(order("a", BUY, 5, P + 1, tif=TimeInForce.FOK), 2)
    assert kinds(done) == ["accepted", "fill", "fill"]
    assert sum(f.qty for f in of(done, Fill)) == 5
    assert of(done, Fill)[-1].leaves == 0


def test_sim_orders_of_two_agents_match_in_price_time_priority() -> None:
    engine = make()
    seed(engine, [(P - 1, 5)], [(P + 5, 5)])
    first = engine.submit(order("alice", BUY, 2, P - 1), 1)[0].order_id
    second = engine.submit(order("bob", BUY, 3, P - 1), 2)[0].order_id

    # A sim seller meets the public lots ahead, then alice, then bob.
    events = engine.submit(order("carol", SELL, 8, P - 1, tif=TimeInForce.IOC), 3)
    assert fills(events) == [
        ("carol", P - 1, 5, Liquidity.TAKER, PUBLIC),
        ("carol", P - 1, 2, Liquidity.TAKER, "alice"),
        ("alice", P - 1, 2, Liquidity.MAKER, "carol"),
        ("carol", P - 1, 1, Liquidity.TAKER, "bob"),
        ("bob", P - 1, 1, Liquidity.MAKER, "carol"),
    ]
    maker_fills = of(events, Fill)
    assert maker_fills[1].match_id == maker_fills[2].match_id
    assert maker_fills[2].counter_order_id == events[0].order_id
    assert engine.order(first) is None
    bob = engine.order(second)
    assert bob is not None and bob.leaves == 2

    # A later order at a better price goes first.
    engine.submit(order("dave", BUY, 1, P), 4)
    events = engine.submit(order("carol", SELL, 2, P - 1, tif=TimeInForce.IOC), 5)
    assert [(f.account, f.price) for f in of(events, Fill) if f.liquidity is Liquidity.MAKER] == [
        ("dave", P),
        ("bob", P - 1),
    ]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            StpMode.EXPIRE_MAKER,
            ["accepted", "expired", "fill", "fill", "fill"],
        ),
        (StpMode.EXPIRE_TAKER, ["accepted", "expired"]),
        (StpMode.EXPIRE_BOTH, ["accepted", "expired", "expired"]),
        (StpMode.NONE, ["accepted", "fill", "fill", "fill"]),
    ],
)
def test_self_trade_prevention_follows_the_taker_mode(mode: StpMode, expected: list[str]) -> None:
    engine = make()
    seed(engine, [], [(P + 1, 1)])
    # The maker's own mode is the opposite of the taker's wish: it must not matter.
    own = engine.submit(order("a", SELL, 2, P, stp=StpMode.EXPIRE_TAKER), 1)[0].order_id
    other = engine.submit(order("b", SELL, 5, P + 1), 2)[0].order_id

    events = engine.submit(order("a", BUY, 3, P + 1, tif=TimeInForce.IOC, stp=mode), 3)
    assert kinds(events) == expected
    maker_alive = engine.order(own) is not None
    if mode is StpMode.EXPIRE_MAKER:
        # The own maker goes, the taker carries on: the public lots at P+1 first, then bob.
        assert not maker_alive
        assert of(events, Expired)[0].order_id == own
        assert of(events, Expired)[0].reason is Reason.STP_EXPIRED
        assert [f.counterparty for f in of(events, Fill)] == [PUBLIC, "b", "a"]
        assert sum(f.qty for f in of(events, Fill) if f.account == "a") == 3
    elif mode is StpMode.EXPIRE_TAKER:
        assert maker_alive
        assert of(events, Expired)[0].order_id == events[0].order_id
    elif mode is StpMode.EXPIRE_BOTH:
        assert not maker_alive
        assert [e.order_id for e in of(events, Expired)] == [own, events[0].order_id]
    else:
        assert of(events, Fill)[0].counterparty == "a"
    assert engine.order(other) is not None


def test_amend_quantity_down_keeps_priority_and_a_new_price_loses_it() -> None:
    engine = make()
    seed(engine, [], [(P + 5, 1)])
    a = engine.submit(order("alice", BUY, 5, P), 1)[0].order_id
    b = engine.submit(order("bob", BUY, 5, P), 2)[0].order_id

    amended = engine.amend(a, 3, new_qty=3)
    assert kinds(amended) == ["amended"] and amended[0].kept_priority  # type: ignore[union-attr]
    events = engine.submit(order("carol", SELL, 4, P, tif=TimeInForce.IOC), 4)
    assert [(f.account, f.qty) for f in of(events, Fill) if f.liquidity is Liquidity.MAKER] == [
        ("alice", 3),
        ("bob", 1),
    ]

    c = engine.submit(order("carol", BUY, 5, P), 5)[0].order_id
    engine.amend(b, 6, new_price=P - 1)
    engine.amend(b, 7, new_price=P)  # back at P, now behind carol
    events = engine.submit(order("dave", SELL, 6, P, tif=TimeInForce.IOC), 8)
    assert [(f.order_id, f.qty) for f in of(events, Fill) if f.liquidity is Liquidity.MAKER] == [
        (c, 5),
        (b, 1),
    ]


def test_amend_quantity_up_goes_to_the_back() -> None:
    engine = make()
    seed(engine, [], [(P + 5, 1)])
    a = engine.submit(order("alice", BUY, 1, P), 1)[0].order_id
    engine.submit(order("bob", BUY, 1, P), 2)
    assert not engine.amend(a, 3, new_qty=2)[0].kept_priority  # type: ignore[union-attr]
    events = engine.submit(order("carol", SELL, 1, P, tif=TimeInForce.IOC), 4)
    assert [f.account for f in of(events, Fill)] == ["carol", "bob"]


def test_amend_to_a_crossing_price_trades_and_post_only_is_cancelled_instead() -> None:
    engine = make()
    seed(engine, [], [(P + 1, 2)])
    a = engine.submit(order("a", BUY, 3, P), 1)[0].order_id
    events = engine.amend(a, 2, new_price=P + 1)
    assert kinds(events) == ["amended", "fill"]
    left = engine.order(a)
    assert left is not None and left.leaves == 1 and left.price == P + 1

    engine.on_depth(ASK, P + 3, 1, 3)
    gtx = engine.submit(order("b", BUY, 1, P, tif=TimeInForce.GTX), 4)[0].order_id
    events = engine.amend(gtx, 5, new_price=P + 3)
    assert of(events, Cancelled)[0].reason is Reason.POST_ONLY_WOULD_TAKE
    assert engine.order(gtx) is None


def test_events_are_identical_across_runs() -> None:
    def run() -> list[Event]:
        engine = make()
        seed(engine, [(P - 1, 4), (P - 2, 4)], [(P, 4), (P + 1, 4)])
        out: list[Event] = []
        out += engine.submit(order("a", BUY, 2, P - 1), 1)
        out += engine.submit(order("b", SELL, 6, P - 2, tif=TimeInForce.IOC), 2)
        out += engine.on_trade(P - 1, 3, SELL, 3)
        out += engine.submit(order("c", BUY, 9, type=OrderType.MARKET), 4)
        return out

    assert run() == run()


def test_order_state_machine_refuses_impossible_moves() -> None:
    engine = make()
    seed(engine, [], [(P, 1)])
    events = engine.submit(order("a", BUY, 1, P - 1), 1)
    live = engine.order(events[0].order_id)
    assert live is not None
    live.add_fill(1)
    assert live.status is OrderStatus.FILLED
    with pytest.raises(IllegalTransitionError):
        live.move(OrderStatus.CANCELLED)
    with pytest.raises(IllegalTransitionError):
        live.add_fill(1)


def test_invalid_requests_are_rejected() -> None:
    engine = make()
    seed(engine, [], [(P, 1)])
    bad = [
        order("a", BUY, 0, P),
        order("a", BUY, 1),  # limit without price
        order("a", BUY, 1, P, type=OrderType.MARKET),
        order("a", BUY, 1, P, type=OrderType.STOP_LIMIT),  # no stop price
    ]
    for i, request in enumerate(bad):
        events = engine.submit(request, i)
        assert of(events, Rejected)[0].reason is Reason.INVALID_ORDER
    engine.submit(order("a", BUY, 1, P - 1, client_id="x"), 9)
    dup = engine.submit(order("a", BUY, 1, P - 2, client_id="x"), 10)
    assert of(dup, Rejected)[0].reason is Reason.DUPLICATE_CLIENT_ID
    ok = engine.submit(order("b", BUY, 1, P - 2, client_id="x"), 11)
    assert isinstance(ok[0], Accepted)
    assert of(engine.cancel_by_client_id("a", "x", 12), Cancelled)[0].reason is Reason.USER_CANCEL


def test_open_orders_are_found_by_client_id_until_they_close() -> None:
    engine = make()
    seed(engine, [], [(P + 5, 1)])
    oid = engine.submit(order("a", BUY, 2, P, client_id="mine"), 1)[0].order_id
    found = engine.order_by_client_id("a", "mine")
    assert found is not None and found.order_id == oid
    assert engine.order_by_client_id("b", "mine") is None
    engine.on_trade(P, 2, SELL, 2)
    assert engine.order_by_client_id("a", "mine") is None
