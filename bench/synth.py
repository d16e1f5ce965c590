"""Synthetic tape speed: generating and writing about 1M messages with `harness synth calm`.

One symbol for an hour: a depth message every 10 ms (360,000) and about 640,000 trades, drawn,
validated and written to a fresh store in one transaction, as `harness synth` does it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness.data.store import connect
from harness.synth.generate import synthesize
from harness.synth.presets import CALM

MILLION = CALM.request(
    1, 1_760_097_600_000_000_000, ("BTCUSDT",), duration_s=3_600, diff_ms=10, trades_per_s=178.0
)


def run() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as name:
        con = connect(Path(name) / "synth.duckdb")
        started = time.perf_counter()
        report = synthesize(con, CALM, MILLION)
        seconds = time.perf_counter() - started
        con.close()
    messages = sum(report.messages.values())
    return [
        ("synth calm: messages", messages),
        ("synth calm: rows", sum(report.rows.values())),
        ("synth calm, generate + write (ms)", seconds * 1_000),
        ("synth calm, generate + write (messages/s)", messages / seconds),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
