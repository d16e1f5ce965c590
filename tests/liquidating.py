"""A small scenario that liquidates on the bundled capture, for tests of the liquidation outputs.

Three passive longs bought at 23:55 on thin margin (a two-tier bracket table with 500x and 250x
maximum leverage, 0.1% and 0.2% maintenance) are liquidated as BTCUSDT drifts down ~0.3%: `lev3`
at 23:56:49 in one step, then `lev1` and `lev2` at 23:57:53 together, so with one liquidation per
second `lev2` waits one second in the queue; both are cut tier by tier (`partial`, `recheck`).
"""

from __future__ import annotations

from pathlib import Path

TIERS = """
name = "thin-margin"
[[tiers]]
floor = 0
cap = 20000
max_leverage = 500
mmr = 0.001
[[tiers]]
floor = 20000
cap = 1000000
max_leverage = 250
mmr = 0.002
"""

SCENARIO = """
name = "{name}"
seed = 3
[data]
db = "{db}"
exchange = "binance-usdm"
symbols = ["BTCUSDT"]
start = "2024-08-08T23:55:00Z"
end = "2024-08-08T23:58:00Z"
[venue.instruments.BTCUSDT]
brackets = "{tiers}"
[liquidation]
clearance_fee = "{clearance_fee}"
per_second = {per_second}
insurance_fund = 1_000_000
[[agents]]
name = "lev1"
strategy = "harness.agents.examples.passive_holder:PassiveHolder"
params = {{ qty_lots = 600 }}
balance = 150
leverage = 250
[[agents]]
name = "lev2"
strategy = "harness.agents.examples.passive_holder:PassiveHolder"
params = {{ qty_lots = 500 }}
balance = 128
leverage = 250
[[agents]]
name = "lev3"
strategy = "harness.agents.examples.passive_holder:PassiveHolder"
params = {{ qty_lots = 250 }}
balance = 50
leverage = 500
"""


def write_scenario(
    folder: Path,
    db: Path,
    *,
    name: str = "overlevered",
    clearance_fee: str = "0.5%",
    per_second: int = 1,
) -> Path:
    """Write the scenario (and its bracket table) into `folder`; returns the TOML path."""
    folder.mkdir(parents=True, exist_ok=True)
    tiers = folder / "tiers.toml"
    tiers.write_text(TIERS, encoding="utf-8")
    path = folder / f"{name}.toml"
    text = SCENARIO.format(
        name=name, db=db, tiers=tiers, clearance_fee=clearance_fee, per_second=per_second
    )
    path.write_text(text, encoding="utf-8")
    return path
