"""Throughput of the Binance websocket ingest on the BTCUSDT capture, in source lines per second.

Three figures, because they answer different questions: the parser alone (the Python hot loop),
parse plus validation (what `harness ingest --dry-run` costs), and a full ingest into an in-memory
store (adds the sort and the DuckDB insert). Each is the best of a few runs, so a noisy neighbour
on a small machine inflates the time of one run, not the figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.data.formats.base import IngestOptions
from harness.data.formats.binance_ws import BinanceWs
from harness.data.ingest import ingest_paths
from harness.data.source import SourceFile
from harness.data.store import connect

CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "btcusdt_20240808.gz"
REPEATS = 5


def _best_seconds(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def _best_ingest_seconds(dry_run: bool) -> float:
    """Like `_best_seconds`, with a fresh store per run whose creation is not timed."""
    best = float("inf")
    for _ in range(REPEATS):
        con = connect(":memory:")
        try:
            start = time.perf_counter()
            ingest_paths(con, [CAPTURE], dry_run=dry_run)
            best = min(best, time.perf_counter() - start)
        finally:
            con.close()
    return best


def run() -> list[tuple[str, float]]:
    src = SourceFile(CAPTURE)
    lines = sum(1 for _ in src.lines())
    fmt = BinanceWs()
    options = IngestOptions()
    timings = [
        ("binance-ws parse, BTCUSDT", _best_seconds(lambda: fmt.parse(src, options))),
        ("binance-ws parse+validate (dry run)", _best_ingest_seconds(dry_run=True)),
        ("binance-ws ingest into :memory:", _best_ingest_seconds(dry_run=False)),
    ]
    return [(label, lines / seconds) for label, seconds in timings]


if __name__ == "__main__":
    for label, rate in run():
        print(f"{label:40s} {rate:>10,.0f} lines/s")
