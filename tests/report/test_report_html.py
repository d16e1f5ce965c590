"""report.html and its time series: generic over record kinds, offline, bounded in size."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.journal import Journal
from harness.report.html import MAX_POINTS, render
from harness.report.timeline import build, downsample

T0 = 1_723_161_300_000_000_000
S = 1_000_000_000


def test_downsample_keeps_first_last_and_each_runs_extremes() -> None:
    points = [(t, (t * 37) % 101) for t in range(1000)]
    points[500] = (500, 10_000)  # a spike
    points[501] = (501, -10_000)
    kept = downsample(points, 40)
    # 10 runs of 100 points, each giving at most its first, min, max and last point.
    assert len(kept) <= 40
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert (500, 10_000) in kept and (501, -10_000) in kept
    assert kept == sorted(kept)
    assert downsample(points, 40) == kept
    assert downsample(points[:30], 40) == points[:30]


def test_timeline_reads_known_and_unknown_kinds() -> None:
    journal = Journal()
    journal.append(T0, "mark", "", "BTCUSDT", mark=100, last=0)
    journal.append(T0, "insurance_fund", "", "", amount=5, reason="seed", balance=5)
    journal.append(T0 + S, "mark", "", "BTCUSDT", mark=101, last=99)
    journal.append(T0 + S, "liquidation", "a", "BTCUSDT", step="full", bankruptcy_price=98)
    journal.append(T0 + S, "risk_alert", "", "BTCUSDT", score=850, reason="fast mark")
    journal.append(T0 + S, "order_rejected", "a", "BTCUSDT", reason="RATE_LIMIT")
    journal.append(T0 + S + 5, "order_rejected", "b", "BTCUSDT", reason="RATE_LIMIT")
    journal.append(
        T0 + 2 * S, "limits_changed", "", "", weight_1m=240, orders_10s=30, orders_1m=120
    )
    journal.append(T0 + 2 * S, "request_throttled", "a", "BTCUSDT", reason="TOO_MANY",
                   weight_1m=241, orders_10s=3, orders_1m=9, queue_depth=0)  # fmt: skip
    journal.append(T0 + 2 * S, "engine_queue", "", "BTCUSDT", depth=7)
    journal.append(T0 + 3 * S, "risk_alert", "a", "", score=900, reason="big orders")
    journal.append(T0 + 3 * S, "rate_limit_usage", "a", "", used=5, order_id=9)
    journal.append(T0 + 3 * S, "rate_limit_usage", "b", "", used=2, order_id=10)
    journal.append(T0 + 4 * S, "rate_limit_usage", "a", "", used=6, order_id=11)
    timeline = build(journal.records())
    assert timeline.mark == {"BTCUSDT": [(T0, 100), (T0 + S, 101)]}
    assert timeline.last == {"BTCUSDT": [(T0 + S, 99)]}  # no trade yet at T0
    assert timeline.liquidations == {"BTCUSDT": [(T0 + S, 98)]}
    # Alerts sit at the mark of their symbol; an account's alert on every symbol's chart.
    assert timeline.alerts == {"BTCUSDT": [(T0 + S, 101), (T0 + 3 * S, 101)]}
    # The fund's balance, the limits in force and the queue depth are held to the last record.
    assert timeline.fund == [(T0, 5), (T0 + 4 * S, 5)]
    assert timeline.limits == {
        "in force: orders_10s": [(T0 + 2 * S, 30), (T0 + 4 * S, 30)],
        "in force: orders_1m": [(T0 + 2 * S, 120), (T0 + 4 * S, 120)],
        "in force: weight_1m": [(T0 + 2 * S, 240), (T0 + 4 * S, 240)],
        "used at a reject: orders_10s": [(T0 + 2 * S, 3)],
        "used at a reject: orders_1m": [(T0 + 2 * S, 9)],
        "used at a reject: weight_1m": [(T0 + 2 * S, 241)],
    }
    assert timeline.queue_depth == {"BTCUSDT": [(T0 + 2 * S, 7), (T0 + 4 * S, 7)]}
    assert timeline.rejects == {"RATE_LIMIT": [(T0 + S, 2)], "TOO_MANY": [(T0 + 2 * S, 1)]}
    # Other kinds: one chart per numeric field, one series per account (else symbol); ids,
    # strings and booleans are not charted.
    assert timeline.other == {
        "rate_limit_usage.used": {"a": [(T0 + 3 * S, 5), (T0 + 4 * S, 6)], "b": [(T0 + 3 * S, 2)]},
    }


def _charts(page: str) -> list[dict[str, object]]:
    found = re.search(r"<script type='application/json' id='chart-data'>(.*?)</script>", page)
    assert found is not None
    charts: list[dict[str, object]] = json.loads(found.group(1))
    return charts


def test_a_page_without_liquidations_or_rejects_says_so() -> None:
    journal = Journal()
    journal.append(T0, "mark", "", "BTCUSDT", mark=100, last=100)
    page = render(journal, {"name": "quiet", "agents": {}})
    none = "<p class='none'>none in this run</p>"
    headings = (
        "Rejected requests",
        "Liquidation band: first warning, then forced reduction",
        "Liquidation cascade",
        "Liquidation path (0 steps)",
        "Insurance fund and ADL",
        "Throttling per agent",
        "Trader analytics: markouts, rebates, funding",
        "Agents",
        "Other records (guardrails, ...)",
    )
    for heading in headings:
        assert f"<h2>{heading}</h2>\n{none}" in page
    assert page.count(none) == len(headings)
    assert "<p class='none'>the risk monitor was off in this run</p>" in page
    # Without the summary's instruments the price chart stays in ticks.
    (price,) = _charts(page)
    assert price["id"] == "price-0" and price["unit"] == "ticks"


def test_the_page_is_self_contained_and_long_series_are_cut(tmp_path: Path) -> None:
    journal = Journal()
    for n in range(3 * MAX_POINTS):
        journal.append(T0 + n * S, "mark", "", "BTCUSDT", mark=1000 + n % 7, last=1000)
        if n == 5:
            journal.append(T0 + n * S, "guardrail_trip", "", "BTCUSDT", rule="band", level=3)
    page = render(journal, {"name": "long"})
    assert "uPlot" in page and "<h3>guardrail_trip (1)</h3>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    (price, other) = _charts(page)
    data = price["data"]
    assert isinstance(data, list) and len(data[0]) <= MAX_POINTS
    assert other["title"] == "guardrail_trip.level"
