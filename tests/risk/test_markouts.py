"""Markouts on a small hand-built run: fills journaled, the mid moved on a schedule."""

from __future__ import annotations

from fractions import Fraction

from harness.journal import Journal
from harness.risk.markouts import MarkoutRecorder, markout_ticks
from harness.risk.trader_analytics import markout_table
from harness.sim.clock import SimEnv
from tests.risk.hand_view import HandView

S = 1_000_000_000
UNITS = 10_000  # BTCUSDT: 0.1 USDT tick x 0.001 BTC lot = 1e-4 USDT = 10,000 units


def test_markout_sign_follows_the_side() -> None:
    assert markout_ticks(1, 1_000, 2_004) == 2  # bought at 1000, mid 1002 later
    assert markout_ticks(-1, 1_000, 2_004) == -2
    assert markout_ticks(1, 1_000, 1_999) == Fraction(-1, 2)


def test_markouts_read_the_mid_at_each_horizon_after_the_fill() -> None:
    env = SimEnv(0)
    view = HandView()
    view.mids2["X"] = 2_000
    journal = Journal()
    recorder = MarkoutRecorder(env, view, ("mm", "taker"), (S, 10 * S, 60 * S), end=30 * S)
    journal.subscribe(recorder.on_record)

    def at(ts: int, mid2: int) -> None:
        env.call_at(ts, lambda: view.mids2.__setitem__("X", mid2))

    # mm buys 2 lots at 1000 (maker) at 0.5 s; taker sells 1 lot at 1000 at 0.5 s;
    # mid 1002 from 1 s, 997.5 from 5 s. Someone else's fill is not measured.
    journal.append(S // 2, "fill", "mm", "X", side=1, price=1_000, qty=2, liquidity="MAKER")
    journal.append(S // 2, "fill", "taker", "X", side=-1, price=1_000, qty=1, liquidity="TAKER")
    journal.append(S // 2, "fill", "other", "X", side=1, price=1_000, qty=9, liquidity="TAKER")
    at(S, 2_004)
    at(5 * S, 1_995)
    env.run()
    mm = [m for m in recorder.marks if m.account == "mm"]
    assert [(m.horizon_ns, m.mid2_after) for m in mm] == [(S, 2_004), (10 * S, 1_995)]
    table = markout_table(mm, (S, 10 * S, 60 * S), {"X": UNITS})
    # 1 s: +2 ticks x 2 lots x 10,000; 10 s: -2.5 ticks x 2 x 10,000; 60 s is past the end.
    assert table == {
        "1s": {"fills": 1, "mean_ticks": "2.00", "total_units": 40_000, "maker_units": 40_000},
        "10s": {"fills": 1, "mean_ticks": "-2.50", "total_units": -50_000, "maker_units": -50_000},
        "60s": {"fills": 0, "mean_ticks": None, "total_units": 0, "maker_units": 0},
    }
    taker = markout_table(
        [m for m in recorder.marks if m.account == "taker"], (S, 10 * S), {"X": UNITS}
    )
    # Sold at 1000: mid 1002 is -2 ticks, mid 997.5 is +2.5; not a maker fill.
    assert taker["1s"] == {
        "fills": 1,
        "mean_ticks": "-2.00",
        "total_units": -20_000,
        "maker_units": 0,
    }
    assert taker["10s"]["total_units"] == 25_000
    assert not [m for m in recorder.marks if m.account == "other"]
