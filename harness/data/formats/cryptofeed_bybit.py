"""Bybit v5 public websocket recordings made by cryptofeed: zstd JSON lines, one event a line.

A line is `{"t": type, "conn": connection, "ts": receive time in float seconds, ...}`. `connect`
lines name a connection's endpoint in `addr`; `recv` lines carry the raw websocket message, as a
JSON string, in `data`; `header`, `send` and `http` lines hold nothing the store keeps.

Only the derivatives endpoints (`/v5/public/linear`, `/v5/public/inverse`) are read. Messages on a
spot or option connection of the same recording are skipped and counted (`skipped_spot`): Bybit
spot and USDT perpetuals share symbol names (BTCUSDT), so their books and trades would mix.

Topics:
- `orderbook.<depth>.<SYMBOL>` -> book_deltas. A `snapshot` gives is_snapshot rows and restarts the
  chain of update ids `u`; each `delta` must carry the previous `u` + 1, and a break (or a delta
  before any snapshot) is recorded as a gap, keeping the rows. `first_update_id` holds the cross
  sequence `seq` rather than an update id: it orders book messages against the `seq` of trades;
  `prev_update_id` is null. The exchange time is `cts`, the matching engine's time and the clock of
  the trades' `T`, so book changes and trades interleave as the engine made them; the message's
  `ts`, when it was pushed (about 0.1 s later here), stands in where `cts` is missing.
- `publicTrade.<SYMBOL>` -> trades at `T`, side from `S` (Buy +1, Sell -1). Trade ids are UUIDs,
  so `trade_id` is null.
- `tickers.<SYMBOL>` -> mark_prices (markPrice, indexPrice, fundingRate, nextFundingTime) and
  open_interest (openInterest) at the message's `ts`. A delta carries only the fields that changed,
  so the last value of each is kept per symbol (a snapshot replaces them all) and every row is
  complete; a row is written only when its message changed one of the row's fields, since most
  ticker deltas only move the best bid and ask. A field not known yet, or an empty string (a
  contract not trading yet), is null.
- `allLiquidation.<SYMBOL>` -> liquidations at `T`. `S` is the side of the liquidated position;
  the side stored is that of the forced order, as for Binance's forceOrder: Buy gives -1.
- `kline.*`: candles, which the store does not hold; counted as `skipped_kline`.
Subscription acknowledgements and pongs (an `op` and no topic) are ignored; any other topic is an
error naming its line.

local_ts is the recorder's `ts` rounded to the microsecond (a double near 1.8e9 s holds nothing
finer), in nanoseconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import orjson

from harness.data.errors import IngestError
from harness.data.formats.base import Gap, IngestOptions, Parsed, build_frame
from harness.data.schema import SEQ_STRIDE
from harness.data.source import SourceFile

MS: Final = 1_000_000
_RECORD: Final = re.compile(rb'\A\{"t":\s*"(?:header|connect|http|send|recv)"')
_BYBIT: Final = re.compile(rb'"(?:exchange|conn)":\s*"BYBIT[".]')
_READ: Final = frozenset({"linear", "inverse"})
_SKIPPED: Final = frozenset({"spot", "option"})
_SIDES: Final = {"Buy": 1, "Sell": -1}
_MARK_FIELDS: Final = ("markPrice", "indexPrice", "fundingRate", "nextFundingTime")
_TICKER_FIELDS: Final = (*_MARK_FIELDS, "openInterest")

_COMMON: Final = ("symbol", "ts", "local_ts", "seq")
_COLUMNS: Final = {
    "trades": (*_COMMON, "price", "qty", "side", "trade_id"),
    "book_deltas": (
        *_COMMON,
        "side",
        "price",
        "qty",
        "is_snapshot",
        "first_update_id",
        "update_id",
        "prev_update_id",
    ),
    "mark_prices": (*_COMMON, "mark_price", "index_price", "funding_rate", "next_funding_ts"),
    "open_interest": (*_COMMON, "oi"),
    "liquidations": (*_COMMON, "side", "price", "qty"),
}

Handler = Callable[[dict[str, Any], int, int], None]


class CryptofeedBybit:
    name = "cryptofeed-bybit"
    description = "cryptofeed recording of Bybit v5 public websockets: JSON lines of raw messages"

    def sniff(self, src: SourceFile, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return bool(_RECORD.match(first) and _BYBIT.search(first))

    def parse(self, src: SourceFile, options: IngestOptions) -> Parsed:
        return _Parser(src, options).run()


def _number(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _ms_to_ns(value: Any) -> int | None:
    """An unknown time comes as "" or "0": null, not the epoch."""
    stamp = int(value) if value not in (None, "") else 0
    return stamp * MS if stamp else None


class _Parser:
    def __init__(self, src: SourceFile, options: IngestOptions) -> None:
        self.src = src
        self.options = options
        self.rows: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in _COLUMNS}
        self.messages: Counter[str] = Counter()
        self.gaps: list[Gap] = []
        self.markets: dict[str, str] = {}
        """Endpoint market (linear, spot, ...) of each connection, from its connect line."""
        self.last_update: dict[str, int] = {}
        """`u` of the last order book message per symbol."""
        self.tickers: dict[str, dict[str, Any]] = {}
        """Last known value of each ticker field per symbol."""
        self.handlers: dict[str, Handler] = {
            "orderbook": self._book,
            "publicTrade": self._trades,
            "tickers": self._tickers,
            "allLiquidation": self._liquidations,
            "kline": self._kline,
        }

    def run(self) -> Parsed:
        name = self.src.name
        for line, raw in self.src.lines():
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise IngestError(name, line, f"invalid JSON ({exc})") from None
            if not isinstance(record, dict) or "t" not in record:
                raise IngestError(
                    name, line, "expected a cryptofeed record, a JSON object with 't'"
                )
            try:
                self._record(record, line)
            except KeyError as exc:
                raise IngestError(name, line, f"missing field {exc}") from None
            except (ValueError, TypeError) as exc:
                raise IngestError(name, line, f"bad value: {exc}") from None
        exchange = self.options.exchange or "bybit"
        frames = {}
        for kind, rows in self.rows.items():
            if rows:
                columns: dict[str, Any] = dict(
                    zip(_COLUMNS[kind], zip(*rows, strict=True), strict=True)
                )
                if self.options.symbol:
                    columns["symbol"] = [self.options.symbol] * len(rows)
                columns["exchange"] = [exchange] * len(rows)
                frames[kind] = build_frame(kind, columns)
        return Parsed(
            exchange=exchange, frames=frames, gaps=self.gaps, messages=dict(self.messages)
        )

    def _record(self, record: dict[str, Any], line: int) -> None:
        kind = record["t"]
        if kind == "header" and record.get("exchange") != "BYBIT":
            raise IngestError(self.src.name, line, f"a recording of {record.get('exchange')!r}")
        if kind == "connect":
            self._connect(record["conn"], record["addr"], line)
        elif kind == "recv":
            self._recv(record, line)

    def _connect(self, conn: str, addr: Any, line: int) -> None:
        path = urlsplit(addr).path.rstrip("/") if isinstance(addr, str) else ""
        market = path.removeprefix("/v5/public/")
        if market == path or market not in _READ | _SKIPPED:
            raise IngestError(self.src.name, line, f"not a Bybit v5 public endpoint: {addr!r}")
        self.markets[conn] = market

    def _recv(self, record: dict[str, Any], line: int) -> None:
        conn = record["conn"]
        market = self.markets.get(conn)
        if market is None:
            raise IngestError(self.src.name, line, f"message on {conn!r} before its connect line")
        if market in _SKIPPED:
            self.messages[f"skipped_{market}"] += 1
            return
        data = record["data"]
        try:
            message = orjson.loads(data) if isinstance(data, str) else data
        except orjson.JSONDecodeError as exc:
            raise IngestError(self.src.name, line, f"invalid JSON in the message ({exc})") from None
        if not isinstance(message, dict):
            raise IngestError(self.src.name, line, "the message is not a JSON object")
        topic = message.get("topic")
        if topic is None and "op" in message:
            return  # a subscription acknowledgement or a pong
        handler = self.handlers.get(topic.split(".", 1)[0]) if isinstance(topic, str) else None
        if handler is None:
            raise IngestError(self.src.name, line, f"unknown topic {topic!r}")
        local_ts = round(record["ts"] * 1_000_000) * 1000
        handler(message, local_ts, line)

    def _book(self, message: dict[str, Any], local_ts: int, line: int) -> None:
        data = message["data"]
        symbol = data["s"]
        kind = message["type"]
        if kind not in ("snapshot", "delta"):
            raise IngestError(self.src.name, line, f"order book message of type {kind!r}")
        snapshot = kind == "snapshot"
        ts = int(message.get("cts") or message["ts"]) * MS
        update_id, cross_seq = int(data["u"]), int(data["seq"])
        seq = line * SEQ_STRIDE
        last = self.last_update.get(symbol)
        if not snapshot and last != update_id - 1:
            expected = None if last is None else last + 1
            reason = "delta before any snapshot" if last is None else "u does not follow previous u"
            self.gaps.append(Gap(symbol, "book_deltas", ts, seq, line, expected, update_id, reason))
        self.last_update[symbol] = update_id
        rows = self.rows["book_deltas"]
        ids = (snapshot, cross_seq, update_id, None)
        position = 0
        for side, levels in ((1, data["b"]), (-1, data["a"])):
            for price, qty in levels:
                rows.append(
                    (symbol, ts, local_ts, seq + position, side, float(price), float(qty), *ids)
                )
                position += 1
        self.messages["book_snapshots" if snapshot else "book_deltas"] += 1

    def _trades(self, message: dict[str, Any], local_ts: int, line: int) -> None:
        rows = self.rows["trades"]
        seq = line * SEQ_STRIDE
        for position, trade in enumerate(message["data"]):
            side = self._side(trade["S"], line)
            ts, price, qty = int(trade["T"]) * MS, float(trade["p"]), float(trade["v"])
            rows.append((trade["s"], ts, local_ts, seq + position, price, qty, side, None))
        self.messages["trades"] += 1

    def _tickers(self, message: dict[str, Any], local_ts: int, line: int) -> None:
        data = message["data"]
        symbol = data["symbol"]
        kind = message["type"]
        if kind == "snapshot":
            self.tickers[symbol] = dict.fromkeys(_TICKER_FIELDS)
        elif kind != "delta":
            raise IngestError(self.src.name, line, f"ticker message of type {kind!r}")
        known = self.tickers.setdefault(symbol, dict.fromkeys(_TICKER_FIELDS))
        for field in _TICKER_FIELDS:
            if field in data:
                known[field] = data[field]
        ts = int(message["ts"]) * MS
        seq = line * SEQ_STRIDE
        if any(field in data for field in _MARK_FIELDS):
            self.rows["mark_prices"].append(
                (
                    symbol,
                    ts,
                    local_ts,
                    seq,
                    _number(known["markPrice"]),
                    _number(known["indexPrice"]),
                    _number(known["fundingRate"]),
                    _ms_to_ns(known["nextFundingTime"]),
                )
            )
            self.messages["mark_prices"] += 1
        if "openInterest" in data:
            oi = _number(known["openInterest"])
            self.rows["open_interest"].append((symbol, ts, local_ts, seq, oi))
            self.messages["open_interest"] += 1

    def _liquidations(self, message: dict[str, Any], local_ts: int, line: int) -> None:
        rows = self.rows["liquidations"]
        seq = line * SEQ_STRIDE
        for position, item in enumerate(message["data"]):
            side = -self._side(item["S"], line)
            ts, price, qty = int(item["T"]) * MS, float(item["p"]), float(item["v"])
            rows.append((item["s"], ts, local_ts, seq + position, side, price, qty))
        self.messages["liquidations"] += 1

    def _kline(self, message: dict[str, Any], local_ts: int, line: int) -> None:
        self.messages["skipped_kline"] += 1

    def _side(self, value: Any, line: int) -> int:
        side = _SIDES.get(value)
        if side is None:
            raise IngestError(self.src.name, line, f"side {value!r} is neither Buy nor Sell")
        return side
