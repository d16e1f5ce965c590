"""The liquidator's steps on hand-computed positions: tiers, recovery, negative balances."""

from __future__ import annotations

from fractions import Fraction

from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import OrderRequest, Side
from harness.venue.ledger.accounts import Ledger
from harness.venue.liquidation.insurance_fund import InsuranceFund
from harness.venue.liquidation.liquidator import LIQUIDATOR, Liquidator
from harness.venue.profiles.binance_usdm import BTCUSDT

BUY, SELL = Side.BUY, Side.SELL

USDT = 10**8
SYM = "BTCUSDT"


def setup(fund_usdt: int = 0) -> tuple[Ledger, MatchingEngine, Liquidator]:
    ledger = Ledger([BTCUSDT])

    def position_of(account: str, symbol: str) -> int:
        return ledger.position(account, symbol).qty if account in ledger.accounts else 0

    engine = MatchingEngine(EngineConfig.from_instrument(SYM, BTCUSDT), position_of)
    fund = InsuranceFund(ledger)
    if fund_usdt:
        fund.seed(fund_usdt * USDT, 0)
    return ledger, engine, Liquidator(ledger, {SYM: engine}, fund)


def test_large_isolated_long_is_cut_tier_by_tier() -> None:
    """MECHANICS example 4: isolated long 10 at 100,000, WB 100,000, table 2024: LP 90,437.846,
    bankruptcy 90,000. At mark 90,400 the notional 904,000 is in tier 3 (MM 4,376 > balance
    4,000). Cut to 8.849 BTC (799,969.6, tier 2): balance 3,539.6 < MM 3,699.848, still due. Cut
    to 3.318 BTC (299,947.2, tier 1): balance 1,327.2 > MM 1,199.7888: done."""
    ledger, engine, liquidator = setup()
    ledger.open_account("a")
    ledger.deposit("a", 100_200 * USDT)
    ledger.set_margin_mode("a", SYM, True)
    ledger.set_leverage("a", SYM, 10)
    ledger.apply_fill("a", SYM, BUY, 10_000, 1_000_000, is_maker=True)
    assert ledger.position("a", SYM).isolated_wallet == 100_000 * USDT
    engine.on_snapshot([(903_900, 20_000)], [(904_100, 1_000)], 1)
    engine.on_mark(904_000, 1)
    marks = {SYM: 904_000}

    records = liquidator.liquidate("a", SYM, marks, 1)
    steps = [r.get("step", r.get("reason")) for r in records]
    assert steps == [
        "cancel_orders",
        "partial",
        "ioc",
        "clearance_fee",
        "recheck",
        "partial",
        "ioc",
        "clearance_fee",
        "recheck",
    ]
    first, second = records[1], records[5]
    assert (first["qty"], first["bankruptcy_price"]) == (1_151, 900_000)
    assert (second["qty"], second["bankruptcy_price"]) == (5_531, 900_000)
    assert records[4]["liquidatable"] is True
    assert records[8]["liquidatable"] is False
    assert records[8]["ratio"] == str(Fraction(11_997_888, 13_272_000))
    pos = ledger.position("a", SYM)
    assert pos.qty == 3_318
    assert pos.isolated_wallet == 33_180 * USDT  # 100,000 - 6.682 x 10,000
    assert ledger.account("a").wallet == 0
    # Clearance fee (0.5%) exceeds the 3,900-tick gain a lot, so it takes all of it.
    assert records[3]["amount"] == 1_151 * 3_900 * 10_000
    assert liquidator.fund.balance == 6_682 * 3_900 * 10_000
    assert ledger.position(LIQUIDATOR, SYM).qty == 0
    ledger.check_conservation()


def test_cancelling_orders_then_healthy_ends_the_liquidation() -> None:
    ledger, engine, liquidator = setup()
    ledger.open_account("a")
    ledger.deposit("a", 10_000 * USDT)
    ledger.apply_fill("a", SYM, BUY, 1_000, 600_000, is_maker=True)
    engine.on_mark(600_000, 1)
    events = engine.submit(OrderRequest(account="a", side=Side.SELL, qty=10, price=601_000), 1)
    ledger.add_order(events[0].order_id, "a", SYM, SELL, 10, 601_000)
    records = liquidator.liquidate("a", SYM, {SYM: 600_000}, 2)
    assert len(records) == 1
    assert (records[0]["step"], records[0]["cancelled"], records[0]["liquidatable"]) == (
        "cancel_orders",
        1,
        False,
    )
    assert engine.open_orders("a") == [] and ledger.open_orders("a") == []


def test_fund_resets_a_flat_isolated_deficit() -> None:
    """Isolated long 1 at 60,000, 100x (IM 600), closed by its owner at 59,000: -1,000 realized
    leaves the flat position's wallet at -400, which the fund resets."""
    ledger, _, liquidator = setup(fund_usdt=1_000)
    ledger.open_account("a")
    ledger.deposit("a", 612 * USDT)
    ledger.set_margin_mode("a", SYM, True)
    ledger.set_leverage("a", SYM, 100)
    ledger.apply_fill("a", SYM, BUY, 1_000, 600_000, is_maker=True)
    ledger.apply_fill("a", SYM, SELL, 1_000, 590_000, is_maker=True)
    ledger.deposit("a", 1_180_000_000)  # the 11.8 closing fee: the cross wallet is back at 0
    assert ledger.account("a").wallet == 0
    assert ledger.position("a", SYM).isolated_wallet == -400 * USDT
    records = liquidator.reset_negative_balances("a", 3)
    assert [(r["reason"], r["amount"]) for r in records] == [
        ("negative_balance_reset", -400 * USDT)
    ]
    assert ledger.position("a", SYM).isolated_wallet == 0
    assert liquidator.fund.balance == 600 * USDT
    ledger.check_conservation()
