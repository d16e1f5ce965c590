"""The tape replays the store on the SimPy clock: a process at time t sees the book as of t."""

from __future__ import annotations

from collections.abc import Generator
from fractions import Fraction
from itertools import pairwise
from typing import Any

import duckdb
import pytest
import simpy

from harness.data.book_replay import rebuild_at
from harness.data.ingest import ingest_paths
from harness.data.tape import Scale, Tape
from harness.venue.exchange.l2book import ASK, BID, L2Book
from tests.conftest import BTCUSDT_CAPTURE

START = 1_723_161_256_000_000_000
END = 1_723_161_600_000_000_000
BTC = Scale.of(Fraction(1, 10), Fraction(1, 1000))


class BookFeed:
    """The venue side of the tape reduced to its public book, plus tallies to check against."""

    def __init__(self) -> None:
        self.book: L2Book[int, int] = L2Book()
        self.trades = 0
        self.top_checks = 0
        self.top_mismatches = 0
        self.last_ts = 0

    def reset_book(self, ts: int) -> None:
        self.book.clear()

    def depth(self, ts: int, side: int, price: int, qty: int) -> None:
        assert ts >= self.last_ts
        self.last_ts = ts
        self.book.set_level(side, price, qty)

    def trade(self, ts: int, price: int, qty: int, side: int) -> None:
        self.trades += 1
        assert qty > 0 and price > 0

    def top(self, ts: int, bid: int, bid_qty: int, ask: int, ask_qty: int) -> None:
        return

    def recorded_mark(
        self, ts: int, mark: int, index: int | None, rate: Fraction | None, next_funding: int | None
    ) -> None:
        raise AssertionError("the capture has no marks")

    def recorded_funding(self, ts: int, rate: Fraction) -> None:
        raise AssertionError("the capture has no funding")


def test_tape_interleaves_with_scheduled_events(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    env = simpy.Environment(initial_time=START)
    feed = BookFeed()
    tape = Tape(env, store, start=START, end=END, feeds={"BTCUSDT": feed}, scales={"BTCUSDT": BTC})
    # Probes on whole milliseconds coincide with ticks: those ticks must be applied first.
    probes = [START + k * 37_000_000_000 for k in range(1, 9)]
    seen: list[tuple[int, tuple[int, int] | None, tuple[int, int] | None]] = []

    def observer() -> Generator[simpy.Event, Any, None]:
        for at in probes:
            yield env.timeout(at - env.now)
            seen.append((env.now, feed.book.best(BID), feed.book.best(ASK)))

    env.process(observer())
    env.process(tape.run())
    env.run()
    assert (
        feed.trades
        == 21_313
        - store.execute(
            "SELECT count(*) FROM trades WHERE ts < ? OR ts >= ?", [START, END]
        ).fetchall()[0][0]
    )
    assert tape.stats.messages > 90_000
    assert [at for at, _, _ in seen] == probes
    for at, bid, ask in seen:
        expected = rebuild_at(store, "BTCUSDT", at)
        want_bid, want_ask = expected.book.best_bid(), expected.book.best_ask()
        assert want_bid is not None and want_ask is not None
        assert bid == (round(want_bid[0] * 10), round(want_bid[1] * 1000))
        assert ask == (round(want_ask[0] * 10), round(want_ask[1] * 1000))


def test_scale_refuses_sizes_that_do_not_divide_a_unit() -> None:
    assert Scale.of(Fraction(1, 100), Fraction(1, 1000)) == Scale(100, 1000)
    with pytest.raises(ValueError, match="divide one unit"):
        Scale.of(Fraction(3, 10), Fraction(1, 1000))


class TopCounter(BookFeed):
    def __init__(self) -> None:
        super().__init__()
        self.tops = 0

    def top(self, ts: int, bid: int, bid_qty: int, ask: int, ask_qty: int) -> None:
        self.tops += 1


def _replay(store: duckdb.DuckDBPyConnection, **options: Any) -> tuple[Tape, TopCounter]:
    env = simpy.Environment(initial_time=START)
    feed = TopCounter()
    tape = Tape(
        env,
        store,
        start=START,
        end=END,
        feeds={"BTCUSDT": feed},
        scales={"BTCUSDT": BTC},
        **options,
    )
    env.process(tape.run())
    env.run()
    return tape, feed


def test_skipped_book_tops_are_still_read_and_counted(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    with_tops, fed = _replay(store)
    without, skipped = _replay(store, book_tops=False)
    assert fed.tops > 60_000 and skipped.tops == 0
    assert without.stats.messages == with_tops.stats.messages
    assert list(skipped.book.levels(BID)) == list(fed.book.levels(BID))
    assert list(skipped.book.levels(ASK)) == list(fed.book.levels(ASK))
    assert skipped.trades == fed.trades


def test_spans_are_cut_only_when_the_window_may_not_fit(store: duckdb.DuckDBPyConnection) -> None:
    ingest_paths(store, [BTCUSDT_CAPTURE])
    env = simpy.Environment(initial_time=START)
    feeds = {"BTCUSDT": BookFeed()}

    def spans(window_rows: int) -> list[tuple[int, int]]:
        tape = Tape(
            env,
            store,
            start=START,
            end=END,
            feeds=feeds,
            scales={"BTCUSDT": BTC},
            window_rows=window_rows,
        )
        return tape.windows(START)

    # The capture's ingest holds fewer than a million rows: one span, no per-second count.
    assert spans(1_000_000) == [(START, END)]
    cut = spans(100_000)
    assert len(cut) > 3
    assert cut[0][0] == START and cut[-1][1] == END
    assert all(a[1] == b[0] for a, b in pairwise(cut))
    # Cut replays stream the same rows as one span.
    one, _ = _replay(store)
    many, _ = _replay(store, window_rows=100_000)
    assert many.stats.messages == one.stats.messages and many.stats.rows == one.stats.rows
