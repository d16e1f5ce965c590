"""A cross account holding two symbols is liquidated whole; the outside market takes what no
simulated account can; the journal reads step first, then what the engine did.

Hand numbers: BTCUSDT one lot at one tick is 10,000 units, ETHUSDT (tick 0.01) 1,000 units;
table 2024, tier 1 MMR 0.4%, cum 0 on both.
"""

from __future__ import annotations

from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.venue.exchange.matching import EngineConfig, MatchingEngine
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Submit
from harness.venue.ledger.accounts import EXTERNAL, Ledger
from harness.venue.liquidation.insurance_fund import InsuranceFund, Record
from harness.venue.liquidation.liquidator import LIQUIDATOR, Liquidator
from harness.venue.liquidation.report import cascade
from harness.venue.population import Holding, Member, open_population
from harness.venue.profiles.binance_usdm import BTCUSDT, ETHUSDT
from harness.venue.venue import Venue, VenueSettings

BUY = Side.BUY

USDT = 10**8
BTC, ETH = "BTCUSDT", "ETHUSDT"


def _world(fund_usdt: int) -> tuple[Ledger, dict[str, MatchingEngine], Liquidator]:
    ledger = Ledger([BTCUSDT, ETHUSDT])

    def position_of(account: str, symbol: str) -> int:
        return ledger.position(account, symbol).qty if account in ledger.accounts else 0

    engines = {
        s: MatchingEngine(EngineConfig.from_instrument(s, i), position_of)
        for s, i in ((BTC, BTCUSDT), (ETH, ETHUSDT))
    }
    fund = InsuranceFund(ledger)
    if fund_usdt:
        fund.seed(fund_usdt * USDT, 0)
    return ledger, engines, Liquidator(ledger, engines, fund)


def _steps(records: list[Record]) -> list[tuple[str, str]]:
    return [(str(r["symbol"]), str(r.get("step", r.get("reason", r["kind"])))) for r in records]


def test_cross_account_on_two_symbols_is_liquidated_whole_largest_maintenance_first() -> None:
    """Wallet 1,000; long 1 BTC at 60,000 and 10 ETH at 2,500. Marks 59,600 and 2,460: UPnL -400
    each, balance 200, MM 238.4 + 98.4 = 336.8: due (found on an ETH mark). BTC goes first (the
    larger maintenance): with ETH held, its bankruptcy price is 60,000 - 600 = 59,400; taking it
    over there leaves a wallet of 400 and a balance of 0. ETH is then bankrupt at its mark,
    2,500 - 400 / 10 = 2,460."""
    ledger, engines, liquidator = _world(fund_usdt=1_000)
    ledger.open_account("x")
    ledger.deposit("x", 1_000 * USDT)
    for symbol, lots, price in ((BTC, 1_000, 600_000), (ETH, 10_000, 250_000)):
        ledger.set_leverage("x", symbol, 100)
        ledger.apply_fill("x", symbol, BUY, lots, price, True, charge_fee=False)
    engines[BTC].on_snapshot([(596_100, 2_000)], [(596_200, 2_000)], 1)
    engines[ETH].on_snapshot([(246_100, 20_000)], [(246_200, 20_000)], 1)
    marks = {BTC: 596_000, ETH: 246_000}
    for symbol, engine in engines.items():
        engine.on_mark(marks[symbol], 1)
    state = liquidator.state("x", ETH, marks)
    assert (state.margin_balance, state.maintenance) == (200 * USDT, 33_680_000_000)

    assert liquidator.cross_order("x", marks) == [BTC, ETH]
    records = liquidator.liquidate("x", ETH, marks, 2)
    assert _steps(records) == [
        (ETH, "cancel_orders"),
        (BTC, "full"),
        (BTC, "ioc"),
        (BTC, "clearance_fee"),
        (ETH, "recheck"),
        (ETH, "full"),
        (ETH, "ioc"),
        (ETH, "clearance_fee"),
    ]
    assert (records[1]["bankruptcy_price"], records[1]["realized_pnl"]) == (594_000, -600 * USDT)
    assert records[4]["margin_balance"] == 0 and records[4]["liquidatable"] is True
    assert (records[5]["bankruptcy_price"], records[5]["realized_pnl"]) == (246_000, -400 * USDT)
    # BTC unwound 210 USDT above B: the fee (0.5% of 59,610 = 298.05) is capped at that gain.
    assert records[3]["amount"] == 210 * USDT
    # ETH unwound 0.01 x 10 coins above B: 10 USDT, the fee's cap again.
    assert records[7]["amount"] == 10 * USDT
    assert ledger.account("x").wallet == 0
    assert [ledger.position("x", s).qty for s in (BTC, ETH)] == [0, 0]
    ledger.check_conservation()


