"""Every key figure of a sweep row is filled, and equals the run's own summary, on a scenario that
liquidates (`tests/liquidating.py`) with alerts before the first liquidation and the
unthrottled twin, so that no figure has a reason to be null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from harness.config.scenario import load_scenario
from harness.replay import run_scenario
from harness.report.figures import FIGURES
from harness.sweep.grid import parse_axis
from harness.sweep.results import RESULTS
from harness.sweep.sweep import run_sweep
from tests.liquidating import write_scenario

ALERTING = """
[risk]
threshold = 1.5
lead_score = 1.5
warmup_samples = 3
[gateway]
compare_unthrottled = true
"""


def _by_hand(summary: dict[str, Any]) -> dict[str, Any]:
    """Each figure read from the summary at the place the module that writes it puts it."""
    throttling = summary["throttling"]["agents"]
    rejected: dict[str, int] = {}
    for agent in throttling.values():
        for reason, count in agent["rejected"].items():
            rejected[reason] = rejected.get(reason, 0) + count
    return {
        "liquidations": summary["liquidations"],
        "liquidation_notional_units": summary["cascade"]["notional_units"],
        "cascade_depth": summary["cascade"]["depth"],
        "insurance_drawdown_units": summary["insurance_fund"]["drawdown_units"],
        "insurance_fund_units": summary["insurance_fund_units"],
        "adl_count": summary["adl"]["deleveraged"],
        "margin_calls": summary["margin_calls"],
        "missed_exits": sum(a["missed_exit_count"] for a in throttling.values()),
        "missed_exit_cost_units": sum(a["cost_vs_unthrottled_units"] for a in throttling.values()),
        "rejects": sum(a["rejects"] for a in summary["agents"].values()),
        "rejects_by_reason": json.dumps(dict(sorted(rejected.items()))),
        "lead_time_s": float(summary["risk"]["alerts"]["lead_time_s"]),
    }


def test_every_figure_is_filled_and_equals_the_summary(tmp_path: Path, capture_db: Path) -> None:
    base = write_scenario(tmp_path / "scenario", capture_db)
    base.write_text(base.read_text(encoding="utf-8") + ALERTING, encoding="utf-8")
    axis = parse_axis('liquidation.clearance_fee="0.01%"')  # one run (two with its twin)
    run_sweep(base, [axis], tmp_path / "out", workers=1)
    table = pl.read_parquet(tmp_path / "out" / RESULTS)
    assert table["status"].to_list() == ["ok"]
    for row in table.iter_rows(named=True):
        summary = _direct(base, row["liquidation.clearance_fee"])
        assert row["fingerprint"] == summary["fingerprint"]
        figures = _by_hand(summary)
        assert sorted(figures) == sorted(f.column for f in FIGURES)
        for column, expected in figures.items():
            assert row[column] is not None, column
            assert row[column] == (
                pytest.approx(expected) if column == "lead_time_s" else expected
            ), column
    first = table.row(0, named=True)
    # tests/liquidating.py: four liquidations of three accounts, all roots of one generation;
    # the fund only collected fees and surpluses, so no drawdown; the first strong alert came
    # 104 s before the first liquidation.
    assert (first["liquidations"], first["cascade_depth"], first["adl_count"]) == (4, 1, 0)
    assert first["insurance_drawdown_units"] == 0
    assert first["lead_time_s"] == pytest.approx(104.0)
    # The page shows money in USDT; the table keeps the units.
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert first["insurance_fund_units"] == 100_007_236_360_000
    assert "<td>1,000,072.36 USDT</td>" in page and "<td>83,226.68 USDT</td>" in page


def _direct(base: Path, fee: str) -> dict[str, Any]:
    """The same run by `harness replay`'s own path."""
    text = base.read_text(encoding="utf-8")
    text = text.replace('clearance_fee = "0.5%"', f'clearance_fee = "{fee}"')
    path = base.with_name(f"direct-{fee.replace('%', 'pct')}.toml")
    path.write_text(text, encoding="utf-8")
    return run_scenario(load_scenario(path)).summary()
