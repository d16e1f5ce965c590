"""The altcoin-crash-2025-10-10 preset, read back from the store: its shape, its books and trades,
and a replay over it."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from harness.config.scenario import loads_scenario
from harness.data.book_replay import BookReplayer, rebuild_at
from harness.data.query import stream_batches
from harness.data.store import connect
from harness.replay import run_scenario
from harness.sim.clock import NS_PER_S, parse_instant
from harness.synth.generate import synthesize
from harness.synth.presets import ALTCOIN_CRASH, CRASH_SHAPE

SEED = 7
START = parse_instant(ALTCOIN_CRASH.start)
LEAD_S = int(CRASH_SHAPE.lead_s)
FALL_END_S = int(CRASH_SHAPE.fall_end_s)
ALTS = ("SUIUSDT", "ATOMUSDT")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "crash.duckdb"
    con = connect(path)
    synthesize(con, ALTCOIN_CRASH, ALTCOIN_CRASH.request(SEED))
    con.close()
    return path


def _seconds(db: Path) -> pl.DataFrame:
    """Last trade price per symbol and second of the window."""
    con = connect(db, read_only=True)
    try:
        frame = con.sql(
            f"SELECT symbol, (ts - {START}) // {NS_PER_S} AS second, last(price ORDER BY ts, seq) "
            "AS price FROM trades GROUP BY ALL ORDER BY symbol, second"
        ).pl()
    finally:
        con.close()
    return frame


def _series(frame: pl.DataFrame, symbol: str) -> np.ndarray:
    one = frame.filter(pl.col("symbol") == symbol)
    full = pl.DataFrame({"second": np.arange(int(CRASH_SHAPE.total_s))}).join(
        one.select("second", "price"), on="second", how="left"
    )
    prices: np.ndarray = full["price"].fill_null(strategy="forward").to_numpy()
    return prices


def test_the_major_falls_about_ten_percent_and_the_alts_about_seventy(db: Path) -> None:
    frame = _seconds(db)
    for symbol, low, high in (("BTCUSDT", 0.07, 0.13), *((alt, 0.60, 0.80) for alt in ALTS)):
        prices = _series(frame, symbol)
        first, bottom = prices[0], prices.min()
        assert low <= 1 - bottom / first <= high, symbol
        # calm until the fall starts, and the low comes within the six minutes of the fall
        assert abs(prices[LEAD_S - 1] / first - 1) < 0.03, symbol
        assert LEAD_S < int(prices.argmin()) <= FALL_END_S + 30, symbol
        # a partial rebound: at least a quarter of the loss won back, never all of it
        recovered = (prices[-1] - bottom) / (first - bottom)
        assert 0.25 <= recovered < 1, symbol


def test_volatility_rises_before_the_drop(db: Path) -> None:
    frame = _seconds(db)
    for symbol in ("BTCUSDT", *ALTS):
        returns = np.diff(np.log(_series(frame, symbol)))
        early, late = returns[:120].std(), returns[LEAD_S - 60 : LEAD_S].std()
        assert late > 1.5 * early, symbol


def test_alts_move_with_the_major(db: Path) -> None:
    frame = _seconds(db)
    major = np.diff(np.log(_series(frame, "BTCUSDT")))
    for alt in ALTS:
        alt_returns = np.diff(np.log(_series(frame, alt)))
        assert np.corrcoef(major, alt_returns)[0, 1] > 0.2, alt


def _depth_within_one_percent(con: duckdb.DuckDBPyConnection, symbol: str, at: int) -> float:
    """Notional (USDT) resting within 1% of the mid on both sides of the rebuilt book."""
    book = rebuild_at(con, symbol, at, exchange="synthetic").book
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None and ask is not None
    mid = (bid[0] + ask[0]) / 2
    return sum(
        price * qty
        for side in (1, -1)
        for price, qty in book.levels(side)
        if abs(price - mid) <= mid / 100
    )


def test_depth_within_one_percent_collapses_by_over_ninety_percent(db: Path) -> None:
    con = connect(db, read_only=True)
    try:
        for symbol in ("BTCUSDT", *ALTS):
            calm = _depth_within_one_percent(con, symbol, START + 60 * NS_PER_S)
            worst = _depth_within_one_percent(con, symbol, START + (LEAD_S + 240) * NS_PER_S)
            assert worst < 0.1 * calm, symbol
    finally:
        con.close()


def test_books_are_never_crossed_chains_have_no_gaps_and_trades_hit_the_touch(db: Path) -> None:
    con = connect(db, read_only=True)
    books = {symbol: BookReplayer() for symbol in ALTCOIN_CRASH.symbols}
    last_id: dict[str, int] = {}
    lots_per_unit = {"BTCUSDT": 1_000, "SUIUSDT": 10, "ATOMUSDT": 100}
    taken: dict[tuple[str, int], int] = {}  # lots taken from a touch since the last message
    checked = trades = 0
    try:
        assert con.sql("SELECT count(*) FROM gaps").fetchall()[0][0] == 0
        columns = ["symbol", "ts", "is_snapshot", "update_id", "prev_update_id", "side"]
        for batch in stream_batches(con, columns=[*columns, "price", "qty"]):
            cols = batch.to_pydict()
            rows = zip(*(cols[c] for c in ["kind", *columns, "price", "qty"]), strict=True)
            for kind, symbol, ts, snap, uid, prev, side, price, qty in rows:
                replayer = books[symbol]
                if kind == 0:  # depth
                    if not snap and last_id.get(symbol) != uid:
                        assert prev == last_id[symbol], (symbol, ts)  # chained, no gap
                        _check_uncrossed(replayer, symbol, ts)
                        checked += 1
                    last_id[symbol] = uid
                    replayer.apply(ts, snap, uid, side, price, qty)
                    taken[symbol, 1] = taken[symbol, -1] = 0
                    continue
                _check_uncrossed(replayer, symbol, ts)
                touch = replayer.book.best_ask() if side > 0 else replayer.book.best_bid()
                assert touch is not None and touch[0] == price, (symbol, ts)
                taken[symbol, side] += round(qty * lots_per_unit[symbol])
                assert taken[symbol, side] <= round(touch[1] * lots_per_unit[symbol]), (symbol, ts)
                trades += 1
    finally:
        con.close()
    assert checked > 30_000 and trades > 100_000


def _check_uncrossed(replayer: BookReplayer, symbol: str, ts: int) -> None:
    bid, ask = replayer.book.best_bid(), replayer.book.best_ask()
    assert bid is not None and ask is not None and bid[0] < ask[0], (symbol, ts)


def test_the_store_records_the_generator_version_and_parameters(db: Path) -> None:
    con = connect(db, read_only=True)
    try:
        (path, fmt, exchange, rows), *more = con.sql(
            "SELECT path, format, exchange, rows FROM ingests"
        ).fetchall()
        stored = con.sql(
            "SELECT (SELECT count(*) FROM book_deltas) + (SELECT count(*) FROM trades)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert not more
    assert path.startswith("harness-synth:altcoin-crash-2025-10-10@v1 {")
    assert '"seed":7' in path and '"alt_fall":0.7' in path
    assert '"start":"2025-10-10T21:05:00Z"' in path
    assert (fmt, exchange, rows) == ("synth", "synthetic", stored)


REPLAY = """
name = "synthetic-crash"
seed = 3

[data]
db = "{db}"
exchange = "synthetic"
symbols = ["BTCUSDT", "SUIUSDT", "ATOMUSDT"]
start = "2025-10-10T21:05:00Z"
end = "2025-10-10T21:16:00Z"
"""


def test_a_replay_without_agents_runs_on_the_crash_and_its_marks_fall(db: Path) -> None:
    scenario = loads_scenario(REPLAY.format(db=db), source="crash.toml")
    result = run_scenario(scenario)
    marks: dict[str, list[int]] = {}
    for record in result.journal.records():
        if record.kind == "mark":
            marks.setdefault(record.symbol, []).append(int(record.fields["mark"]))  # type: ignore[arg-type]
    assert sorted(marks) == sorted(scenario.data.symbols)
    for symbol, series in marks.items():
        fall = 1 - min(series) / series[0]
        low, high = (0.07, 0.14) if symbol == "BTCUSDT" else (0.55, 0.80)
        assert low <= fall <= high, (symbol, fall)
        assert math.isclose(series[0], max(series[:60]), rel_tol=0.03), symbol
