"""Replay speed: market-data messages per second through a whole run, and a day's peak memory.

The capture cases time `run_scenario` on the bundled BTCUSDT capture (about 94k messages, 533k
rows in the window): (a) no agents, the cost of the Tape and the venue's books; (b) the post-only
market maker alone on a 100 ms conflated feed; (c) the three example agents. Each figure is the
best of a few runs, so a noisy neighbour on a small machine inflates one run, not the figure.

(d) replays a synthetic day of 10M messages (`harness synth calm`: a depth snapshot, then diffs
every 100 ms and trades in between, about 17M rows) with no agents, in a fresh process so that
the peak RSS is the replay's own.
Linux carries a process's high-water mark across exec, so a child started from this (possibly
large) process would report ours; the child therefore forks once more and measures in the fork,
which starts a fresh mark. Set HARNESS_BENCH_DAY=0 to skip it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.capture import capture_store
from harness.config.scenario import Scenario, loads_scenario
from harness.data.store import connect
from harness.replay import run_scenario
from harness.synth.generate import synthesize
from harness.synth.presets import CALM

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 3
DAY_ENV = "HARNESS_BENCH_DAY"

WINDOW = 'start = "2024-08-08T23:54:17Z"\nend = "2024-08-09T00:00:00Z"'
MARKET_MAKER = """
[[agents]]
name = "mm"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = { qty_lots = 5 }
fee_tier = "mm3"
"""
OTHERS = """
[[agents]]
name = "trend"
strategy = "harness.agents.examples.trend_taker:TrendTaker"
params = { qty_lots = 200, threshold_ticks = 150, stop_ticks = 100 }
leverage = 50

[[agents]]
name = "holder"
strategy = "harness.agents.examples.passive_holder:PassiveHolder"
params = { qty_lots = 20 }
"""
CAPTURE_CASES = (
    ("(a) no agents", ""),
    ("(b) market maker, 100 ms conflated", MARKET_MAKER + "conflation_ms = 100\n"),
    ("(c) three example agents", MARKET_MAKER + OTHERS),
)

# The synthetic day: `harness synth calm` for 24 hours of BTCUSDT, a depth message every 100 ms
# (864,000) and trades in between. With 36 trades a second it is about 4M messages (other benches
# take hours of it); the day bench asks for 106, so that the day holds 10M messages.
DAY_TRADES_PER_S = 106.0
DAY = CALM.request(
    20240809,
    1_723_161_600_000_000_000,  # 2024-08-09T00:00:00Z
    ("BTCUSDT",),
    "binance-usdm",
    duration_s=86_400,
    diff_ms=100,
    trades_per_s=36.0,
)


def _scenario(name: str, db: Path, agents: str, window: str) -> Scenario:
    text = (
        f'name = "{name}"\nseed = 7\n\n[data]\ndb = {json.dumps(str(db))}\n'
        f'exchange = "binance-usdm"\nsymbols = ["BTCUSDT"]\n{window}\n{agents}'
    )
    return loads_scenario(text, source=f"bench:{name}")


def _best_rate(scenario: Scenario) -> float:
    best = 0.0
    for _ in range(REPEATS):
        result = run_scenario(scenario)
        best = max(best, result.messages / result.wall_seconds)
    return best


# --- the synthetic day -------------------------------------------------------------------------


def write_synthetic_day(path: Path, hours: int = 24, trades_per_s: float | None = None) -> int:
    """The first `hours` of the day of BTCUSDT in a fresh store at `path`; returns rows."""
    knobs = {**DAY.knobs, "duration_s": hours * 3600}
    if trades_per_s is not None:
        knobs["trades_per_s"] = trades_per_s
    request = CALM.request(DAY.seed, DAY.start_ns, DAY.symbols, DAY.exchange, **knobs)
    con = connect(path)
    try:
        report = synthesize(con, CALM, request)
    finally:
        con.close()
    return sum(report.rows.values())


def replay_day(db: str) -> dict[str, float]:
    """Replay the synthetic day with no agents; run in a process of its own (see the docstring)."""
    window = 'start = "2024-08-09T00:00:00Z"\nend = "2024-08-10T00:00:00Z"'
    result = run_scenario(_scenario("synthetic-day", Path(db), "", window))
    return {
        "messages": result.messages,
        "wall_seconds": result.wall_seconds,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


_CHILD = """
import json, os, sys, traceback
pid = os.fork()
if pid == 0:
    code = 1
    try:
        from bench.replay import replay_day
        print(json.dumps(replay_day(sys.argv[1])), flush=True)
        code = 0
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(code)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def _day(tmp: Path) -> list[tuple[str, float]]:
    db = tmp / "day.duckdb"
    rows = write_synthetic_day(db, trades_per_s=DAY_TRADES_PER_S)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"synthetic day replay failed:\n{done.stderr}")
    report = json.loads(done.stdout.splitlines()[-1])
    return [
        ("replay (d) synthetic day: rows", rows),
        ("replay (d) synthetic day: messages", report["messages"]),
        (
            "replay (d) synthetic day, no agents (messages/s)",
            report["messages"] / report["wall_seconds"],
        ),
        ("replay (d) synthetic day: peak RSS (MiB)", report["maxrss_kib"] / 1024),
    ]


def run() -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = capture_store(tmp)
        for i, (label, agents) in enumerate(CAPTURE_CASES):
            scenario = _scenario(f"bench-{i}", db, agents, WINDOW)
            results.append((f"replay {label} (messages/s)", _best_rate(scenario)))
        if os.environ.get(DAY_ENV, "1") != "0":
            results.extend(_day(tmp))
    return results


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
