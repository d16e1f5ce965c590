"""Each guardrail wired into the venue trips at hand-picked inputs and is journaled with them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.assembly import guardrail_settings
from harness.config.scenario import loads_scenario
from harness.journal import Journal, Record
from harness.sim.clock import SimEnv
from harness.venue.exchange.orders import OrderRequest, OrderType, Side, TimeInForce
from harness.venue.exchange.requests import Amend, Submit
from harness.venue.guardrails.catalog import ScheduledChange
from harness.venue.guardrails.gate import GuardrailSettings
from harness.venue.profiles.binance_usdm import BTCUSDT
from harness.venue.venue import Venue, VenueSettings

START = 1_723_161_256_000_000_000
SECOND = 1_000_000_000
MID = 600_000  # best bid 60,000.0 USDT; the mark (method "mid") is 600,000.5 ticks -> 600,001


def _venue(guardrails: GuardrailSettings) -> Venue:
    env = SimEnv(START, seed=5)
    venue = Venue(
        env,
        Journal(),
        {"BTCUSDT": BTCUSDT},
        VenueSettings(
            mark_method="mid", insurance_fund_units=10_000 * 10**8, guardrails=guardrails
        ),
    )
    _quote(venue, START, MID)
    return venue


def _quote(venue: Venue, ts: int, bid: int, old_bid: int | None = None) -> None:
    market = venue.markets["BTCUSDT"]
    if old_bid is not None:
        for level in range(1, 301):
            market.depth(ts, 1, old_bid - level + 1, 0)
            market.depth(ts, -1, old_bid + level, 0)
    for level in range(1, 301):
        market.depth(ts, 1, bid - level + 1, 2_000)
        market.depth(ts, -1, bid + level, 2_000)


def _order(account: str, side: Side, lots: int, price: int | None = None, **kw: object) -> Submit:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    tif = TimeInForce.IOC if price is None else TimeInForce.GTC
    request = OrderRequest(
        account=account, side=side, qty=lots, type=kind, price=price, tif=tif, **kw
    )  # type: ignore[arg-type]
    return Submit("BTCUSDT", request)


def _run(venue: Venue, seconds: int) -> list[Record]:
    venue.env.process(venue.mark_process(START + seconds * SECOND))
    venue.env.run()
    return list(venue.journal.records())


def _guardrails(records: list[Record]) -> list[Record]:
    return [r for r in records if r.kind == "guardrail"]


def _rejections(records: list[Record]) -> list[str]:
    return [str(r.fields["reason"]) for r in records if r.kind == "order_rejected"]


def test_price_band_rejection_is_journaled_with_mark_and_bounds() -> None:
    venue = _venue(GuardrailSettings())
    venue.open_account("a", 10_000 * 10**8, leverage=10, isolated=False, fee_tier="regular")
    # At 2.5 s the mark is 600,001: the 5% band is [570,001, 630,001]; a buy may not pass the top.
    submit = _order("a", Side.BUY, 10, price=630_002, client_id="far")
    venue.env.call_at(START + 2_500_000_000, lambda: venue.on_request(submit))
    records = _run(venue, 4)
    (trip,) = _guardrails(records)
    assert trip.fields["guardrail"] == "price_band"
    assert (trip.fields["price"], trip.fields["mark"], trip.fields["side"]) == (630_002, 600_001, 1)
    assert (trip.fields["low"], trip.fields["high"]) == (570_001, 630_001)
    assert _rejections(records) == ["PRICE_BAND"]
    # The trip comes right before the rejection it explains.
    kinds = [r.kind for r in records]
    assert kinds[kinds.index("guardrail") + 1] == "order_rejected"


def test_max_position_refuses_a_position_past_the_bracket_cap() -> None:
    venue = _venue(GuardrailSettings())
    venue.open_account("a", 100_000 * 10**8, leverage=100, isolated=False, fee_tier="regular")
    # 100x is allowed up to 800,000 USDT: 13,334 lots at 60,000 is 800,040.
    too_big = _order("a", Side.BUY, 13_334, price=MID)
    venue.env.call_at(START + 2_500_000_000, lambda: venue.on_request(too_big))
    records = _run(venue, 4)
    (trip,) = _guardrails(records)
    assert trip.fields["guardrail"] == "max_position"
    assert (trip.fields["leverage"], trip.fields["position"]) == (100, 13_334)
    assert (trip.fields["notional"], trip.fields["cap"]) == ("800040", "800000")
    assert _rejections(records) == ["MAX_POSITION"]
    assert venue.ledger.position("a", "BTCUSDT").qty == 0


def test_circuit_breaker_halts_order_entry_and_liquidations_until_it_ends() -> None:
    settings = GuardrailSettings(
        circuit_breaker_move=Fraction(1, 100),
        circuit_breaker_window_ns=10 * SECOND,
        circuit_breaker_halt_ns=5 * SECOND,
    )
    venue = _venue(settings)
    venue.open_account("whale", 800 * 10**8, leverage=100, isolated=False, fee_tier="regular")
    venue.on_request(_order("whale", Side.BUY, 1_000))  # 1 BTC at ~60,000, 100x
    venue.open_account("b", 10_000 * 10**8, leverage=10, isolated=False, fee_tier="regular")
    # At 3.5 s the book drops 1.2%: the mark at 4 s (592,801) trips the breaker.
    venue.env.call_at(START + 3_500_000_000, lambda: _quote(venue, venue.env.now, 592_800, MID))
    halted = _order("b", Side.BUY, 10, price=592_000, client_id="halted")
    venue.env.call_at(START + 5 * SECOND, lambda: venue.on_request(halted))
    amend = Amend("BTCUSDT", "b", "halted", price=592_001)
    venue.env.call_at(START + 5 * SECOND, lambda: venue.on_request(amend))
    after = _order("b", Side.BUY, 10, price=592_000, client_id="after")
    venue.env.call_at(START + 10 * SECOND, lambda: venue.on_request(after))
    records = _run(venue, 12)
    (trip,) = _guardrails(records)
    assert trip.fields["guardrail"] == "circuit_breaker"
    assert trip.ts == START + 4 * SECOND
    assert (trip.fields["mark"], trip.fields["reference_mark"]) == (592_801, 600_001)
    assert trip.fields["halted_until"] == START + 9 * SECOND
    rejected = [r for r in records if r.kind == "order_rejected"]
    assert [(r.fields["client_id"], r.fields["reason"]) for r in rejected] == [
        ("halted", "HALTED"),
        ("halted", "UNKNOWN_ORDER"),
    ]
    assert any(r.kind == "order_accepted" and r.fields["client_id"] == "after" for r in records)
    # The whale fell due at 4 s but its liquidation waited for the end of the halt.
    queued = [r for r in records if r.kind == "liquidation" and r.fields.get("step") == "queued"]
    started = [r for r in records if r.kind == "liquidation" and r.fields.get("step") == "dequeued"]
    assert queued[0].ts == START + 4 * SECOND
    assert started[0].ts == START + 9 * SECOND
    venue.ledger.check_conservation()


def test_reduce_only_mode_refuses_increases_above_the_ratio_and_lets_reductions_through() -> None:
    venue = _venue(GuardrailSettings(reduce_only_ratio=Fraction(1, 2)))
    venue.open_account("a", 800 * 10**8, leverage=100, isolated=False, fee_tier="regular")
    venue.on_request(_order("a", Side.BUY, 1_000))  # maintenance ~240, balance ~770: 31%
    # At 2.5 s the book drops to 59,700: balance ~470, ratio ~0.51.
    venue.env.call_at(START + 2_500_000_000, lambda: _quote(venue, venue.env.now, 597_000, MID))
    more = _order("a", Side.BUY, 10, price=597_000, client_id="more")
    less = _order("a", Side.SELL, 10, price=597_001, client_id="less", reduce_only=True)
    venue.env.call_at(START + 3_500_000_000, lambda: venue.on_request(more))
    venue.env.call_at(START + 3_500_000_000, lambda: venue.on_request(less))
    records = _run(venue, 5)
    (trip,) = _guardrails(records)
    assert trip.fields["guardrail"] == "reduce_only_mode"
    assert trip.fields.get("client_id") is None and trip.account == "a"
    assert Fraction(str(trip.fields["ratio"])) >= Fraction(1, 2)
    assert Fraction(str(trip.fields["ratio"])) == Fraction(
        int(trip.fields["maintenance"]), int(trip.fields["margin_balance"])
    )
    assert _rejections(records) == ["REDUCE_ONLY_MODE"]
    assert any(r.kind == "order_accepted" and r.fields["client_id"] == "less" for r in records)


def test_bracket_schedule_applies_on_the_first_mark_from_its_time() -> None:
    cut = ScheduledChange(START + 2_500_000_000, "BTCUSDT", max_leverage=20)
    venue = _venue(GuardrailSettings(schedule=(cut,)))
    records = _run(venue, 5)
    (trip,) = _guardrails(records)
    assert trip.fields["guardrail"] == "bracket_schedule"
    assert trip.ts == START + 3 * SECOND and trip.fields["scheduled_ns"] == cut.at_ns
    assert trip.fields["max_leverage"] == 20
    assert venue.ledger.instrument("BTCUSDT").brackets.tiers[0].max_leverage == 20


def test_guardrails_section_reads_into_venue_settings_and_names_bad_entries() -> None:
    scenario = loads_scenario(
        """
        [data]
        symbols = ["BTCUSDT"]
        [guardrails]
        max_position = "off"
        circuit_breaker_move = "5%"
        circuit_breaker_window_ms = 30000
        reduce_only_ratio = 0.9
        [[guardrails.schedule]]
        at = "2024-08-08T00:00:00Z"
        symbol = "BTCUSDT"
        brackets = "binance-btcusdt-2021"
        max_leverage = 20
        """
    )
    settings = guardrail_settings(scenario.guardrails, ("BTCUSDT",))
    assert not settings.max_position
    assert settings.circuit_breaker_move == Fraction(1, 20)
    assert settings.circuit_breaker_window_ns == 30 * SECOND
    assert settings.reduce_only_ratio == Fraction(9, 10)
    (change,) = settings.schedule
    assert change.brackets is not None and change.brackets.name == "binance-btcusdt-2021"
    with pytest.raises(ValueError, match=r"guardrails.schedule\[0\].symbol"):
        guardrail_settings(scenario.guardrails, ("ETHUSDT",))
    bad = loads_scenario('[[guardrails.schedule]]\nat = 0\nsymbol = "BTCUSDT"\nbrackets = "x"\n')
    with pytest.raises(ValueError, match=r"guardrails.schedule\[0\].brackets"):
        guardrail_settings(bad.guardrails, ("BTCUSDT",))
