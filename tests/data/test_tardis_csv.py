"""Tardis.dev CSV ingest: stored values, detection by header and name, and exact error lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
import zstandard

from harness.data.errors import IngestError
from harness.data.formats.base import IngestOptions
from harness.data.ingest import ingest_paths
from harness.data.schema import DDL
from harness.data.schema import SEQ_STRIDE as S

TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TICKER_HEADER = (
    "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
    "predicted_funding_rate,open_interest,last_price,index_price,mark_price"
)
TRADES = [
    "binance-futures,BTCUSDT,1723161256322000,1723161256325123,5266583935,buy,61800.3,0.006",
    "binance-futures,BTCUSDT,1723161256322000,1723161256325123,5266583936,sell,61800.2,0.15",
    "binance-futures,BTCUSDT,1723161256410000,1723161256412001,5266583937,sell,61800.2,1.2",
    "binance-futures,BTCUSDT,1723161256500000,1723161256502000,5266583938,buy,61800.4,0.02",
]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    text = "\n".join([header, *rows]) + "\n"
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


def test_trades_are_stored_with_ns_times_sides_and_ids(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "binance-futures_trades_2024-08-08_BTCUSDT.csv.gz", TRADES_HEADER, TRADES
    )
    (report,) = ingest_paths(store, [path])
    assert report.format == "tardis-csv-trades"
    assert report.exchange == "binance-futures"
    assert report.rows == {"trades": 4}
    assert _rows(store, "SELECT DISTINCT exchange, symbol FROM trades") == [
        ("binance-futures", "BTCUSDT")
    ]
    stored = "SELECT ts, local_ts, seq, price, qty, side, trade_id FROM trades ORDER BY seq"
    assert _rows(store, stored) == [
        (1723161256322000000, 1723161256325123000, 2 * S, 61800.3, 0.006, 1, 5266583935),
        (1723161256322000000, 1723161256325123000, 3 * S, 61800.2, 0.15, -1, 5266583936),
        (1723161256410000000, 1723161256412001000, 4 * S, 61800.2, 1.2, -1, 5266583937),
        (1723161256500000000, 1723161256502000000, 5 * S, 61800.4, 0.02, 1, 5266583938),
    ]


def test_text_trade_ids_and_unknown_sides_are_stored_as_null(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        "bitmex,XBTUSD,1583020803145000,1583020803307160,"
        "ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf,sell,8531.5,2152",
        "bitmex,XBTUSD,1583020803200000,1583020803300000,,unknown,8531.0,10",
    ]
    path = _write(tmp_path / "bitmex_trades_2020-03-01_XBTUSD.csv", TRADES_HEADER, rows)
    (report,) = ingest_paths(store, [path])
    assert report.exchange == "bitmex"
    assert _rows(store, "SELECT ts, side, trade_id, qty FROM trades ORDER BY seq") == [
        (1583020803145000000, -1, None, 2152.0),
        (1583020803200000000, None, None, 10.0),
    ]


def test_options_override_exchange_and_symbol(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "binance-futures_trades_2024-08-08_BTCUSDT.csv", TRADES_HEADER, TRADES)
    options = IngestOptions(exchange="binance-usdm", symbol="BTCUSDT-PERP")
    (report,) = ingest_paths(store, [path], options=options)
    assert report.exchange == "binance-usdm"
    assert _rows(store, "SELECT DISTINCT exchange, symbol FROM trades") == [
        ("binance-usdm", "BTCUSDT-PERP")
    ]


def test_book_snapshot_runs_and_deltas_from_zstd(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        "binance-futures,BTCUSDT,1723075200000000,1723075200102000,true,ask,61800.4,2.5",
        "binance-futures,BTCUSDT,1723075200000000,1723075200102000,true,bid,61800.3,1.1",
        "binance-futures,BTCUSDT,1723075200100000,1723075200205000,false,bid,61800.3,0",
        "binance-futures,BTCUSDT,1723075200100000,1723075200205000,false,bid,61800.2,3",
        "binance-futures,BTCUSDT,1723075260000000,1723075260101000,true,ask,61801.0,1",
        "binance-futures,BTCUSDT,1723075260000000,1723075260101000,true,bid,61800.9,4",
    ]
    name = "binance-futures_incremental_book_L2_2024-08-08_BTCUSDT.csv.zst"
    (report,) = ingest_paths(store, [_write(tmp_path / name, BOOK_HEADER, rows)])
    assert report.format == "tardis-csv-incremental_book_L2"
    assert report.messages == {"incremental_book_L2": 6}
    stored = _rows(
        store,
        "SELECT ts, local_ts, side, price, qty, is_snapshot, first_update_id, update_id, "
        "prev_update_id FROM book_deltas ORDER BY seq",
    )
    assert stored == [
        (1723075200000000000, 1723075200102000000, -1, 61800.4, 2.5, True, None, None, None),
        (1723075200000000000, 1723075200102000000, 1, 61800.3, 1.1, True, None, None, None),
        (1723075200100000000, 1723075200205000000, 1, 61800.3, 0.0, False, None, None, None),
        (1723075200100000000, 1723075200205000000, 1, 61800.2, 3.0, False, None, None, None),
        (1723075260000000000, 1723075260101000000, -1, 61801.0, 1.0, True, None, None, None),
        (1723075260000000000, 1723075260101000000, 1, 61800.9, 4.0, True, None, None, None),
    ]


def test_derivative_ticker_stores_changes_only_and_skips_empty_values(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    prefix = "binance-futures,BTCUSDT"
    rows = [
        f"{prefix},1723075200000000,1723075200100000,1723104000000000,0.0001,0.0001,"
        "78000.123,61800.3,61810.5,61805.1",
        # Only last_price moved: nothing new to store.
        f"{prefix},1723075201000000,1723075201100000,1723104000000000,0.0001,0.0001,"
        "78000.123,61801.0,61810.5,61805.1",
        # Only open interest moved.
        f"{prefix},1723075202000000,1723075202100000,1723104000000000,0.0001,0.0001,"
        "78010.5,61801.0,61810.5,61805.1",
        "binance-futures,ETHUSDT,1723075202500000,1723075202600000,1723104000000000,0.0001,"
        "0.0001,,2600.1,2600.5,2600.2",
        # Funding rate and mark moved.
        f"{prefix},1723075203000000,1723075203100000,1723104000000000,0.00012,0.0001,"
        "78010.5,61801.0,61811.0,61806.2",
        # A venue that publishes neither index nor funding here: those stay null.
        f"{prefix},1723075204000000,1723075204100000,,,,,,,61807.0",
    ]
    path = _write(
        tmp_path / "binance-futures_derivative_ticker_2024-08-08.csv.gz", TICKER_HEADER, rows
    )
    (report,) = ingest_paths(store, [path])
    assert report.format == "tardis-csv-derivative_ticker"
    assert report.rows == {"mark_prices": 4, "open_interest": 2}
    times = "SELECT symbol, ts, local_ts, seq FROM mark_prices ORDER BY seq"
    assert _rows(store, times) == [
        ("BTCUSDT", 1723075200000000000, 1723075200100000000, 2 * S),
        ("ETHUSDT", 1723075202500000000, 1723075202600000000, 5 * S),
        ("BTCUSDT", 1723075203000000000, 1723075203100000000, 6 * S),
        ("BTCUSDT", 1723075204000000000, 1723075204100000000, 7 * S),
    ]
    values = (
        "SELECT mark_price, index_price, funding_rate, next_funding_ts FROM mark_prices "
        "ORDER BY seq"
    )
    assert _rows(store, values) == [
        (61805.1, 61810.5, 0.0001, 1723104000000000000),
        (2600.2, 2600.5, 0.0001, 1723104000000000000),
        (61806.2, 61811.0, 0.00012, 1723104000000000000),
        (61807.0, None, None, None),
    ]
    assert _rows(store, "SELECT symbol, ts, oi FROM open_interest ORDER BY seq") == [
        ("BTCUSDT", 1723075200000000000, 78000.123),
        ("BTCUSDT", 1723075202000000000, 78010.5),
    ]


def test_liquidations_are_told_from_trades_by_name(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        "binance-futures,BTCUSDT,1723075300000000,1723075300050000,,sell,61500.0,0.5",
        "binance-futures,BTCUSDT,1723075301000000,1723075301050000,,buy,61900.0,0.25",
    ]
    folder = tmp_path / "binance-futures" / "liquidations" / "2024" / "08" / "08"
    folder.mkdir(parents=True)
    (report,) = ingest_paths(store, [_write(folder / "BTCUSDT.csv.gz", TRADES_HEADER, rows)])
    assert report.format == "tardis-csv-liquidations"
    assert _rows(store, "SELECT ts, local_ts, side, price, qty FROM liquidations ORDER BY seq") == [
        (1723075300000000000, 1723075300050000000, -1, 61500.0, 0.5),
        (1723075301000000000, 1723075301050000000, 1, 61900.0, 0.25),
    ]
    assert _counts(store)["trades"] == 0


def test_a_name_that_does_not_say_trades_or_liquidations_needs_format(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "BTCUSDT.csv", TRADES_HEADER, TRADES)
    with pytest.raises(IngestError, match="format not recognised"):
        ingest_paths(store, [path])
    (report,) = ingest_paths(store, [path], format_name="tardis-csv-liquidations")
    assert report.rows == {"liquidations": 4}


def _refused(
    store: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    rows: list[str],
    header: str = TRADES_HEADER,
    format_name: str | None = None,
) -> IngestError:
    """Ingest a good file, then another good one and a bad one in one call: nothing may land."""
    good = _write(tmp_path / "binance-futures_trades_2024-08-07_BTCUSDT.csv", TRADES_HEADER, TRADES)
    ingest_paths(store, [good], force=True)
    before = _counts(store)
    again = _write(
        tmp_path / "binance-futures_trades_2024-08-09_BTCUSDT.csv", TRADES_HEADER, TRADES[:2]
    )
    bad = tmp_path / "binance-futures_trades_2024-08-08_BTCUSDT.csv"
    bad.write_text(header + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(IngestError) as caught:
        ingest_paths(store, [again, bad], format_name=format_name, force=True)
    assert caught.value.path == str(bad)
    assert _counts(store) == before
    return caught.value


def test_non_numeric_price_names_line_column_and_value(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [*TRADES]
    rows[2] = rows[2].replace("61800.2", "61800.2x")
    error = _refused(store, tmp_path, rows)
    assert error.line == 4
    assert error.message == "price '61800.2x' is not a finite number"


def test_empty_amount_is_refused(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [*TRADES]
    rows[3] = rows[3].removesuffix("0.02")
    error = _refused(store, tmp_path, rows)
    assert (error.line, error.message) == (5, "empty amount")


def test_missing_header_column_is_named(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    header = TRADES_HEADER.removesuffix(",amount")
    rows = [row.rsplit(",", 1)[0] for row in TRADES]
    error = _refused(store, tmp_path, rows, header=header, format_name="tardis-csv-trades")
    assert error.line == 1
    assert error.message.startswith("missing header column 'amount'")


@pytest.mark.parametrize(
    ("row", "found"), [(TRADES[1] + ",7", 9), (TRADES[1].rsplit(",", 1)[0], 7)]
)
def test_wrong_column_count(
    store: duckdb.DuckDBPyConnection, tmp_path: Path, row: str, found: int
) -> None:
    error = _refused(store, tmp_path, [TRADES[0], row, *TRADES[2:]])
    assert (error.line, error.message) == (3, f"expected 8 columns, found {found}")


def test_first_bad_line_wins_over_a_later_one(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [*TRADES]
    rows[1] = rows[1].replace("sell,61800.2", "sell,abc")
    rows[3] = rows[3] + ",extra"
    error = _refused(store, tmp_path, rows)
    assert (error.line, error.message) == (3, "price 'abc' is not a finite number")
    rows = [*TRADES]
    rows[1] = rows[1] + ",extra"
    rows[3] = rows[3].replace("buy,61800.4", "buy,abc")
    assert _refused(store, tmp_path, rows).line == 3


def test_blank_line_inside_the_file_is_refused(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    error = _refused(store, tmp_path, [TRADES[0], TRADES[1], "", TRADES[2]])
    assert (error.line, error.message) == (4, "empty line")


def test_unknown_side_is_refused(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [*TRADES]
    rows[2] = rows[2].replace(",sell,", ",short,")
    error = _refused(store, tmp_path, rows)
    assert (error.line, error.message) == (4, "side 'short' is not one of buy, sell, unknown")


def test_time_going_backwards_names_the_line(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [*TRADES]
    rows[3] = rows[3].replace("1723161256500000", "1723161254500000", 1)
    error = _refused(store, tmp_path, rows)
    assert error.line == 5
    assert "goes backwards by 1.910 s for BTCUSDT" in error.message


def test_millisecond_times_are_refused(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [*TRADES]
    rows[0] = rows[0].replace("1723161256322000,", "1723161256322,", 1)
    error = _refused(store, tmp_path, rows)
    assert error.line == 2
    assert (
        error.message == "timestamp 1723161256322 is not microseconds since the epoch in 2000..2100"
    )


def test_a_second_exchange_in_one_file_is_refused(
    store: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [*TRADES]
    rows[1] = rows[1].replace("binance-futures", "bybit")
    error = _refused(store, tmp_path, rows)
    assert (error.line, error.message) == (
        3,
        "exchange 'bybit' differs from 'binance-futures' above",
    )
