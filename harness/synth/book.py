"""The book model: an L2 ladder that follows a mid path, as a depth snapshot, diffs and trades.

Each symbol's book is a ladder of `levels` price levels per side, `grid_ticks` apart, around a
mid that moves on that grid: the best bid is at grid index m and the best ask at m + 1. One depth
message per step moves the ladder from m(t-1) to m(t) and refreshes some sizes. Its rows, in order:

1. remove the old levels the price moved through (they would cross the new touch);
2. remove the old levels that fell off the far end of the other side;
3. insert the new levels between the old and new touch on the side the price moved away from;
4. insert the new deep levels on the side the price moved into;
5. set both touch sizes;
6. refresh a contiguous block of sizes on each side, away from the levels set above.

No (side, price) appears twice in one message, and after every message every bid is below every
ask, so a book rebuilt from the store is never crossed. Everything is computed for all steps at
once in NumPy: each row's place in the output is known from per-step counts, so nothing is sorted.

Trades happen between depth messages at the touch the previous message left: a buyer lifts the
ask, a seller hits the bid, never for more than the touch holds. Aggressors lean towards the side
the mid moves next, as takers drive the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from harness.data.schema import SEQ_STRIDE, frame_schema

Array = np.ndarray[Any, Any]

MAX_LEVELS = (SEQ_STRIDE - 2) // 4
"""A message moving the whole ladder has 4 x levels + 2 rows, which `seq` must tell apart."""


@dataclass(frozen=True)
class BookSpec:
    """One symbol's ladder: its grid, depth and trade sizes, in the instrument's ticks and lots."""

    symbol: str
    ticks_per_unit: int
    lots_per_unit: int
    grid_ticks: int
    """Ticks between adjacent levels; also the spread."""
    levels: int
    """Levels per side."""
    level_lots: float
    """Mean size of the touch level at depth multiplier 1; deeper levels hold up to 3x this."""
    trade_lots: float
    """Median trade size."""

    def __post_init__(self) -> None:
        if not 2 <= self.levels <= MAX_LEVELS:
            raise ValueError(f"{self.symbol}: levels must be 2..{MAX_LEVELS}, got {self.levels}")
        if self.grid_ticks < 1 or self.level_lots <= 0 or self.trade_lots <= 0:
            raise ValueError(f"{self.symbol}: grid, level size and trade size must be positive")

    def grid_index(self, price: Array) -> Array:
        """Nearest grid index of each price, kept high enough that every bid stays positive."""
        step = self.grid_ticks / self.ticks_per_unit
        index: Array = np.maximum(np.rint(price / step).astype(np.int64), self.levels + 1)
        return index


@dataclass(frozen=True)
class BookPath:
    """What the book follows, one entry per step (step 0 is the snapshot)."""

    mid: Array
    """Mid price in units (USDT)."""
    depth: Array
    """Multiplier of every level's size (1 = normal, 0.05 = a book that has all but gone)."""
    trades: Array
    """Expected number of trades in the step after the depth message."""


@dataclass(frozen=True)
class Placement:
    """Where the symbol's rows sit among others: `seq` interleaves symbols message by message."""

    exchange: str
    start_ns: int
    step_ns: int
    symbol_index: int
    symbols: int
    first_id: int
    """First update id of the snapshot, and first trade id."""


@dataclass
class _Rows:
    """Depth rows under construction, preallocated to their final size."""

    step: Array
    pos: Array
    side: Array
    index: Array
    lots: Array


DEPTH_NOISE = 0.5
"""Log-normal spread of level sizes."""
REFRESH_PER_SIDE = 3.0
"""Mean levels re-sized per side per message, besides the touch."""
TRADE_NOISE = 1.0
"""Log-normal spread of trade sizes."""
AGGRESSOR_LEAN = 0.3
"""How much more likely the aggressor is on the side the mid moves next (0.5 + this)."""


def _expand(counts: Array) -> tuple[Array, Array]:
    """For per-step row counts: each row's step and its position within that step's group."""
    steps = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    within = np.arange(steps.size, dtype=np.int64) - np.repeat(starts, counts)
    return steps, within


def _ladder_index(side: Array, mid: Array, distance: Array) -> Array:
    """Grid index of the level `distance` from the touch: bids below m, asks from m + 1."""
    index: Array = np.where(side > 0, mid - distance, mid + 1 + distance)
    return index


