"""Binance futures websocket captures: one `<local receive ns> <raw JSON>` message a line.

Streams: depthUpdate diffs, bookTicker, trade, aggTrade, markPriceUpdate, forceOrder, plus the REST
depth snapshot (a line without `stream`). The exchange time is the transaction time `T` where a
message has one, else the event time `E`.

Depth diffs are sequence-checked the way Binance documents for futures: every diff's `pu` must equal
the previous diff's `u`, and a snapshot with `lastUpdateId` L must be bridged by the chain, i.e. the
first diff with `u` >= L has `pu` <= L. Diffs received before the snapshot count (a capture opens
the stream first, then asks for the snapshot), so the bridge may lie before the snapshot's line. A
break is recorded as a gap (the book is unreliable until the next snapshot); the rows are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from harness.data.errors import IngestError
from harness.data.formats.base import Gap, IngestOptions, Parsed, build_frame
from harness.data.schema import SEQ_STRIDE
from harness.data.source import SourceFile

_LINE = re.compile(rb"^\d{15,20} \{")
_SYMBOL_IN_NAME = re.compile(r"^([A-Za-z0-9]+(?:_[A-Za-z]+)?)[_-]\d{8}")
MS = 1_000_000


@dataclass
class _Columns:
    """Column lists for one kind, appended to in the hot loop."""

    names: tuple[str, ...]
    data: dict[str, list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.data = {name: [] for name in self.names}


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
        return _Parser(src, options).run()


class _Parser:
    def __init__(self, src: SourceFile, options: IngestOptions) -> None:
        self.src = src
        self.options = options
        common = ("symbol", "ts", "local_ts", "seq")
        self.trades = _Columns((*common, "price", "qty", "side", "trade_id"))
        self.tops = _Columns((*common, "bid_price", "bid_qty", "ask_price", "ask_qty", "update_id"))
        self.depth = _Columns(
            (*common, "side", "price", "qty", "is_snapshot")
            + ("first_update_id", "update_id", "prev_update_id")
        )
        self.marks = _Columns(
            (*common, "mark_price", "index_price", "funding_rate", "next_funding_ts")
        )
        self.liqs = _Columns((*common, "side", "price", "qty"))
        self.messages = {"trades": 0, "book_tops": 0, "book_deltas": 0, "mark_prices": 0}
        self.messages["liquidations"] = 0
        self.snapshots = 0
        self.gaps: list[Gap] = []
        self.depth_state: dict[str, _DepthState] = {}
        self.symbols: list[str] = []
        self.handlers: dict[str, Callable[[dict[str, Any], int, int, int], None]] = {
            "depthUpdate": self._depth,
            "bookTicker": self._book_ticker,
            "trade": self._trade,
            "aggTrade": self._agg_trade,
            "markPriceUpdate": self._mark,
            "forceOrder": self._force_order,
        }

    def run(self) -> Parsed:
        for line_no, raw in self.src.lines():
            if not raw.strip():
                continue
            self._line(line_no, raw)
        exchange = self.options.exchange or self._guess_exchange()
        frames = {}
        for kind, cols in (
            ("trades", self.trades),
            ("book_tops", self.tops),
            ("book_deltas", self.depth),
            ("mark_prices", self.marks),
            ("liquidations", self.liqs),
        ):
            if cols.data["ts"]:
                data = dict(cols.data)
                if self.options.symbol:
                    data["symbol"] = [self.options.symbol] * len(data["ts"])
                data["exchange"] = [exchange] * len(data["ts"])
                frames[kind] = build_frame(kind, data)
        messages = {kind: n for kind, n in self.messages.items() if n}
        if self.snapshots:
            messages["book_snapshots"] = self.snapshots
        return Parsed(exchange=exchange, frames=frames, gaps=self.gaps, messages=messages)

    def _line(self, line_no: int, raw: bytes) -> None:
        space = raw.find(b" ")
        if space <= 0 or not raw[:space].isdigit():
            raise IngestError(self.src.name, line_no, "expected '<local_ns> <json>'")
        local_ts = int(raw[:space])
        try:
            message = orjson.loads(raw[space + 1 :])
        except orjson.JSONDecodeError as exc:
            raise IngestError(self.src.name, line_no, f"invalid JSON ({exc})") from None
        if not isinstance(message, dict):
            raise IngestError(self.src.name, line_no, "expected a JSON object")
        seq = line_no * SEQ_STRIDE
        try:
            if "stream" in message:
                data = message["data"]
                event = data.get("e")
                handler = self.handlers.get(event)
                if handler is None:
                    raise IngestError(
                        self.src.name,
                        line_no,
                        f"unknown stream event {event!r} in stream {message['stream']!r}",
                    )
                handler(data, local_ts, seq, line_no)
            elif "lastUpdateId" in message:
                self._snapshot(message, local_ts, seq, line_no)
            else:
                raise IngestError(self.src.name, line_no, "neither a stream message nor a snapshot")
        except KeyError as exc:
            raise IngestError(self.src.name, line_no, f"missing field {exc}") from None
        except (ValueError, TypeError) as exc:
            raise IngestError(self.src.name, line_no, f"bad value: {exc}") from None

    @staticmethod
    def _ts(data: dict[str, Any]) -> int:
        stamp = data.get("T") or data["E"]
        return int(stamp) * MS

    def _note_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            self.symbols.append(symbol)

    def _append(self, cols: _Columns, values: tuple[Any, ...]) -> None:
        for name, value in zip(cols.names, values, strict=True):
            cols.data[name].append(value)

    def _trade(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        side = -1 if d["m"] else 1
        values = (symbol, self._ts(d), local_ts, seq, float(d["p"]), float(d["q"]), side, d["t"])
        self._append(self.trades, values)
        self.messages["trades"] += 1

    def _agg_trade(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        side = -1 if d["m"] else 1
        values = (symbol, self._ts(d), local_ts, seq, float(d["p"]), float(d["q"]), side, d["a"])
        self._append(self.trades, values)
        self.messages["trades"] += 1

    def _book_ticker(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        values = (
            symbol,
            self._ts(d),
            local_ts,
            seq,
            float(d["b"]),
            float(d["B"]),
            float(d["a"]),
            float(d["A"]),
            d["u"],
        )
        self._append(self.tops, values)
        self.messages["book_tops"] += 1

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
        self._append(self.marks, values)
        self.messages["mark_prices"] += 1

    def _force_order(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        order = d["o"]
        symbol = order["s"]
        self._note_symbol(symbol)
        side = 1 if order["S"] == "BUY" else -1
        price = float(order.get("ap") or order["p"])
        ts = int(order.get("T") or d["E"]) * MS
        self._append(self.liqs, (symbol, ts, local_ts, seq, side, price, float(order["q"])))
        self.messages["liquidations"] += 1

    def _depth(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = d["s"]
        self._note_symbol(symbol)
        ts = self._ts(d)
        first, last, prev = int(d["U"]), int(d["u"]), int(d["pu"])
        self._check_sequence(symbol, ts, seq, line, first, last, prev)
        cols = self.depth.data
        position = 0
        for side, levels in ((1, d["b"]), (-1, d["a"])):
            for price, qty in levels:
                cols["symbol"].append(symbol)
                cols["ts"].append(ts)
                cols["local_ts"].append(local_ts)
                cols["seq"].append(seq + position)
                cols["side"].append(side)
                cols["price"].append(float(price))
                cols["qty"].append(float(qty))
                cols["is_snapshot"].append(False)
                cols["first_update_id"].append(first)
                cols["update_id"].append(last)
                cols["prev_update_id"].append(prev)
                position += 1
        self.messages["book_deltas"] += 1

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
                self._gap(symbol, ts, seq, line, pending, prev, "first diff after snapshot skips ids")
            state.awaiting_bridge = None
        state.last_u = last

    def _gap(
        self, symbol: str, ts: int, seq: int, line: int, expected: int, got: int, reason: str
    ) -> None:
        self.gaps.append(Gap(symbol, "book_deltas", ts, seq, line, expected, got, reason))

    def _snapshot(self, d: dict[str, Any], local_ts: int, seq: int, line: int) -> None:
        symbol = self._snapshot_symbol(d, line)
        ts = self._ts(d)
        last_id = int(d["lastUpdateId"])
        cols = self.depth.data
        position = 0
        for side, levels in ((1, d["bids"]), (-1, d["asks"])):
            for price, qty in levels:
                cols["symbol"].append(symbol)
                cols["ts"].append(ts)
                cols["local_ts"].append(local_ts)
                cols["seq"].append(seq + position)
                cols["side"].append(side)
                cols["price"].append(float(price))
                cols["qty"].append(float(qty))
                cols["is_snapshot"].append(True)
                cols["first_update_id"].append(last_id)
                cols["update_id"].append(last_id)
                cols["prev_update_id"].append(None)
                position += 1
        self.snapshots += 1
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
        """USD-M REST snapshots carry no symbol: take --symbol, the file's one symbol, or its name."""
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
