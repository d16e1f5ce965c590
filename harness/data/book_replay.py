"""Rebuilding a recorded L2 book from stored depth rows, the way a feed handler consumes them.

A run of snapshot rows replaces the book. After a Binance snapshot with lastUpdateId L, diffs whose
last update id is below L are already inside the snapshot and are skipped. Depth rows seen before
any snapshot cannot build a trustworthy book, so they are skipped and `synced` stays false; sources
without update ids (Tardis, Bybit deltas) are applied as they come.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from harness.data.query import stream_batches
from harness.venue.exchange.l2book import L2Book

FloatBook = L2Book[float, float]


SKIP, APPLY, RESET = 0, 1, 2


class DepthSequencer:
    """Decides, row by row, whether a stored depth row reaches the book (and when it resets)."""

    __slots__ = ("_in_snapshot", "snapshot_id", "synced")

    def __init__(self) -> None:
        self.synced = False
        self.snapshot_id: int | None = None
        self._in_snapshot = False

    def admit(self, ts: int, is_snapshot: bool, update_id: int | None) -> int:
        """RESET (clear the book, then apply), APPLY, or SKIP (stale, or no snapshot yet).

        A snapshot is a run of snapshot rows; a new run, or a new update id within a run (two
        Binance REST snapshots back to back), starts a fresh book. Tardis snapshots have no ids
        and may span several timestamps, so time alone never splits a run.
        """
        if is_snapshot:
            if self._in_snapshot and update_id == self.snapshot_id:
                return APPLY
            self._in_snapshot = True
            self.snapshot_id = update_id
            self.synced = True
            return RESET
        self._in_snapshot = False
        if not self.synced:
            return SKIP
        if update_id is not None and self.snapshot_id is not None and update_id < self.snapshot_id:
            return SKIP
        return APPLY


class BookReplayer:
    """Applies depth rows of one symbol, in stream order, to an L2 book."""

    __slots__ = ("book", "last_update_id", "sequencer")

    def __init__(self, book: FloatBook | None = None) -> None:
        self.book: FloatBook = book if book is not None else L2Book()
        self.sequencer = DepthSequencer()
        self.last_update_id: int | None = None

    @property
    def synced(self) -> bool:
        return self.sequencer.synced

    def apply(
        self,
        ts: int,
        is_snapshot: bool,
        update_id: int | None,
        side: int,
        price: float,
        qty: float,
    ) -> bool:
        """Apply one level row; False when it was skipped (stale, or no snapshot yet)."""
        verdict = self.sequencer.admit(ts, is_snapshot, update_id)
        if verdict == SKIP:
            return False
        if verdict == RESET:
            self.book.clear()
        self.book.set_level(side, price, qty)
        self.last_update_id = update_id
        return True


@dataclass(frozen=True)
class BookAt:
    """A rebuilt book with what an investigator needs to trust it."""

    symbol: str
    ts: int
    book: FloatBook
    synced: bool
    last_update_ts: int | None
    gaps_before: int
    """Sequence gaps recorded between the snapshot used and `ts`: the book may be wrong if > 0."""


def rebuild_at(
    con: duckdb.DuckDBPyConnection, symbol: str, at_ns: int, exchange: str | None = None
) -> BookAt:
    """The book of `symbol` as it stood at `at_ns`, rows at exactly `at_ns` included."""
    filters = "symbol = ? AND is_snapshot AND ts <= ?"
    params: list[object] = [symbol, at_ns]
    if exchange is not None:
        filters += " AND exchange = ?"
        params.append(exchange)
    found = con.execute(f"SELECT max(ts) FROM book_deltas WHERE {filters}", params).fetchall()
    start = found[0][0]
    replayer = BookReplayer()
    last_ts: int | None = None
    if start is not None:
        for batch in stream_batches(
            con,
            kinds=["book_deltas"],
            start=int(start),
            end=at_ns + 1,
            symbols=[symbol],
            exchange=exchange,
            columns=["ts", "is_snapshot", "update_id", "side", "price", "qty"],
        ):
            cols = batch.to_pydict()
            for row in zip(
                cols["ts"],
                cols["is_snapshot"],
                cols["update_id"],
                cols["side"],
                cols["price"],
                cols["qty"],
                strict=True,
            ):
                if replayer.apply(*row):
                    last_ts = row[0]
    gap_params: list[object] = [symbol, start if start is not None else at_ns, at_ns]
    gap_filter = "symbol = ? AND kind = 'book_deltas' AND ts >= ? AND ts <= ?"
    if exchange is not None:
        gap_filter += " AND exchange = ?"
        gap_params.append(exchange)
    gaps = con.execute(f"SELECT count(*) FROM gaps WHERE {gap_filter}", gap_params).fetchall()
    return BookAt(
        symbol=symbol,
        ts=at_ns,
        book=replayer.book,
        synced=replayer.synced,
        last_update_ts=last_ts,
        gaps_before=int(gaps[0][0]),
    )
