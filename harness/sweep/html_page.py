"""`index.html` of a sweep: charts of chosen figures against one grid key, and the whole table.

Each chart has one line per combination of the other grid keys; the line joins the mean over
seeds at each value of the x key, and every run is a dot. Failed runs and null figures are left
out of the charts (the table shows them). Money figures (`*_units`, 1e-8 USDT in results.parquet)
are shown in USDT. The page is one self-contained file (inline SVG).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import polars as pl

from harness.report.figures import FIGURES
from harness.report.units import usdt
from harness.sweep.grid import Axis, toml_literal
from harness.sweep.results import grid_cell
from harness.sweep.svg_chart import Series, line_chart

DEFAULT_CHARTS = ("liquidations", "insurance_drawdown_units", "missed_exits", "lead_time_s")
_DOCS = {figure.column: f"{figure.doc} (summary path {figure.path})" for figure in FIGURES}
UNITS_PER_USDT = 100_000_000


def _is_money(column: str) -> bool:
    return column.endswith("_units")


def chart_for(table: pl.DataFrame, axes: Sequence[Axis], x_key: str, figure: str) -> str:
    """The chart's SVG, or a paragraph saying why there is none."""
    x_axis = next(axis for axis in axes if axis.key == x_key)
    others = [axis for axis in axes if axis.key != x_key]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_axis.values)
    labels = [toml_literal(v) for v in x_axis.values]
    position = {
        label: (float(value) if numeric else float(i))
        for i, (label, value) in enumerate(zip(labels, x_axis.values, strict=True))
    }
    ok = table.filter((pl.col("status") == "ok") & pl.col(figure).is_not_null())
    if ok.is_empty():
        return (
            f"<p class=note>No values for <b>{escape(figure)}</b>: no finished run's summary "
            f"has it ({escape(_DOCS.get(figure, figure))}).</p>"
        )
    scale = 1 / UNITS_PER_USDT if _is_money(figure) else 1.0
    groups: dict[str, dict[float, list[float]]] = {}
    for row in ok.iter_rows(named=True):
        label = _label(x_axis, row[x_key])
        if label not in position:
            continue  # a row kept from an earlier grid
        name = ", ".join(f"{a.key}={_label(a, row[a.key])}" for a in others) or figure
        x = position[label]
        groups.setdefault(name, {}).setdefault(x, []).append(float(row[figure]) * scale)
    series = [
        Series(
            name,
            line=tuple((x, sum(ys) / len(ys)) for x, ys in sorted(by_x.items())),
            dots=tuple((x, y) for x, ys in sorted(by_x.items()) for y in ys),
        )
        for name, by_x in groups.items()
    ]
    return line_chart(
        series,
        title=f"{figure} by {x_key}",
        x_label=x_key,
        y_label="USDT" if _is_money(figure) else figure,
        x_ticks=[(position[label], label) for label in labels],
    )


def _label(axis: Axis, cell: Any) -> str:
    """A table cell back to the TOML text of the grid value it came from (compared as text)."""
    if cell is None:
        return "null"
    for value in axis.values:
        stored = grid_cell(axis, value)
        if type(stored) is type(cell) and toml_literal(stored) == toml_literal(cell):
            return toml_literal(value)
    return str(cell)


def render(
    table: pl.DataFrame,
    axes: Sequence[Axis],
    *,
    title: str,
    x_key: str | None = None,
    charts: Sequence[str] = DEFAULT_CHARTS,
) -> str:
    key = x_key or (axes[0].key if axes else None)
    figures_html = []
    if key is not None:
        figures_html = [
            f"<figure>{chart_for(table, axes, key, figure)}"
            f"<figcaption>{escape(_DOCS.get(figure, figure))}</figcaption></figure>"
            for figure in charts
        ]
    ok = table.filter(pl.col("status") == "ok").height
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    body = []
    for row in table.iter_rows(named=True):
        css = " class=failed" if row["status"] != "ok" else ""
        cells = "".join(f"<td>{_cell(column, row[column])}</td>" for column in table.columns)
        body.append(f"<tr{css}>{cells}</tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; }}
svg text {{ font: 11px system-ui, sans-serif; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; }}
table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; vertical-align: top; }}
tr.failed {{ background: #fdd; }}
td pre {{ text-align: left; white-space: pre-wrap; max-width: 40em; margin: 0; }}
.note {{ color: #666; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>{table.height} run(s): {ok} ok, {table.height - ok} failed. Table: results.parquet.</p>
{"".join(figures_html)}
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "<span class=note>null</span>"
    if column == "error":
        return f"<pre>{escape(str(value))}</pre>"
    if column == "fingerprint":
        return f'<code title="{escape(value)}">{escape(value[:12])}</code>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{usdt(value)} USDT" if _is_money(column) else f"{value:,}"
    return escape(str(value))
