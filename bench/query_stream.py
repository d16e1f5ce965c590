"""Streaming query speed: rows/s reading the bundled capture back in replay order."""

from __future__ import annotations

import time
from pathlib import Path

from harness.data.ingest import ingest_paths
from harness.data.query import stream_batches
from harness.data.store import connect

CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "btcusdt_20240808.gz"
TAPE_COLUMNS = ["ts", "symbol", "side", "price", "qty", "is_snapshot", "update_id"]


def run() -> list[tuple[str, float]]:
    con = connect(":memory:")
    ingest_paths(con, [CAPTURE])
    results = []
    for label, columns in (("tape columns", TAPE_COLUMNS), ("all columns", None)):
        best = 0.0
        for _ in range(3):
            started = time.perf_counter()
            rows = sum(batch.num_rows for batch in stream_batches(con, columns=columns))
            best = max(best, rows / (time.perf_counter() - started))
        results.append((f"query stream, {label} (rows/s)", best))
    con.close()
    return results


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
