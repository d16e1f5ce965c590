"""The risk monitor's CPU cost: the calm replay with the monitor on and off, best of a few runs.

CPU time of this process (not wall time), so a busy neighbour on a shared machine disturbs it
less; printed, never asserted.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from bench.capture import capture_store
from harness.config.scenario import Scenario, load_scenario
from harness.replay import run_scenario

ROOT = Path(__file__).resolve().parent.parent
CALM = ROOT / "replays" / "btcusdt-2024-08-08-calm.toml"
REPEATS = 3


def _best_cpu(scenario: Scenario, db: Path) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()  # wall-clock ok: a benchmark, nothing is journaled
        run_scenario(scenario, db=db)
        best = min(best, time.process_time() - started)
    return best


def run() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as name:
        db = capture_store(Path(name))
        scenario = load_scenario(CALM)
        off = dataclasses.replace(scenario, risk=dataclasses.replace(scenario.risk, enabled=False))
        cpu_off = _best_cpu(off, db)
        cpu_on = _best_cpu(scenario, db)
    return [
        ("risk: calm replay, monitor off (CPU ms)", cpu_off * 1000),
        ("risk: calm replay, monitor on (CPU ms)", cpu_on * 1000),
        ("risk: monitor overhead (% of the run's CPU)", (cpu_on - cpu_off) / cpu_off * 100),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
