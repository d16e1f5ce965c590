"""Key figures read from summary dicts, and the inline SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.figures import FIGURES, extract, extract_all
from harness.sweep.svg_chart import Series, line_chart, nice_ticks

BY_COLUMN = {figure.column: figure for figure in FIGURES}

SUMMARY = {
    "liquidations": 3,
    "records_by_kind": {"fill": 10, "liquidation": 6},
    "agents": {"a": {"rejects": 2}, "b": {"rejects": 5}},
    "throttling": {
        "agents": {
            "a": {"missed_exit_count": 1, "rejected": {"-1003": 4, "-1015": 1}},
            "b": {"missed_exit_count": 2, "rejected": {"-1003": 2}},
        }
    },
    "risk": {"alerts": {"lead_time_s": "12.5"}},
}


def test_present_paths_are_read_and_summed_over_agents() -> None:
    assert extract(SUMMARY, BY_COLUMN["liquidations"]) == 3
    assert extract(SUMMARY, BY_COLUMN["rejects"]) == 7
    assert extract(SUMMARY, BY_COLUMN["missed_exits"]) == 3
    assert extract(SUMMARY, BY_COLUMN["rejects_by_reason"]) == '{"-1003": 6, "-1015": 1}'
    assert extract(SUMMARY, BY_COLUMN["lead_time_s"]) == pytest.approx(12.5)


def test_absent_paths_are_null() -> None:
    figures = extract_all(SUMMARY)
    assert figures["insurance_drawdown_units"] is None
    assert figures["missed_exit_cost_units"] is None  # no agent has the key
    assert figures["adl_count"] is None
    assert extract({"adl": {"deleveraged": 4, "outside": 1}}, BY_COLUMN["adl_count"]) == 4
    assert extract({"risk": {"alerts": {"lead_time_s": None}}}, BY_COLUMN["lead_time_s"]) is None


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 7) == [0, 2, 4, 6, 8]
    # (0.0126 - 0.004) / 5 = 0.00172 rounds up to a step of 0.002; 0.004 is already on the grid.
    ticks = nice_ticks(0.004, 0.0126)
    assert ticks == pytest.approx([0.004, 0.006, 0.008, 0.01, 0.012, 0.014])
    assert nice_ticks(5, 5) == pytest.approx([4, 4.5, 5, 5.5, 6])


def test_line_chart_is_valid_svg_with_one_line_per_series() -> None:
    svg = line_chart(
        [
            Series("a", line=((0, 1), (1, 3)), dots=((0, 1), (1, 2), (1, 4))),
            Series("b<c", line=((0, 2),), dots=((0, 2),)),
        ],
        title="liquidations by fee",
        x_label="fee",
        y_label="liquidations",
        x_ticks=[(0, "0.005"), (1, "0.01")],
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 2
    assert len(root.findall(f"{ns}circle")) == 4
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "b<c" in texts and "0.005" in texts and "liquidations by fee" in texts


def test_scale_out_doc_lists_every_figure_with_its_path() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scale-out.md").read_text()
    for figure in FIGURES:
        assert f"| `{figure.column}` | `{figure.path}` |" in doc
