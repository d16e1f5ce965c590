"""Binance futures websocket captures: one `<local receive ns> <raw JSON>` message a line.

Streams: depthUpdate diffs, bookTicker, trade, aggTrade, markPriceUpdate, forceOrder, plus the REST
depth snapshot (a line without `stream`). The exchange time is the transaction time `T` where a
message has one, else the event time `E`.

Depth diffs are sequence-checked the way Binance documents for futures: every diff's `pu` must equal
the previous diff's `u`, and a snapshot with `lastUpdateId` L must be bridged by the chain, i.e. the
first diff with `u` >= L has `pu` <= L. Diffs received before the snapshot count (a capture opens
the stream first, then asks for the snapshot), so the bridge may lie before the snapshot's line. A
break is recorded as a gap (the book is unreliable until the next snapshot); the rows are kept.

Speed (a day's capture is millions of lines, most of them a few hundred bytes): the per-line loop
does as little Python as it can. It queues each message as one tuple, and the decimal strings of
depth levels, book tickers and trades as they are; each block of the file then becomes typed column
chunks in a few vectorised calls, the strings cast to floats in one go. Python's `float` stays the
reference: a string the cast refuses is converted again by it, and only one that `float` refuses
too is an error. A value that does not fit its column (a trade id that is not an integer, say) is
reported with its line as well. When several lines are bad, the earliest is reported, whether the
loop or the typing of a block found it; a line with several defects may name another of them than
a field-by-field reading would.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any, Final

import numpy as np
import orjson
import polars as pl

from harness.data.errors import IngestError
from harness.data.formats.base import Gap, IngestOptions, Parsed, build_frame
from harness.data.schema import SEQ_STRIDE
from harness.data.source import SourceFile

_LINE = re.compile(rb"^\d{15,20} \{")
_SYMBOL_IN_NAME = re.compile(r"^([A-Za-z0-9]+(?:_[A-Za-z]+)?)[_-]\d{8}")
MS = 1_000_000
_BLOCK: Final = 1 << 22
"""Decompressed bytes parsed at a time: enough lines that the per-block calls cost nothing, few
enough that a block's Python objects are still in cache when they are typed and freed."""

_COMMON: Final = ("symbol", "ts", "local_ts", "seq")
_TRADES: Final = (*_COMMON, "side", "trade_id")
_TOPS: Final = (*_COMMON, "update_id")
_MARKS: Final = (*_COMMON, "mark_price", "index_price", "funding_rate", "next_funding_ts")
_LIQS: Final = (*_COMMON, "side", "price", "qty")
_PRICE_QTY: Final = ("price", "qty")
_TOP_FLOATS: Final = ("bid_price", "bid_qty", "ask_price", "ask_qty")
_TOP_VALUES: Final = itemgetter("b", "B", "a", "A")
_DEPTH_MESSAGE: Final = {
    "symbol": pl.String(),
    "ts": pl.Int64(),
    "local_ts": pl.Int64(),
    "seq": pl.Int64(),
    "is_snapshot": pl.Boolean(),
    "first_update_id": pl.Int64(),
    "update_id": pl.Int64(),
    "prev_update_id": pl.Int64(),
    "bids": pl.Int64(),
    "asks": pl.Int64(),
}
"""A queued depth message: the fields its level rows repeat, and how many bids and asks it has."""
_PAIR: Final = frozenset((2,))
_KINDS: Final = ("trades", "book_tops", "book_deltas", "mark_prices", "liquidations")
"""Kinds this format produces, in the order of `Parsed.frames`."""


@dataclass
class _DepthState:
    chain_floor: int | None = None
    """`pu` of the first diff of the current unbroken chain: the chain covers (floor, last_u]."""
    last_u: int | None = None
    awaiting_bridge: int | None = None
    """lastUpdateId of a snapshot that no diff has bridged yet."""


