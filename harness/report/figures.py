"""A run's key figures, read from its summary (`summary.json`): the columns of a sweep's
results table and of the runs listing (`harness.report.runs`).

Each figure is a documented path into the summary dict. A `*` segment means every entry of a
table (an agent each), whose values are added up: numbers add, tables of counts merge by key.
A figure whose path is absent from the summary is null (a summary written before the part that
holds it existed). The paths follow the modules that write the summary: `harness.replay` (counts),
`harness.venue.liquidation.report` (cascade, insurance fund, ADL), `harness.agents.
throttling_report` (per agent) and `harness.risk.alert_summary` (alerts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Figure:
    column: str
    path: str
    doc: str
    kind: str = "int"
    """int, float (a number that may be fractional) or counts (a table of counts, kept as JSON)."""


FIGURES: tuple[Figure, ...] = (
    Figure("liquidations", "liquidations", "Liquidations the engine started."),
    Figure(
        "liquidation_notional_units",
        "cascade.notional_units",
        "Notional the liquidator's orders filled through the books, quote units (1e-8 USDT).",
    ),
    Figure("cascade_depth", "cascade.depth", "Generations of the liquidation cascade."),
    Figure(
        "insurance_drawdown_units",
        "insurance_fund.drawdown_units",
        "Insurance fund: start balance minus its lowest balance, quote units.",
    ),
    Figure("insurance_fund_units", "insurance_fund_units", "Insurance fund at the end."),
    Figure(
        "adl_count",
        "adl.deleveraged",
        "Positions of simulated accounts closed by auto-deleveraging.",
    ),
    Figure("margin_calls", "margin_calls", "Margin calls journaled."),
    Figure(
        "missed_exits",
        "throttling.agents.*.missed_exit_count",
        "Exits throttling kept from reaching the venue in time, all agents.",
    ),
    Figure(
        "missed_exit_cost_units",
        "throttling.agents.*.cost_vs_unthrottled_units",
        "Equity lost against the unthrottled twin run, all agents, quote units.",
    ),
    Figure("rejects", "agents.*.rejects", "Order rejects seen by the agents."),
    Figure(
        "rejects_by_reason",
        "throttling.agents.*.rejected",
        "Rejects per reason, all agents (JSON object).",
        kind="counts",
    ),
    Figure(
        "lead_time_s",
        "risk.alerts.lead_time_s",
        "Seconds from the first strong risk alert to the first liquidation.",
        kind="float",
    ),
)


def extract(summary: Mapping[str, Any], figure: Figure) -> int | float | str | None:
    """The figure's value in one summary, or None when the path is absent or null."""
    steps = figure.path.split(".")
    found = _lookup(summary, steps)
    if not found:
        return None
    if figure.kind == "counts":
        merged: dict[str, int] = {}
        for part in found:
            if isinstance(part, Mapping):
                for reason, count in part.items():
                    merged[str(reason)] = merged.get(str(reason), 0) + int(count)
        return json.dumps(dict(sorted(merged.items())))
    numbers = [_number(value) for value in found]
    present = [n for n in numbers if n is not None]
    if not present:
        return None
    total = sum(present, Decimal(0))
    return float(total) if figure.kind == "float" else int(total)


def extract_all(summary: Mapping[str, Any]) -> dict[str, int | float | str | None]:
    return {figure.column: extract(summary, figure) for figure in FIGURES}


def _lookup(node: Any, steps: list[str]) -> list[Any]:
    """Values at the path; `*` fans out over a table's entries in their (sorted) key order."""
    if not steps:
        return [] if node is None else [node]
    if not isinstance(node, Mapping):
        return []
    head, rest = steps[0], steps[1:]
    if head == "*":
        return [value for key in sorted(node) for value in _lookup(node[key], rest)]
    return _lookup(node[head], rest) if head in node else []


def _number(value: Any) -> Decimal | None:
    """Exact sums: integers stay integers, decimal strings ("1.250") are read exactly."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | str):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return None
