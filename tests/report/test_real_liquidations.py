"""The summary compares the store's real forced orders with the simulated ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.data.ingest import ingest_paths
from harness.data.store import connect
from harness.report.real_liquidations import ForcedOrder, compare, describe
from tests.report.conftest import replay

M = 60_000_000_000  # one minute in ns
T = 1_723_161_360_000_000_000  # 2024-08-08T23:56:00Z

# A Tardis liquidations file for the liquidating scenario's window (23:55 to 23:58): side "sell"
# is a forced sell (a long closed), "buy" a forced buy (a short closed); times in microseconds.
TARDIS = """exchange,symbol,timestamp,local_timestamp,id,side,price,amount
binance-usdm,BTCUSDT,1723161410000000,1723161410000100,a1,sell,61710.0,0.25
binance-usdm,BTCUSDT,1723161430000000,1723161430000100,a2,buy,61680.0,0.05
binance-usdm,BTCUSDT,1723161470500000,1723161470500100,a3,sell,61650.0,0.1
binance-usdm,BTCUSDT,1723161510000000,1723161510000100,a4,sell,61600.0,1.0
"""


def test_counts_notional_and_offsets_by_hand() -> None:
    real = [
        ForcedOrder(T + 10 * 10**9, "BTCUSDT", -1, 100),
        ForcedOrder(T + M + 1, "BTCUSDT", 1, 50),
        ForcedOrder(T + M + 2 * 10**9, "BTCUSDT", -1, 30),
    ]
    sim = [
        ForcedOrder(T + 9 * 10**9, "BTCUSDT", -1, 70),
        ForcedOrder(T + M + 5 * 10**9, "BTCUSDT", -1, 20),
        ForcedOrder(T + M + 5 * 10**9, "ETHUSDT", 1, 20),
    ]
    figures = compare(real, sim)
    assert figures["real"] == 3 and figures["sim"] == 3
    assert (figures["real_notional_units"], figures["sim_notional_units"]) == (180, 110)
    assert figures["per_minute"] == {
        "2024-08-08T23:56:00Z": {
            "real": 1, "sim": 1, "real_notional_units": 100, "sim_notional_units": 70,
        },
        "2024-08-08T23:57:00Z": {
            "real": 2, "sim": 2, "real_notional_units": 80, "sim_notional_units": 40,
        },
    }  # fmt: skip
    # Real sell at +10 s: nearest sim sell at +9 s (-1000 ms); real sell at +62 s: sim sell at
    # +65 s (+3000 ms); the real buy has no simulated BTCUSDT buy.
    assert figures["offsets"] == {
        "compared": 2,
        "min_ms": -1000,
        "median_ms": -1000,
        "max_ms": 3000,
    }


def test_a_replay_on_a_store_with_real_liquidations_compares_them(
    capture_db: Path, tmp_path: Path
) -> None:
    db = shutil.copy(capture_db, tmp_path / "ticks.duckdb")
    crafted = tmp_path / "binance-usdm_liquidations_2024-08-08_BTCUSDT.csv"
    crafted.write_text(TARDIS, encoding="utf-8")
    con = connect(db)
    ingest_paths(con, [crafted])
    con.close()
    run = replay(tmp_path / "scenario", Path(db))
    summary = json.loads((run / "summary.json").read_text())
    figures = summary["real_liquidations"]
    # a4 (23:58:30) is after the window. Real notional: 0.25 x 61710 = 15427.5, 0.05 x 61680
    # = 3084 and 0.1 x 61650 = 6165 USDT.
    assert figures["real"] == 3
    assert figures["real_notional_units"] == (1_542_750 + 308_400 + 616_500) * 10**6
    # The simulated forced orders are the liquidator's five IOCs (lev3 at 23:56:49; lev1 twice
    # at 23:57:53; lev2 at 23:57:54 and 23:57:55), with the notional their records carry.
    minute_56, minute_57 = figures["per_minute"].values()
    assert minute_56 == {
        "real": 1, "sim": 1, "real_notional_units": 1_542_750_000_000,
        "sim_notional_units": 1_542_500_000_000,
    }  # fmt: skip
    assert minute_57 == {
        "real": 2, "sim": 4, "real_notional_units": 924_900_000_000,
        "sim_notional_units": 1_701_177_920_000 + 1_997_022_000_000 + 1_084_964_800_000
        + 1_997_003_160_000,
    }  # fmt: skip
    # Sells only: 23:56:50 -> 23:56:49 (-1000 ms); 23:57:50.5 -> 23:57:53 (+2500 ms).
    assert figures["offsets"] == {
        "compared": 2,
        "min_ms": -1000,
        "median_ms": -1000,
        "max_ms": 2500,
    }
    assert describe(figures) == (
        "real liquidations: 3 (24,676 USDT), simulated 5 (83,226 USDT), "
        "median offset to the nearest simulated one -1000 ms (of 2)"
    )


def test_without_real_liquidations_the_summary_has_no_comparison(liquidated_run: Path) -> None:
    assert "real_liquidations" not in (liquidated_run / "summary.json").read_text()
