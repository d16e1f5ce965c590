"""Tightening schedules: fixed steps, volatility and queue-depth rules, journaled changes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.journal import LIMITS_CHANGED
from harness.sim.clock import NS_PER_S, parse_instant
from harness.sim.rng import make_stream
from harness.venue.exchange.orders import OrderRequest, Side
from harness.venue.exchange.requests import Submit
from harness.venue.gateway.engine_queue import EngineQueue, QueueSettings
from harness.venue.gateway.gateway import ApiKey, ApiRequest, Forward, Gateway, ThrottleRecord
from harness.venue.gateway.rate_limits import Limits, RateLimiter
from harness.venue.gateway.tightening import (
    QueueDepthRule,
    Step,
    TighteningSchedule,
    VolatilityRule,
)

BASE = Limits()
T0 = parse_instant("2024-08-08T23:57:00Z")
TENTH = Fraction(1, 10)


def test_fixed_steps_apply_from_their_time_and_are_journaled() -> None:
    records: list[ThrottleRecord] = []
    tight = Limits(orders_10s=50)
    schedule = TighteningSchedule(
        BASE,
        [Step(T0 + 120 * NS_PER_S, BASE), Step(T0, tight)],
        record=records.append,
    )
    assert schedule.limits(T0 - 1) == BASE
    assert records == []
    assert schedule.limits(T0 + 5) == tight
    assert schedule.limits(T0 + 6) == tight  # no change, no record
    assert schedule.limits(T0 + 120 * NS_PER_S) == BASE
    assert [(r.ts, r.kind, r.fields["orders_10s"], r.fields["since_ns"]) for r in records] == [
        (T0 + 5, LIMITS_CHANGED, 50, T0),
        (T0 + 120 * NS_PER_S, LIMITS_CHANGED, 300, T0 + 120 * NS_PER_S),
    ]
    assert records[0].fields["cause"] == "schedule"


def test_volatility_rule_tightens_until_volatility_falls_back() -> None:
    records: list[ThrottleRecord] = []
    rule = VolatilityRule(window_ns=10 * NS_PER_S, threshold=Fraction(1, 100), factor=TENTH)
    schedule = TighteningSchedule(BASE, rules=[rule], record=records.append)
    price = 600_000
    for i in range(5):  # calm: 1 tick moves
        schedule.observe_mark("BTCUSDT", price + i % 2, T0 + i * NS_PER_S)
    assert schedule.limits(T0 + 5 * NS_PER_S) == BASE
    schedule.observe_mark("BTCUSDT", price * 99 // 100, T0 + 6 * NS_PER_S)  # -1%: exactly at it
    assert schedule.limits(T0 + 6 * NS_PER_S) == Limits(240, 30, 120)
    assert records[-1].fields["cause"] == "volatility"
    assert records[-1].fields["factor_den"] == 10
    # The input at that moment: sqrt(0.01^2 + four 1-tick returns^2) = 0.0100000006 -> 10000.
    assert records[-1].fields["volatility_e6"] == 10_000
    # The shock leaves the 10 s window: limits come back without another mark.
    assert schedule.limits(T0 + 16 * NS_PER_S - 1) == Limits(240, 30, 120)
    assert schedule.limits(T0 + 16 * NS_PER_S) == BASE
    assert len(records) == 2


def test_queue_depth_rule_and_rules_multiply() -> None:
    schedule = TighteningSchedule(
        BASE,
        [Step(T0, Limits(orders_10s=50))],
        rules=[
            QueueDepthRule(threshold=100, factor=Fraction(1, 2)),
            QueueDepthRule(threshold=1_000, factor=Fraction(1, 100)),
        ],
    )
    schedule.observe_depth("BTCUSDT", 150, T0)
    assert schedule.limits(T0) == Limits(1_200, 25, 600)
    schedule.observe_depth("ETHUSDT", 5_000, T0)
    assert schedule.limits(T0) == Limits(12, 1, 6)  # rounded down, never below 1
    schedule.observe_depth("ETHUSDT", 0, T0)
    schedule.observe_depth("BTCUSDT", 99, T0)
    assert schedule.limits(T0) == Limits(orders_10s=50)


def test_gateway_uses_the_schedule_and_reports_queue_depth() -> None:
    records: list[ThrottleRecord] = []
    schedule = TighteningSchedule(
        BASE, rules=[QueueDepthRule(threshold=2, factor=TENTH)], record=records.append
    )
    slow = QueueSettings(service_rate_per_s=1, overload_depth=None, timeout_ns=10**12)
    queue = EngineQueue("BTCUSDT", slow, make_stream(0, "q"))
    keys = [ApiKey("k", "a")]
    gw = Gateway(keys, RateLimiter(), {"BTCUSDT": queue}, limits=schedule, record=records.append)
    outcomes = []
    for i in range(40):
        request = OrderRequest(account="a", side=Side.BUY, qty=1, price=1, client_id=f"c{i}")
        outcomes.append(gw.on_request(ApiRequest("k", "ip", i, Submit("BTCUSDT", request)), T0))
    # Two orders deepen the queue to the rule's threshold; from then on 30 per 10 s in all.
    assert sum(isinstance(o[0], Forward) for o in outcomes) == 30
    kinds = [r.kind for r in records]
    assert kinds[0] == LIMITS_CHANGED
    assert records[0].fields["cause"] == "queue_depth"
    assert records[0].fields["queue_depth"] == 2  # the input that tripped it
    assert kinds[1:] == ["request_throttled"] * 10


@pytest.mark.parametrize(
    "make",
    [
        lambda: VolatilityRule(0, Fraction(1), TENTH),
        lambda: VolatilityRule(1, Fraction(0), TENTH),
        lambda: QueueDepthRule(0, TENTH),
        lambda: QueueDepthRule(1, Fraction(0)),
    ],
)
def test_bad_rules(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
