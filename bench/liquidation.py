"""Replay speed with the liquidation path loaded: 10,000 accounts on a 1M-message tape.

The tape is the first hours of the synthetic day of `bench.replay` (a depth snapshot, diffs every
100 ms, trades in between: about 166k messages an hour), written to a temporary store. The run
opens a synthetic population of 10,000 BTCUSDT accounts (the `[population]` defaults: leverage
5x-100x, entries within 2% of the first trade, 30% isolated) at the start, so the risk engine
checks its trigger index on every mark (each second) and the queue works through the accounts
that start underwater. Printed figures: messages, accounts, liquidations, messages per second.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.replay import write_synthetic_day
from harness.config.scenario import loads_scenario
from harness.replay import run_scenario

HOURS = 6
ACCOUNTS = 10_000


def run() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as name:
        db = Path(name) / "tape.duckdb"
        write_synthetic_day(db, hours=HOURS)
        text = (
            f'name = "bench-liquidation"\nseed = 7\n[data]\ndb = {json.dumps(str(db))}\n'
            'exchange = "binance-usdm"\nsymbols = ["BTCUSDT"]\n'
            'start = "2024-08-09T00:00:00Z"\n'
            f'end = "2024-08-09T{HOURS:02d}:00:00Z"\n'
            f"[population]\ncount = {ACCOUNTS}\n"
        )
        result = run_scenario(loads_scenario(text, source="bench:liquidation"))
        summary = result.summary()
    return [
        ("liquidation: tape messages", result.messages),
        ("liquidation: accounts", ACCOUNTS),
        ("liquidation: liquidations", summary["liquidations"]),
        ("liquidation: margin calls", summary["margin_calls"]),
        (
            "liquidation: 10k accounts, risk engine on (messages/s)",
            result.messages / result.wall_seconds,
        ),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
