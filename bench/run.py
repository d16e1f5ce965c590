"""`make bench`: every hot loop's throughput, printed (never asserted: machines differ)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUITES = (
    "ws_ingest",
    "csv_ingest",
    "query_stream",
    "synth",
    "matching",
    "journal_append",
    "replay",
    "risk",
    "sweep",
    "liquidation",
)


def main() -> None:
    for name in SUITES:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        for label, value in module.run():
            print(f"{label:<60} {value:>14,.0f}", flush=True)
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
