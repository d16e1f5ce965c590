"""The summary's liquidation band and cascade graph on a small hand-built journal."""

from __future__ import annotations

from harness.journal import Journal
from harness.venue.ledger.accounts import EXTERNAL
from harness.venue.liquidation.report import (
    adl_counts,
    cascade,
    insurance_fund_path,
    liquidation_band,
)

S = 1_000_000_000
MS = 1_000_000


def _mark(j: Journal, ts: int, symbol: str) -> None:
    j.append(ts, "mark", "", symbol, mark=100, last=100)


def _queued(j: Journal, ts: int, account: str, symbol: str) -> None:
    j.append(ts, "liquidation", account, symbol, step="queued", ratio="1", queue_length=1)


def _ioc(j: Journal, ts: int, account: str, symbol: str, filled: int, notional: int) -> None:
    j.append(ts, "liquidation", account, symbol, step="full", qty=filled or 1, mark=90)
    j.append(ts, "fill", "@liquidator", symbol, qty=filled)
    j.append(
        ts, "liquidation", account, symbol, step="ioc", filled=filled, notional=notional, fills=1
    )


def _journal() -> Journal:
    """A -> B -> D on BTC; C and E are roots on ETH (C's IOC found no depth, so moved nothing).
    B's fill at 2 s comes after the 2 s mark update: it counts for the update at 3 s."""
    j = Journal()
    j.append(500 * MS, "margin_call", "A", "BTC", level="4/5", mark=101, ratio="4/5")
    j.append(800 * MS, "margin_call", "A", "BTC", level="9/10", mark=99, ratio="9/10")
    _mark(j, 1 * S, "BTC")
    _mark(j, 1 * S, "ETH")
    _queued(j, 1 * S, "A", "BTC")
    _ioc(j, 1200 * MS, "A", "BTC", filled=10, notional=100)
    _mark(j, 2 * S, "BTC")
    _mark(j, 2 * S, "ETH")
    _queued(j, 2 * S, "B", "BTC")
    _queued(j, 2 * S, "C", "ETH")
    _ioc(j, 2 * S, "B", "BTC", filled=5, notional=50)
    _ioc(j, 2500 * MS, "C", "ETH", filled=0, notional=0)
    _mark(j, 3 * S, "BTC")
    _mark(j, 3 * S, "ETH")
    _queued(j, 3 * S, "D", "BTC")
    _queued(j, 3 * S, "E", "ETH")
    _queued(j, 3 * S, "B", "ETH")  # queued again: counted once, at its first
    return j


def test_cascade_attributes_accounts_to_liquidations_on_their_symbol_since_the_last_mark() -> None:
    graph = cascade(list(_journal().records()), S)
    assert [(s["ts"], s["symbol"], s["generation"], s["caused_by"], s["triggered"]) for s in graph[
        "steps"
    ]] == [
        (1 * S, "BTC", 1, [], ["A"]),
        (2 * S, "BTC", 2, ["A"], ["B"]),
        (2 * S, "ETH", 1, [], ["C"]),
        (3 * S, "BTC", 3, ["B"], ["D"]),
        (3 * S, "ETH", 1, [], ["E"]),
    ]  # fmt: skip
    assert (graph["accounts"], graph["roots"], graph["depth"], graph["width"]) == (5, 3, 3, 3)
    assert graph["notional_units"] == 150


def test_band_gives_first_warning_and_forced_reduction_with_marks() -> None:
    band = liquidation_band(list(_journal().records()))
    assert list(band) == ["A", "B", "C"]
    assert band["A"] == {
        "symbol": "BTC",
        "warning_ts": 500 * MS,
        "warning_level": "4/5",
        "warning_mark": 101,
        "reduction_ts": 1200 * MS,
        "reduction_step": "full",
        "reduction_mark": 90,
        "warning_to_reduction_ns": 700 * MS,
    }
    # B went past every level between two marks: no warning before its reduction.
    assert band["B"]["warning_ts"] is None and band["B"]["warning_to_reduction_ns"] is None


def _fund(j: Journal, ts: int, amount: int, reason: str, balance: int) -> None:
    j.append(ts, "insurance_fund", "", "BTC", amount=amount, reason=reason, balance=balance)


def test_insurance_fund_path_measures_the_drawdown_from_the_seeded_start() -> None:
    # Seeded 1000 in two parts; +30 fee, -500 shortfall (low 530), +20 fee, a 100 top-up: the
    # drawdown is 1000 - 530 = 470 whatever comes after the low.
    j = Journal()
    _fund(j, 0, 600, "seed", 600)
    _fund(j, 0, 400, "seed", 1000)
    _fund(j, 1 * S, 30, "clearance_fee", 1030)
    _fund(j, 2 * S, -500, "shortfall", 530)
    _fund(j, 3 * S, 20, "clearance_fee", 550)
    _fund(j, 4 * S, 100, "seed", 650)
    assert insurance_fund_path(list(j.records())) == {
        "start_units": 1000,
        "min_units": 530,
        "end_units": 650,
        "drawdown_units": 470,
        "flows_units": {"clearance_fee": 50, "seed": 100, "shortfall": -500},
    }


def test_a_fund_that_only_grew_has_no_drawdown() -> None:
    j = Journal()
    _fund(j, 0, 1000, "seed", 1000)
    _fund(j, 1 * S, 30, "clearance_fee", 1030)
    path = insurance_fund_path(list(j.records()))
    assert (path["drawdown_units"], path["min_units"], path["end_units"]) == (0, 1000, 1030)
    assert insurance_fund_path([])["drawdown_units"] == 0


def test_adl_counts_simulated_positions_apart_from_the_recorded_market() -> None:
    j = Journal()
    j.append(1 * S, "adl", "B", "BTC", rank=1, qty=3)
    j.append(1 * S, "adl", "C", "BTC", rank=2, qty=2)
    j.append(1 * S, "adl", EXTERNAL, "BTC", rank=3, qty=1)
    assert adl_counts(list(j.records())) == {"deleveraged": 2, "outside": 1}
