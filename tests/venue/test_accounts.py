"""The ledger against hand-computed fills, margins and funding, and MECHANICS examples 2 and 4."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from harness.units import Side
from harness.venue.ledger.accounts import (
    EXTERNAL,
    REJECT_LEVERAGE,
    REJECT_MARGIN,
    InsufficientMarginError,
    Ledger,
    LedgerError,
)
from harness.venue.ledger.instruments import exact
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT
from tests.venue.test_margin import rounds_to

USDT = 10**8
BTC21 = replace(
    BTCUSDT, symbol="BTC21", brackets=BINANCE_USDM.bracket_table("binance-btcusdt-2021")
)

BUY, SELL = Side.BUY, Side.SELL


def ticks(price: str) -> int:
    return BTCUSDT.price_to_ticks(exact(price))


def lots(qty: str) -> int:
    return BTCUSDT.qty_to_lots(exact(qty))


def usdt(amount: str) -> int:
    return int(exact(amount) * USDT)


def funded(amount: str) -> Ledger:
    ledger = Ledger([BTCUSDT, BTC21])
    ledger.open_account("a")
    ledger.deposit("a", usdt(amount))
    return ledger


def test_cross_round_trip_with_fees() -> None:
    ledger = funded("10000")
    buy = ledger.apply_fill("a", "BTCUSDT", BUY, lots("1"), ticks("60000"), is_maker=False)
    assert buy.fee == usdt("30")  # 0.05% of 60,000
    assert (buy.opened_lots, buy.closed_lots, buy.position_after) == (1000, 0, 1000)
    assert ledger.account("a").wallet == usdt("9970")
    assert ledger.position(EXTERNAL, "BTCUSDT").qty == -1000

    marks = {"BTCUSDT": ticks("61000")}
    assert ledger.unrealized_pnl("a", "BTCUSDT", ticks("61000")) == usdt("1000")
    state = ledger.margin_state("a", marks)
    assert state.maintenance == usdt("244")  # 61,000 x 0.4%
    assert state.margin_balance == usdt("10970")
    assert state.ratio == Fraction(244, 10970)
    assert not state.liquidatable

    sell = ledger.apply_fill("a", "BTCUSDT", SELL, lots("1"), ticks("61000"), is_maker=True)
    assert sell.fee == usdt("12.2")  # 0.02% of 61,000
    assert sell.realized_pnl == usdt("1000")
    assert ledger.account("a").wallet == usdt("10957.8")
    assert ledger.fee_pool_units == usdt("42.2")
    assert ledger.account(EXTERNAL).wallet == usdt("-1000")
    ledger.check_conservation()


def test_partial_reduce_rounds_realized_pnl_down_and_loses_nothing() -> None:
    ledger = funded("1000")
    ledger.apply_fill("a", "BTCUSDT", BUY, 1, 600_000, is_maker=True)
    ledger.apply_fill("a", "BTCUSDT", BUY, 2, 600_001, is_maker=True)
    pos = ledger.position("a", "BTCUSDT")
    assert pos.cost_units == 10_000 * (600_000 + 2 * 600_001)
    assert ledger.entry_price("a", "BTCUSDT") == Fraction(1_800_002, 30)
    # One third of the entry value is 6,000,006,666.67 units: released as 6,000,006,667.
    first = ledger.apply_fill("a", "BTCUSDT", SELL, 1, 600_000, is_maker=True)
    assert first.realized_pnl == -6_667
    rest = ledger.apply_fill("a", "BTCUSDT", SELL, 2, 600_000, is_maker=True)
    assert rest.realized_pnl == -13_333
    # Together exactly the loss of 2 lots x 1 tick x 10,000 units.
    assert first.realized_pnl + rest.realized_pnl == -20_000
    assert pos.cost_units == 0
    ledger.check_conservation()


def test_flip_closes_then_opens_at_the_fill_price() -> None:
    ledger = funded("100000")
    ledger.apply_fill("a", "BTCUSDT", BUY, lots("1"), ticks("60000"), is_maker=True)
    flip = ledger.apply_fill("a", "BTCUSDT", SELL, lots("3"), ticks("62000"), is_maker=True)
    assert (flip.closed_lots, flip.opened_lots, flip.position_after) == (1000, 2000, -2000)
    assert flip.realized_pnl == usdt("2000")
    assert ledger.entry_price("a", "BTCUSDT") == 62_000
    ledger.check_conservation()


def test_short_profit() -> None:
    ledger = funded("10000")
    ledger.apply_fill("a", "BTCUSDT", SELL, lots("0.5"), ticks("60000"), is_maker=True)
    close = ledger.apply_fill("a", "BTCUSDT", BUY, lots("0.5"), ticks("59000"), is_maker=True)
    assert close.realized_pnl == usdt("500")
    ledger.check_conservation()


def test_isolated_example_2_through_the_ledger() -> None:
    ledger = funded("10000")
    ledger.set_margin_mode("a", "BTC21", isolated=True)
    ledger.set_leverage("a", "BTC21", 10)
    ledger.apply_fill("a", "BTC21", BUY, lots("1"), ticks("60000"), is_maker=False)
    pos = ledger.position("a", "BTC21")
    assert pos.isolated_wallet == usdt("6000")  # initial margin 60,000 / 10
    assert ledger.account("a").wallet == usdt("3970")  # the fee comes from the cross wallet

    liq = ledger.liquidation_price("a", "BTC21", {})
    assert liq is not None
    assert rounds_to(liq.price, "54221.106")
    assert liq.bankruptcy == 54_000
    # The trigger, from the ledger's own margin state: liquidatable at 54,221.1, not at .2.
    assert ledger.isolated_margin_state("a", "BTC21", ticks("54221.1")).liquidatable
    assert not ledger.isolated_margin_state("a", "BTC21", ticks("54221.2")).liquidatable

    ledger.apply_fill("a", "BTC21", SELL, lots("1"), ticks("59000"), is_maker=False)
    assert pos.isolated_wallet == 0
    assert ledger.account("a").wallet == usdt("3970") + usdt("5000") - usdt("29.5")
    ledger.check_conservation()


def test_isolated_example_4_through_the_ledger() -> None:
    ledger = funded("200000")
    ledger.set_margin_mode("a", "BTCUSDT", isolated=True)
    ledger.set_leverage("a", "BTCUSDT", 10)
    ledger.apply_fill("a", "BTCUSDT", BUY, lots("10"), ticks("100000"), is_maker=True)
    assert ledger.position("a", "BTCUSDT").isolated_wallet == usdt("100000")
    liq = ledger.liquidation_price("a", "BTCUSDT", {})
    assert liq is not None
    assert rounds_to(liq.price, "90437.846")
    assert liq.tier == 3


def test_cross_trigger_agrees_with_the_liquidation_price() -> None:
    ledger = funded("1000")
    ledger.apply_fill("a", "BTCUSDT", BUY, lots("1"), ticks("60000"), is_maker=False)
    liq = ledger.liquidation_price("a", "BTCUSDT", {"BTCUSDT": ticks("60000")})
    assert liq is not None and liq.price is not None
    # Wallet 970 after the fee: LP = (970 - 60,000) / (0.004 - 1).
    assert liq.price == Fraction(970 - 60_000) / (Fraction(4, 1000) - 1)
    below = BTCUSDT.price_to_ticks(liq.price, "floor")
    assert ledger.margin_state("a", {"BTCUSDT": below}).liquidatable
    assert not ledger.margin_state("a", {"BTCUSDT": below + 1}).liquidatable


def test_isolated_deficit_stays_on_the_position() -> None:
    ledger = funded("10000")
    ledger.set_margin_mode("a", "BTCUSDT", isolated=True)
    ledger.set_leverage("a", "BTCUSDT", 10)
    ledger.apply_fill("a", "BTCUSDT", BUY, lots("1"), ticks("60000"), is_maker=True)
    wallet = ledger.account("a").wallet
    ledger.apply_fill("a", "BTCUSDT", SELL, lots("1"), ticks("53000"), is_maker=True)
    assert ledger.position("a", "BTCUSDT").isolated_wallet == usdt("-1000")
    assert ledger.account("a").wallet == wallet - usdt("10.6")  # only the fee
    with pytest.raises(LedgerError, match="only when flat"):
        ledger.set_margin_mode("a", "BTCUSDT", isolated=False)
    ledger.check_conservation()


def test_funding_between_two_accounts_and_rounding_remainder() -> None:
    ledger = funded("10000")
    ledger.open_account("b")
    ledger.deposit("b", usdt("10000"))
    ledger.apply_match("BTCUSDT", lots("1"), ticks("60000"), "a", BUY, "b")
    paid = ledger.apply_funding("BTCUSDT", 10_000, ticks("60000"))
    assert paid.payments == {"a": usdt("6"), "b": usdt("-6")}
    assert paid.remainder_units == 0
    ledger.check_conservation()

    ledger.open_account("c")
    ledger.apply_fill("c", "BTCUSDT", BUY, 1, 600_001, is_maker=True)
    # At 3e-8 and 60,000.1: c's 1 lot (6,000,010,000 units) owes 180.0003 units, a's 1,000
    # lots 180,000.3; each payer pays the ceiling, each receiver gets the floor.
    paid = ledger.apply_funding("BTCUSDT", 3, 600_001)
    assert paid.payments == {EXTERNAL: -180, "a": 180_001, "b": -180_000, "c": 181}
    assert paid.remainder_units == 2
    ledger.check_conservation()


def test_initial_margin_check_counts_open_orders() -> None:
    ledger = funded("1000")
    marks = {"BTCUSDT": ticks("60000")}
    price = ticks("60000")

    too_big = ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("0.5"), price, marks)
    assert (too_big.ok, too_big.reason, too_big.required_units) == (
        False,
        REJECT_MARGIN,
        usdt("1500"),
    )

    first = ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("0.3"), price, marks)
    assert first.ok and first.required_units == usdt("900")  # 18,000 / 20x
    ledger.add_order(1, "a", "BTCUSDT", BUY, lots("0.3"), price)
    assert ledger.available_balance("a", marks) == usdt("100")

    more = ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("0.1"), price, marks)
    assert (more.ok, more.required_units, more.available_units) == (False, usdt("300"), usdt("100"))
    # A buy above the mark also reserves its open loss: 0.1 x 1,000.
    through = ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("0.1"), ticks("61000"), marks)
    assert through.required_units == usdt("400")
    # The other side is covered by the same margin: the worse side counts, not both.
    hedge = ledger.initial_margin_check("a", "BTCUSDT", SELL, lots("0.3"), price, marks)
    assert hedge.ok and hedge.required_units == 0
    assert ledger.initial_margin_check(
        "a", "BTCUSDT", SELL, lots("5"), price, marks, reduce_only=True
    ).ok

    with pytest.raises(InsufficientMarginError):
        ledger.withdraw("a", usdt("200"), marks)
    ledger.withdraw("a", usdt("100"), marks)

    ledger.apply_fill("a", "BTCUSDT", BUY, lots("0.1"), price, is_maker=True, order_id=1)
    assert [o.remaining for _, o in ledger.open_orders("a")] == [lots("0.2")]
    with pytest.raises(LedgerError, match="exceeds"):
        ledger.apply_fill("a", "BTCUSDT", BUY, lots("0.3"), price, is_maker=True, order_id=1)
    ledger.remove_order(1)
    assert ledger.open_orders("a") == []
    ledger.check_conservation()


def test_leverage_limited_by_bracket() -> None:
    ledger = funded("100000")
    marks = {"BTCUSDT": ticks("60000")}
    ledger.set_leverage("a", "BTCUSDT", 150)
    # 6 BTC at 60,000 is 360,000 USDT: tier 2, max 100x.
    check = ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("6"), ticks("60000"), marks)
    assert (check.ok, check.reason) == (False, REJECT_LEVERAGE)
    assert ledger.initial_margin_check("a", "BTCUSDT", BUY, lots("4"), ticks("60000"), marks).ok


def test_scenario_can_cut_max_leverage_but_not_the_grid() -> None:
    ledger = funded("1000")
    ledger.set_instrument(replace(BTCUSDT, brackets=BTCUSDT.brackets.with_max_leverage(8)))
    with pytest.raises(LedgerError, match=r"1\.\.8"):
        ledger.set_leverage("a", "BTCUSDT", 20)
    ledger.set_leverage("a", "BTCUSDT", 8)
    with pytest.raises(LedgerError, match="tick or lot"):
        ledger.set_instrument(replace(BTCUSDT, tick_size=Fraction(1, 100)))


def test_margin_mode_changes_only_when_flat_without_orders() -> None:
    ledger = funded("1000")
    ledger.add_order("o", "a", "BTCUSDT", BUY, 1, ticks("60000"))
    with pytest.raises(LedgerError, match="only when flat"):
        ledger.set_margin_mode("a", "BTCUSDT", isolated=True)
    ledger.remove_order("o")
    ledger.set_margin_mode("a", "BTCUSDT", isolated=True)


def test_external_account_is_not_traded_directly() -> None:
    ledger = funded("1000")
    with pytest.raises(LedgerError, match="external"):
        ledger.deposit(EXTERNAL, 1)
    with pytest.raises(LedgerError, match="unknown symbol"):
        ledger.apply_fill("a", "DOGEUSDT", BUY, 1, 1, is_maker=True)
    with pytest.raises(KeyError, match="vip99"):
        ledger.open_account("z", fee_tier="vip99")
