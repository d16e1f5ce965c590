"""The batched depth path must do exactly what the per-level path does, events and book alike.

`on_depth_levels` applies most levels inline and sends only the interesting ones (a level where a
sim order rests, a side with consumed size, a level crossing a sim order) through `on_depth`. A
random book with resting sim orders and random depth messages is fed to two engines, one level at
a time and batched; their events, books, consumed sizes and orders must agree after every message.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.venue.exchange.l2book import ASK, BID
from harness.venue.exchange.orders import Event, OrderType, Side, TimeInForce
from tests.venue.test_matching import P, Positions, make, order, seed

SIDES = st.sampled_from([BID, ASK])
LEVEL = st.tuples(SIDES, st.integers(P - 6, P + 6), st.integers(0, 8))
MESSAGES = st.lists(st.lists(LEVEL, min_size=1, max_size=8), min_size=1, max_size=12)
SIM_ORDERS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 6),
        st.integers(P - 4, P + 4),
        st.sampled_from([TimeInForce.GTC, TimeInForce.IOC]),
    ),
    max_size=6,
)


def _state(engine: Any) -> tuple[Any, ...]:
    books = (list(engine.book.levels(BID)), list(engine.book.levels(ASK)))
    consumed = tuple(
        sorted(
            (side, price, engine.consumed(side, price))
            for side in (BID, ASK)
            for price in range(P - 8, P + 9)
            if engine.consumed(side, price)
        )
    )
    orders = sorted(
        (o.order_id, o.leaves, o.queue_ahead, o.status.value)
        for account in ("a", "b")
        for o in engine.open_orders(account)
    )
    return books, consumed, tuple(orders)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(sim_orders=SIM_ORDERS, messages=MESSAGES, half_life=st.sampled_from([None, 3]))
def test_batched_depth_matches_level_by_level(
    half_life: int | None,
    sim_orders: list[tuple[str, Side, int, int, TimeInForce]],
    messages: list[list[tuple[int, int, int]]],
) -> None:
    one = make(Positions(), replenish_half_life_ns=half_life)
    batched = make(Positions(), replenish_half_life_ns=half_life)
    for engine in (one, batched):
        seed(engine, [(P - 1 - k, 5) for k in range(4)], [(P + 1 + k, 5) for k in range(4)])
        for account, side, qty, price, tif in sim_orders:
            engine.submit(order(account, side, qty, price, type=OrderType.LIMIT, tif=tif), 1)
    assert _state(one) == _state(batched)

    for ts, levels in enumerate(messages, start=2):
        expected: list[Event] = []
        for side, price, qty in levels:
            expected.extend(one.on_depth(side, price, qty, ts))
        got: list[Event] = []
        batched.on_depth_levels(
            [s for s, _, _ in levels],
            [p for _, p, _ in levels],
            [q for _, _, q in levels],
            ts,
            lambda events, _ts, sink=got: sink.extend(events),
        )
        assert got == expected
        assert _state(batched) == _state(one)
