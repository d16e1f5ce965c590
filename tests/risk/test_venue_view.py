"""The monitor on a real venue: its view of the book and of margin, and an alert that comes
before a levered long is liquidated by the venue's own processes."""

from __future__ import annotations

from fractions import Fraction

from harness.assembly import monitor_settings
from harness.config.risk import RiskConfig
from harness.journal import Journal
from harness.risk.market_view import VenueMarketView
from harness.risk.monitor import RiskMonitor
from harness.sim.clock import SimEnv
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Submit
from harness.venue.profiles.binance_usdm import BTCUSDT
from harness.venue.venue import Venue, VenueSettings

START = 1_723_161_256_000_000_000
SECOND = 1_000_000_000
MID = 600_000  # 60,000.0 USDT


def _venue() -> Venue:
    venue = Venue(
        SimEnv(START, seed=5),
        Journal(),
        {"BTCUSDT": BTCUSDT},
        VenueSettings(mark_method="mid", insurance_fund_units=10_000 * 10**8),
    )
    market = venue.markets["BTCUSDT"]
    for level in range(1, 301):
        market.depth(START, 1, MID - level + 1, 2_000)
        market.depth(START, -1, MID + level, 2_000)
    return venue


def _crash(venue: Venue, at: int, to_bid: int) -> None:
    def pull() -> None:
        market = venue.markets["BTCUSDT"]
        for price in range(to_bid + 1, MID + 301):
            market.depth(at, 1, price, 0)
            market.depth(at, -1, price, 0)
        for level in range(1, 301):
            market.depth(at, 1, to_bid - level + 1, 2_000)
            market.depth(at, -1, to_bid + level, 2_000)

    venue.env.call_at(at, pull)


def test_the_view_reads_depth_near_the_touch_and_the_mid() -> None:
    view = VenueMarketView(_venue())
    # Bids 600,000 down, asks 600,001 up, 2,000 lots a tick: 11 levels within 10 ticks a side.
    assert view.depth_near_touch("BTCUSDT", 10) == (22_000, 22_000)
    assert view.depth_near_touch("BTCUSDT", 0) == (2_000, 2_000)
    assert view.mid2("BTCUSDT") == 1_200_001
    assert view.exposure("nobody") is None


def test_an_alert_on_the_whale_comes_before_its_liquidation() -> None:
    venue = _venue()
    env = venue.env
    config = monitor_settings(RiskConfig(baseline_samples=10, warmup_samples=2))
    monitor = RiskMonitor(env, venue.journal, VenueMarketView(venue), config)
    venue.open_account("whale", 800 * 10**8, leverage=100, isolated=False, fee_tier="regular")
    request = OrderRequest(
        account="whale", side=Side.BUY, qty=1_000, type=OrderType.MARKET, tif=TimeInForce.IOC
    )
    venue.on_request(Submit("BTCUSDT", request))
    _crash(venue, START + 3 * SECOND + 500_000_000, to_bid=595_200)  # ratio ~0.83
    _crash(venue, START + 6 * SECOND + 500_000_000, to_bid=593_000)  # due
    end = START + 12 * SECOND
    env.process(venue.mark_process(end))
    env.process(monitor.process(end))
    env.run()
    records = list(venue.journal.records())
    queued = next(r for r in records if r.fields.get("step") == "queued")
    alert = next(r for r in records if r.kind == "risk_alert" and r.account == "whale")
    assert alert.ts == START + 4 * SECOND < queued.ts == START + 7 * SECOND
    assert alert.fields["feature_1"] == "margin_ratio"
    # At 4 s, ranked: the mark's 4,800-tick fall against a still baseline, the venue (its only
    # position is near margin), then the whale (ratio 0.82 against 0.31 with a floor of 0.05).
    first = [(r.account, r.symbol, r.fields["rank"]) for r in records if r.kind == "risk_alert"]
    assert first[:3] == [("", "BTCUSDT", 1), ("", "", 2), ("whale", "", 3)]
    # The alert's value is the margin call's ratio at the same mark, in ppm.
    call = next(r for r in records if r.kind == "margin_call" and r.account == "whale")
    assert alert.fields["value_1"] == int(Fraction(str(call.fields["ratio"])) * 1_000_000)
