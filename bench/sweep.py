"""Sweep throughput: runs per minute for 1 and 2 local workers and for Ray, and the speed-up.

The grid is 16 runs (4 liquidation rates x 2 replenishment models x 2 seeds) of three minutes of
the bundled capture with the post-only market maker: a short run, so process start-up and the
store's query are a real part of the cost, as in a sweep of short incident windows. Ray's figure
is measured on a local instance started before the clock starts (its start-up, a few seconds,
is printed apart). Set HARNESS_BENCH_RAY=0 to skip Ray.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.capture import capture_store
from harness.sweep.grid import parse_axis
from harness.sweep.sweep import run_sweep

RAY_ENV = "HARNESS_BENCH_RAY"
WORKERS = 2

BASE = """
name = "bench-sweep"
seed = 1

[data]
db = "{db}"
start = "2024-08-08T23:54:17Z"
end = "2024-08-08T23:57:17Z"

[latency]
market_data = {{ model = "lognormal", median_ms = 2, sigma = 0.3 }}
orders = {{ model = "lognormal", median_ms = 3, sigma = 0.4 }}

[[agents]]
name = "mm"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = {{ qty_lots = 5 }}
fee_tier = "mm3"
"""
GRID = ("liquidation.per_second=5,10,20,40", 'venue.replenishment="data","decay"')
SEEDS = 2


def _rate(base: Path, out: Path, executor: str, workers: int) -> float:
    started = time.perf_counter()
    outcome = run_sweep(
        base,
        [parse_axis(option) for option in GRID],
        out,
        seeds=SEEDS,
        executor=executor,
        workers=workers,
    )
    elapsed = time.perf_counter() - started
    if outcome.failed:
        raise RuntimeError(f"{outcome.failed} bench run(s) failed; see {outcome.results}")
    return outcome.runs / elapsed * 60


def run() -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = capture_store(tmp)
        base = tmp / "base.toml"
        base.write_text(BASE.format(db=db), encoding="utf-8")
        one = _rate(base, tmp / "one", "local", 1)
        two = _rate(base, tmp / "two", "local", WORKERS)
        results.append(("sweep of 16 runs, 1 local worker (runs/min)", one))
        results.append((f"sweep of 16 runs, {WORKERS} local workers (runs/min)", two))
        results.append((f"speed-up 1 -> {WORKERS} local workers (%)", two / one * 100))
        results.extend(_ray(base, tmp / "ray"))
    return results


def _ray(base: Path, out: Path) -> list[tuple[str, float]]:
    if os.environ.get(RAY_ENV, "1") == "0":
        return []
    try:
        import ray
    except ImportError:
        print("sweep on Ray: skipped (Ray is not installed; pip install '.[ray]')")
        return []
    started = time.perf_counter()
    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
    try:
        rate = _rate(base, out, "ray", WORKERS)
    finally:
        ray.shutdown()
    return [
        (f"sweep of 16 runs, Ray local instance, {WORKERS} CPUs (runs/min)", rate),
        ("Ray local instance start-up (ms)", startup * 1000),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
