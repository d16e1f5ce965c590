"""End to end: a 100x long opened through the engine, the mark falls, the liquidator runs.

Hand numbers (BTCUSDT: tick 0.1, lot 0.001, so one lot at one tick is 10,000 units; table 2024,
tier 1 MMR 0.4%): account `a` deposits 1,018 USDT and buys 1 BTC at 60,000 as taker (fee 30), so
WB = 988. Liquidation price LP = (988 - 60,000) / (0.004 - 1) = 59,248.9959..., bankruptcy price
B = 60,000 - 988 = 59,012.0 (590,120 ticks). Taking the position over at B leaves `a` at 0.
"""

from __future__ import annotations

from fractions import Fraction

from harness.venue.exchange.l2book import BID
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import Event, OrderRequest, OrderType, Side, TimeInForce
from harness.venue.ledger.accounts import EXTERNAL, Ledger
from harness.venue.liquidation.adl import AdlMethod
from harness.venue.liquidation.insurance_fund import InsuranceFund, Record
from harness.venue.liquidation.liquidator import (
    LIQUIDATOR,
    Liquidator,
    LiquidatorSettings,
    settle_in_ledger,
)
from harness.venue.liquidation.queue import LiquidationQueue
from harness.venue.profiles.binance_usdm import BTCUSDT

SELL = Side.SELL

USDT = 10**8
T0 = 1_700_000_000_000_000_000
SYM = "BTCUSDT"
B = 590_120


