"""Replay speed: market-data messages per second through a whole run, and a day's peak memory.

The capture cases time `run_scenario` on the bundled BTCUSDT capture (about 94k messages, 533k
rows in the window): (a) no agents, the cost of the Tape and the venue's books; (b) the post-only
market maker alone on a 100 ms conflated feed; (c) the three example agents. Each figure is the
best of a few runs, so a noisy neighbour on a small machine inflates one run, not the figure.

(d) replays a synthetic day of about 10M rows (a depth snapshot, then diffs every 100 ms and
trades in between) with no agents, in a fresh process so that the peak RSS is the replay's own.
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

import duckdb
import numpy as np
import pyarrow as pa

from harness.data.ingest import ingest_paths
from harness.data.schema import SEQ_STRIDE, table_columns
from harness.data.store import connect
from harness.replay import run_scenario
from harness.sim.scenario import Scenario, loads_scenario

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "fixtures" / "btcusdt_20240808.gz"
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

# The synthetic day: BTCUSDT in ticks of 0.1 and lots of 0.001, starting at 60,000.
DAY_START = 1_723_161_600_000_000_000  # 2024-08-09T00:00:00Z
HOUR_NS = 3_600_000_000_000
DIFF_NS = 100_000_000
TRADES_PER_HOUR = 130_000
MEAN_LEVELS = 8
"""Levels per depth diff, so that 864,000 diffs and 3.1M trades make about 10M rows."""
SNAPSHOT_LEVELS = 1_000
FIRST_MID = 600_000
SNAPSHOT_UPDATE_ID = 1_000


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


def _insert(
    con: duckdb.DuckDBPyConnection, kind: str, columns: dict[str, np.ndarray | pa.Array]
) -> None:
    table = pa.table(columns)
    names = table_columns(kind)
    con.register("chunk", table)
    con.execute(f"INSERT INTO {kind} SELECT {', '.join(names)} FROM chunk")
    con.unregister("chunk")


def _common(n: int, ts: np.ndarray, seq: np.ndarray) -> dict[str, np.ndarray | pa.Array]:
    return {
        "exchange": pa.array(["binance-usdm"] * n),
        "symbol": pa.array(["BTCUSDT"] * n),
        "ts": ts,
        "local_ts": ts,
        "seq": seq,
        "ingest_id": np.ones(n, dtype=np.int32),
    }


def _snapshot(con: duckdb.DuckDBPyConnection, rng: np.random.Generator) -> None:
    n = 2 * SNAPSHOT_LEVELS
    distance = np.tile(np.arange(1, SNAPSHOT_LEVELS + 1), 2)
    side = np.repeat(np.array([1, -1], dtype=np.int8), SNAPSHOT_LEVELS)
    ids = np.full(n, SNAPSHOT_UPDATE_ID, dtype=np.int64)
    _insert(
        con,
        "book_deltas",
        {
            **_common(n, np.full(n, DAY_START, dtype=np.int64), np.arange(n, dtype=np.int64)),
            "side": side,
            "price": (FIRST_MID - side * distance) / 10,
            "qty": rng.integers(1, 2_000, n) / 1_000,
            "is_snapshot": np.ones(n, dtype=np.bool_),
            "first_update_id": ids,
            "update_id": ids,
            "prev_update_id": ids,
        },
    )


def _hour(
    con: duckdb.DuckDBPyConnection, rng: np.random.Generator, hour: int, mid: int
) -> tuple[int, int]:
    """One hour of diffs and trades around a random-walking mid; returns (last mid, rows)."""
    start = DAY_START + hour * HOUR_NS
    diffs = HOUR_NS // DIFF_NS
    first_diff = hour * diffs  # diffs of earlier hours, so lines and update ids run on
    mids = mid + np.cumsum(rng.choice(np.array([-1, 0, 1]), diffs, p=[0.2, 0.6, 0.2]))
    levels = 1 + rng.poisson(MEAN_LEVELS - 1, diffs)
    rows = int(levels.sum())
    diff_of_row = np.repeat(np.arange(diffs), levels)
    position = np.arange(rows) - np.repeat(np.cumsum(levels) - levels, levels)
    side = np.where(rng.random(rows) < 0.5, 1, -1).astype(np.int8)
    distance = rng.geometric(0.05, rows)
    qty_lots = np.where(rng.random(rows) < 0.25, 0, rng.integers(1, 2_000, rows))
    update_id = SNAPSHOT_UPDATE_ID + 10 * (first_diff + diff_of_row + 1)
    line = first_diff + diff_of_row + 1  # line 0 is the snapshot
    ts = start + (diff_of_row + 1) * DIFF_NS
    _insert(
        con,
        "book_deltas",
        {
            **_common(rows, ts, line * SEQ_STRIDE + position),
            "side": side,
            "price": (mids[diff_of_row] - side * distance) / 10,
            "qty": qty_lots / 1_000,
            "is_snapshot": np.zeros(rows, dtype=np.bool_),
            "first_update_id": update_id - 9,
            "update_id": update_id,
            "prev_update_id": update_id - 10,
        },
    )
    n = TRADES_PER_HOUR
    trade_ts = start + np.sort(rng.integers(0, HOUR_NS // 1_000_000, n)) * 1_000_000
    aggressor = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    near = mids[np.minimum((trade_ts - start) // DIFF_NS, diffs - 1)]
    trade_ids = hour * n + np.arange(n, dtype=np.int64)
    _insert(
        con,
        "trades",
        {
            **_common(n, trade_ts, trade_ids * SEQ_STRIDE),
            "price": (near + (aggressor > 0)) / 10,
            "qty": rng.integers(1, 50, n) / 1_000,
            "side": aggressor,
            "trade_id": trade_ids,
        },
    )
    return int(mids[-1]), rows + n


def write_synthetic_day(path: Path, seed: int = 20240809, hours: int = 24) -> int:
    """A day (or its first `hours`) of BTCUSDT in a fresh store at `path`, generated an hour at
    a time; returns rows."""
    rng = np.random.default_rng(seed)
    con = connect(path)
    try:
        con.begin()
        _snapshot(con, rng)
        mid, rows = FIRST_MID, 2 * SNAPSHOT_LEVELS
        for hour in range(hours):
            mid, added = _hour(con, rng, hour, mid)
            rows += added
        con.execute(
            "INSERT INTO ingests VALUES (1, 'synthetic', 'synthetic', 'synthetic', "
            "'binance-usdm', ?, ?, ?)",
            [rows, DAY_START, DAY_START + hours * HOUR_NS - 1],
        )
        con.commit()
    finally:
        con.close()
    return rows


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
    rows = write_synthetic_day(db)
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
        db = tmp / "capture.duckdb"
        con = connect(db)
        ingest_paths(con, [CAPTURE])
        con.close()
        for i, (label, agents) in enumerate(CAPTURE_CASES):
            scenario = _scenario(f"bench-{i}", db, agents, WINDOW)
            results.append((f"replay {label} (messages/s)", _best_rate(scenario)))
        if os.environ.get(DAY_ENV, "1") != "0":
            results.extend(_day(tmp))
    return results


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value:>14,.0f}")
