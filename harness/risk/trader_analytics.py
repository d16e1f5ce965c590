"""Per-agent analytics for the summary: markouts, rebates against markouts, funding against
realized volatility, and liquidation distance net of forced-execution cost at the run's end.

Money is in units of 1e-8 USDT (integers, rounded toward minus infinity once, at the end of each
sum); ratios and per-fill averages are decimal strings, so the summary never carries a float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from harness import journal as jk
from harness.journal import Record
from harness.risk.liquidation_distance import net_liquidation_distance
from harness.risk.markouts import FillMark, markout_ticks, markout_units
from harness.risk.robust import decimal_text
from harness.venue.exchange.l2book import ASK, BID
from harness.venue.venue import Venue

NS_PER_S = 1_000_000_000


def _text(value: Fraction, places: int = 2) -> str:
    return decimal_text(value.numerator, value.denominator, places)


def markout_table(
    marks: Iterable[FillMark], horizons_ns: tuple[int, ...], units_per_lot_tick: Mapping[str, int]
) -> dict[str, dict[str, Any]]:
    """Per horizon: fills measured, mean markout in ticks, and the total (all fills, and maker
    fills alone) in money units."""
    sums: dict[int, list[Fraction]] = {
        h: [Fraction(0), Fraction(0), Fraction(0)] for h in horizons_ns
    }
    counts = dict.fromkeys(horizons_ns, 0)
    for m in marks:
        units = markout_units(m.side, m.price, m.qty, m.mid2_after, units_per_lot_tick[m.symbol])
        total = sums[m.horizon_ns]
        total[0] += markout_ticks(m.side, m.price, m.mid2_after)
        total[1] += units
        if m.maker:
            total[2] += units
        counts[m.horizon_ns] += 1
    out: dict[str, dict[str, Any]] = {}
    for horizon in horizons_ns:
        ticks, units, maker_units = sums[horizon]
        n = counts[horizon]
        out[f"{decimal_text(horizon, NS_PER_S, 0)}s"] = {
            "fills": n,
            "mean_ticks": _text(ticks / n) if n else None,
            "total_units": math.floor(units),
            "maker_units": math.floor(maker_units),
        }
    return out


def realized_vol_ticks(records: Iterable[Record]) -> dict[str, str]:
    """Per symbol: root mean square of the moves between consecutive journaled marks, in ticks
    (integer square root of the mean square in 1e-4 tick^2, so two decimals are exact)."""
    last: dict[str, int] = {}
    squares: dict[str, list[int]] = {}
    for record in records:
        mark = record.fields.get("mark")
        if record.kind != jk.MARK or type(mark) is not int:
            continue
        before = last.get(record.symbol)
        last[record.symbol] = mark
        if before is not None:
            total = squares.setdefault(record.symbol, [0, 0])
            total[0] += (mark - before) ** 2
            total[1] += 1
    return {
        symbol: decimal_text(math.isqrt(total * 10_000 // n), 100)
        for symbol, (total, n) in squares.items()
    }


def liquidation_distances(
    venue: Venue, account: str, clearance_fee: Fraction
) -> dict[str, dict[str, Any]]:
    """Per open position: the liquidation price and the distances to it in ticks, the net one
    after the clearance fee and the slippage of unwinding through the current book."""
    ledger = venue.ledger
    marks = venue.marks
    out: dict[str, dict[str, Any]] = {}
    positions = {s: p for s, p in ledger.account(account).positions.items() if p.qty}
    if any(symbol not in marks for symbol in positions):
        return out  # the ledger's cross formula needs every mark the account is exposed to
    for symbol, pos in positions.items():
        inst = ledger.instrument(symbol)
        side = 1 if pos.qty > 0 else -1
        qty = inst.lots_to_qty(abs(pos.qty))
        liq = ledger.liquidation_price(account, symbol, marks)
        assert liq is not None  # the position is open
        if liq.price is None:
            out[symbol] = {"liquidation_price": None}
            continue
        book = venue.markets[symbol].engine.book
        levels = (
            (inst.ticks_to_price(p), inst.lots_to_qty(q))
            for p, q in book.levels(BID if side > 0 else ASK)
        )
        mark = inst.ticks_to_price(marks[symbol])
        net = net_liquidation_distance(side, mark, liq.price, qty, clearance_fee, levels)
        out[symbol] = {
            "liquidation_price": _text(liq.price),
            "distance_ticks": _text(net.distance / inst.tick_size),
            "clearance_fee_ticks": _text(net.fee / inst.tick_size),
            "slippage_ticks": _text(net.slippage / inst.tick_size),
            "net_distance_ticks": _text(net.net / inst.tick_size),
            "net_distance_bps_of_mark": _text(net.net / mark * 10_000),
        }
    return out


def trader_analytics(
    records: list[Record],
    marks: list[FillMark],
    horizons_ns: tuple[int, ...],
    venue: Venue,
    agents: tuple[str, ...],
    clearance_fee: Fraction,
) -> dict[str, dict[str, Any]]:
    units = {symbol: m.instrument.units_per_lot_tick for symbol, m in venue.markets.items()}
    rebates = dict.fromkeys(agents, 0)
    funding = dict.fromkeys(agents, 0)
    for record in records:
        if record.account not in rebates:
            continue
        if record.kind == jk.FEE:
            fee = record.fields.get("fee")
            if type(fee) is int and fee < 0:
                rebates[record.account] -= fee
        elif record.kind == jk.FUNDING:
            paid = record.fields.get("paid")
            if type(paid) is int:
                funding[record.account] += paid
    vol = realized_vol_ticks(records)
    out: dict[str, dict[str, Any]] = {}
    for agent in agents:
        table = markout_table((m for m in marks if m.account == agent), horizons_ns, units)
        out[agent] = {
            "markouts": table,
            "rebate_units": rebates[agent],
            "rebate_plus_maker_markout_units": {
                horizon: rebates[agent] + row["maker_units"] for horizon, row in table.items()
            },
            "funding_paid_units": funding[agent],
            "mark_realized_vol_ticks": vol,
            "liquidation_distance": liquidation_distances(venue, agent, clearance_fee),
        }
    return out