class World:
    """A ledger, one engine and a liquidator whose every settlement is checked for conservation."""

    def __init__(self, fund_usdt: int, clearance: Fraction = Fraction(5, 1000)) -> None:
        self.ledger = Ledger([BTCUSDT])
        self.engine = MatchingEngine(EngineConfig.from_instrument(SYM, BTCUSDT), self.position_of)
        self.fund = InsuranceFund(self.ledger)
        if fund_usdt:
            self.fund.seed(fund_usdt * USDT, T0)
        self.checks = 0
        self.liquidator = Liquidator(
            self.ledger,
            {SYM: self.engine},
            self.fund,
            LiquidatorSettings(clearance_fee=clearance, adl_method=AdlMethod.BINANCE),
            settle=self.settle,
        )

    def position_of(self, account: str, symbol: str) -> int:
        if account not in self.ledger.accounts:
            return 0
        return self.ledger.position(account, symbol).qty

    def settle(self, events: list[Event], ts: int) -> None:
        settle_in_ledger(self.ledger, events)
        self.ledger.check_conservation()
        self.checks += 1

    def book(self, ts: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.settle(self.engine.on_snapshot(bids, asks, ts), ts)

    def mark(self, price: int, ts: int) -> dict[str, int]:
        self.settle(self.engine.on_mark(price, ts), ts)
        return {SYM: price}

    def open_long(self) -> None:
        self.ledger.open_account("a")
        self.ledger.deposit("a", 1_018 * USDT)
        self.ledger.set_leverage("a", SYM, 100)
        self.book(T0, [(599_990, 5_000)], [(600_000, 2_000)])
        self.mark(600_000, T0)
        request = OrderRequest(
            account="a", side=Side.BUY, qty=1_000, type=OrderType.LIMIT, price=600_000,
            tif=TimeInForce.IOC,
        )  # fmt: skip
        self.settle(self.engine.submit(request, T0), T0)
        assert self.ledger.position("a", SYM).qty == 1_000
        assert self.ledger.account("a").wallet == 988 * USDT

    def open_short(self, name: str, lots: int, price: int, wallet_usdt: int) -> None:
        """A short against the outside market, funded so its wallet is `wallet_usdt` after the
        0.02% maker fee."""
        self.ledger.open_account(name)
        fee = lots * price * 10_000 * 2 // 10_000
        self.ledger.deposit(name, wallet_usdt * USDT + fee)
        self.ledger.apply_fill(name, SYM, SELL, lots, price, is_maker=True)
        assert self.ledger.account(name).wallet == wallet_usdt * USDT

    def no_negative_balance(self) -> None:
        for account_id, account in self.ledger.accounts.items():
            if account_id == EXTERNAL:
                continue
            assert account.wallet >= 0, account_id
            for pos in account.positions.values():
                assert pos.isolated_wallet >= 0, account_id


def steps(records: list[Record]) -> list[str]:
    return [str(r.get("step", r.get("reason", r["kind"]))) for r in records]


def test_long_closed_through_the_book_fee_and_surplus_to_the_fund() -> None:
    world = World(fund_usdt=10_000, clearance=Fraction(1, 1000))
    world.open_long()
    ts = T0 + 1_000_000_000
    world.book(ts, [(591_900, 500), (591_000, 300), (590_000, 1_000)], [(592_100, 1_000)])
    marks = world.mark(592_000, ts)  # margin balance 188, MM 236.8: due
    assert world.liquidator.state("a", SYM, marks).liquidatable

    queue = LiquidationQueue(rate_per_s=2)
    queued = queue.push("a", SYM, world.liquidator.state("a", SYM, marks).ratio, ts)
    assert queued is not None and queued["queue_length"] == 1
    popped = queue.pop(SYM, ts + 5)
    assert popped is not None and popped[1]["wait_ns"] == 5

    records = world.liquidator.liquidate("a", SYM, marks, ts)
    assert steps(records) == [
        "cancel_orders",
        "full",
        "ioc",
        "ioc_fund_backed",
        "clearance_fee",
        "liquidation_surplus",
    ]
    full = records[1]
    assert (full["bankruptcy_price"], full["qty"], full["realized_pnl"]) == (B, 1_000, -988 * USDT)
    ioc, backed = records[2], records[3]
    assert (ioc["limit"], ioc["filled"]) == (B, 800)
    # The fund can pay for any price down to the 5% band below the mark: 562,400.
    assert (backed["limit"], backed["filled"]) == (562_400, 200)
    # Book: 500 @ 59,190 (+1,780 ticks over B), 300 @ 59,100 (+880), 200 @ 59,000 (-120).
    gain = (500 * 1_780 + 300 * 880 - 200 * 120) * 10_000
    assert gain == 113 * USDT
    notional = (500 * 591_900 + 300 * 591_000 + 200 * 590_000) * 10_000
    fee = notional // 1_000  # 0.1% of 59,125 USDT = 59.125
    assert (records[4]["amount"], records[5]["amount"]) == (fee, gain - fee)
    assert world.fund.balance == 10_000 * USDT + gain
    # Closed through the book: the outside market got its lot back, the sim book is consumed.
    assert world.ledger.position(EXTERNAL, SYM).qty == 0
    assert world.ledger.position(LIQUIDATOR, SYM).qty == 0
    assert world.engine.consumed(BID, 591_900) == 500
    assert world.ledger.account("a").wallet == 0
    assert world.ledger.account(LIQUIDATOR).wallet == 0
    world.ledger.check_conservation()
    world.no_negative_balance()
    assert world.checks >= 6


def test_gap_past_bankruptcy_shortfall_paid_by_the_fund() -> None:
    world = World(fund_usdt=1_000)
    world.open_long()
    ts = T0 + 1_000_000_000
    world.book(ts, [(589_500, 600), (588_000, 400)], [(589_600, 1_000)])
    marks = world.mark(589_000, ts)  # below B: the margin balance is -112
    assert world.liquidator.state("a", SYM, marks).ratio is None

    records = world.liquidator.liquidate("a", SYM, marks, ts)
    assert steps(records) == ["cancel_orders", "full", "ioc", "ioc_fund_backed", "shortfall"]
    assert records[2]["filled"] == 0
    # Budget 1,000 USDT less 1,000 units of rounding slack: 9,999 ticks a lot below B.
    assert records[3]["limit"] == B - 9_999
    shortfall = (600 * (B - 589_500) + 400 * (B - 588_000)) * 10_000
    assert shortfall == 122 * USDT
    assert records[4]["amount"] == -shortfall
    assert world.fund.balance == 878 * USDT
    assert world.ledger.account("a").wallet == 0
    assert world.ledger.position(EXTERNAL, SYM).qty == 0
    world.ledger.check_conservation()
    world.no_negative_balance()


def test_empty_fund_deleverages_the_most_profitable_short_first() -> None:
    world = World(fund_usdt=0)
    world.open_long()
    world.open_short("s1", 500, 610_000, 1_000)
    world.open_short("s2", 2_000, 600_000, 10_000)
    world.open_short("s3", 300, 590_000, 500)
    ts = T0 + 1_000_000_000
    world.book(ts, [(588_000, 5_000)], [(589_600, 1_000)])
    marks = world.mark(589_000, ts)

    records = world.liquidator.liquidate("a", SYM, marks, ts)
    assert steps(records) == ["cancel_orders", "full", "ioc", "adl", "adl"]
    # Binance scores at 58,900: PnL% = UPnL / WB, ratio = MM / (WB + UPnL).
    s1 = Fraction(1_050, 1_000) * Fraction(1178, 10) / 2_050
    s2 = Fraction(2_200, 10_000) * Fraction(4712, 10) / 12_200
    s3 = Fraction(30, 500) * Fraction(7068, 100) / 530
    assert s1 > s2 > s3
    first, second = records[3], records[4]
    assert (first["account"], first["rank"], first["qty"], first["score"]) == (
        "s1",
        1,
        500,
        str(s1),
    )
    assert (second["account"], second["rank"], second["qty"]) == ("s2", 2, 500)
    assert first["price"] == B and first["position_after"] == 0
    # s1 bought back 0.5 at 59,012 after selling at 61,000: +994 USDT, no fee.
    assert first["realized_pnl"] == 994 * USDT
    assert world.ledger.account("s1").wallet == 1_994 * USDT
    assert world.ledger.position("s2", SYM).qty == -1_500
    assert world.ledger.position("s3", SYM).qty == -300
    assert world.ledger.position(LIQUIDATOR, SYM).qty == 0
    assert world.fund.balance == 0
    world.ledger.check_conservation()
    world.no_negative_balance()
    # The outside market sold `a` its long and bought the shorts; ADL moved lots among sims.
    assert world.ledger.position(EXTERNAL, SYM).qty == -1_000 + 2_800
