"""Throughput of the CSV ingest on a 10M-row Binance trades file, in rows per second.

The file is synthetic (seeded, a random walk on a 0.1 tick, written by polars in one call) because
a real day of BTCUSDT trades is hundreds of megabytes nobody should download for a benchmark; the
parser does the same work on it. Two figures: the parser alone (read, type and check every row),
and a full `ingest_paths` into an in-memory store, which adds hashing, validation, the sort and the
DuckDB insert. Each is the best of a few runs, so one noisy run does not set the figure.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from harness.data.formats.base import IngestOptions
from harness.data.formats.binance_csv import BinanceCsv
from harness.data.ingest import ingest_paths
from harness.data.source import SourceFile
from harness.data.store import connect

ROWS = 10_000_000
REPEATS = 3


def write_trades(path: Path, rows: int, seed: int = 7) -> None:
    """A Binance USD-M trades CSV with its header, shaped like the real files."""
    rng = np.random.default_rng(seed)
    price = (600_000 + np.cumsum(rng.integers(-2, 3, rows))) / 10
    qty = rng.integers(1, 5_000, rows) / 1_000
    pl.DataFrame(
        {
            "id": np.arange(5_000_000_000, 5_000_000_000 + rows),
            "price": price,
            "qty": qty,
            "quote_qty": np.round(price * qty, 5),
            "time": 1_723_075_200_000 + np.cumsum(rng.integers(0, 3, rows)),
            "is_buyer_maker": rng.random(rows) < 0.5,
        }
    ).write_csv(path)


def _best_seconds(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def _ingest(path: Path) -> None:
    con = connect(":memory:")
    try:
        ingest_paths(con, [path])
    finally:
        con.close()


def run() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "BTCUSDT-trades-2024-08-08.csv"
        write_trades(path, ROWS)
        src = SourceFile(path)
        fmt = BinanceCsv("trades")
        options = IngestOptions()
        timings = [
            ("binance-csv-trades parse, 10M rows", _best_seconds(lambda: fmt.parse(src, options))),
            ("binance-csv-trades ingest into :memory:", _best_seconds(lambda: _ingest(path))),
        ]
    return [(label, ROWS / seconds) for label, seconds in timings]


if __name__ == "__main__":
    for label, rate in run():
        print(f"{label:40s} {rate:>12,.0f} rows/s")
