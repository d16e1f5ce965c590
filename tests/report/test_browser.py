"""report.html in headless Chromium: the charts are drawn and the page logs no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.browser import chromium, load

# Per chart canvas: pixels drawn at all (axes, grid, labels) and pixels in the colour of the
# chart's first series (#1f77b4), i.e. its data line.
DRAWN = """
Array.from(document.querySelectorAll('.chart canvas')).map(c => {
  const p = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0, line = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (p[i + 3] === 0) continue;
    drawn++;
    const near = (v, w) => Math.abs(v - w) < 12;
    if (near(p[i], 31) && near(p[i + 1], 119) && near(p[i + 2], 180)) line++;
  }
  return [drawn, line];
})
"""


@pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not installed (`make test` installs Debian's chromium package when it can)",
)
def test_report_charts_render_without_console_errors(liquidated_run: Path) -> None:
    drawn, errors = load(liquidated_run / "report.html", DRAWN)
    assert errors == []
    # Two charts: price/mark/liquidations and the insurance fund, each with its line drawn.
    assert len(drawn) == 2
    for pixels, line in drawn:
        assert pixels > 5000 and line > 100
