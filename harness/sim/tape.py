"""The Tape: replays a window of the tick store into the venue on the SimPy clock.

SimPy costs far more per event than a Python loop costs per tick, so the tape does not make an
event per tick. It applies every tick in a tight loop and yields to the clock only when a
scheduled event (an agent's order arriving, a timer, the mark sampler) is due before the next
tick. Ticks at exactly the same nanosecond as an event are applied first: data, then engine.
While the tape runs ahead of `env.now`, everything it triggers takes the tick's own timestamp,
never `env.now`, so the venue schedules follow-ups at absolute times.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import duckdb
import simpy

from harness.data.book_replay import RESET, SKIP, DepthSequencer
from harness.data.query import stream_batches
from harness.data.schema import KIND_PRIORITY, SEQ_STRIDE

BOOK, TOP, TRADE, MARK, FUNDING = (
    KIND_PRIORITY["book_deltas"],
    KIND_PRIORITY["book_tops"],
    KIND_PRIORITY["trades"],
    KIND_PRIORITY["mark_prices"],
    KIND_PRIORITY["funding"],
)
TAPE_KINDS = ("book_deltas", "book_tops", "trades", "mark_prices", "funding")
TAPE_COLUMNS = (
    "ts",
    "seq",
    "symbol",
    "side",
    "price",
    "qty",
    "is_snapshot",
    "update_id",
    "bid_price",
    "bid_qty",
    "ask_price",
    "ask_qty",
    "mark_price",
    "index_price",
    "funding_rate",
    "next_funding_ts",
    "rate",
)


class SymbolFeed(Protocol):
    """What the tape drives for one symbol: the venue's view of that market, in ticks and lots."""

    def reset_book(self, ts: int) -> None: ...

    def depth(self, ts: int, side: int, price: int, qty: int) -> None: ...

    def trade(self, ts: int, price: int, qty: int, side: int) -> None: ...

    def top(self, ts: int, bid: int, bid_qty: int, ask: int, ask_qty: int) -> None: ...

    def recorded_mark(
        self, ts: int, mark: int, index: int | None, rate: Fraction | None, next_funding: int | None
    ) -> None: ...

    def recorded_funding(self, ts: int, rate: Fraction) -> None: ...


@dataclass(frozen=True)
class Scale:
    """How many ticks per unit of price and lots per unit of quantity for one symbol."""

    ticks_per_unit: int
    lots_per_unit: int

    @classmethod
    def of(cls, tick_size: Fraction, lot_size: Fraction) -> Scale:
        per_tick, per_lot = 1 / tick_size, 1 / lot_size
        if per_tick.denominator != 1 or per_lot.denominator != 1:
            raise ValueError("tick and lot sizes must divide one unit (0.1, 0.001, 1, ...)")
        return cls(int(per_tick), int(per_lot))


def _rate(value: float | None) -> Fraction | None:
    # Rates arrive as short decimal strings parsed to floats; repr gives back those digits exactly.
    return None if value is None else Fraction(repr(value))


@dataclass
class TapeStats:
    messages: int = 0
    rows: int = 0
    last_ts: int | None = None


class Tape:
    """One SimPy process streaming [start, end) of `symbols` into their feeds."""

    def __init__(
        self,
        env: simpy.Environment,
        con: duckdb.DuckDBPyConnection,
        *,
        start: int,
        end: int,
        feeds: Mapping[str, SymbolFeed],
        scales: Mapping[str, Scale],
        exchange: str | None = None,
        batch_rows: int = 65_536,
        on_batch: Callable[[TapeStats], None] | None = None,
    ) -> None:
        self.env = env
        self.con = con
        self.start = start
        self.end = end
        self.feeds = dict(feeds)
        self.scales = dict(scales)
        self.exchange = exchange
        self.batch_rows = batch_rows
        self.on_batch = on_batch
        self.stats = TapeStats()
        self.sequencers = {symbol: DepthSequencer() for symbol in self.feeds}

    def warm_start(self) -> int:
        """Where streaming begins: the latest depth snapshot at or before `start` of any symbol.

        Book rows between it and `start` rebuild the book before the window opens; nothing else
        from before `start` reaches the venue.
        """
        marks = ", ".join("?" for _ in self.feeds)
        params: list[object] = [*self.feeds, self.start]
        where = f"symbol IN ({marks}) AND is_snapshot AND ts <= ?"
        if self.exchange is not None:
            where += " AND exchange = ?"
            params.append(self.exchange)
        rows = self.con.execute(
            f"SELECT min(last) FROM (SELECT max(ts) AS last FROM book_deltas WHERE {where} "
            "GROUP BY symbol)",
            params,
        ).fetchall()
        found = rows[0][0]
        return self.start if found is None else min(int(found), self.start)

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        symbols: Sequence[str] = list(self.feeds)
        start = self.start
        for batch in stream_batches(
            self.con,
            kinds=TAPE_KINDS,
            start=self.warm_start(),
            end=self.end,
            symbols=symbols,
            exchange=self.exchange,
            columns=TAPE_COLUMNS,
            batch_rows=self.batch_rows,
        ):
            c = batch.to_pydict()
            kinds, stamps, seqs, syms = c["kind"], c["ts"], c["seq"], c["symbol"]
            for i in range(batch.num_rows):
                ts = stamps[i]
                if ts < start:
                    if kinds[i] == BOOK:
                        self._dispatch(BOOK, syms[i], ts, c, i)
                    continue
                while env.peek() < ts:
                    yield env.timeout(env.peek() - env.now)
                if seqs[i] % SEQ_STRIDE == 0:
                    self.stats.messages += 1
                self._dispatch(kinds[i], syms[i], ts, c, i)
            self.stats.rows += batch.num_rows
            self.stats.last_ts = stamps[-1] if stamps else self.stats.last_ts
            if self.on_batch is not None:
                self.on_batch(self.stats)
        # Let what is scheduled before the window's end run (timers, in-flight orders).
        while env.peek() < self.end:
            yield env.timeout(env.peek() - env.now)

    def _dispatch(self, kind: int, symbol: str, ts: int, c: dict[str, list[Any]], i: int) -> None:
        feed = self.feeds[symbol]
        scale = self.scales[symbol]
        tpu, lpu = scale.ticks_per_unit, scale.lots_per_unit
        if kind == BOOK:
            verdict = self.sequencers[symbol].admit(ts, c["is_snapshot"][i], c["update_id"][i])
            if verdict == SKIP:
                return
            if verdict == RESET:
                feed.reset_book(ts)
            price, qty = round(c["price"][i] * tpu), round(c["qty"][i] * lpu)
            feed.depth(ts, c["side"][i], price, qty)
        elif kind == TRADE:
            price, qty = round(c["price"][i] * tpu), round(c["qty"][i] * lpu)
            feed.trade(ts, price, qty, c["side"][i])
        elif kind == TOP:
            feed.top(
                ts,
                round(c["bid_price"][i] * tpu),
                round(c["bid_qty"][i] * lpu),
                round(c["ask_price"][i] * tpu),
                round(c["ask_qty"][i] * lpu),
            )
        elif kind == MARK:
            index = c["index_price"][i]
            feed.recorded_mark(
                ts,
                round(c["mark_price"][i] * tpu),
                None if index is None else round(index * tpu),
                _rate(c["funding_rate"][i]),
                c["next_funding_ts"][i],
            )
        elif kind == FUNDING:
            rate = _rate(c["rate"][i])
            if rate is not None:
                feed.recorded_funding(ts, rate)
