"""`report.html`: one self-contained page per run that opens offline in any browser.

Charts are drawn by uPlot (vendored in `vendor/`, see its README for why), inlined into the page
with the chart data as JSON; tables are plain HTML written here. Sections whose records are absent
say "none in this run". The page holds nothing that depends on when or where it was written, so
rebuilding it from the same journal gives the same bytes.

Series longer than `MAX_POINTS` are downsampled (`timeline.downsample`), so a day of marks stays
quick to open. Prices stay in ticks and money in USDT (units / 1e8) only for display.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from harness.journal import Journal, Record
from harness.report.golden import key_figures
from harness.report.liquidation_path import COLUMNS, Step, steps
from harness.report.timeline import KNOWN_KINDS, Timeline, build, downsample

MAX_POINTS = 4000
MAX_TABLE_ROWS = 2000
UNITS_PER_USDT = 100_000_000
NONE = "<p class='none'>none in this run</p>"

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
.none { color: #888; font-style: italic; } .chart { margin-bottom: 1em; }
"""

_TEXT = " class='text'"
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


def _charts(timeline: Timeline) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = []
    symbols = sorted({*timeline.mark, *timeline.last, *timeline.liquidations})
    for n, symbol in enumerate(symbols):
        named = [
            ("last", timeline.last.get(symbol, []), False),
            ("mark", timeline.mark.get(symbol, []), False),
            ("liquidation (bankruptcy price)", timeline.liquidations.get(symbol, []), True),
        ]
        charts.append(_chart(f"price-{n}", f"{symbol}: price, mark, liquidations", "ticks", named))
    if timeline.fund:
        usdt = [(ts, value / UNITS_PER_USDT) for ts, value in timeline.fund]
        named_fund = [("fund", usdt, False)]
        charts.append(_chart("fund", "Insurance fund balance", "USDT", named_fund, stepped=True))
    if timeline.rejects:
        named = [(reason, points, True) for reason, points in timeline.rejects.items()]
        charts.append(_chart("rejects", "Rejected requests per second", "count", named))
    for n, (name, series) in enumerate(timeline.other.items()):
        named = [(who, points, False) for who, points in series.items()]
        charts.append(_chart(f"other-{n}", name, "", named))
    return charts


def _table(header: list[str], rows: list[list[str]], text_columns: frozenset[int]) -> str:
    if not rows:
        return NONE
    cut = len(rows) > MAX_TABLE_ROWS
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_TEXT if i in text_columns else ''}>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows[:MAX_TABLE_ROWS]
    )
    note = f"<p class='none'>first {MAX_TABLE_ROWS} of {len(rows)} rows</p>" if cut else ""
    return f"<table><tr>{head}</tr>{body}</table>{note}"


_PATH_TEXT = frozenset(
    i for i, c in enumerate(COLUMNS) if c in ("time", "account", "symbol", "stage", "detail")
)


def _path_table(path: list[Step]) -> str:
    return _table(list(COLUMNS), [step.cells() for step in path], _PATH_TEXT)


def _agents_table(summary: Mapping[str, Any]) -> str:
    agents = summary.get("agents") or {}
    names = [name for figures in agents.values() for name in figures]
    columns = list(dict.fromkeys(names))
    rows = [[name, *(str(figures.get(c, "")) for c in columns)] for name, figures in agents.items()]
    return _table(["agent", *columns], rows, frozenset((0,)))


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
        f"<h3>{html.escape(kind)} ({len(rows)})</h3>" + _table(header, rows, frozenset((2, 3, 4)))
        for kind, rows in sorted(by_kind.items())
    )


def render(journal: Journal, summary: Mapping[str, Any]) -> str:
    records = list(journal.records())
    timeline = build(records)
    charts = _charts(timeline)
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
        "<h2>Timeline</h2>",
        chart_divs,
        "<h2>Rejected requests</h2>",
        "" if timeline.rejects else NONE,
        f"<h2>Liquidation path ({len(path)} steps)</h2>",
        _path_table(path),
        "<h2>Agents</h2>",
        _agents_table(summary),
        "<h2>Key figures</h2>",
        _table(["figure", "value"], [[k, v] for k, v in figures.items()], frozenset((0, 1))),
        "<h2>Records by kind</h2>",
        _table(
            ["kind", "records"], [[k, str(n)] for k, n in sorted(counts.items())], frozenset((0,))
        ),
        "<h2>Other records (alerts, guardrails, gateway, ...)</h2>",
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
