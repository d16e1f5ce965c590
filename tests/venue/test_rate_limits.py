"""Rate limits: epoch-aligned windows, counters at window edges, 429, strikes and 418 bans."""

from __future__ import annotations

import pytest

from harness.venue.gateway.rate_limits import (
    BANNED,
    MINUTE_NS,
    NS_PER_S,
    OK,
    TEN_S_NS,
    TOO_MANY,
    Endpoint,
    Limit,
    Limits,
    RateLimiter,
    RateLimitSettings,
)

T0 = 1_723_161_600 * NS_PER_S  # 2024-08-09T00:00:00Z, a minute (and 10 s) boundary
MS = 1_000_000


def limiter(**settings: object) -> RateLimiter:
    """Without the strike grace unless asked, so strikes can be ns apart."""
    settings.setdefault("strike_grace_ns", 0)
    return RateLimiter(RateLimitSettings(**settings))  # type: ignore[arg-type]


def test_place_costs_an_order_and_no_weight() -> None:
    rl = limiter()
    d = rl.check("acct", "ip", Endpoint.PLACE, T0)
    assert (d.status, d.weight_1m, d.orders_10s, d.orders_1m) == (OK, 0, 1, 1)
    d = rl.check("acct", "ip", Endpoint.CANCEL, T0)
    assert (d.status, d.weight_1m, d.orders_10s, d.orders_1m) == (OK, 1, 1, 1)
    d = rl.check("acct", "ip", Endpoint.OPEN_ORDERS, T0)
    assert d.weight_1m == 11


def test_orders_10s_429_at_window_edge_counts_and_retry_after() -> None:
    rl = limiter(limits=Limits(orders_10s=3))
    for i in range(3):
        assert rl.check("a", "ip", Endpoint.PLACE, T0 + i).ok
    last = T0 + TEN_S_NS - 1
    d = rl.check("a", "ip", Endpoint.PLACE, last)
    assert d.status == TOO_MANY
    assert d.limit is Limit.ORDERS_10S
    assert d.retry_after_ns == 1  # the 10 s window aligned to the epoch ends 1 ns later
    assert (d.weight_1m, d.orders_10s, d.orders_1m) == (0, 3, 3)  # refused requests do not count
    d = rl.check("a", "ip", Endpoint.PLACE, T0 + TEN_S_NS)
    assert d.ok
    assert (d.orders_10s, d.orders_1m) == (1, 4)  # new 10 s window, same minute


def test_windows_are_aligned_to_the_epoch_not_to_the_first_request() -> None:
    rl = limiter(limits=Limits(orders_10s=1))
    start = T0 + 9 * NS_PER_S
    assert rl.check("a", "ip", Endpoint.PLACE, start).ok
    d = rl.check("a", "ip", Endpoint.PLACE, start + 1)
    assert d.retry_after_ns == NS_PER_S - 1
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + TEN_S_NS).ok


def test_weight_limit_is_per_ip_orders_per_account() -> None:
    rl = limiter(limits=Limits(weight_1m=2, orders_10s=1))
    assert rl.check("a", "ip1", Endpoint.CANCEL, T0).ok
    assert rl.check("b", "ip1", Endpoint.CANCEL, T0).ok
    d = rl.check("c", "ip1", Endpoint.CANCEL, T0 + 5)
    assert (d.status, d.limit, d.weight_1m) == (TOO_MANY, Limit.WEIGHT_1M, 2)
    assert d.retry_after_ns == MINUTE_NS - 5
    assert rl.check("c", "ip2", Endpoint.CANCEL, T0).ok
    assert rl.check("a", "ip1", Endpoint.PLACE, T0).ok
    assert rl.check("b", "ip1", Endpoint.PLACE, T0).ok  # orders count per account
    assert not rl.check("a", "ip2", Endpoint.PLACE, T0).ok


def test_retry_after_is_the_longest_broken_window() -> None:
    rl = limiter(limits=Limits(orders_10s=5, orders_1m=5))
    for _ in range(5):
        assert rl.check("a", "ip", Endpoint.PLACE, T0).ok
    d = rl.check("a", "ip", Endpoint.PLACE, T0 + 2 * NS_PER_S)
    assert d.limit is Limit.ORDERS_1M
    assert d.retry_after_ns == MINUTE_NS - 2 * NS_PER_S


def test_cancel_passes_during_an_order_count_429_and_is_no_strike() -> None:
    rl = limiter(limits=Limits(orders_10s=1), strikes_before_ban=1)
    assert rl.check("a", "ip", Endpoint.PLACE, T0).ok
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 1).status == TOO_MANY
    assert rl.check("a", "ip", Endpoint.CANCEL, T0 + 2).ok
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 3).status == BANNED


