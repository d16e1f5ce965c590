"""Ingest of the real Binance USD-M capture: counts, sequence checks, and refusal of duplicates."""

from __future__ import annotations

import duckdb
import pytest

from harness.data.errors import AlreadyIngestedError
from harness.data.ingest import ingest_paths
from tests.conftest import BTCUSDT_CAPTURE


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def test_capture_counts_match_the_recording(store: duckdb.DuckDBPyConnection) -> None:
    (report,) = ingest_paths(store, [BTCUSDT_CAPTURE])
    assert report.format == "binance-ws"
    assert report.exchange == "binance-usdm"
    assert report.messages["trades"] == 21_313
    assert report.messages["book_tops"] == 66_089
    assert report.messages["book_deltas"] == 6_551
    assert report.gaps == []
    assert _count(store, "SELECT count(*) FROM trades") == 21_313
    assert _count(store, "SELECT count(*) FROM book_tops") == 66_089
    diffs = "SELECT count(DISTINCT update_id) FROM book_deltas WHERE NOT is_snapshot"
    assert _count(store, diffs) == 6_551
    assert _count(store, "SELECT count(*) FROM gaps") == 0


def test_exchange_time_is_transaction_time_and_local_time_is_kept(
    store: duckdb.DuckDBPyConnection,
) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    # First trade line: local 1723161255088176367, T 1723161256322 ms (the recorder's clock lags).
    row = store.execute(
        "SELECT ts, local_ts, price, qty, side, trade_id FROM trades ORDER BY ts, seq LIMIT 1"
    ).fetchall()[0]
    expected = (1_723_161_256_322_000_000, 1_723_161_255_088_176_367, 61800.3, 0.006, 1, 5266583935)
    assert row == expected


def test_same_file_is_refused_unless_forced(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    with pytest.raises(AlreadyIngestedError, match="already ingested"):
        ingest_paths(store, [BTCUSDT_CAPTURE])
    assert _count(store, "SELECT count(*) FROM ingests") == 1
    ingest_paths(store, [BTCUSDT_CAPTURE], force=True)
    assert _count(store, "SELECT count(*) FROM trades") == 2 * 21_313
    assert _count(store, "SELECT count(*) FROM ingests") == 2
