"""What report.html shows a reader, on a run with liquidations, alerts, throttling and a slow
engine queue (`stressed_run`): prices and money in USDT, the alert, band, cascade, fund,
throttling and trader tables, and the charts' data."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def page(stressed_run: Path) -> str:
    return (stressed_run / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def summary(stressed_run: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((stressed_run / "summary.json").read_text())
    return loaded


def _rows(page: str, heading: str) -> list[list[str]]:
    """The cells of the first table after the h2 that starts with `heading`."""
    start = page.index(f"<h2>{heading}")
    section = page[start : page.index("<h2>", start + 4)]
    rows = re.findall(r"<tr>(.*?)</tr>", section)
    return [[html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]


def test_band_and_path_show_prices_in_usdt(page: str) -> None:
    band = _rows(page, "Liquidation band")
    # lev3: warned at 4/5 at a mark of 617158 ticks of 0.1 USDT, closed in full 4 s later.
    assert band[1] == ["lev3", "BTCUSDT", "2024-08-08T23:56:45Z", "4/5", "61,715.8",
                       "2024-08-08T23:56:49Z", "full", "61,700.1", "4.000"]  # fmt: skip
    path = _rows(page, "Liquidation path")
    assert path[0][5:8] == ["price (USDT)", "qty (lots)", "mark (USDT)"]
    full = next(r for r in path if r[2] == "lev3" and r[4] == "full")
    assert full[5:8] == ["61,638.8", "250", "61,700.1"]  # bankruptcy price 616388 ticks
    assert full[10] == "1,000,000.00"  # the fund before lev3's clearance fee
    fee = next(r for r in path if r[4] == "fund_clearance_fee")
    assert fee[10] == "1,000,015.30"  # + 15.30 USDT, the fee capped by the liquidator's gain


def test_cascade_and_fund_tables(page: str) -> None:
    assert _rows(page, "Liquidation cascade")[1:] == [
        ["2024-08-08T23:56:49Z", "BTCUSDT", "1", "- (root)", "lev3"],
        ["2024-08-08T23:57:53Z", "BTCUSDT", "1", "- (root)", "lev1, lev2"],
    ]
    assert "83,226.68 USDT filled through the books" in page
    fund = dict((r[0], r[1]) for r in _rows(page, "Insurance fund and ADL")[1:])
    assert fund["start"] == "1,000,000.00" and fund["end"] == "1,000,072.36"
    assert fund["drawdown (start - lowest)"] == "0.00"
    assert fund["flow: clearance_fee"] == "72.36"
    assert fund["positions closed by ADL"] == "0"


def test_alerts_are_ranked_with_their_explanations(page: str, summary: dict[str, Any]) -> None:
    ranked = summary["risk"]["alerts"]["ranked"]
    rows = _rows(page, "Risk alerts")[1:]
    assert len(rows) == len(ranked) > 1
    assert [r[4] for r in rows] == [a["score"] for a in ranked]
    assert [float(r[4]) for r in rows] == sorted((float(r[4]) for r in rows), reverse=True)
    assert rows[0][5] == ranked[0]["reason"] and "robust z" in rows[0][5]
    lead = summary["risk"]["alerts"]["lead_time_s"]
    assert f"lead time of the first strong alert {lead} s" in page


def test_throttling_and_trader_tables(page: str, summary: dict[str, Any]) -> None:
    throttling = {r[0]: r for r in _rows(page, "Throttling per agent")[1:]}
    mm = summary["throttling"]["agents"]["mm"]
    assert throttling["mm"][1:5] == ["careful", mm["ip"], str(mm["sent"]), str(mm["delivered"])]
    assert f"RATE_LIMIT: {mm['rejected']['RATE_LIMIT']}" in throttling["mm"][5]
    assert throttling["mm"][13] == "not compared"
    traders = _rows(page, "Trader analytics")
    lev1 = summary["risk"]["traders"]["lev1"]["markouts"]["1s"]
    row = next(r for r in traders if r[:2] == ["lev1", "1s"])
    assert row[2] == str(lev1["fills"]) and row[3] == lev1["mean_ticks"]
    units = lev1["total_units"]
    assert row[4] == f"{units // 10**8}.{units % 10**8 // 10**6:02d}"  # a gain: rounds down here


def test_charts_carry_usdt_prices_alerts_limits_and_queue_depth(page: str) -> None:
    found = re.search(r"<script type='application/json' id='chart-data'>(.*?)</script>", page)
    assert found is not None
    charts = {c["id"]: c for c in json.loads(found.group(1))}
    assert list(charts) == ["price-0", "fund", "rejects", "limits", "queue"]
    price = charts["price-0"]
    assert price["unit"] == "USDT"
    labels = [s["label"] for s in price["series"]]
    assert labels[2:] == ["liquidation (bankruptcy price)", "risk alert (at the mark)"]
    marks = [v for v in price["data"][2] if v is not None]
    assert min(marks) > 61_500 and max(marks) < 62_000  # USDT, not ticks
    alerts = [v for v in price["data"][4] if v is not None]
    assert alerts and all(61_500 < v < 62_000 for v in alerts)
    limits = [s["label"] for s in charts["limits"]["series"]]
    assert "in force: orders_10s" in limits and "used at a reject: orders_10s" in limits
    in_force = [v for v in charts["limits"]["data"][1 + limits.index("in force: orders_10s")] if v]
    assert in_force[0] == 6  # 30 orders per 10 s cut 5x at 23:55:30
    depth = [v for v in charts["queue"]["data"][1] if v is not None]
    assert max(depth) > 0