def test_sliding_window_counts_the_last_window() -> None:
    rl = limiter(limits=Limits(orders_10s=2), sliding=True)
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 9 * NS_PER_S).ok
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 9 * NS_PER_S + 500 * MS).ok
    edge = T0 + 10 * NS_PER_S
    d = rl.check("a", "ip", Endpoint.PLACE, edge)  # a fixed window would have reset here
    assert (d.status, d.orders_10s) == (TOO_MANY, 2)
    assert d.retry_after_ns == 9 * NS_PER_S  # the oldest leaves at 19 s
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 19 * NS_PER_S).ok


def test_sliding_retry_after_waits_for_enough_room() -> None:
    rl = limiter(limits=Limits(weight_1m=20), sliding=True)
    assert rl.check("a", "ip", Endpoint.OPEN_ORDERS, T0).ok
    assert rl.check("a", "ip", Endpoint.OPEN_ORDERS, T0 + NS_PER_S).ok
    assert rl.check("a", "ip", Endpoint.CANCEL, T0 + 2 * NS_PER_S).status == TOO_MANY
    d = rl.check("a", "ip", Endpoint.OPEN_ORDERS, T0 + 2 * NS_PER_S)
    assert d.retry_after_ns == MINUTE_NS - 2 * NS_PER_S


def test_ban_durations_double_and_cap() -> None:
    base, cap = 2 * MINUTE_NS, 10 * MINUTE_NS
    rl = limiter(
        limits=Limits(orders_10s=1), strikes_before_ban=2, ban_base_ns=base, ban_cap_ns=cap
    )
    now = T0
    bans = []
    for _ in range(5):
        assert rl.check("a", "ip", Endpoint.PLACE, now).ok
        first = rl.check("a", "ip", Endpoint.PLACE, now + 1)
        assert first.status == TOO_MANY
        strike = rl.check("a", "ip", Endpoint.PLACE, now + 2)
        assert strike.status == TOO_MANY  # one strike is tolerated (in-flight requests)
        ban = rl.check("a", "ip", Endpoint.PLACE, now + 3)
        assert ban.status == BANNED
        assert ban.retry_after_ns == ban.ban_ns
        bans.append(ban.ban_ns)
        during = rl.check("a", "ip", Endpoint.CANCEL, now + 4)
        assert (during.status, during.limit) == (BANNED, Limit.IP_BANNED)
        assert during.retry_after_ns == ban.ban_ns - 1
        # After the ban, the next 10 s window is fresh.
        now = now + 3 + ban.ban_ns
        now += TEN_S_NS - now % TEN_S_NS
    assert bans == [base, 2 * base, 4 * base, cap, cap]


def test_waiting_out_retry_after_resets_strikes() -> None:
    rl = limiter(limits=Limits(orders_10s=1), strikes_before_ban=2)
    assert rl.check("a", "ip", Endpoint.PLACE, T0).ok
    d = rl.check("a", "ip", Endpoint.PLACE, T0 + 1)
    assert d.status == TOO_MANY
    # A careful client waits the Retry-After out: the window is fresh and nothing escalates.
    again = T0 + 1 + d.retry_after_ns
    assert rl.check("a", "ip", Endpoint.PLACE, again).ok
    assert rl.check("a", "ip", Endpoint.PLACE, again + 1).status == TOO_MANY
    assert rl.check("a", "ip", Endpoint.PLACE, again + TEN_S_NS).ok


def test_429s_within_the_grace_of_the_first_are_no_strikes() -> None:
    rl = limiter(limits=Limits(orders_10s=1), strikes_before_ban=1, strike_grace_ns=NS_PER_S)
    assert rl.check("a", "ip", Endpoint.PLACE, T0).ok
    for i in range(1, 20):  # the rest of a burst, and requests sent before the 429 was read
        assert rl.check("a", "ip", Endpoint.PLACE, T0 + i * MS).status == TOO_MANY
    assert rl.check("a", "ip", Endpoint.PLACE, T0 + 1 * MS + NS_PER_S).status == BANNED


@pytest.mark.parametrize(
    "bad", [{"strikes_before_ban": 0}, {"ban_base_ns": 0}, {"strike_grace_ns": -1}]
)
def test_bad_settings(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        RateLimitSettings(**bad)  # type: ignore[arg-type]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Limits(orders_10s=0)
