"""The Tape: replays a window of the tick store into the venue on the SimPy clock.

SimPy costs far more per event than a Python loop costs per tick, so the tape does not make an
event per tick. It applies every tick in a tight loop and yields to the clock only when a
scheduled event (an agent's order arriving, a timer, the mark sampler) is due before the next
tick. Ticks at exactly the same nanosecond as an event are applied first: data, then engine.
While the tape runs ahead of `env.now`, everything it triggers takes the tick's own timestamp,
never `env.now`, so the venue schedules follow-ups at absolute times.

The loop only dispatches; whatever can be done for a whole Arrow batch at once is done before it,
in NumPy:
- the store is read as a few dense columns that the kinds share (`_SLOT_SOURCES`: a book top's
  bid in the slot of a trade's price), which sorts and converts far faster than wide rows of
  mostly null columns;
- prices and sizes become ticks and lots as `rint(x * per unit)`, the same IEEE product and the
  same round-half-to-even as Python's `round(x * per unit)`;
- consecutive depth rows of one symbol, instant, snapshot flag and update id (the levels of one
  depth message) become one item: the clock is checked and the depth sequencer asked once for
  them, since nothing else happens in between (asking again inside such a run answers the same,
  a reset becoming "apply"), and the feed takes their levels in one call where it can;
- rows before the window that are not depth (only depth rebuilds the book there) are dropped,
  and messages are counted.
The clock is checked only when the timestamp moves: a tick never schedules anything before its
own time, so between two ticks of one instant there is nothing the clock could run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any, Final, Protocol, runtime_checkable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import simpy

from harness.data.book_replay import RESET, SKIP, DepthSequencer
from harness.data.query import rows_per_second, stream_projected
from harness.data.schema import KIND_PRIORITY, SEQ_STRIDE
from harness.units import NS_PER_S

BOOK, TOP, TRADE, MARK, FUNDING = (
    KIND_PRIORITY["book_deltas"],
    KIND_PRIORITY["book_tops"],
    KIND_PRIORITY["trades"],
    KIND_PRIORITY["mark_prices"],
    KIND_PRIORITY["funding"],
)
_SLOT_TYPES: Final = {
    "side": "TINYINT",
    "price": "DOUBLE",
    "qty": "DOUBLE",
    "price2": "DOUBLE",
    "qty2": "DOUBLE",
    "flag": "BOOLEAN",
    "id": "BIGINT",
}
_SLOT_SOURCES: Final[dict[str, dict[str, str]]] = {
    "book_deltas": {
        "side": "side",
        "price": "price",
        "qty": "qty",
        "flag": "is_snapshot",
        "id": "update_id",
    },
    "book_tops": {"price": "bid_price", "qty": "bid_qty", "price2": "ask_price", "qty2": "ask_qty"},
    "trades": {"side": "side", "price": "price", "qty": "qty"},
    "mark_prices": {
        "price": "mark_price",
        "qty": "index_price",
        "price2": "funding_rate",
        "id": "next_funding_ts",
    },
    "funding": {"price": "rate"},
}
TAPE_KINDS: Final = tuple(_SLOT_SOURCES)


def _projections(with_symbol: bool) -> dict[str, dict[str, str]]:
    """What the tape reads of each kind; `symbol` only when it replays more than one."""
    own = ["ts", "seq", *(["symbol"] if with_symbol else [])]
    return {
        kind: {
            **{name: name for name in own},
            **{
                name: sources.get(name, f"CAST(NULL AS {sql_type})")
                for name, sql_type in _SLOT_TYPES.items()
            },
        }
        for kind, sources in _SLOT_SOURCES.items()
    }


Item = tuple[int, int, int, int, int, int, int, Any]
"""What the loop dispatches: (kind, ts, symbol index, a, b, c, d, extra), where a..d are
- depth: unused, unused, and the item's levels as [c, d) of the batch's depth lists; extra is
  (is_snapshot, update_id), what the sequencer is asked;
