"""Matching engine throughput on a synthetic depth-and-trade stream (events/s, best of 3)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from fractions import Fraction

from harness.venue.exchange.l2book import ASK, BID, L2Book
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import OrderRequest, Side, TimeInForce
from harness.venue.exchange.queue_position import QueueModel

MID = 600_000
N_EVENTS = 200_000
DEPTH, TRADE = 0, 1

Stream = list[tuple[int, int, int, int]]


def _stream(n: int, seed: int = 7) -> Stream:
    """Depth updates within 20 ticks of a slowly walking mid, one print in ten at the touch."""
    rng = random.Random(seed)
    mid = MID
    out: Stream = []
    for _ in range(n):
        if rng.random() < 0.01:
            mid += rng.choice((-1, 1))
        if rng.random() < 0.1:
            aggressor = rng.choice((Side.BUY, Side.SELL))
            price = mid + 1 if aggressor is Side.BUY else mid - 1
            out.append((TRADE, int(aggressor), price, rng.randint(1, 5)))
        else:
            side = rng.choice((BID, ASK))
            offset = rng.randint(1, 20)
            price = mid - offset if side == BID else mid + offset
            qty = 0 if rng.random() < 0.1 else rng.randint(1, 50)
            out.append((DEPTH, side, price, qty))
    return out


def _config(model: QueueModel = QueueModel.TRADES_ONLY) -> EngineConfig:
    return EngineConfig(
        symbol="BENCH",
        tick_size=Fraction(1, 10),
        lot_size=Fraction(1, 1000),
        queue_model=model,
    )


def _replay(engine: MatchingEngine, stream: Stream) -> None:
    on_depth, on_trade = engine.on_depth, engine.on_trade
    for ts, (kind, a, price, qty) in enumerate(stream):
        if kind == DEPTH:
            on_depth(a, price, qty, ts)
        else:
            on_trade(price, qty, a, ts)


def _best_rate(make: Callable[[], Callable[[], int]]) -> float:
    """Events/s of the fastest of three runs; `make` builds fresh state outside the timing."""
    best = 0.0
    for _ in range(3):
        work = make()
        started = time.perf_counter()
        count = work()
        best = max(best, count / (time.perf_counter() - started))
    return best


def _book_only(stream: Stream) -> Callable[[], int]:
    """The bare L2Book in the same replay loop: the floor on_depth is measured against."""
    book: L2Book[int, int] = L2Book()

    def work() -> int:
        set_level = book.set_level
        for _ts, (_kind, side, price, qty) in enumerate(stream):
            set_level(side, price, qty)
        return len(stream)

    return work


def _engine(stream: Stream, resting: list[OrderRequest], model: QueueModel) -> Callable[[], int]:
    engine = MatchingEngine(_config(model))
    engine.on_snapshot(
        [(MID - i, 20) for i in range(1, 21)], [(MID + i, 20) for i in range(1, 21)], 0
    )
    for request in resting:
        engine.submit(request, 0)

    def work() -> int:
        _replay(engine, stream)
        return len(stream)

    return work


def _only(stream: Stream, kind: int) -> Stream:
    return [event for event in stream if event[0] == kind]


def _resting(prices: range, qty: int) -> list[OrderRequest]:
    return [
        OrderRequest(account=f"acct{i % 7}", side=Side.BUY, qty=qty, price=price)
        for i, price in enumerate(prices)
    ]


def _sweeps(stream: Stream) -> Callable[[], int]:
    """IOC buys that each take three levels, the book refilled by the stream in between."""
    engine = MatchingEngine(_config())
    engine.on_snapshot(
        [(MID - i, 20) for i in range(1, 21)], [(MID + i, 20) for i in range(1, 21)], 0
    )
    orders = [
        OrderRequest(account="taker", side=Side.BUY, qty=45, price=MID + 25, tif=TimeInForce.IOC)
        for _ in range(2_000)
    ]
    refill = [(ASK, MID + i, 20) for i in range(1, 21)]

    def work() -> int:
        for ts, request in enumerate(orders):
            engine.submit(request, ts)
            for side, price, qty in refill[:3]:
                engine.on_depth(side, price, qty, ts)
        return len(orders)

    return work


def run() -> list[tuple[str, float]]:
    stream = _stream(N_EVENTS)
    depth, trades = _only(stream, DEPTH), _only(stream, TRADE)
    far = _resting(range(MID - 200, MID - 100), 5)
    near = _resting(range(MID - 20, MID - 1), 1_000_000)
    return [
        ("L2Book.set_level alone, same loop (updates/s)", _best_rate(lambda: _book_only(depth))),
        (
            "on_depth, no sim orders (events/s)",
            _best_rate(lambda: _engine(depth, [], QueueModel.TRADES_ONLY)),
        ),
        (
            "on_trade, no sim orders (events/s)",
            _best_rate(lambda: _engine(trades, [], QueueModel.TRADES_ONLY)),
        ),
        (
            "depth+trades, 100 sim bids away from the touch (events/s)",
            _best_rate(lambda: _engine(stream, far, QueueModel.TRADES_ONLY)),
        ),
        (
            "depth+trades, 19 sim bids in the active levels, proportional (events/s)",
            _best_rate(lambda: _engine(stream, near, QueueModel.PROPORTIONAL)),
        ),
        ("IOC taker sweeping 3 levels + 3 refills (orders/s)", _best_rate(lambda: _sweeps(stream))),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<75} {value:>14,.0f}")
