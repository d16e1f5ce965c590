"""Ingest of cryptofeed's Bybit v5 recording: counts against the raw file, values, book, errors."""

from __future__ import annotations

import bisect
import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
import zstandard

from harness.data.book_replay import BookReplayer
from harness.data.errors import IngestError
from harness.data.formats.cryptofeed_bybit import CryptofeedBybit
from harness.data.ingest import ingest_paths
from harness.data.source import SourceFile
from tests.conftest import BTCUSDT_CAPTURE, shared

RECORDING = "cryptofeed-recordings/BYBIT.jsonl.zst"
SYMBOLS = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"}
MARK_FIELDS = ("markPrice", "indexPrice", "fundingRate", "nextFundingTime")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _linear_messages(path: Path) -> list[dict[str, Any]]:
    """Websocket messages received on the perpetuals (linear) connection, read with plain json."""
    with path.open("rb") as fh:
        text = zstandard.ZstdDecompressor().stream_reader(fh).read().decode()
    linear: set[str] = set()
    messages = []
    for line in text.splitlines():
        record = json.loads(line)
        if record["t"] == "connect" and record["addr"].endswith("/v5/public/linear"):
            linear.add(record["conn"])
        elif record["t"] == "recv" and record["conn"] in linear:
            messages.append(json.loads(record["data"]))
    return messages