- trade: price, qty, aggressor side, unused;
- book top: bid, bid size, ask, ask size;
and extra is the arguments after ts for a recorded mark and the rate (or None) for funding."""

Levels = Callable[[int, list[int], list[int], list[int]], None]


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


@runtime_checkable
class LevelsFeed(SymbolFeed, Protocol):
    """A feed that also takes the levels of one depth message in one call, exactly as `depth`
    would take them one by one: on the hottest path that saves a call per level."""

    def depth_levels(
        self, ts: int, sides: list[int], prices: list[int], qtys: list[int]
    ) -> None: ...


def _one_by_one(depth: Callable[[int, int, int, int], None]) -> Levels:
    def levels(ts: int, sides: list[int], prices: list[int], qtys: list[int]) -> None:
        for side, price, qty in zip(sides, prices, qtys, strict=True):
            depth(ts, side, price, qty)

    return levels


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


_INT64_BOUND = 2.0**63


def _units(values: np.ndarray[Any, Any], per_unit: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """round(value x per unit) of every element as int64 (null rows were filled with 0)."""
    scaled = np.rint(values * per_unit)
    if not np.all(np.abs(scaled) < _INT64_BOUND):
        raise ValueError("a price or size in the store is not finite or out of range")
    units: np.ndarray[Any, Any] = scaled.astype(np.int64)
    return units


def _floats(column: pa.Array) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = column.fill_null(0.0).to_numpy()
    return values


@dataclass
class TapeStats:
    """Progress: messages and last_ts count a batch when it is read, rows once it is applied;
    `on_batch` sees them after each batch."""

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
        window_rows: int = 1_000_000,
        on_batch: Callable[[TapeStats], None] | None = None,
        book_tops: bool = True,
    ) -> None:
        """`window_rows` bounds the rows sorted by one query (see `windows`)."""
        self.env = env
        self.con = con
        self.start = start
        self.end = end
        self.feeds = dict(feeds)
        self.scales = dict(scales)
        self.exchange = exchange
        self.batch_rows = batch_rows
        self.window_rows = window_rows
        self.on_batch = on_batch
        self.book_tops = book_tops
        """Whether recorded book tickers reach the feeds. The venue rebuilds its book from depth
        and ignores them, so a replay reads and counts them but skips the call per ticker (about
        two thirds of a Binance capture's messages)."""
        self.stats = TapeStats()
        self.sequencers = {symbol: DepthSequencer() for symbol in self.feeds}
        symbols = list(self.feeds)
        # One symbol needs no symbol column: the query already keeps to it.
        self._projections = _projections(with_symbol=len(symbols) > 1)
        self._symbols = pa.array(symbols, type=pa.string())
        self._ticks = np.array([self.scales[s].ticks_per_unit for s in symbols], dtype=np.int64)
        self._lots = np.array([self.scales[s].lots_per_unit for s in symbols], dtype=np.int64)

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

    def windows(self, start: int) -> list[tuple[int, int]]:
        """[start, end) cut at whole seconds into spans of about `window_rows` rows at most.

        The store sorts a queried window in memory before it streams the first row: a day in one
        query would hold every row of it at once. Spans cut on time, and the stream is ordered
        by time first, so the spans' streams one after another are the window's stream. A second
        holding more rows than `window_rows` is a span of its own.

        The ingests overlapping the window bound its rows from above; when that bound fits in
        one span, the per-second count (a scan of the window) is not needed.
        """
        overlapping, bound = self.con.execute(
            "SELECT count(*), coalesce(sum(rows), 0) FROM ingests "
            "WHERE first_ts < ? AND last_ts >= ?",
            [self.end, start],
        ).fetchall()[0]
        if overlapping and bound <= self.window_rows:
            return [(start, self.end)]
        cuts = [start]
        rows = 0
        for second, in_second in rows_per_second(
            self.con,
            kinds=TAPE_KINDS,
            start=start,
            end=self.end,
            symbols=list(self.feeds),
            exchange=self.exchange,
        ):
            if rows and rows + in_second > self.window_rows:
                cuts.append(second * NS_PER_S)
                rows = 0
            rows += in_second
        cuts.append(self.end)
        return list(pairwise(cuts))

    def _batches(self) -> Iterator[pa.RecordBatch]:
        for start, end in self.windows(self.warm_start()):
            yield from stream_projected(
                self.con,
                self._projections,
                start=start,
                end=end,
                symbols=list(self.feeds),
                exchange=self.exchange,
                batch_rows=self.batch_rows,
            )

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        peek = env.peek
        start = self.start
        feeds = list(self.feeds.values())
        admit = [sequencer.admit for sequencer in self.sequencers.values()]
        reset_book = [feed.reset_book for feed in feeds]
        depth_levels = [
            feed.depth_levels if isinstance(feed, LevelsFeed) else _one_by_one(feed.depth)
            for feed in feeds
        ]
        trade = [feed.trade for feed in feeds]
        top = [feed.top for feed in feeds]
        recorded_mark = [feed.recorded_mark for feed in feeds]
        recorded_funding = [feed.recorded_funding for feed in feeds]
        instant = None
        for batch in self._batches():
            items, sides, prices, qtys = self._items(batch)
            for kind, ts, symbol, a, b, c, d, extra in items:
                if ts != instant:
                    instant = ts
                    if ts >= start:
                        while peek() < ts:
                            yield env.timeout(peek() - env.now)
                if kind == BOOK:
                    verdict = admit[symbol](ts, *extra)
                    if verdict != SKIP:
                        if verdict == RESET:
                            reset_book[symbol](ts)
                        depth_levels[symbol](ts, sides[c:d], prices[c:d], qtys[c:d])
                elif kind == TOP:
                    top[symbol](ts, a, b, c, d)
                elif kind == TRADE:
                    trade[symbol](ts, a, b, c)
                elif kind == MARK:
                    recorded_mark[symbol](ts, *extra)
                elif kind == FUNDING and extra is not None:
                    recorded_funding[symbol](ts, extra)
            self.stats.rows += batch.num_rows
            if self.on_batch is not None:
                self.on_batch(self.stats)
        # Let what is scheduled before the window's end run (timers, in-flight orders).
        while env.peek() < self.end:
            yield env.timeout(env.peek() - env.now)

    def _items(
        self, batch: pa.RecordBatch
    ) -> tuple[Iterator[Item], list[int], list[int], list[int]]:
        """The batch as items (see `Item`) and its depth rows' sides, prices and sizes; counts
        the batch's messages."""
        n = batch.num_rows
        if n == 0:
            return iter(()), [], [], []
        column = batch.column
        kind = column("kind").to_numpy()
        ts = column("ts").to_numpy()
        before = ts < self.start
        counted = (column("seq").to_numpy() % SEQ_STRIDE == 0) & ~before
        self.stats.messages += int(np.count_nonzero(counted))
        self.stats.last_ts = int(ts[-1])
        if len(self._symbols) > 1:
            symbol = pc.index_in(column("symbol"), value_set=self._symbols).to_numpy()
        else:
            symbol = np.zeros(n, dtype=np.int64)
        ticks, lots = self._ticks[symbol], self._lots[symbol]
        price = _units(_floats(column("price")), ticks)
        qty = _units(_floats(column("qty")), lots)
        side = column("side").fill_null(0).to_numpy()

        # Runs: a depth row continues the run of the row before it when nothing the loop or the
        # sequencer looks at differs; every other row is a run of its own.
        book = kind == BOOK
        flag_col, id_col = column("flag"), column("id")
        flag = flag_col.fill_null(False).to_numpy(zero_copy_only=False)
        ids = id_col.fill_null(0).to_numpy()
        has_id = id_col.is_valid().to_numpy(zero_copy_only=False)
        continues = np.zeros(n, dtype=np.bool_)
        continues[1:] = (
            book[1:]
            & book[:-1]
            & (ts[1:] == ts[:-1])
            & (symbol[1:] == symbol[:-1])
            & (flag[1:] == flag[:-1])
            & (ids[1:] == ids[:-1])
            & (has_id[1:] == has_id[:-1])
        )
        run_first = np.flatnonzero(~continues)
        run_end = np.append(run_first[1:], n)
        dispatched = book[run_first] | ~before[run_first]
        if not self.book_tops:
            dispatched &= kind[run_first] != TOP
        first, end = run_first[dispatched], run_end[dispatched]

        item_kind = kind[first]
        is_book, is_top = item_kind == BOOK, item_kind == TOP
        depth_at = np.cumsum(book)[first] - 1  # where an item's levels start in the depth lists
        ask = _units(_floats(column("price2"))[first], ticks[first])
        ask_qty = _units(_floats(column("qty2"))[first], lots[first])
        c = np.where(is_book, depth_at, np.where(is_top, ask, side[first]))
        d = np.where(is_book, depth_at + (end - first), ask_qty)

        extra: list[Any] = [None] * first.size
        depth_items = np.flatnonzero(is_book)
        rows = pa.array(first[depth_items])
        for i, is_snapshot, update_id in zip(
            depth_items.tolist(),
            flag_col.take(rows).to_pylist(),
            id_col.take(rows).to_pylist(),
            strict=True,
        ):
            extra[i] = (is_snapshot, update_id)
        self._recorded(batch, first, item_kind, ticks, extra)

        book_rows = np.flatnonzero(book)
        items = zip(
            item_kind.tolist(),
            ts[first].tolist(),
            symbol[first].tolist(),
            price[first].tolist(),
            qty[first].tolist(),
            c.tolist(),
            d.tolist(),
            extra,
            strict=True,
        )
        return (
            items,
            side[book_rows].tolist(),
            price[book_rows].tolist(),
            qty[book_rows].tolist(),
        )

    @staticmethod
    def _recorded(
        batch: pa.RecordBatch,
        first: np.ndarray[Any, Any],
        item_kind: np.ndarray[Any, Any],
        ticks: np.ndarray[Any, Any],
        extra: list[Any],
    ) -> None:
        """Fill in `extra` for recorded marks and funding: few rows, in plain Python as before."""
        column = batch.column
        marks = np.flatnonzero(item_kind == MARK)
        rows = pa.array(first[marks])
        for i, row, mark, index, rate, next_funding in zip(
            marks.tolist(),
            rows.to_pylist(),
            column("price").take(rows).to_pylist(),
            column("qty").take(rows).to_pylist(),
            column("price2").take(rows).to_pylist(),
            column("id").take(rows).to_pylist(),
            strict=True,
        ):
            per_unit = int(ticks[row])
            extra[i] = (
                round(mark * per_unit),
                None if index is None else round(index * per_unit),
                _rate(rate),
                next_funding,
            )
        fundings = np.flatnonzero(item_kind == FUNDING)
        rows = pa.array(first[fundings])
        for i, rate in zip(fundings.tolist(), column("price").take(rows).to_pylist(), strict=True):
            extra[i] = _rate(rate)
