"""The liquidation figures of a run in one console line, for `harness replay`.

Printed only when the run liquidated, deleveraged or drew on the insurance fund, so a calm run's
output stays short. Figures come from the summary (`harness.venue.liquidation.report`); money is
shown in USDT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.units import usdt


def liquidation_lines(summary: Mapping[str, Any]) -> list[str]:
    liquidations = int(summary.get("liquidations") or 0)
    cascade = summary.get("cascade") or {}
    fund = summary.get("insurance_fund") or {}
    adl = summary.get("adl") or {}
    drawdown = int(fund.get("drawdown_units") or 0)
    deleveraged = int(adl.get("deleveraged") or 0)
    if not (liquidations or drawdown or deleveraged):
        return []
    return [
        f"  liquidations: {liquidations} ({cascade.get('accounts', 0)} accounts), cascade depth "
        f"{cascade.get('depth', 0)}, widest generation {cascade.get('width', 0)}, "
        f"{usdt(int(cascade.get('notional_units') or 0))} USDT filled through the book",
        f"  insurance fund drawdown {usdt(drawdown)} USDT "
        f"(start {usdt(int(fund.get('start_units') or 0))}, lowest "
        f"{usdt(int(fund.get('min_units') or 0))}, end {usdt(int(fund.get('end_units') or 0))}"
        f"); ADL: {deleveraged} positions",
    ]
