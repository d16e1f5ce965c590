"""Risk engine index: MECHANICS examples 2 and 3 at the right mark, a cross account on two
symbols, liquidation band warnings, and no visits to positions far from their trigger."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from harness.units import Side
from harness.venue.ledger.accounts import Ledger
from harness.venue.liquidation.risk_engine import RiskEngine
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT

BUY, SELL = Side.BUY, Side.SELL

USDT = 10**8
BTC21 = replace(
    BTCUSDT, symbol="BTC21", brackets=BINANCE_USDM.bracket_table("binance-btcusdt-2021")
)
BTC2 = replace(BTCUSDT, symbol="BTC2")


def isolated(ledger: Ledger, name: str, symbol: str, side: int, price: int, lev: int) -> None:
    """1 BTC at `price` (ticks) as maker, isolated at `lev`: its wallet holds notional / lev."""
    ledger.open_account(name)
    ledger.deposit(name, price * 10_000_000 // lev + price * 2_000)
    ledger.set_margin_mode(name, symbol, True)
    ledger.set_leverage(name, symbol, lev)
    ledger.apply_fill(name, symbol, side, 1_000, price, is_maker=True)
    assert ledger.account(name).wallet == 0


def test_isolated_long_example_2_band_then_due() -> None:
    """LP 54,221.106 (tier 2 of 2021: MMR 0.5%, cum 50). Ratio (0.005 p - 50) / (p - 54,000)
    reaches 80% at 54,276.73 and 90% at 54,245.81."""
    ledger = Ledger([BTC21])
    isolated(ledger, "a", "BTC21", BUY, 600_000, 10)
    assert ledger.position("a", "BTC21").isolated_wallet == 6_000 * USDT
    risk = RiskEngine(ledger)
    risk.update_account("a")

    def at(mark: int) -> tuple[list[str], list[str]]:
        result = risk.check("BTC21", {"BTC21": mark}, mark)
        return [d.account_id for d in result.due], [str(r["level"]) for r in result.records]

    assert at(543_000) == ([], []) and risk.last_checked == 0
    assert at(542_768) == ([], []) and risk.last_checked == 1  # one tick of slack: 80% is lower
    assert at(542_767) == ([], ["4/5"])
    assert at(542_767) == ([], [])
    assert at(542_400) == ([], ["9/10"])
    assert at(542_212) == ([], [])
    result = risk.check("BTC21", {"BTC21": 542_211}, 1)
    assert [(d.account_id, d.symbol, d.isolated) for d in result.due] == [("a", "BTC21", True)]
    assert result.due[0].ratio == Fraction(22_110_550_000, 22_110_000_000)
    assert at(543_000) == ([], [])  # leaves the band: re-armed
    assert at(542_767) == ([], ["4/5"])


def test_isolated_short_example_3_without_warnings() -> None:
    """LP 51,243.781 (tier 2 of 2021 once the notional passes 50,000)."""
    ledger = Ledger([BTC21])
    isolated(ledger, "s", "BTC21", SELL, 490_000, 20)
    risk = RiskEngine(ledger, warning_levels=())
    risk.update_account("s")
    assert risk.check("BTC21", {"BTC21": 512_436}, 0).due == []
    assert risk.last_checked == 0
    assert risk.check("BTC21", {"BTC21": 512_437}, 0).due == []
    assert risk.last_checked == 1
    due = risk.check("BTC21", {"BTC21": 512_438}, 0).due
    assert [d.account_id for d in due] == ["s"]


def test_cross_account_on_two_symbols_depends_on_both_marks() -> None:
    """Cross longs of 1 at 60,000 in two symbols, WB 2,000: due when
    2,000 + (m1 - 60,000) + (m2 - 60,000) <= 0.4% x (m1 + m2), i.e. m1 + m2 <= 118,473.89."""
    ledger = Ledger([BTCUSDT, BTC2])
    ledger.open_account("c")
    ledger.deposit("c", 2_024 * USDT)
    for symbol in ("BTCUSDT", "BTC2"):
        ledger.apply_fill("c", symbol, BUY, 1_000, 600_000, is_maker=True)
    assert ledger.account("c").wallet == 2_000 * USDT
    isolated(ledger, "far", "BTCUSDT", BUY, 600_000, 2)
    risk = RiskEngine(ledger, warning_levels=())
    risk.update_account("c")
    risk.update_account("far")

    marks = {"BTCUSDT": 590_000, "BTC2": 600_000}
    assert risk.check("BTCUSDT", marks, 0).due == []
    assert risk.last_checked == 1  # the cross account, not the far isolated long
    marks["BTC2"] = 594_000
    due = risk.check("BTC2", marks, 0).due
    assert [(d.account_id, d.symbol, d.isolated) for d in due] == [("c", "BTC2", False)]
    assert due[0].ratio == Fraction(4_736, 4_000)  # MM 473.6 over balance 400
    assert [d.account_id for d in risk.check("BTCUSDT", marks, 0).due] == ["c"]

    # One cross position left: indexed by its own trigger, no longer checked on BTC2 marks.
    ledger.apply_fill("c", "BTC2", SELL, 1_000, 600_000, is_maker=True)
    risk.update_account("c")
    assert risk.check("BTC2", marks, 0).due == [] and risk.last_checked == 0
