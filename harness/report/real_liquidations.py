"""What really happened: the venue's recorded forced orders next to the simulated ones.

When the store holds `liquidations` rows (Tardis liquidations, Binance forceOrder) for the run's
exchange, symbols and window, the run's summary gets a `real_liquidations` table:
- counts and notional (units of 1e-8 USDT) over the window and per minute, real and simulated;
- timing offsets: for each real forced order, the time from it to the nearest simulated one of the
  same symbol and side (positive: the simulation liquidated later), in milliseconds rounded down,
  as min, median (the lower middle value) and max over those that have one.

A simulated forced order is one of the liquidator's IOCs (`ioc` and `ioc_fund_backed` liquidation
records) that filled: like a real forceOrder it is the venue's order sent to the book, with the
side of the order (+1 a forced buy, closing a short; -1 a forced sell, closing a long). Real
prices and quantities are floats in the store; their notional is made exact from their shortest
decimal text, so the figures do not depend on float rounding.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import duckdb

from harness import journal as jk
from harness.journal import Record
from harness.sim.clock import iso

MINUTE_NS = 60_000_000_000
MS_NS = 1_000_000
UNITS_PER_USDT = 100_000_000
SIM_STEPS = ("ioc", "ioc_fund_backed")


class ForcedOrder(NamedTuple):
    ts: int
    symbol: str
    side: int
    notional_units: int


def real_orders(
    con: duckdb.DuckDBPyConnection, exchange: str, symbols: Sequence[str], start: int, end: int
) -> list[ForcedOrder]:
    marks = ", ".join("?" for _ in symbols)
    rows = con.execute(
        "SELECT ts, symbol, side, price, qty FROM liquidations "
        f"WHERE exchange = ? AND symbol IN ({marks}) AND ts >= ? AND ts < ? "
        "ORDER BY ts, symbol, seq",
        [exchange, *symbols, start, end],
    ).fetchall()
    return [
        ForcedOrder(int(ts), str(symbol), int(side), _units(price, qty))
        for ts, symbol, side, price, qty in rows
    ]


def _units(price: float, qty: float) -> int:
    notional = Fraction(Decimal(repr(price))) * Fraction(Decimal(repr(qty)))
    return int(notional * UNITS_PER_USDT)


def simulated_orders(records: Iterable[Record]) -> list[ForcedOrder]:
    orders = []
    for record in records:
        fields = record.fields
        if record.kind != jk.LIQUIDATION or fields.get("step") not in SIM_STEPS:
            continue
        filled, side, notional = fields.get("filled"), fields.get("side"), fields.get("notional")
        if isinstance(filled, int) and filled > 0 and isinstance(side, int):
            units = notional if isinstance(notional, int) else 0
            orders.append(ForcedOrder(record.ts, record.symbol, side, units))
    return orders


def _offsets_ms(real: list[ForcedOrder], sim: list[ForcedOrder]) -> list[int]:
    by_key: dict[tuple[str, int], list[int]] = {}
    for order in sim:
        by_key.setdefault((order.symbol, order.side), []).append(order.ts)
    offsets = []
    for order in real:
        times = by_key.get((order.symbol, order.side))
        if not times:
            continue
        at = bisect.bisect_left(times, order.ts)
        near = [times[i] for i in (at - 1, at) if 0 <= i < len(times)]
        # Nearest; on a tie the earlier simulated order.
        delta = min((t - order.ts for t in near), key=lambda d: (abs(d), d))
        offsets.append(delta // MS_NS)
    return sorted(offsets)


def compare(real: list[ForcedOrder], sim: list[ForcedOrder]) -> dict[str, Any]:
    minutes: dict[int, dict[str, int]] = {}
    for name, orders in (("real", real), ("sim", sim)):
        for order in orders:
            minute = minutes.setdefault(
                order.ts - order.ts % MINUTE_NS,
                {"real": 0, "sim": 0, "real_notional_units": 0, "sim_notional_units": 0},
            )
            minute[name] += 1
            minute[f"{name}_notional_units"] += order.notional_units
    offsets = _offsets_ms(real, sim)
    timing: dict[str, int] = {"compared": len(offsets)}
    if offsets:
        timing |= {
            "min_ms": offsets[0],
            "median_ms": offsets[(len(offsets) - 1) // 2],
            "max_ms": offsets[-1],
        }
    return {
        "real": len(real),
        "sim": len(sim),
        "real_notional_units": sum(o.notional_units for o in real),
        "sim_notional_units": sum(o.notional_units for o in sim),
        "per_minute": {iso(minute): minutes[minute] for minute in sorted(minutes)},
        "offsets": timing,
    }


def summary(
    con: duckdb.DuckDBPyConnection,
    exchange: str,
    symbols: Sequence[str],
    start: int,
    end: int,
    records: Iterable[Record],
) -> dict[str, Any]:
    """`{"real_liquidations": ...}` for the run's summary, or `{}` when the store has no real
    liquidations in the window."""
    real = real_orders(con, exchange, symbols, start, end)
    if not real:
        return {}
    return {"real_liquidations": compare(real, simulated_orders(records))}


def describe(figures: dict[str, Any]) -> str:
    """One line for the replay's console output."""
    offsets = figures["offsets"]
    timing = (
        f", median offset to the nearest simulated one {offsets['median_ms']:+} ms "
        f"(of {offsets['compared']})"
        if offsets["compared"]
        else ""
    )
    return (
        f"real liquidations: {figures['real']} "
        f"({figures['real_notional_units'] // UNITS_PER_USDT:,} USDT), simulated {figures['sim']} "
        f"({figures['sim_notional_units'] // UNITS_PER_USDT:,} USDT){timing}"
    )
