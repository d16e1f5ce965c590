"""Binance public-data CSV ingest: with and without header, detection by name, exact error lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
import zstandard

from harness.data.errors import IngestError
from harness.data.formats import FORMATS
from harness.data.formats.base import IngestOptions
from harness.data.ingest import SNIFF_BYTES, ingest_paths
from harness.data.schema import DDL, SEQ_STRIDE
from harness.data.source import SourceFile
from tests.conftest import BTCUSDT_CAPTURE

TRADES_HEADER = "id,price,qty,quote_qty,time,is_buyer_maker"
TRADES = [
    "5266583935,61800.30,0.006,370.8018,1723161256322,false",
    "5266583936,61800.20,0.150,9270.03,1723161256322,true",
    "5266583937,61800.20,1.200,74160.24,1723161256410,true",
]
KLINES = [
    "1723075200000,61805.1,61809.2,61801.0,61806.4,0,1723075259999,0,60,0,0,0",
    "1723075260000,61806.4,61807.0,61800.5,61803.9,0,1723075319999,0,60,0,0,0",
]


def _write(path: Path, lines: list[str]) -> Path:
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    elif path.name.endswith(".zst"):
        path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for table in DDL
    }


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


EXPECTED_TRADES = [
    ("binance-usdm", "BTCUSDT", 1723161256322000000, None, 61800.3, 0.006, 1, 5266583935),
    ("binance-usdm", "BTCUSDT", 1723161256322000000, None, 61800.2, 0.15, -1, 5266583936),
    ("binance-usdm", "BTCUSDT", 1723161256410000000, None, 61800.2, 1.2, -1, 5266583937),
]
TRADE_COLUMNS = "exchange, symbol, ts, local_ts, price, qty, side, trade_id"


def test_trades_with_header_from_gzip(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = _write(tmp_path / "BTCUSDT-trades-2024-08-08.csv.gz", [TRADES_HEADER, *TRADES])
    (report,) = ingest_paths(store, [path])
    assert (report.format, report.exchange, report.rows) == (
        "binance-csv-trades",
        "binance-usdm",
        {"trades": 3},
    )
    assert _rows(store, f"SELECT {TRADE_COLUMNS} FROM trades ORDER BY seq") == EXPECTED_TRADES
    assert [row[0] for row in _rows(store, "SELECT seq FROM trades ORDER BY seq")] == [
        2 * SEQ_STRIDE,
        3 * SEQ_STRIDE,
        4 * SEQ_STRIDE,
    ]


def test_trades_without_header_are_recognised_by_name(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    (report,) = ingest_paths(store, [_write(tmp_path / "BTCUSDT-trades-2024-08-08.csv", TRADES)])
    assert report.format == "binance-csv-trades"
    assert _rows(store, f"SELECT {TRADE_COLUMNS} FROM trades ORDER BY seq") == EXPECTED_TRADES
    assert _rows(store, "SELECT min(seq) FROM trades") == [(SEQ_STRIDE,)]


def test_windows_line_ends_and_trailing_blank_lines_are_accepted(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "BTCUSDT-trades-2024-08-08.csv"
    path.write_bytes(("\r\n".join([TRADES_HEADER, *TRADES]) + "\r\n\r\n\n").encode())
    (report,) = ingest_paths(store, [path])
    assert report.rows == {"trades": 3}
    assert _rows(store, f"SELECT {TRADE_COLUMNS} FROM trades ORDER BY seq") == EXPECTED_TRADES


def test_headerless_file_with_another_name_is_not_claimed(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "trades.csv", TRADES)
    with pytest.raises(IngestError, match="format not recognised"):
        ingest_paths(store, [path])
    with pytest.raises(IngestError, match="no symbol in the file name"):
        ingest_paths(store, [path], format_name="binance-csv-trades")
    options = IngestOptions(symbol="ETHUSDT", exchange="binance-test")
    (report,) = ingest_paths(store, [path], format_name="binance-csv-trades", options=options)
    assert report.exchange == "binance-test"
    assert _rows(store, "SELECT DISTINCT exchange, symbol FROM trades") == [
        ("binance-test", "ETHUSDT")
    ]


def test_agg_trades_headerless_zstd(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [
        "2318005040,61800.30,0.006,5266583935,5266583935,1723161256322,false",
        "2318005041,61800.20,1.350,5266583936,5266583937,1723161256410,true",
    ]
    path = _write(tmp_path / "ETHUSDT-aggTrades-2024-08-08.csv.zst", lines)
    (report,) = ingest_paths(store, [path])
    assert report.format == "binance-csv-aggTrades"
    assert _rows(
        store, "SELECT symbol, ts, price, qty, side, trade_id FROM trades ORDER BY seq"
    ) == [
        ("ETHUSDT", 1723161256322000000, 61800.3, 0.006, 1, 2318005040),
        ("ETHUSDT", 1723161256410000000, 61800.2, 1.35, -1, 2318005041),
    ]


def test_book_ticker_takes_event_time_when_transaction_time_is_missing(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [
        "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
        "transaction_time,event_time",
        "5110403232281,61800.20,3.150,61800.30,0.822,1723075200001,1723075200004",
        "5110403232290,61800.20,3.100,61800.30,0.822,,1723075200010",
    ]
    (report,) = ingest_paths(store, [_write(tmp_path / "BTCUSDT-bookTicker-2024-08-08.csv", lines)])
    assert report.format == "binance-csv-bookTicker"
    assert _rows(
        store,
        "SELECT ts, local_ts, bid_price, bid_qty, ask_price, ask_qty, update_id "
        "FROM book_tops ORDER BY seq",
    ) == [
        (1723075200001000000, None, 61800.2, 3.15, 61800.3, 0.822, 5110403232281),
        (1723075200010000000, None, 61800.2, 3.1, 61800.3, 0.822, 5110403232290),
    ]


def test_mark_price_klines_are_recognised_only_under_their_directory(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "markPriceKlines" / "BTCUSDT" / "1m" / "BTCUSDT-1m-2024-08-08.csv", KLINES
    )
    (report,) = ingest_paths(store, [path])
    assert report.format == "binance-csv-markPriceKlines"
    assert _rows(
        store,
        "SELECT symbol, ts, mark_price, index_price, funding_rate, next_funding_ts "
        "FROM mark_prices ORDER BY seq",
    ) == [
        ("BTCUSDT", 1723075259999000000, 61806.4, None, None, None),
        ("BTCUSDT", 1723075319999000000, 61803.9, None, None, None),
    ]
    # The same name is also used for trade, index and premium klines.
    elsewhere = _write(tmp_path / "klines" / "BTCUSDT-1m-2024-08-08.csv", KLINES[:1])
    with pytest.raises(IngestError, match="format not recognised"):
        ingest_paths(store, [elsewhere])
    ingest_paths(store, [elsewhere], format_name="binance-csv-markPriceKlines")
    assert _counts(store)["mark_prices"] == 3


def test_funding_rate_monthly_file(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [
        "calc_time,funding_interval_hours,last_funding_rate",
        "1722470400000,8,0.00010000",
        "1722499200000,8,-0.00007133",
    ]
    (report,) = ingest_paths(store, [_write(tmp_path / "BTCUSDT-fundingRate-2024-08.csv", lines)])
    assert report.format == "binance-csv-fundingRate"
    assert _rows(store, "SELECT symbol, ts, local_ts, rate FROM funding ORDER BY seq") == [
        ("BTCUSDT", 1722470400000000000, None, 0.0001),
        ("BTCUSDT", 1722499200000000000, None, -0.00007133),
    ]


def test_csv_formats_do_not_claim_websocket_or_json_lines(tmp_path: Path) -> None:
    ws_head = SourceFile(BTCUSDT_CAPTURE).head(SNIFF_BYTES)
    json_head = b'{"t": "recv", "conn": 1, "ts": 1626912000.12, "data": "{}"}\n'
    csv_formats = [fmt for fmt in FORMATS if "-csv-" in fmt.name]
    assert len(csv_formats) == 9
    for name in ("BTCUSDT-trades-2024-08-08.csv", "binance-futures_trades_2024-08-08_X.csv"):
        src = SourceFile(tmp_path / name)
        assert [fmt.name for fmt in csv_formats if fmt.sniff(src, ws_head)] == []
        assert [fmt.name for fmt in csv_formats if fmt.sniff(src, json_head)] == []


def _refused(
    store: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    lines: list[str],
    name: str = "BTCUSDT-trades-2024-08-08.csv",
    format_name: str | None = None,
) -> IngestError:
    """A good file then a bad one in one call: the error names the bad file and nothing lands."""
    ingest_paths(
        store, [_write(tmp_path / "good" / "BTCUSDT-trades-2024-08-07.csv", TRADES)], force=True
    )
    before = _counts(store)
    again = _write(tmp_path / "good" / "BTCUSDT-trades-2024-08-09.csv", TRADES[:2])
    bad = _write(tmp_path / "bad" / name, lines)
    with pytest.raises(IngestError) as caught:
        ingest_paths(store, [again, bad], format_name=format_name, force=True)
    assert caught.value.path == str(bad)
    assert _counts(store) == before
    return caught.value


def test_non_numeric_price_with_header(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [TRADES_HEADER, *TRADES]
    lines[3] = lines[3].replace("61800.20", "61,800.20")
    error = _refused(store, tmp_path, lines)
    assert (error.line, error.message) == (4, "expected 6 columns, found 7")
    lines[3] = TRADES[2].replace("61800.20", "61800.2O")
    error = _refused(store, tmp_path, lines)
    assert (error.line, error.message) == (4, "price '61800.2O' is not a finite number")


def test_wrong_column_count_without_header(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [TRADES[0], TRADES[1].rsplit(",", 1)[0], TRADES[2]]
    error = _refused(store, tmp_path, lines)
    assert (error.line, error.message) == (2, "expected 6 columns, found 5")


def test_missing_header_column(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = ["id,price,qty,quote_qty,timestamp,is_buyer_maker", *TRADES]
    error = _refused(store, tmp_path, lines, format_name="binance-csv-trades")
    assert error.line == 1
    assert error.message.startswith("missing header column 'time'")


def test_bad_boolean(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [*TRADES]
    lines[2] = lines[2].replace("true", "yes")
    error = _refused(store, tmp_path, lines)
    assert (error.line, error.message) == (3, "is_buyer_maker 'yes' is not true or false")


def test_microsecond_times_are_refused(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [*TRADES]
    lines[1] = lines[1].replace("1723161256322", "1723161256322000")
    error = _refused(store, tmp_path, lines)
    assert error.line == 2
    assert (
        error.message == "time 1723161256322000 is not milliseconds since the epoch in 2000..2100"
    )


def test_time_going_backwards(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [*TRADES, "5266583938,61800.10,0.010,618.001,1723161250000,false"]
    error = _refused(store, tmp_path, lines)
    assert error.line == 4
    assert "goes backwards by 6.410 s" in error.message


def test_book_ticker_without_any_time(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lines = [
        "5110403232281,61800.20,3.150,61800.30,0.822,1723075200001,1723075200004",
        "5110403232290,61800.20,3.100,61800.30,0.822,,",
    ]
    error = _refused(store, tmp_path, lines, name="BTCUSDT-bookTicker-2024-08-08.csv")
    assert (error.line, error.message) == (2, "neither transaction_time nor event_time is given")


def test_empty_file_forced(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_paths(store, [_write(tmp_path / "BTCUSDT-trades-2024-08-07.csv", TRADES)])
    empty = tmp_path / "BTCUSDT-trades-2024-08-08.csv"
    empty.write_text("\n")
    with pytest.raises(IngestError) as caught:
        ingest_paths(store, [empty], format_name="binance-csv-trades")
    assert (caught.value.path, caught.value.line, caught.value.message) == (
        str(empty),
        None,
        "file is empty",
    )
