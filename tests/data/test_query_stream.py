"""The merged stream: time order, deterministic ties, windows and chunking."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
from click.testing import CliRunner

from harness.cli import main
from harness.data.ingest import ingest_paths
from harness.data.query import KIND_BY_CODE, stream_frames
from tests.conftest import BTCUSDT_CAPTURE


def _all(con: duckdb.DuckDBPyConnection, **kwargs: object) -> pl.DataFrame:
    return pl.concat(list(stream_frames(con, **kwargs)))  # type: ignore[arg-type]


def test_stream_is_in_time_order_with_deterministic_ties(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    frame = _all(store, batch_rows=10_000, columns=["ts", "seq"])
    assert frame.height == 21_313 + 66_089 + 445_521
    key = frame.select("ts", "kind", "seq")
    assert key.equals(key.sort("ts", "kind", "seq"))
    # Ties exist (many rows share a nanosecond) and resolve identically on a second read.
    assert frame["ts"].n_unique() < frame.height
    assert frame.equals(_all(store, batch_rows=7_777, columns=["ts", "seq"]))


def test_window_and_filters(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    start, end = 1_723_161_300_000_000_000, 1_723_161_310_000_000_000
    frame = _all(store, kinds=["trades", "book_tops"], start=start, end=end, symbols=["BTCUSDT"])
    assert frame["ts"].min() >= start and frame["ts"].max() < end  # type: ignore[operator]
    assert {KIND_BY_CODE[code] for code in frame["kind"].unique()} == {"trades", "book_tops"}
    expected = store.execute(
        "SELECT (SELECT count(*) FROM trades WHERE ts >= ? AND ts < ?)"
        " + (SELECT count(*) FROM book_tops WHERE ts >= ? AND ts < ?)",
        [start, end, start, end],
    ).fetchall()[0][0]
    assert frame.height == expected > 0
    trade_rows = frame.filter(pl.col("kind") == 2)
    assert trade_rows["bid_price"].null_count() == trade_rows.height
    assert sum(f.height for f in stream_frames(store, symbols=["ETHUSDT"])) == 0


def test_data_ls_json(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), "ingest", str(BTCUSDT_CAPTURE)]).exit_code == 0
    result = runner.invoke(main, ["data", "ls", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    rows = {row["kind"]: row for row in json.loads(result.output)}
    assert rows["trades"]["rows"] == 21_313
    assert rows["book_tops"]["first"] == "2024-08-08T23:54:16.313Z"
    assert all(row["gaps"] == 0 and row["symbol"] == "BTCUSDT" for row in rows.values())
    text = runner.invoke(main, ["--db", str(db), "data", "ls"]).output
    assert "binance-usdm  BTCUSDT  trades       21,313" in text


def test_book_command_json_and_text(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), "ingest", str(BTCUSDT_CAPTURE)]).exit_code == 0
    args = ["book", "BTCUSDT", "--at", "2024-08-08T23:58:00Z", "--depth", "3", "--db", str(db)]
    payload = json.loads(runner.invoke(main, [*args, "--json"]).output)
    assert len(payload["bids"]) == 3 and len(payload["asks"]) == 3
    assert payload["bids"][0][0] < payload["asks"][0][0]
    assert [p for p, _ in payload["bids"]] == sorted((p for p, _ in payload["bids"]), reverse=True)
    assert payload["ts"] == 1_723_161_480_000_000_000
    text = runner.invoke(main, args).output
    assert "rebuilt top matches the book ticker" in text
    bad = runner.invoke(main, ["book", "BTCUSDT", "--at", "yesterday", "--db", str(db)])
    assert bad.exit_code == 2 and "'yesterday'" in bad.output
