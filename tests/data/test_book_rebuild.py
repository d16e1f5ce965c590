"""The rebuilt L2 book agrees with what Binance itself published as the best bid and ask."""

from __future__ import annotations

import duckdb

from harness.data.book_replay import BookReplayer, rebuild_at
from harness.data.ingest import ingest_paths
from harness.data.query import stream_batches
from tests.conftest import BTCUSDT_CAPTURE

Top = tuple[float, float, float, float]


def _tops_after_each_diff(con: duckdb.DuckDBPyConnection) -> dict[int, Top]:
    """Best bid and ask (price, size) after applying each depth message, by its last update id."""
    replayer = BookReplayer()
    tops: dict[int, Top] = {}
    pending: int | None = None
    columns = ["ts", "is_snapshot", "update_id", "side", "price", "qty"]
    for batch in stream_batches(con, kinds=["book_deltas"], columns=columns):
        c = batch.to_pydict()
        for ts, snap, uid, side, price, qty in zip(
            c["ts"], c["is_snapshot"], c["update_id"], c["side"], c["price"], c["qty"], strict=True
        ):
            if pending is not None and uid != pending:
                _record(replayer, tops, pending)
            applied = replayer.apply(ts, snap, uid, side, price, qty)
            pending = uid if applied and not snap else None
    if pending is not None:
        _record(replayer, tops, pending)
    return tops


def _record(replayer: BookReplayer, tops: dict[int, Top], uid: int) -> None:
    bid, ask = replayer.book.best_bid(), replayer.book.best_ask()
    assert bid is not None and ask is not None
    tops[uid] = (bid[0], bid[1], ask[0], ask[1])


def test_rebuilt_book_matches_every_comparable_book_ticker(
    store: duckdb.DuckDBPyConnection,
) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    tops = _tops_after_each_diff(store)
    tickers = store.execute(
        "SELECT update_id, bid_price, bid_qty, ask_price, ask_qty FROM book_tops ORDER BY ts, seq"
    ).fetchall()
    comparable = [(row[0], tuple(row[1:])) for row in tickers if row[0] in tops]
    mismatches = [(uid, top, tops[uid]) for uid, top in comparable if tops[uid] != top]
    assert len(comparable) == 629
    assert mismatches == []


def test_book_at_an_instant_is_sane_and_matches_the_ticker(
    store: duckdb.DuckDBPyConnection,
) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    # A ticker at a diff boundary: its exchange time is the instant to rebuild at.
    uid, ts, bid, ask = store.execute(
        """SELECT t.update_id, t.ts, t.bid_price, t.ask_price FROM book_tops t
           JOIN (SELECT DISTINCT update_id, ts FROM book_deltas WHERE NOT is_snapshot) d
             ON d.update_id = t.update_id AND d.ts <= t.ts
           ORDER BY t.ts DESC LIMIT 1"""
    ).fetchall()[0]
    at = rebuild_at(store, "BTCUSDT", ts)
    assert at.synced and at.gaps_before == 0
    assert at.book.best_bid() is not None and at.book.best_bid()[0] == bid  # type: ignore[index]
    assert at.book.best_ask() is not None and at.book.best_ask()[0] == ask  # type: ignore[index]
    assert not at.book.is_crossed()
    assert uid > 0


def test_book_before_any_snapshot_is_not_synced(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    first_ts = store.execute("SELECT min(ts) FROM book_deltas").fetchall()[0][0]
    at = rebuild_at(store, "BTCUSDT", first_ts)
    assert not at.synced
    assert at.book.best_bid() is None


def test_a_snapshot_spanning_timestamps_is_one_book() -> None:
    from harness.data.book_replay import APPLY, RESET, SKIP, DepthSequencer

    seq = DepthSequencer()
    assert seq.admit(1, False, None) == SKIP  # no snapshot yet
    assert seq.admit(2, True, None) == RESET
    assert seq.admit(3, True, None) == APPLY  # same run, later timestamp: still one snapshot
    assert seq.admit(4, False, None) == APPLY
    assert seq.admit(5, True, None) == RESET  # a new run
    assert seq.admit(6, True, 7) == RESET  # a new id inside a run: another snapshot
    assert seq.admit(7, False, 6) == SKIP  # stale against the snapshot's id
    assert seq.admit(8, False, 7) == APPLY
