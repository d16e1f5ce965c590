"""The tables of `report.html`, written for a risk engineer reading a run for the first time.

Each table reads one part of the summary (the module that writes that part is named in its
docstring) and formats it for people: prices in USDT with the tick's decimals, money in USDT,
durations in seconds or milliseconds. The summary and the CSV keep the integers; only the page
formats. A part the summary lacks (an older run, the risk monitor switched off) says so.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from harness.report.liquidation_path import Step
from harness.report.units import decimal_text, price, usdt
from harness.sim.clock import iso

MAX_TABLE_ROWS = 2000
NONE = "<p class='none'>none in this run</p>"
_TEXT = " class='text'"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: Iterable[int]) -> str:
    """An HTML table (cut at `MAX_TABLE_ROWS` rows, saying so); `NONE` without rows."""
    if not rows:
        return NONE
    left = frozenset(text_columns)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_TEXT if i in left else ''}>{html.escape(c)}</td>" for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows[:MAX_TABLE_ROWS]
    )
    cut = len(rows) > MAX_TABLE_ROWS
    note = f"<p class='none'>first {MAX_TABLE_ROWS} of {len(rows)} rows</p>" if cut else ""
    return f"<table><tr>{head}</tr>{body}</table>{note}"


def note(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


class Prices:
    """Ticks of a symbol as USDT, from the summary's `instruments`; ticks when it has none."""

    def __init__(self, tick_sizes: Mapping[str, Fraction]) -> None:
        self.tick_sizes = tick_sizes

    def __call__(self, symbol: str, ticks: object) -> str:
        if not isinstance(ticks, int) or isinstance(ticks, bool):
            return "" if ticks is None else str(ticks)
        tick = self.tick_sizes.get(symbol)
        return price(ticks, tick) if tick is not None else f"{ticks} ticks"


def _money(units: object, places: int = 2) -> str:
    if isinstance(units, int) and not isinstance(units, bool):
        return usdt(units, places)
    return "" if units is None else str(units)


def _seconds(ns: object, places: int = 3) -> str:
    if isinstance(ns, int) and not isinstance(ns, bool):
        return decimal_text(Fraction(ns, 1_000_000_000), places)
    return ""


def _ms(ns: object) -> str:
    if isinstance(ns, int) and not isinstance(ns, bool):
        return decimal_text(Fraction(ns, 1_000_000), 1)
    return ""


def _time(ns: object) -> str:
    return iso(ns) if isinstance(ns, int) and not isinstance(ns, bool) else ""


def alerts(summary: Mapping[str, Any]) -> str:
    """`risk.alerts` (harness.risk.alert_summary): the strongest alerts first, with the features
    that explain them."""
    risk = summary.get("risk")
    if not risk:
        return "<p class='none'>the risk monitor was off in this run</p>"
    found = risk["alerts"]
    lead = found.get("lead_time_s")
    head = note(
        f"{found['alerts']} alerts ({found['alerts_per_hour']}/h), {found['false_alerts']} not "
        f"followed by a liquidation in time ({found['false_alerts_per_hour']}/h); first "
        f"liquidation {found.get('first_liquidation') or 'none'}; lead time of the first strong "
        "alert " + (f"{lead} s" if lead is not None else "n/a") + "."
    )
    rows = [
        [str(n), a["ts"], a["account"] or "-", a["symbol"] or "-", a["score"], a["reason"]]
        for n, a in enumerate(found.get("ranked", []), start=1)
    ]
    header = ["rank", "time", "account", "symbol", "score", "explanation"]
    return head + table(header, rows, (1, 2, 3, 5))


def band(summary: Mapping[str, Any], prices: Prices) -> str:
    """`liquidation_band` (harness.venue.liquidation.report): warning, then forced reduction."""
    rows = []
    for account, b in (summary.get("liquidation_band") or {}).items():
        symbol = b["symbol"]
        rows.append(
            [
                account,
                symbol,
                _time(b["warning_ts"]) or "no warning",
                str(b["warning_level"] or ""),
                prices(symbol, b["warning_mark"]),
                _time(b["reduction_ts"]),
                b["reduction_step"],
                prices(symbol, b["reduction_mark"]),
                _seconds(b["warning_to_reduction_ns"]),
            ]
        )
    header = [
        "account",
        "symbol",
        "first warning",
        "level",
        "mark then (USDT)",
        "first forced reduction",
        "step",
        "mark then (USDT)",
        "warning to reduction (s)",
    ]
    return table(header, rows, (0, 1, 2, 3, 5, 6))


def cascade(summary: Mapping[str, Any]) -> str:
    """`cascade` (harness.venue.liquidation.report): which liquidations made which accounts due."""
    found = summary.get("cascade")
    if not found or not found.get("steps"):
        return NONE
    head = note(
        f"{found['accounts']} accounts liquidated, {found['roots']} of them roots; cascade depth "
        f"{found['depth']}, widest generation {found['width']} accounts; "
        f"{usdt(found['notional_units'])} USDT filled through the books by the liquidator. "
        f"Rule: {found['rule']}."
    )
    rows = [
        [
            _time(step["ts"]),
            step["symbol"],
            str(step["generation"]),
            ", ".join(step["caused_by"]) or "- (root)",
            ", ".join(step["triggered"]),
        ]
        for step in found["steps"]
    ]
    header = ["mark update", "symbol", "generation", "caused by", "accounts made due"]
    return head + table(header, rows, (0, 1, 3, 4))