def _sizes(rng: np.random.Generator, spec: BookSpec, depth: Array, distance: Array) -> Array:
    """Level sizes in lots (at least one): deeper levels are larger, all scale with depth."""
    profile = 1.0 + 2.0 * distance / (spec.levels - 1)
    noise = np.exp(DEPTH_NOISE * rng.standard_normal(distance.size) - DEPTH_NOISE**2 / 2)
    lots: Array = np.maximum(np.rint(spec.level_lots * depth * profile * noise), 1).astype(np.int64)
    return lots


def _diff_rows(
    rng: np.random.Generator, spec: BookSpec, grid: Array, depth: Array
) -> tuple[_Rows, Array, Array]:
    """Rows of the diffs of steps 1.., and each step's touch sizes (bid, ask) after its diff."""
    levels = spec.levels
    before, after = grid[:-1], grid[1:]
    move = after - before
    moved = np.minimum(np.abs(move), levels)
    into = np.where(move < 0, 1, -1).astype(np.int64)  # the side the price moved into
    low = np.maximum(moved, 1)
    span = np.maximum(levels - moved - low, 0)
    refresh_bid = np.minimum(rng.poisson(REFRESH_PER_SIDE, move.size), span)
    refresh_ask = np.minimum(rng.poisson(REFRESH_PER_SIDE, move.size), span)
    first_bid = low + np.floor(rng.random(move.size) * (span - refresh_bid + 1)).astype(np.int64)
    first_ask = low + np.floor(rng.random(move.size) * (span - refresh_ask + 1)).astype(np.int64)
    ones = np.ones(move.size, dtype=np.int64)
    # (count, side, distance of the group's first row, mid it hangs from, removal) per group
    groups = (
        (moved, into, np.zeros_like(moved), before, True),
        (moved, -into, levels - moved, before, True),
        (np.maximum(moved - 1, 0), -into, ones, after, False),
        (np.minimum(moved, levels - 1), into, np.maximum(levels - moved, 1), after, False),
        (2 * ones, ones, np.zeros_like(moved), after, False),
        (refresh_bid, ones, first_bid, after, False),
        (refresh_ask, -ones, first_ask, after, False),
    )
    per_step = np.sum([group[0] for group in groups], axis=0)
    total = int(per_step.sum())
    step_start = np.cumsum(per_step) - per_step
    rows = _Rows(
        step=np.empty(total, dtype=np.int64),
        pos=np.empty(total, dtype=np.int64),
        side=np.empty(total, dtype=np.int8),
        index=np.empty(total, dtype=np.int64),
        lots=np.empty(total, dtype=np.int64),
    )
    offset = np.zeros(move.size, dtype=np.int64)
    touch = np.empty((2, move.size), dtype=np.int64)
    for number, (count, side, first, mid, removal) in enumerate(groups):
        steps, within = _expand(count)
        pos = offset[steps] + within
        where = step_start[steps] + pos
        row_side = side[steps]
        if number == 4:  # the touch pair: bid first, then ask
            row_side = np.where(within == 0, 1, -1).astype(np.int64)
        distance = first[steps] + (0 if number == 4 else within)
        rows.step[where] = steps + 1
        rows.pos[where] = pos
        rows.side[where] = row_side
        rows.index[where] = _ladder_index(row_side, mid[steps], distance)
        if removal:
            rows.lots[where] = 0
        else:
            lots = _sizes(rng, spec, depth[1:][steps], distance)
            rows.lots[where] = lots
            if number == 4:
                touch[0] = lots[0::2]
                touch[1] = lots[1::2]
        offset += count
    return rows, touch[0], touch[1]


def _snapshot_rows(
    rng: np.random.Generator, spec: BookSpec, grid: Array, depth: Array
) -> tuple[_Rows, int, int]:
    distance = np.tile(np.arange(spec.levels, dtype=np.int64), 2)
    side = np.repeat(np.array([1, -1], dtype=np.int64), spec.levels)
    lots = _sizes(rng, spec, np.full(distance.size, depth[0]), distance)
    rows = _Rows(
        step=np.zeros(distance.size, dtype=np.int64),
        pos=np.arange(distance.size, dtype=np.int64),
        side=side.astype(np.int8),
        index=_ladder_index(side, np.full(distance.size, grid[0]), distance),
        lots=lots,
    )
    return rows, int(lots[0]), int(lots[spec.levels])