def test_a_cross_account_queued_on_a_symbol_it_has_since_closed_is_still_liquidated() -> None:
    """Queued on BTC, the account closed its BTC long while it waited; its ETH long (10 at 2,500
    on a wallet of 300 after the BTC loss) is due at 2,460: balance -100. The item still
    liquidates the cross account: its one open position, ETH."""
    ledger, engines, liquidator = _world(fund_usdt=1_000)
    ledger.open_account("x")
    ledger.deposit("x", 1_000 * USDT)
    ledger.apply_fill("x", BTC, BUY, 1_000, 600_000, True, charge_fee=False)
    ledger.apply_fill("x", ETH, BUY, 10_000, 250_000, True, charge_fee=False)
    ledger.apply_fill("x", BTC, -1, 1_000, 593_000, True, charge_fee=False)  # -700
    engines[ETH].on_snapshot([(246_100, 20_000)], [(246_200, 20_000)], 1)
    engines[ETH].on_mark(246_000, 1)
    records = liquidator.liquidate("x", BTC, {BTC: 593_000, ETH: 246_000}, 2)
    assert _steps(records)[:3] == [(BTC, "cancel_orders"), (ETH, "full"), (ETH, "ioc")]
    assert records[0]["margin_balance"] == -100 * USDT
    assert ledger.position("x", ETH).qty == 0
    ledger.check_conservation()


def test_lots_no_simulated_account_can_take_go_to_the_outside_market() -> None:
    """Wallet 1,000, long 1 BTC at 60,000, 100x, mark 59,100: balance 100 < MM 236.4. B =
    59,000; the book bids 58,000 and the fund is empty: no IOC fills, no simulated short exists,
    so the outside market (everyone the real venue would deleverage) takes the lot at B."""
    ledger, engines, liquidator = _world(fund_usdt=0)
    ledger.open_account("a")
    ledger.deposit("a", 1_000 * USDT)
    ledger.set_leverage("a", BTC, 100)
    ledger.apply_fill("a", BTC, BUY, 1_000, 600_000, True, charge_fee=False)
    engines[BTC].on_snapshot([(580_000, 5_000)], [(592_000, 5_000)], 1)
    engines[BTC].on_mark(591_000, 1)
    records = liquidator.liquidate("a", BTC, {BTC: 591_000, ETH: 250_000}, 2)
    assert _steps(records) == [(BTC, "cancel_orders"), (BTC, "full"), (BTC, "ioc"), (BTC, "adl")]
    outside = records[3]
    assert (outside["account"], outside["score"], outside["qty"], outside["price"]) == (
        EXTERNAL,
        "outside",
        1_000,
        590_000,
    )
    assert ledger.position(LIQUIDATOR, BTC).qty == 0
    assert ledger.position(EXTERNAL, BTC).qty == 0
    assert ledger.account("a").wallet == 0
    assert ledger.account(LIQUIDATOR).wallet == 0
    ledger.check_conservation()


def test_venue_journal_reads_each_step_before_the_engine_events_it_causes() -> None:
    start = 1_723_161_256_000_000_000
    env = SimEnv(start, seed=1)
    venue = Venue(env, Journal(), {BTC: BTCUSDT}, VenueSettings(mark_method="mid"))
    market = venue.markets[BTC]
    for level in range(1, 51):
        market.depth(start, 1, 600_000 - level + 1, 2_000)
        market.depth(start, -1, 600_000 + level, 2_000)
    venue.open_account("w", 800 * USDT, leverage=100, isolated=False, fee_tier="regular")
    request = OrderRequest(
        account="w", side=Side.BUY, qty=1_000, type=OrderType.MARKET, tif=TimeInForce.IOC
    )
    venue.on_request(Submit(BTC, request))

    def crash() -> None:
        for level in range(1, 51):
            market.depth(env.now, 1, 600_000 - level + 1, 0)
            market.depth(env.now, -1, 600_000 + level, 0)
        for level in range(1, 51):
            market.depth(env.now, 1, 593_000 - level + 1, 2_000)
            market.depth(env.now, -1, 593_000 + level, 2_000)

    env.call_at(start + 1_500_000_000, crash)
    env.process(venue.mark_process(start + 4_000_000_000))
    env.run()
    records = list(venue.journal.records())
    story = [
        (r.kind, r.fields.get("step", ""))
        for r in records
        if r.account in ("w", LIQUIDATOR) and r.kind in ("liquidation", "order_accepted", "fill")
    ]
    start_at = story.index(("liquidation", "dequeued"))
    assert story[start_at:] == [
        ("liquidation", "dequeued"),
        ("liquidation", "cancel_orders"),
        ("liquidation", "full"),
        ("order_accepted", ""),
        ("fill", ""),
        ("liquidation", "ioc"),
    ]