def insurance_fund(summary: Mapping[str, Any]) -> str:
    """`insurance_fund` (harness.venue.liquidation.report): start, low, end, flows by reason."""
    fund = summary.get("insurance_fund")
    if not fund:
        return NONE
    rows = [
        ["start", usdt(fund["start_units"])],
        ["lowest", usdt(fund["min_units"])],
        ["end", usdt(fund["end_units"])],
        ["drawdown (start - lowest)", usdt(fund["drawdown_units"])],
        *([f"flow: {reason}", usdt(units)] for reason, units in fund["flows_units"].items()),
    ]
    adl = summary.get("adl") or {}
    rows.append(["positions closed by ADL", str(adl.get("deleveraged", 0))])
    rows.append(["ADL remainders closed against the market", str(adl.get("outside", 0))])
    return table(["", "USDT / count"], rows, (0,))


def throttling(summary: Mapping[str, Any]) -> str:
    """`throttling.agents` (harness.agents.throttling_report): what the gateway did to each
    agent."""
    agents = (summary.get("throttling") or {}).get("agents") or {}
    rows = []
    for name, a in agents.items():
        rejected = ", ".join(f"{reason}: {n}" for reason, n in a["rejected"].items())
        delay, ack = a["queue_delay_ns"], a["order_to_ack_ns"]
        cost = a["cost_vs_unthrottled_units"]
        rows.append(
            [
                name,
                a["client"],
                a["ip"],
                str(a["sent"]),
                str(a["delivered"]),
                rejected or "-",
                str(a["retries"]),
                str(a["given_up"]),
                _seconds(a["banned_ns"], 1),
                f"{_ms(delay.get('p50'))} / {_ms(delay.get('p99'))}" if delay else "",
                f"{_ms(ack.get('p50'))} / {_ms(ack.get('p99'))}" if ack else "",
                f"{a['missed_exit_count']} of {a['exits']}",
                _money(a["equity_units"]),
                "not compared" if cost is None else usdt(cost),
            ]
        )
    header = [
        "agent",
        "client",
        "ip",
        "requests",
        "reached engine",
        "rejected by reason",
        "retries",
        "given up",
        "banned (s)",
        "queue delay p50 / p99 (ms)",
        "order to ack p50 / p99 (ms)",
        "missed exits",
        "equity (USDT)",
        "cost vs unthrottled (USDT)",
    ]
    return table(header, rows, (0, 1, 2, 5))


def traders(summary: Mapping[str, Any]) -> str:
    """`risk.traders` (harness.risk.trader_analytics): markouts per horizon, rebates, funding."""
    found = (summary.get("risk") or {}).get("traders") or {}
    rows = []
    for name, t in found.items():
        for horizon, m in t["markouts"].items():
            rows.append(
                [
                    name,
                    horizon,
                    str(m["fills"]),
                    m["mean_ticks"] or "",
                    usdt(m["total_units"]),
                    usdt(m["maker_units"]),
                    usdt(t["rebate_units"]),
                    usdt(t["rebate_plus_maker_markout_units"][horizon]),
                    usdt(t["funding_paid_units"]),
                ]
            )
    header = [
        "agent",
        "markout after",
        "fills",
        "mean markout (ticks)",
        "markout (USDT)",
        "maker fills' markout (USDT)",
        "rebates (USDT)",
        "rebates + maker markout (USDT)",
        "funding paid (USDT)",
    ]
    return table(header, rows, (0, 1))


def agents(summary: Mapping[str, Any]) -> str:
    """`agents` (harness.replay): fills, rejects, wallet and PnL; money in USDT."""
    found = summary.get("agents") or {}
    columns = list(dict.fromkeys(name for figures in found.values() for name in figures))

    def cell(figures: Mapping[str, Any], column: str) -> str:
        if column.endswith("_units"):
            return _money(figures.get(column), 4)
        return str(figures.get(column, ""))

    names = [c.removesuffix("_units") + " (USDT)" if c.endswith("_units") else c for c in columns]
    rows = [[name, *(cell(f, c) for c in columns)] for name, f in found.items()]
    return table(["agent", *names], rows, (0,))


PATH_HEADER = (
    "seq",
    "time",
    "account",
    "symbol",
    "stage",
    "price (USDT)",
    "qty (lots)",
    "mark (USDT)",
    "margin ratio (bp)",
    "queue wait (s)",
    "fund (USDT)",
    "detail",
)


def path(steps: Sequence[Step], prices: Prices) -> str:
    """The liquidation path (harness.report.liquidation_path) as on the CSV, formatted."""
    rows = [
        [
            str(s.seq),
            iso(s.ts),
            s.account,
            s.symbol,
            s.stage,
            prices(s.symbol, s.price),
            "" if s.qty is None else str(s.qty),
            prices(s.symbol, s.mark),
            s.ratio_bp,
            _seconds(s.wait_ns),
            _money(s.fund_balance),
            s.detail,
        ]
        for s in steps
    ]
    return table(PATH_HEADER, rows, (1, 2, 3, 4, 11))
