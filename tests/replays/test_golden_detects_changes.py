"""A user's golden suite (harness.testing) fails on a changed liquidation setting and names the
first differing step of the liquidation path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.liquidating import write_scenario

USER_TEST = """
import os

from harness.testing import golden  # noqa: F401


def test_incident(golden):
    golden.check(golden.run(os.environ["SCENARIO"]))
"""


def _pytest(folder: Path, scenario: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(folder),
         *args, str(folder / "test_incident.py")],
        cwd=folder,
        env={**os.environ, "SCENARIO": str(scenario)},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


def test_a_changed_clearance_fee_fails_at_the_first_differing_step(
    tmp_path: Path, capture_db: Path
) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_incident.py").write_text(USER_TEST, encoding="utf-8")
    scenario = write_scenario(tmp_path / "scenario", capture_db, clearance_fee="0.5%")
    first = _pytest(suite, scenario, "--snapshot-update")
    assert first.returncode == 0, first.stdout
    stored = (suite / "__snapshots__" / "test_incident" / "test_incident.txt").read_text()
    assert "@liquidator BTCUSDT fund_clearance_fee fund=100001530000000 amount=1530000000" in stored

    write_scenario(tmp_path / "scenario", capture_db, clearance_fee="0.01%")
    second = _pytest(suite, scenario)
    assert second.returncode == 1
    # lev3's 250 lots filled for 15,425 USDT: at 0.5% the fee (77.125 USDT) is capped by the
    # liquidator's gain of 15.30 USDT; at 0.01% it is 1.5425 USDT, and the rest is surplus.
    lines = second.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "first difference at line" in line)
    assert "expected: 2024-08-08T23:56:49Z @liquidator BTCUSDT fund_clearance_fee " \
        "fund=100001530000000 amount=1530000000 liquidated=lev3" in lines[start + 1]  # fmt: skip
    assert "actual:   2024-08-08T23:56:49Z @liquidator BTCUSDT fund_clearance_fee " \
        "fund=100000154250000 amount=154250000 liquidated=lev3" in lines[start + 2]  # fmt: skip