def depth_frame(
    rng: np.random.Generator, spec: BookSpec, path: BookPath, where: Placement
) -> tuple[pl.DataFrame, Array, Array, Array]:
    """The book_deltas rows of a whole path, the grid index per step, and each step's touch
    sizes (bid, ask) once its message is applied."""
    grid = spec.grid_index(path.mid)
    snap, bid0, ask0 = _snapshot_rows(rng, spec, grid, path.depth)
    diffs, bids, asks = _diff_rows(rng, spec, grid, path.depth)
    step = np.concatenate([snap.step, diffs.step])
    is_snapshot = step == 0
    update_id = where.first_id + step
    frame = _frame(
        "book_deltas",
        where,
        spec.symbol,
        step,
        np.concatenate([snap.pos, diffs.pos]),
        {
            "side": np.concatenate([snap.side, diffs.side]),
            "price": np.concatenate([snap.index, diffs.index])
            * spec.grid_ticks
            / spec.ticks_per_unit,
            "qty": np.concatenate([snap.lots, diffs.lots]) / spec.lots_per_unit,
            "is_snapshot": is_snapshot,
            "first_update_id": update_id,
            "update_id": update_id,
            "prev_update_id": np.where(is_snapshot, update_id, update_id - 1),
        },
    )
    touch_bid = np.concatenate([[bid0], bids])
    touch_ask = np.concatenate([[ask0], asks])
    return frame, grid, touch_bid, touch_ask


def trade_frame(
    rng: np.random.Generator,
    spec: BookSpec,
    path: BookPath,
    where: Placement,
    grid: Array,
    touch_bid: Array,
    touch_ask: Array,
) -> pl.DataFrame:
    """Trades between depth messages, at the touch and within the touch's size."""
    steps = grid.size
    counts = np.minimum(rng.poisson(path.trades), np.minimum(touch_bid, touch_ask))
    offsets = rng.integers(1, where.step_ns, int(counts.sum()), dtype=np.int64)
    times = np.sort(np.repeat(np.arange(steps, dtype=np.int64), counts) * where.step_ns + offsets)
    step = times // where.step_ns
    upcoming = np.sign(np.diff(grid, append=grid[-1]))
    buy = rng.random(step.size) < 0.5 + AGGRESSOR_LEAN * upcoming[step]
    side = np.where(buy, 1, -1).astype(np.int8)
    cap = np.where(buy, touch_ask[step], touch_bid[step]) // counts[step]
    noise = np.exp(TRADE_NOISE * rng.standard_normal(step.size))
    lots = np.clip(np.rint(spec.trade_lots * noise), 1, cap).astype(np.int64)
    price_index = np.where(buy, grid[step] + 1, grid[step])
    number = np.arange(step.size, dtype=np.int64)
    return _frame(
        "trades",
        where,
        spec.symbol,
        number,
        np.zeros(step.size, dtype=np.int64),
        {
            "price": price_index * spec.grid_ticks / spec.ticks_per_unit,
            "qty": lots / spec.lots_per_unit,
            "side": side,
            "trade_id": where.first_id + number,
        },
        ts=where.start_ns + times,
    )


def _frame(
    kind: str,
    where: Placement,
    symbol: str,
    message: Array,
    pos: Array,
    columns: dict[str, Array],
    ts: Array | None = None,
) -> pl.DataFrame:
    """A frame with the store's columns for `kind`; `seq` interleaves the symbols' messages."""
    schema = frame_schema(kind)
    line = message * where.symbols + where.symbol_index
    times = ts if ts is not None else where.start_ns + message * where.step_ns
    frame = pl.DataFrame(
        {
            "ts": times,
            "seq": line * SEQ_STRIDE + pos,
            **columns,
        }
    )
    return frame.select(
        pl.lit(where.exchange, dtype=pl.String).alias("exchange"),
        pl.lit(symbol, dtype=pl.String).alias("symbol"),
        pl.col("ts").cast(pl.Int64),
        pl.lit(None, dtype=pl.Int64).alias("local_ts"),
        pl.col("seq").cast(pl.Int64),
        *(pl.col(name).cast(schema[name]) for name in columns),
    )
