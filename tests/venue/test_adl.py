"""ADL ranking (Binance default, BitMEX option) against hand-ranked shorts, and the walk."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.units import Side
from harness.venue.ledger.accounts import Ledger
from harness.venue.liquidation.adl import AdlMethod, deleverage, rank
from harness.venue.profiles.binance_usdm import BTCUSDT

BUY, SELL = Side.BUY, Side.SELL

USDT = 10**8
SYM = "BTCUSDT"
MARK = 589_000  # 58,900


def short(ledger: Ledger, name: str, lots: int, price: int, wallet_usdt: int) -> None:
    ledger.open_account(name)
    ledger.deposit(name, wallet_usdt * USDT + lots * price * 2)  # plus the 0.02% maker fee
    ledger.apply_fill(name, SYM, SELL, lots, price, is_maker=True)
    assert ledger.account(name).wallet == wallet_usdt * USDT


def shorts() -> Ledger:
    ledger = Ledger([BTCUSDT])
    short(ledger, "s4", 100, 580_000, 200)  # losing: scores lowest under both methods
    short(ledger, "s1", 500, 610_000, 1_000)
    short(ledger, "s2", 2_000, 600_000, 10_000)
    short(ledger, "s3", 300, 590_000, 500)
    ledger.open_account("h")
    ledger.deposit("h", 100_000 * USDT)
    ledger.apply_fill("h", SYM, BUY, 4_000, 600_000, is_maker=True)
    return ledger


def test_binance_ranking_by_pnl_pct_times_margin_ratio() -> None:
    ranking = rank(shorts(), SYM, -1, MARK, {SYM: MARK}, exclude=("h",))
    assert [c.account_id for c in ranking] == ["s1", "s2", "s3", "s4"]
    # s1: UPnL 1,050 on WB 1,000; MM 0.5 x 58,900 x 0.4% = 117.8 over WB + UPnL = 2,050.
    assert ranking[0].score == Fraction(1_050, 1_000) * Fraction(1_178, 10) / 2_050
    assert ranking[3].score == 0
    assert ranking[1].qty == -2_000


def test_bitmex_ranking_by_pnl_pct_and_effective_leverage() -> None:
    ranking = rank(shorts(), SYM, -1, MARK, {SYM: MARK}, AdlMethod.BITMEX, exclude=("h",))
    assert [c.account_id for c in ranking] == ["s1", "s2", "s3", "s4"]
    # s1: bankrupt at (1,000 + 30,500) / 0.5 = 63,000; equity 31,500 - 29,450 = 2,050.
    assert ranking[0].score == Fraction(1_050, 30_500) * Fraction(29_450, 2_050)
    # s4 loses: bankrupt at 60,000, equity 110, PnL% -90 / 5,800, divided by leverage.
    assert ranking[3].score == Fraction(-90, 5_800) / Fraction(5_890, 110)


def test_walk_until_covered_and_report_the_rest() -> None:
    ledger = shorts()
    ranking = rank(ledger, SYM, -1, MARK, {SYM: MARK}, exclude=("h",))
    records, left = deleverage(ledger, SYM, "h", 3_000, 590_120, ranking, 9, liquidated="x")
    walked = [(r["account"], r["qty"]) for r in records]
    assert walked == [("s1", 500), ("s2", 2_000), ("s3", 300), ("s4", 100)]
    assert left == 100
    assert records[0]["liquidated"] == "x" and records[0]["price"] == 590_120
    assert ledger.position("h", SYM).qty == 1_100
    assert ledger.position("s4", SYM).qty == 0
    ledger.check_conservation()
    with pytest.raises(ValueError):
        deleverage(ledger, SYM, "h", 1_101, 590_120, ranking, 9)