def _expected_rows(messages: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    rows: Counter[tuple[str, str]] = Counter()
    for message in messages:
        topic = message.get("topic", "")
        symbol = topic.rsplit(".", 1)[-1]
        data: Any = message.get("data")
        if topic.startswith("orderbook."):
            rows["book_deltas", symbol] += len(data["b"]) + len(data["a"])
        elif topic.startswith("publicTrade."):
            rows["trades", symbol] += len(data)
        elif topic.startswith("tickers."):
            rows["mark_prices", symbol] += any(field in data for field in MARK_FIELDS)
            rows["open_interest", symbol] += "openInterest" in data
    return +rows


def test_rows_per_kind_and_symbol_match_the_raw_recording(
    store: duckdb.DuckDBPyConnection,
) -> None:
    path = shared(RECORDING)
    (report,) = ingest_paths(store, [path])
    assert report.format == "cryptofeed-bybit"
    assert report.exchange == "bybit"
    expected = _expected_rows(_linear_messages(path))
    stored: Counter[tuple[str, str]] = Counter()
    for kind in ("book_deltas", "trades", "mark_prices", "open_interest", "liquidations"):
        for symbol, n in store.execute(
            f"SELECT symbol, count(*) FROM {kind} GROUP BY symbol"
        ).fetchall():
            stored[kind, symbol] = n
    assert stored == expected
    assert {symbol for _, symbol in stored} == SYMBOLS
    # Pinned as well, so that a mistake shared by the test's reading and the parser shows.
    assert report.rows == {
        "trades": 327,
        "book_deltas": 17_734,
        "mark_prices": 140,
        "open_interest": 20,
    }
    assert report.messages == {
        "book_snapshots": 4,
        "book_deltas": 1_594,
        "trades": 102,
        "mark_prices": 140,
        "open_interest": 20,
        "skipped_kline": 71,
        "skipped_spot": 681,
    }
    assert report.gaps == []
    assert _count(store, "SELECT count(*) FROM gaps") == 0


def test_trade_and_ticker_values(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [shared(RECORDING)])
    # Line 132: received at 1786310819.965676 s; T 1786310819680, Sell 0.004 at 65114.20, UUID id.
    trade = store.execute(
        "SELECT ts, local_ts, price, qty, side, trade_id FROM trades "
        "WHERE symbol = 'BTCUSDT' ORDER BY ts, seq LIMIT 1"
    ).fetchall()[0]
    assert trade == (1_786_310_819_680_000_000, 1_786_310_819_965_676_000, 65114.2, 0.004, -1, None)
    marks = store.execute(
        "SELECT ts, mark_price, index_price, funding_rate, next_funding_ts FROM mark_prices "
        "WHERE symbol = 'BTCUSDT' ORDER BY ts, seq LIMIT 2"
    ).fetchall()
    # Line 22 is the snapshot; line 24 a delta carrying only markPrice, the rest carried forward.
    assert marks == [
        (1_786_310_817_583_000_000, 65117.44, 65137.76, 0.0001, 1_786_320_000_000_000_000),
        (1_786_310_818_183_000_000, 65117.43, 65137.76, 0.0001, 1_786_320_000_000_000_000),
    ]
    oi = store.execute(
        "SELECT ts, oi FROM open_interest WHERE symbol = 'BTCUSDT' ORDER BY ts, seq LIMIT 1"
    ).fetchall()
    assert oi == [(1_786_310_817_583_000_000, 59891.732)]
    # The first book message is the snapshot, stamped with its matching-engine time `cts`.
    snapshot = store.execute(
        "SELECT min(ts), max(ts), count(*), min(update_id), min(first_update_id) FROM book_deltas "
        "WHERE symbol = 'BTCUSDT' AND is_snapshot"
    ).fetchall()[0]
    assert snapshot == (
        1_786_310_818_027_000_000,
        1_786_310_818_027_000_000,
        400,
        15_076_952,
        753_843_911_359,
    )


def _top(replayer: BookReplayer) -> tuple[float, float]:
    bid, ask = replayer.book.best_bid(), replayer.book.best_ask()
    assert bid is not None and ask is not None
    return bid[0], ask[0]


def test_rebuilt_book_agrees_with_the_ticker_best_prices(
    store: duckdb.DuckDBPyConnection,
) -> None:
    """A ticker's cross sequence `cs` falls after book message `seq` (first_update_id) k and
    before k+1; the book after k or after k+1 (pushed in 100 ms batches) shows its best prices."""
    path = shared(RECORDING)
    ingest_paths(store, [path])
    tickers = [
        (m["data"]["symbol"], m["cs"], float(m["data"]["bid1Price"]), float(m["data"]["ask1Price"]))
        for m in _linear_messages(path)
        if m.get("topic", "").startswith("tickers.")
        and {"bid1Price", "ask1Price"} <= m["data"].keys()
    ]
    checked = 0
    for symbol in sorted(SYMBOLS):
        rows = store.execute(
            "SELECT ts, is_snapshot, update_id, side, price, qty, first_update_id "
            "FROM book_deltas WHERE symbol = ? ORDER BY ts, seq",
            [symbol],
        ).fetchall()
        replayer = BookReplayer()
        seqs: list[int] = []
        tops: list[tuple[float, float]] = []
        for ts, snapshot, update_id, side, price, qty, cross_seq in rows:
            if seqs and seqs[-1] != cross_seq:
                tops.append(_top(replayer))
            if not seqs or seqs[-1] != cross_seq:
                seqs.append(cross_seq)
            assert replayer.apply(ts, snapshot, update_id, side, price, qty)
        tops.append(_top(replayer))
        for _, cs, bid_price, ask_price in (t for t in tickers if t[0] == symbol):
            k = bisect.bisect_right(seqs, cs) - 1
            if k >= 0:
                assert (bid_price, ask_price) in tops[k : k + 2]
                checked += 1
    assert checked >= 140


def _recording(tmp_path: Path, lines: list[dict[str, Any] | str]) -> Path:
    path = tmp_path / "BYBIT.jsonl.zst"
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_bytes(zstandard.ZstdCompressor().compress(text.encode() + b"\n"))
    return path


HEADER = {"t": "header", "format": 2, "exchange": "BYBIT", "config": {}}
LINEAR = {"t": "connect", "conn": "BYBIT.ws.2", "ts": 1.0, "addr": "wss://x/v5/public/linear"}
SPOT = {"t": "connect", "conn": "BYBIT.ws.3", "ts": 1.0, "addr": "wss://x/v5/public/spot"}


def _recv(message: dict[str, Any], conn: str = "BYBIT.ws.2", ts: float = 2.5) -> dict[str, Any]:
    return {"t": "recv", "conn": conn, "ts": ts, "data": json.dumps(message)}


def _book(kind: str, update_id: int, ts: int) -> dict[str, Any]:
    data = {"s": "BTCUSDT", "b": [["100.0", "1"]], "a": [["100.5", "2"]], "u": update_id, "seq": ts}
    return {"topic": "orderbook.50.BTCUSDT", "type": kind, "ts": ts + 1, "cts": ts, "data": data}


def test_gaps_skipped_spot_and_liquidations(
    tmp_path: Path, store: duckdb.DuckDBPyConnection
) -> None:
    long_liquidated = {"T": 1004, "s": "BTCUSDT", "S": "Buy", "v": "0.5", "p": "99.5"}
    liquidation = {"topic": "allLiquidation.BTCUSDT", "ts": 1005, "data": [long_liquidated]}
    path = _recording(
        tmp_path,
        [
            HEADER,
            LINEAR,
            SPOT,
            _recv(_book("delta", 9, 1000)),
            _recv(_book("snapshot", 10, 1001)),
            _recv(_book("delta", 11, 1002)),
            _recv(_book("delta", 13, 1003)),
            _recv({"success": True, "ret_msg": "pong", "op": "ping"}),
            _recv(_book("snapshot", 1, 1003), conn="BYBIT.ws.3"),
            {"t": "recv", "conn": "BYBIT.ws.2", "ts": 2.5, "data": liquidation},
        ],
    )
    (report,) = ingest_paths(store, [path])
    gaps = [(g.line, g.expected, g.got, g.reason) for g in report.gaps]
    assert gaps == [
        (4, None, 9, "delta before any snapshot"),
        (7, 12, 13, "u does not follow previous u"),
    ]
    assert report.messages["skipped_spot"] == 1
    # Data as a JSON object rather than a string is read too; a long position's liquidation is a
    # forced sell.
    row = store.execute("SELECT ts, side, price, qty FROM liquidations").fetchall()
    assert row == [(1_004_000_000, -1, 99.5, 0.5)]


def test_truncated_line_is_named_and_the_store_is_unchanged(
    tmp_path: Path, store: duckdb.DuckDBPyConnection
) -> None:
    ingest_paths(store, [shared(RECORDING)])
    before = [
        _count(store, f"SELECT count(*) FROM {t}") for t in ("trades", "book_deltas", "ingests")
    ]
    trade = {"T": 1000, "s": "BTCUSDT", "S": "Buy", "v": "1", "p": "100", "i": "x"}
    good = json.dumps(_recv({"topic": "publicTrade.BTCUSDT", "type": "snapshot", "data": [trade]}))
    path = _recording(tmp_path, [HEADER, LINEAR, good, good[: len(good) // 2]])
    with pytest.raises(IngestError, match=r"BYBIT\.jsonl\.zst:4: invalid JSON"):
        ingest_paths(store, [path])
    after = [
        _count(store, f"SELECT count(*) FROM {t}") for t in ("trades", "book_deltas", "ingests")
    ]
    assert after == before


def test_unknown_topic_is_refused_with_its_line(
    tmp_path: Path, store: duckdb.DuckDBPyConnection
) -> None:
    path = _recording(tmp_path, [HEADER, LINEAR, _recv({"topic": "insurance.USDT", "data": []})])
    with pytest.raises(IngestError, match=r":3: unknown topic 'insurance\.USDT'"):
        ingest_paths(store, [path])


def test_sniff_takes_bybit_recordings_only() -> None:
    fmt = CryptofeedBybit()
    for relative, expected in (
        (RECORDING, True),
        ("cryptofeed-recordings/OKX.jsonl.zst", False),
        ("cryptofeed-recordings/BINANCE_FUTURES.jsonl.zst", False),
    ):
        src = SourceFile(shared(relative))
        assert fmt.sniff(src, src.head()) is expected, relative
    capture = SourceFile(BTCUSDT_CAPTURE)
    assert not fmt.sniff(capture, capture.head())
