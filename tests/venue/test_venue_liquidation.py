"""The liquidation path driven by the venue's own processes: mark -> risk -> queue -> liquidator."""

from __future__ import annotations

import itertools
from fractions import Fraction

from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Submit
from harness.venue.profiles.binance_usdm import BTCUSDT
from harness.venue.venue import Venue, VenueSettings

START = 1_723_161_256_000_000_000
SECOND = 1_000_000_000
MID = 600_000  # 60,000.0 USDT


def _venue(**settings: object) -> Venue:
    env = SimEnv(START, seed=5)
    venue = Venue(
        env,
        Journal(),
        {"BTCUSDT": BTCUSDT},
        VenueSettings(mark_method="mid", insurance_fund_units=10_000 * 10**8, **settings),  # type: ignore[arg-type]
    )
    market = venue.markets["BTCUSDT"]
    for level in range(1, 301):
        market.depth(START, 1, MID - level + 1, 2_000)
        market.depth(START, -1, MID + level, 2_000)
    return venue


def _levered_long(venue: Venue, name: str, lots: int, wallet_usdt: int) -> None:
    venue.open_account(name, wallet_usdt * 10**8, leverage=100, isolated=False, fee_tier="regular")
    request = OrderRequest(
        account=name, side=Side.BUY, qty=lots, type=OrderType.MARKET, tif=TimeInForce.IOC
    )
    venue.on_request(Submit("BTCUSDT", request))


def _crash(venue: Venue, at: int, to_bid: int) -> None:
    """At `at`, the book re-quotes around `to_bid` (levels above it vanish): the mark follows."""

    def pull() -> None:
        market = venue.markets["BTCUSDT"]
        for price in range(to_bid + 1, MID + 301):
            market.depth(at, 1, price, 0)
            market.depth(at, -1, price, 0)
        for level in range(1, 301):
            market.depth(at, 1, to_bid - level + 1, 2_000)
            market.depth(at, -1, to_bid + level, 2_000)

    venue.env.call_at(at, pull)


def test_a_levered_long_is_warned_queued_and_liquidated_with_money_conserved() -> None:
    venue = _venue()
    _levered_long(venue, "whale", lots=1_000, wallet_usdt=800)  # 1 BTC at ~60,000.1, 100x
    # Wallet 800 - fee 30 = 770 USDT; maintenance ~240: 80% of the band at ~59,530.
    _crash(venue, START + 3 * SECOND + 500_000_000, to_bid=595_200)  # ratio ~0.83: a warning
    _crash(venue, START + 6 * SECOND + 500_000_000, to_bid=593_000)  # balance ~70 < 240: due
    end = START + 12 * SECOND
    venue.env.process(venue.mark_process(end))
    venue.env.run()
    records = list(venue.journal.records())
    steps = [(r.kind, r.fields.get("step")) for r in records if r.account == "whale"]
    # First a margin call (the band), then queued, dequeued and closed through the book.
    calls = [r for r in records if r.kind == "margin_call" and r.account == "whale"]
    assert calls and calls[0].ts < next(r.ts for r in records if r.fields.get("step") == "queued")
    assert ("liquidation", "queued") in steps and ("liquidation", "dequeued") in steps
    assert venue.ledger.position("whale", "BTCUSDT").qty == 0
    assert venue.ledger.account("whale").wallet >= 0
    venue.ledger.check_conservation()
    fund_flows = [r for r in records if r.kind == "insurance_fund"]
    assert fund_flows, "the fund took the clearance fee or paid a shortfall"
    assert venue.fund.balance != 10_000 * 10**8


def test_queue_throughput_spaces_liquidations_of_one_symbol() -> None:
    venue = _venue(liquidations_per_s=2)
    for i in range(4):
        _levered_long(venue, f"acct{i}", lots=200, wallet_usdt=160)
    _crash(venue, START + 2 * SECOND + 500_000_000, to_bid=593_000)
    venue.env.process(venue.mark_process(START + 10 * SECOND))
    venue.env.run()
    starts = [r.ts for r in venue.journal.records() if r.fields.get("step") == "dequeued"]
    assert len(starts) == 4
    # Two per second: each starts at least half a second after the one before.
    assert all(b - a >= SECOND // 2 for a, b in itertools.pairwise(starts))
    waits = [
        r.fields["wait_ns"] for r in venue.journal.records() if r.fields.get("step") == "dequeued"
    ]
    assert waits == sorted(waits) and waits[-1] >= Fraction(3, 2) * SECOND
    venue.ledger.check_conservation()