class BinanceWs:
    name = "binance-ws"
    description = "Binance futures websocket capture: '<local_ns> <json>' per line"

    def sniff(self, src: SourceFile, head: bytes) -> bool:
        return bool(_LINE.match(head))

    def parse(self, src: SourceFile, options: IngestOptions) -> Parsed:
        with _gc_paused():
            return _Parser(src, options).run()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The parse makes no reference cycles, so the cyclic GC can only waste time on it: its full
    collections walk every queued object of the block (about 15% of the parse time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Parser:
    def __init__(self, src: SourceFile, options: IngestOptions) -> None:
        self.src = src
        self.options = options
        # Rows of the current block, one tuple per message, in the column order of _TRADES etc.
        self.trades: list[tuple[Any, ...]] = []
        self.tops: list[tuple[Any, ...]] = []
        self.depth: list[tuple[Any, ...]] = []
        self.marks: list[tuple[Any, ...]] = []
        self.liqs: list[tuple[Any, ...]] = []
        # Their decimal strings, row after row: price, qty per trade; bid price, bid qty, ask
        # price, ask qty per ticker; price, qty per level of each depth message, bids first.
        self.trade_values: list[Any] = []
        self.top_values: list[Any] = []
        self.levels: list[Any] = []
        self.chunks: dict[str, list[pl.DataFrame]] = {kind: [] for kind in _KINDS}
        self.counts = dict.fromkeys(_KINDS, 0)
        """Messages typed so far per kind (diffs and snapshots both count for book_deltas)."""
        self.diffs = 0
        self.gaps: list[Gap] = []
        self.depth_state: dict[str, _DepthState] = {}
        self.symbols: list[str] = []
        self.handlers = {
            "depthUpdate": self._depth,
            "bookTicker": self._book_ticker,
            "trade": self._trade,
            "aggTrade": self._agg_trade,
            "markPriceUpdate": self._mark,
            "forceOrder": self._force_order,
        }

    def run(self) -> Parsed:
        self._read()
        exchange = self.options.exchange or self._guess_exchange()
        constant = {"exchange": exchange}
        if self.options.symbol:
            constant["symbol"] = self.options.symbol
        frames = {
            kind: pl.concat(chunks).with_columns(
                pl.lit(value, dtype=pl.String()).alias(name) for name, value in constant.items()
            )
            for kind, chunks in self.chunks.items()
            if chunks
        }
        counts = {
            "trades": self.counts["trades"],
            "book_tops": self.counts["book_tops"],
            "book_deltas": self.diffs,
            "mark_prices": self.counts["mark_prices"],
            "liquidations": self.counts["liquidations"],
            "book_snapshots": self.counts["book_deltas"] - self.diffs,
        }
        messages = {kind: n for kind, n in counts.items() if n}
        return Parsed(exchange=exchange, frames=frames, gaps=self.gaps, messages=messages)

    def _read(self) -> None:
        """Parse the file block by block; the next block is decompressed on a second thread
        meanwhile (zlib and zstd release the GIL), and memory holds typed chunks, not millions
        of Python objects."""
        line_no = 0
        tail = b""
        with self.src.open_binary() as fh, ThreadPoolExecutor(max_workers=1) as reader:
            ahead = reader.submit(fh.read, _BLOCK)
            while block := ahead.result():
                ahead = reader.submit(fh.read, _BLOCK)
                lines = _split(tail + block)
                tail = lines.pop()
                self._block(lines, line_no)
                line_no += len(lines)
        if tail:
            self._block(_split(tail), line_no)

    def _block(self, lines: list[bytes], line_no: int) -> None:
        try:
            self._lines(lines, line_no)
        except IngestError:
            self._flush()  # raises instead when a row queued from an earlier line is bad
            raise
        self._flush()

    def _flush(self) -> None:
        """Type the queued rows into chunks. Every kind is typed before anything is raised, so
        that of several bad values the one on the earliest line is reported."""
        pending = (
            ("trades", self.trades, self._trade_chunk),
            ("book_tops", self.tops, self._top_chunk),
            ("book_deltas", self.depth, self._depth_chunk),
            ("mark_prices", self.marks, lambda: self._row_chunk("mark_prices", _MARKS, self.marks)),
            ("liquidations", self.liqs, lambda: self._row_chunk("liquidations", _LIQS, self.liqs)),
        )
        chunks: dict[str, pl.DataFrame] = {}
        errors: list[IngestError] = []
        for kind, rows, to_chunk in pending:
            if rows:
                try:
                    chunks[kind] = to_chunk()
                except IngestError as exc:
                    errors.append(exc)
        if errors:
            raise min(errors, key=lambda error: error.line or 0)
        for kind, rows, _ in pending:
            if rows:
                self.chunks[kind].append(chunks[kind])
                self.counts[kind] += len(rows)
                rows.clear()
        self.trade_values.clear()
        self.top_values.clear()
        self.levels.clear()

    def _trade_chunk(self) -> pl.DataFrame:
        values = self._floats(self.trade_values, lambda i: _line(self.trades[i // 2]))
        return self._row_chunk("trades", _TRADES, self.trades, _interleaved(_PRICE_QTY, values))

    def _top_chunk(self) -> pl.DataFrame:
        values = self._floats(self.top_values, lambda i: _line(self.tops[i // 4]))
        return self._row_chunk("book_tops", _TOPS, self.tops, _interleaved(_TOP_FLOATS, values))

    def _depth_chunk(self) -> pl.DataFrame:
        values = self._floats(self.levels, self._level_line)
        columns = _columns(tuple(_DEPTH_MESSAGE), self.depth)
        messages = self._typed(
            self.depth,
            lambda n: pl.DataFrame({k: v[:n] for k, v in columns.items()}, schema=_DEPTH_MESSAGE),
        )
        return build_frame("book_deltas", _depth_rows(messages, values))

    def _row_chunk(
        self,
        kind: str,
        names: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        floats: dict[str, pl.Series] | None = None,
    ) -> pl.DataFrame:
        columns = _columns(names, rows) | (floats or {})
        return self._typed(
            rows, lambda n: build_frame(kind, {k: v[:n] for k, v in columns.items()})
        )

    def _typed(
        self, rows: list[tuple[Any, ...]], build: Callable[[int], pl.DataFrame]
    ) -> pl.DataFrame:
        """`build(n)` types the first n rows strictly. When a value does not fit its column (a
        trade id that is not an integer, say), bisect for the first row that fails, to name it."""
        try:
            return build(len(rows))
        except TypeError as exc:
            error = exc
        fits, fails = 0, len(rows)
        while fails - fits > 1:
            middle = (fits + fails) // 2
            try:
                build(middle)
                fits = middle
            except TypeError as exc:
                fails, error = middle, exc
        reason = str(error).splitlines()[0]
        raise IngestError(self.src.name, _line(rows[fails - 1]), f"bad value: {reason}")

    def _floats(self, values: list[Any], line_of: Callable[[int], int]) -> pl.Series:
        """Queued values as floats, exactly as Python's `float` reads them."""
        try:
            cast = pl.Series(values, dtype=pl.String(), strict=True).cast(
                pl.Float64(), strict=False
            )
            if not cast.null_count():
                return cast
        except TypeError:
            pass  # a value that is not a string (a JSON number, say), which `float` may accept
        converted = []
        for index, value in enumerate(values):
            try:
                converted.append(float(value))
            except (ValueError, TypeError) as exc:
                raise IngestError(self.src.name, line_of(index), f"bad value: {exc}") from None
        return pl.Series(converted, dtype=pl.Float64())

    def _level_line(self, index: int) -> int:
        ends = list(accumulate(2 * (message[-2] + message[-1]) for message in self.depth))
        return _line(self.depth[bisect.bisect_right(ends, index)])

    def _lines(self, lines: list[bytes], line_no: int) -> None:
        loads = orjson.loads
        handlers = self.handlers
        name = self.src.name
        for raw in lines:
            line_no += 1
            head, space, body = raw.partition(b" ")
            if not (space and head.isdigit()):
                if not raw.strip():
                    continue
                raise IngestError(name, line_no, "expected '<local_ns> <json>'")
            try:
                message = loads(body)
            except orjson.JSONDecodeError as exc:
                raise IngestError(name, line_no, f"invalid JSON ({exc})") from None
            if not isinstance(message, dict):
                raise IngestError(name, line_no, "expected a JSON object")
            try:
                if "stream" in message:
                    data = message["data"]
                    event = data.get("e")
                    handler = handlers.get(event)
                    if handler is None:
                        raise IngestError(
                            name,
                            line_no,
                            f"unknown stream event {event!r} in stream {message['stream']!r}",
                        )
                    handler(data, int(head), line_no * SEQ_STRIDE, line_no)
                elif "lastUpdateId" in message:
                    self._snapshot(message, int(head), line_no * SEQ_STRIDE, line_no)
                else:
                    raise IngestError(name, line_no, "neither a stream message nor a snapshot")
            except KeyError as exc:
                raise IngestError(name, line_no, f"missing field {exc}") from None
            except (ValueError, TypeError) as exc:
                raise IngestError(name, line_no, f"bad value: {exc}") from None

    # Handlers append a message's row and its values only once every field is read, so a row
    # and its queued values always match.

    def _note_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            self.symbols.append(symbol)

    def _book_ticker(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        if symbol not in self.symbols:  # `_note_symbol` inlined: most lines come here
            self.symbols.append(symbol)
        ts = int(d.get("T") or d["E"]) * MS
        values = _TOP_VALUES(d)
        self.tops.append((symbol, ts, local_ts, seq, d["u"]))
        self.top_values.extend(values)

    def _trade(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        if symbol not in self.symbols:  # `_note_symbol` inlined, as for book tickers
            self.symbols.append(symbol)
        side = -1 if d["m"] else 1
        ts = int(d.get("T") or d["E"]) * MS
        values = (d["p"], d["q"])
        self.trades.append((symbol, ts, local_ts, seq, side, d["t"]))
        self.trade_values += values

    def _agg_trade(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        side = -1 if d["m"] else 1
        ts = int(d.get("T") or d["E"]) * MS
        values = (d["p"], d["q"])
        self.trades.append((symbol, ts, local_ts, seq, side, d["a"]))
        self.trade_values += values

    def _mark(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        # markPriceUpdate's `T` is the next funding time, not a transaction time.
        next_funding = int(d["T"]) * MS if d.get("T") else None
        rate = float(d["r"]) if d.get("r") not in (None, "") else None
        values = (
            symbol,
            int(d["E"]) * MS,
            local_ts,
            seq,
            float(d["p"]),
            float(d["i"]),
            rate,
            next_funding,
        )
        self.marks.append(values)

    def _force_order(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        order = d["o"]
        symbol = order["s"]
        self._note_symbol(symbol)
        side = 1 if order["S"] == "BUY" else -1
        price = float(order.get("ap") or order["p"])
        ts = int(order.get("T") or d["E"]) * MS
        self.liqs.append((symbol, ts, local_ts, seq, side, price, float(order["q"])))

    def _depth(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        ts = int(d.get("T") or d["E"]) * MS
        first, last, prev = int(d["U"]), int(d["u"]), int(d["pu"])
        self._check_sequence(symbol, ts, seq, line, first, last, prev)
        bids, asks = self._queue_levels(d["b"], d["a"])
        self.depth.append((symbol, ts, local_ts, seq, False, first, last, prev, bids, asks))
        self.diffs += 1

    def _queue_levels(self, bids: Any, asks: Any) -> tuple[int, int]:
        """Queue both sides' price and qty values; returns how many bids and asks were queued.

        When every level is a pair, both sides are flattened in C. Otherwise the levels are
        unpacked and converted one by one, which raises the error a malformed level deserves
        before anything of this message is queued.
        """
        try:
            pairs = {*map(len, bids), *map(len, asks)} <= _PAIR
        except TypeError:
            pairs = False
        if pairs:
            self.levels.extend(chain.from_iterable(bids))
            self.levels.extend(chain.from_iterable(asks))
            return len(bids), len(asks)
        queued: list[Any] = []
        for levels in (bids, asks):
            for price, qty in levels:
                float(price)
                float(qty)
                queued += (price, qty)
        self.levels.extend(queued)
        return len(bids), len(asks)

    def _check_sequence(
        self, symbol: str, ts: int, seq: int, line: int, first: int, last: int, prev: int
    ) -> None:
        state = self.depth_state.setdefault(symbol, _DepthState())
        if state.last_u is not None and prev != state.last_u:
            self._gap(symbol, ts, seq, line, state.last_u, prev, "pu does not follow previous u")
            state.chain_floor = prev
        if state.chain_floor is None:
            state.chain_floor = prev
        pending = state.awaiting_bridge
        if pending is not None and last >= pending:
            if prev > pending:
                self._gap(
                    symbol, ts, seq, line, pending, prev, "first diff after snapshot skips ids"
                )
            state.awaiting_bridge = None
        state.last_u = last

    def _gap(
        self, symbol: str, ts: int, seq: int, line: int, expected: int, got: int, reason: str
    ) -> None:
        self.gaps.append(Gap(symbol, "book_deltas", ts, seq, line, expected, got, reason))

    def _snapshot(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = self._snapshot_symbol(d, line)
        ts = int(d.get("T") or d["E"]) * MS
        last_id = int(d["lastUpdateId"])
        bids, asks = self._queue_levels(d["bids"], d["asks"])
        self.depth.append((symbol, ts, local_ts, seq, True, last_id, last_id, None, bids, asks))
        state = self.depth_state.setdefault(symbol, _DepthState())
        bridged = (
            state.chain_floor is not None
            and state.last_u is not None
            and state.chain_floor <= last_id <= state.last_u
        )
        if bridged:
            state.awaiting_bridge = None
        elif state.last_u is not None and state.last_u > last_id:
            floor = state.chain_floor if state.chain_floor is not None else state.last_u
            self._gap(symbol, ts, seq, line, last_id, floor, "snapshot older than diffs")
        else:
            state.awaiting_bridge = last_id

    def _snapshot_symbol(self, d: dict[str, Any], line: int) -> str:
        """USD-M REST snapshots carry no symbol: take --symbol, the one symbol seen, or the name."""
        symbol = d.get("symbol") or self.options.symbol
        if symbol is None and len(self.symbols) == 1:
            symbol = self.symbols[0]
        if symbol is None:
            match = _SYMBOL_IN_NAME.match(self.src.base_name)
            symbol = match.group(1).upper() if match else None
        if symbol is None:
            raise IngestError(self.src.name, line, "depth snapshot without a symbol; pass --symbol")
        self._note_symbol(symbol)
        return str(symbol)

    def _guess_exchange(self) -> str:
        coin_margined = any("_" in symbol for symbol in self.symbols)
        return "binance-coinm" if coin_margined else "binance-usdm"


def _split(text: bytes) -> list[bytes]:
    """Lines as the line iterator of a binary file gives them, without their line ends."""
    lines = text.split(b"\n")
    if b"\r" in text:
        return [line.rstrip(b"\r") for line in lines]
    return lines


def _columns(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    return dict(zip(names, zip(*rows, strict=True), strict=True))


def _line(row: tuple[Any, ...]) -> int:
    """Source line of a queued row, from its `seq` (the fourth field of every row)."""
    return int(row[3]) // SEQ_STRIDE


def _interleaved(names: tuple[str, ...], values: pl.Series) -> dict[str, pl.Series]:
    """Columns from values queued row after row, `len(names)` of them per row."""
    width = len(names)
    return {name: values.gather_every(width, offset) for offset, name in enumerate(names)}


def _depth_rows(messages: pl.DataFrame, level_values: pl.Series) -> dict[str, Any]:
    """One row per level: each message's fields repeated over its levels, bids first."""
    bids = messages["bids"].to_numpy()
    counts = bids + messages["asks"].to_numpy()
    rows = messages.drop("bids", "asks")[np.repeat(np.arange(len(counts)), counts)]
    first_row = np.cumsum(counts) - counts
    position = np.arange(int(counts.sum())) - np.repeat(first_row, counts)
    columns: dict[str, Any] = {name: rows[name] for name in rows.columns}
    columns["seq"] = rows["seq"] + pl.Series(position)
    columns["side"] = pl.Series(np.where(position < np.repeat(bids, counts), 1, -1))
    return columns | _interleaved(_PRICE_QTY, level_values)
