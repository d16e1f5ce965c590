"""report.html in headless Chromium: the charts are drawn and the page logs no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.browser import chromium, load

# Per chart canvas: its container's id, pixels drawn at all (axes, grid, labels) and pixels in
# the colour of each of the first four series (#1f77b4, #ff7f0e, #2ca02c, #d62728).
DRAWN = """
Array.from(document.querySelectorAll('.chart canvas')).map(c => {
  const p = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40]];
  const series = [0, 0, 0, 0];
  let drawn = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (p[i + 3] === 0) continue;
    drawn++;
    colours.forEach(([r, g, b], n) => {
      if (Math.abs(p[i] - r) < 12 && Math.abs(p[i + 1] - g) < 12 && Math.abs(p[i + 2] - b) < 12)
        series[n]++;
    });
  }
  return [c.closest('.chart').id, drawn, series];
})
"""
NEEDS_CHROMIUM = pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not installed (`make test` installs Debian's chromium package when it can)",
)


@NEEDS_CHROMIUM
def test_report_charts_render_without_console_errors(liquidated_run: Path) -> None:
    drawn, errors = load(liquidated_run / "report.html", DRAWN)
    assert errors == []
    # Two charts: price/mark/liquidations and the insurance fund, each with its line drawn.
    assert [chart for chart, _, _ in drawn] == ["price-0", "fund"]
    for _, pixels, series in drawn:
        assert pixels > 5000 and series[0] > 100


@NEEDS_CHROMIUM
def test_rate_limit_queue_and_alert_charts_render(stressed_run: Path) -> None:
    drawn, errors = load(stressed_run / "report.html", DRAWN)
    assert errors == []
    charts = {chart: (pixels, series) for chart, pixels, series in drawn}
    assert list(charts) == ["price-0", "fund", "rejects", "limits", "queue"]
    for pixels, series in charts.values():
        assert pixels > 5000 and series[0] > 100
    # On the price chart: the liquidation markers (3rd series) and the risk alerts (4th).
    _, price = charts["price-0"]
    assert price[2] > 100 and price[3] > 100
