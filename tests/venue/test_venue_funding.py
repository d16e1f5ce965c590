"""Funding through the venue: premium sampled every 5 s, settled at 00:00 UTC, per account."""

from __future__ import annotations

from harness.journal import Journal
from harness.sim.clock import SimEnv, parse_instant
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Submit
from harness.venue.profiles.binance_usdm import BTCUSDT
from harness.venue.venue import Venue, VenueSettings

MID = 600_000  # 60,000.0 USDT


def _market_order(account: str, side: Side, qty: int) -> Submit:
    request = OrderRequest(
        account=account, side=side, qty=qty, type=OrderType.MARKET, tif=TimeInForce.IOC
    )
    return Submit("BTCUSDT", request)


def test_balanced_book_pays_the_interest_rate_at_the_funding_time() -> None:
    start = parse_instant("2024-08-08T23:59:40Z")
    end = parse_instant("2024-08-09T00:00:10Z")
    env = SimEnv(start, seed=3)
    venue = Venue(env, Journal(), {"BTCUSDT": BTCUSDT}, VenueSettings(mark_method="mid"))
    market = venue.markets["BTCUSDT"]
    for level in range(1, 41):
        market.depth(start, 1, MID - level + 1, 500)  # bids 600,000 and below
        market.depth(start, -1, MID + level, 500)  # asks 600,001 and above
    for name in ("long", "short"):
        venue.open_account(name, 10_000 * 10**8, leverage=20, isolated=False, fee_tier="regular")
    venue.on_request(_market_order("long", Side.BUY, 100))
    venue.on_request(_market_order("short", Side.SELL, 100))
    env.process(venue.mark_process(end))
    env.process(venue.funding_process(end))
    env.run()
    funding = [r for r in venue.journal.records() if r.kind == "funding"]
    # Settled once, at 00:00:00 exactly, for both accounts.
    assert {r.ts for r in funding} == {parse_instant("2024-08-09T00:00:00Z")}
    paid = {r.account: r.fields["paid"] for r in funding}
    # The premium is zero (impact prices straddle the index, here the mid), so F = I = 0.01%.
    assert {r.fields["rate_e8"] for r in funding} == {10_000}
    # Mid method: (600,000 + 600,001) / 2 rounds half up to 600,001 ticks = 60,000.1 USDT;
    # 0.1 BTC x 60,000.1 x 0.0001 = 0.600001 USDT, longs pay shorts.
    assert paid == {"long": 60_000_100, "short": -60_000_100}
    venue.ledger.check_conservation()


def test_index_is_recorded_else_the_scenario_proxy() -> None:
    start = parse_instant("2024-08-08T23:59:40Z")
    for proxy, expected in (("mid", None), ("last", 600_010)):
        venue = Venue(
            SimEnv(start, seed=1),
            Journal(),
            {"BTCUSDT": BTCUSDT},
            VenueSettings(index_proxy=proxy),
        )
        market = venue.markets["BTCUSDT"]
        market.trade(start, 600_010, 5, 1)
        assert market.index() == expected
        market.recorded_mark(start, 600_000, 599_990, None, None)
        assert market.index() == 599_990
