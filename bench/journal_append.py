"""Journal appends per second: the journal is on the simulation's hot path (every fill, order
state change and sampled mark goes through it)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness.journal import FILL, MARK, ORDER_ACCEPTED, Journal

N = 200_000


def _fill_journal(journal: Journal, n: int) -> None:
    ts = 1_723_161_256_000_000_000
    for i in range(n):
        ts += 1_000
        if i % 3 == 0:
            journal.append(ts, MARK, "", "BTCUSDT", mark=6_100_000 + i % 50, index=6_100_010)
        elif i % 3 == 1:
            journal.append(
                ts, ORDER_ACCEPTED, "mm1", "BTCUSDT", order_id=i, side="buy", price=6_100_000,
                qty=25, post_only=True,
            )  # fmt: skip
        else:
            journal.append(
                ts, FILL, "mm1", "BTCUSDT", order_id=i - 1, price=6_100_000, qty=25,
                fee=-1_525_000, maker=True, trade_id=10_000_000 + i,
            )  # fmt: skip


def run() -> list[tuple[str, float]]:
    journal = Journal()
    start = time.perf_counter()
    _fill_journal(journal, N)
    journal.fingerprint()
    appended = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.parquet"
        start = time.perf_counter()
        journal.write_parquet(path)
        written = time.perf_counter() - start
        start = time.perf_counter()
        Journal.read_parquet(path)
        read = time.perf_counter() - start
    return [
        ("journal appends/s (mark/order/fill mix, 2-6 fields)", N / appended),
        ("journal parquet write (records/s)", N / written),
        ("journal parquet read and re-check (records/s)", N / read),
    ]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:<60} {value:>14,.0f}")
