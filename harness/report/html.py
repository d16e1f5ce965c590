"""`report.html`: one self-contained page per run that opens offline in any browser.

Charts are drawn by uPlot (vendored in `vendor/`, see its README for why), inlined into the page
with the chart data as JSON; tables are plain HTML written here. Sections whose records are absent
say "none in this run". The page holds nothing that depends on when or where it was written, so
rebuilding it from the same journal gives the same bytes.

Series longer than `MAX_POINTS` are downsampled (`timeline.downsample`), so a day of marks stays
quick to open. The page shows prices in USDT (ticks times the tick size the summary records) and
money in USDT; the journal, summary.json and liquidation_path.csv keep the integers. The tables
are in `tables`.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from fractions import Fraction
from importlib import resources
from typing import Any

from harness.journal import Journal, Record
from harness.report import tables
from harness.report.golden import key_figures
from harness.report.liquidation_path import steps
from harness.report.tables import NONE, Prices, table
from harness.report.timeline import KNOWN_KINDS, Points, Timeline, build, downsample
from harness.report.units import tick_sizes, usdt

MAX_POINTS = 4000
UNITS_PER_USDT = 100_000_000

_SCRIPT = """
const DATA = JSON.parse(document.getElementById('chart-data').textContent);
function chart(spec) {
  const el = document.getElementById(spec.id);
  const series = [{}].concat(spec.series.map(s => ({
    label: s.label, stroke: s.color, width: s.points ? 0 : 1.5, spanGaps: true,
    dash: s.label === 'mark' ? [6, 3] : undefined,
    paths: s.stepped ? uPlot.paths.stepped({align: 1}) : undefined,
    points: s.points ? {show: true, size: 9, fill: s.color, stroke: s.color} : {show: false},
  })));
  new uPlot({title: spec.title, width: Math.max(600, el.clientWidth - 20), height: 260,
             series: series, axes: [{}, {label: spec.unit, size: 80}]}, spec.data, el);
}
DATA.forEach(chart);
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin-bottom: 1em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f0f0f0; } td.text { text-align: left; }
td { white-space: nowrap; } td.text:last-child { white-space: normal; min-width: 30em; }
.none { color: #888; font-style: italic; } .chart { margin-bottom: 1em; }
"""

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _vendor(name: str) -> str:
    return resources.files("harness.report").joinpath("vendor", name).read_text(encoding="utf-8")


Plot = Sequence[tuple[int, float]]


def _aligned(series: Sequence[Plot]) -> list[list[float | None]]:
    """uPlot's data: one x array (seconds) and one y array per series, null where absent."""
    times = sorted({ts for points in series for ts, _ in points})
    index = {ts: i for i, ts in enumerate(times)}
    columns: list[list[float | None]] = [[ts / 1e9 for ts in times]]
    for points in series:
        column: list[float | None] = [None] * len(times)
        for ts, value in points:
            column[index[ts]] = value
        columns.append(column)
    return columns


def _chart(
    chart_id: str,
    title: str,
    unit: str,
    named: Sequence[tuple[str, Plot, bool]],
    *,
    stepped: bool = False,
) -> dict[str, Any]:
    """A chart of named series; a series flagged True is drawn as markers, not a line.
    `stepped` draws values held until the next point (balances)."""
    series = [downsample(points, MAX_POINTS) for _, points, _ in named]
    return {
        "id": chart_id,
        "title": title,
        "unit": unit,
        "series": [
            {
                "label": label,
                "color": _COLORS[i % len(_COLORS)],
                "points": markers,
                "stepped": stepped,
            }
            for i, (label, _, markers) in enumerate(named)
        ],
        "data": _aligned(series),
    }


def _scaled(points: Points, factor: Fraction | None) -> list[tuple[int, float]]:
    """Points times `factor` for drawing (USDT from ticks or units); unchanged without one."""
    if factor is None:
        return [(ts, float(value)) for ts, value in points]
    scale = float(factor)
    return [(ts, value * scale) for ts, value in points]


def _charts(timeline: Timeline, ticks: Mapping[str, Fraction]) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = []
    symbols = sorted({*timeline.mark, *timeline.last, *timeline.liquidations})
    for n, symbol in enumerate(symbols):
        tick = ticks.get(symbol)
        named = [
            ("last", _scaled(timeline.last.get(symbol, []), tick), False),
            ("mark", _scaled(timeline.mark.get(symbol, []), tick), False),
            (
                "liquidation (bankruptcy price)",
                _scaled(timeline.liquidations.get(symbol, []), tick),
                True,
            ),
            ("risk alert (at the mark)", _scaled(timeline.alerts.get(symbol, []), tick), True),
        ]
        unit = "USDT" if tick is not None else "ticks"
        title = f"{symbol}: price, mark, liquidations and risk alerts"
        charts.append(_chart(f"price-{n}", title, unit, named))
    if timeline.fund:
        fund = _scaled(timeline.fund, Fraction(1, UNITS_PER_USDT))
        charts.append(
            _chart("fund", "Insurance fund balance", "USDT", [("fund", fund, False)], stepped=True)
        )
    if timeline.rejects:
        named = [(r, _scaled(points, None), True) for r, points in timeline.rejects.items()]
        charts.append(_chart("rejects", "Rejected requests per second", "count", named))
    if timeline.limits:
        named = [
            (name, _scaled(points, None), name.startswith("used"))
            for name, points in timeline.limits.items()
        ]
        title = "Rate limits: in force, and the usage a rejected request found"
        charts.append(_chart("limits", title, "requests / weight", named))
    if timeline.queue_depth:
        named = [(s, _scaled(points, None), False) for s, points in timeline.queue_depth.items()]
        title = "Engine queue depth (sampled each second, when it changed)"
        charts.append(_chart("queue", title, "messages", named, stepped=True))
    for n, (name, series) in enumerate(timeline.other.items()):
        named = [(who, _scaled(points, None), False) for who, points in series.items()]
        charts.append(_chart(f"other-{n}", name, "", named))
    return charts


def _other_records(records: list[Record]) -> str:
    """Records of kinds the harness core does not write, in generic tables per kind."""
    by_kind: dict[str, list[list[str]]] = {}
    for record in records:
        if record.kind in KNOWN_KINDS:
            continue
        fields = " ".join(f"{k}={v}" for k, v in sorted(record.fields.items()))
        row = [str(record.seq), str(record.ts), record.account, record.symbol, fields]
        by_kind.setdefault(record.kind, []).append(row)
    if not by_kind:
        return NONE
    header = ["seq", "ts_ns", "account", "symbol", "fields"]
    return "".join(
        f"<h3>{html.escape(kind)} ({len(rows)})</h3>" + table(header, rows, (2, 3, 4))
        for kind, rows in sorted(by_kind.items())
    )


def _rejects(timeline: Timeline) -> str:
    """Rejected requests by reason over the whole run (the chart shows them per second)."""
    rows = [
        [reason, str(sum(count for _, count in points))]
        for reason, points in timeline.rejects.items()
    ]
    return table(["reason", "rejected requests"], rows, (0,))


def _headline(summary: Mapping[str, Any]) -> str:
    """The figures a reader looks for first, in one line."""
    cascade = summary.get("cascade") or {}
    fund = summary.get("insurance_fund") or {}
    adl = summary.get("adl") or {}
    lead = ((summary.get("risk") or {}).get("alerts") or {}).get("lead_time_s")
    return tables.note(
        f"Liquidations: {summary.get('liquidations', 0)}; cascade depth "
        f"{cascade.get('depth', 0)}; insurance fund drawdown "
        f"{usdt(int(fund.get('drawdown_units') or 0))} USDT; positions closed by ADL "
        f"{adl.get('deleveraged', 0)}; alert lead time "
        + (f"{lead} s" if lead is not None else "n/a")
        + "."
    )


def _figure_value(name: str, value: str) -> str:
    """Key figures in money units, also in USDT."""
    if name.endswith("_units") and value.lstrip("-").isdigit():
        return f"{value} ({usdt(int(value))} USDT)"
    return value


def render(journal: Journal, summary: Mapping[str, Any]) -> str:
    records = list(journal.records())
    timeline = build(records)
    ticks = tick_sizes(summary)
    prices = Prices(ticks)
    charts = _charts(timeline, ticks)
    path = steps(records)
    figures = key_figures(summary)
    counts = Counter(record.kind for record in records)
    title = html.escape(str(summary.get("name", "run")))
    data = json.dumps(charts, separators=(",", ":")).replace("</", "<\\/")
    chart_divs = "".join(f"<div class='chart' id='{c['id']}'></div>" for c in charts) or NONE
    sections = [
        f"<h1>{title}</h1>",
        f"<p>{html.escape(str(summary.get('start', '')))} .. "
        f"{html.escape(str(summary.get('end', '')))}, fingerprint "
        f"<code>{html.escape(str(summary.get('fingerprint', '')))}</code></p>",
        _headline(summary),
        "<h2>Timeline</h2>",
        chart_divs,
        "<h2>Rejected requests</h2>",
        _rejects(timeline),
        "<h2>Risk alerts, strongest first</h2>",
        tables.alerts(summary),
        "<h2>Liquidation band: first warning, then forced reduction</h2>",
        tables.band(summary, prices),
        "<h2>Liquidation cascade</h2>",
        tables.cascade(summary),
        f"<h2>Liquidation path ({len(path)} steps)</h2>",
        tables.path(path, prices),
        "<h2>Insurance fund and ADL</h2>",
        tables.insurance_fund(summary),
        "<h2>Throttling per agent</h2>",
        tables.throttling(summary),
        "<h2>Trader analytics: markouts, rebates, funding</h2>",
        tables.traders(summary),
        "<h2>Agents</h2>",
        tables.agents(summary),
        "<h2>Key figures</h2>",
        table(["figure", "value"], [[k, _figure_value(k, v)] for k, v in figures.items()], (0, 1)),
        "<h2>Records by kind</h2>",
        table(["kind", "records"], [[k, str(n)] for k, n in sorted(counts.items())], (0,)),
        "<h2>Other records (guardrails, ...)</h2>",
        _other_records(records),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_vendor('uPlot.min.css')}{_STYLE}</style>"
        f"<script>{_vendor('uPlot.iife.min.js')}</script></head><body>"
        + "\n".join(sections)
        + f"<script type='application/json' id='chart-data'>{data}</script>"
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
