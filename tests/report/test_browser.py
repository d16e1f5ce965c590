"""report.html in headless Chromium: the charts are drawn and the page logs no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.browser import chromium, load

# Counts canvases uPlot drew on, i.e. with at least one non-transparent pixel.
DRAWN = """
Array.from(document.querySelectorAll('.chart canvas')).map(c => {
  const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
})
"""


@pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not installed (`make test` installs Debian's chromium package when it can)",
)
def test_report_charts_render_without_console_errors(liquidated_run: Path) -> None:
    drawn, errors = load(liquidated_run / "report.html", DRAWN)
    assert errors == []
    # Price/mark/liquidations and the insurance fund.
    assert drawn == [True, True]