def test_contagion_an_eth_crash_liquidates_a_cross_account_whose_btc_sale_triggers_a_btc_long() -> (
    None
):
    """X is cross: long 2 BTC at 60,000 and 100 ETH at 2,500 on 10,000 USDT. ETH falls to 2,410:
    X's balance (1,000) is below its maintenance (~1,444) and it is liquidated whole, ETH first
    (the larger maintenance), then its 2 BTC through a thin BTC book (ten levels of 0.2 BTC 50
    USDT apart, then 59,000). The mark (index proxy: the last price) follows the sale down to
    59,550, and Y, an isolated 100x long of 1 BTC at 60,000 (wallet 600) that only a BTC mark
    below 59,400 / 0.996 = 59,638.55 makes due, falls due at the next mark: a cascade through
    the other symbol."""
    start = 1_723_161_256_000_000_000
    second = 1_000_000_000
    env = SimEnv(start, seed=1)
    venue = Venue(
        env,
        Journal(),
        {BTC: BTCUSDT, ETH: ETHUSDT},
        VenueSettings(index_proxy="last", insurance_fund_units=100_000 * USDT),
    )
    btc, eth = venue.markets[BTC], venue.markets[ETH]
    for level in range(10):
        btc.depth(start, 1, 600_000 - 500 * level, 200)
    btc.depth(start, 1, 590_000, 50_000)
    btc.depth(start, -1, 600_002, 50_000)
    for level in range(20):
        eth.depth(start, 1, 250_000 - level, 50_000)
        eth.depth(start, -1, 250_002 + level, 50_000)
    x = Member(
        "x",
        10_000 * USDT,
        (Holding(BTC, 2_000, 600_000, 50, False), Holding(ETH, 100_000, 250_000, 50, False)),
    )
    y = Member("y", 600 * USDT, (Holding(BTC, 1_000, 600_000, 100, True),))
    open_population(venue, [x, y], "regular", start)

    def crash_eth() -> None:
        for level in range(20):
            eth.depth(env.now, 1, 250_000 - level, 0)
            eth.depth(env.now, -1, 250_002 + level, 0)
            eth.depth(env.now, 1, 241_000 - level, 50_000)
            eth.depth(env.now, -1, 241_002 + level, 50_000)

    env.call_at(start + 1_500_000_000, crash_eth)
    env.process(venue.mark_process(start + 5 * second))
    env.run()
    records = list(venue.journal.records())
    x_steps = [
        (r.symbol, r.fields["step"])
        for r in records
        if r.kind == "liquidation" and r.account == "x" and r.fields["step"] in ("full", "ioc")
    ]
    assert x_steps == [(ETH, "full"), (ETH, "ioc"), (BTC, "full"), (BTC, "ioc")]
    # Due on both symbols' checks, the cross account is queued once and liquidated whole.
    queued = [r.symbol for r in records if r.account == "x" and r.fields.get("step") == "queued"]
    assert queued == [BTC]
    marks = [r.fields["mark"] for r in records if r.kind == "mark" and r.symbol == BTC]
    assert marks[:3] == [600_001, 600_001, 595_500]
    graph = cascade(records, second)
    steps = [
        (s["ts"] - start, s["symbol"], s["generation"], s["caused_by"], s["triggered"])
        for s in graph["steps"]
    ]
    # X is found due on the BTC check, the first of each mark round.
    assert steps == [(2 * second, BTC, 1, [], ["x"]), (3 * second, BTC, 2, ["x"], ["y"])]
    assert (graph["depth"], graph["roots"]) == (2, 1)
    venue.ledger.check_conservation()
