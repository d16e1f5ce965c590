"""Engine inbound queue: service delay, depth, overload policy, seeded unknown-status timeouts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.sim.rng import make_stream
from harness.venue.gateway.engine_queue import (
    Admitted,
    EngineQueue,
    Kind,
    Overloaded,
    QueueSettings,
    Unknown,
)

T0 = 1_723_161_600_000_000_000
MS = 1_000_000


def queue(seed: int = 1, **settings: object) -> EngineQueue:
    return EngineQueue("BTCUSDT", QueueSettings(**settings), make_stream(seed, "engine_queue"))  # type: ignore[arg-type]


def test_burst_queues_up_and_adds_delay() -> None:
    q = queue(service_rate_per_s=1_000)  # 1 ms per message
    results = [q.admit(Kind.NEW_ORDER, T0) for _ in range(3)]
    assert results == [
        Admitted(T0 + MS, 0, 0),
        Admitted(T0 + 2 * MS, MS, 1),
        Admitted(T0 + 3 * MS, 2 * MS, 2),
    ]
    assert q.depth(T0 + MS) == 2
    assert q.depth(T0 + MS + 1) == 2
    assert q.depth(T0 + 3 * MS) == 0
    # After the queue drains, a message is served at once again.
    assert q.admit(Kind.CANCEL, T0 + 10 * MS) == Admitted(T0 + 11 * MS, 0, 0)


def test_service_time_rounds_up_to_whole_ns() -> None:
    assert QueueSettings(service_rate_per_s=3).service_ns == 333_333_334


def burst(q: EngineQueue, n: int, now: int) -> None:
    for _ in range(n):
        assert isinstance(q.admit(Kind.NEW_ORDER, now), Admitted)


def test_overload_rejects_new_orders_but_exits_and_cancels_pass() -> None:
    q = queue(service_rate_per_s=1_000, overload_depth=5)
    burst(q, 5, T0)
    assert q.admit(Kind.NEW_ORDER, T0) == Overloaded(5)
    assert q.admit(Kind.AMEND, T0) == Overloaded(5)
    exit_ = q.admit(Kind.EXIT, T0)
    assert isinstance(exit_, Admitted)
    assert exit_.completion_ns == T0 + 6 * MS
    assert isinstance(q.admit(Kind.CANCEL, T0), Admitted)
    assert isinstance(q.admit(Kind.QUERY, T0), Admitted)
    # Refusals take no service time: the queue drains on schedule.
    assert q.depth(T0 + 8 * MS) == 0
    assert isinstance(q.admit(Kind.NEW_ORDER, T0 + 8 * MS), Admitted)


def test_old_policy_rejects_exits_too() -> None:
    q = queue(service_rate_per_s=1_000, overload_depth=2, exits_pass_overload=False)
    burst(q, 2, T0)
    assert q.admit(Kind.EXIT, T0) == Overloaded(2)
    assert isinstance(q.admit(Kind.CANCEL, T0), Admitted)


def test_timeouts_answer_unknown_and_some_still_execute() -> None:
    q = queue(
        service_rate_per_s=1_000,
        overload_depth=None,
        timeout_ns=10 * MS,
        unknown_share=Fraction(1),
        unknown_executes=Fraction(1),
    )
    burst(q, 10, T0)
    late = q.admit(Kind.NEW_ORDER, T0)
    assert late == Unknown(T0 + 10 * MS, T0 + 11 * MS, 10)
    lost = queue(
        service_rate_per_s=1_000,
        overload_depth=None,
        timeout_ns=10 * MS,
        unknown_share=Fraction(1),
        unknown_executes=Fraction(0),
    )
    burst(lost, 10, T0)
    assert lost.admit(Kind.NEW_ORDER, T0) == Unknown(T0 + 10 * MS, None, 10)
    assert lost.depth(T0) == 10  # the lost message took no place in the queue


def test_timeouts_outside_the_unknown_share_just_wait() -> None:
    q = queue(service_rate_per_s=1_000, overload_depth=None, timeout_ns=MS, unknown_share=0)
    burst(q, 5, T0)
    assert q.admit(Kind.NEW_ORDER, T0) == Admitted(T0 + 6 * MS, 5 * MS, 5)


def outcomes(seed: int) -> list[str]:
    q = queue(seed, service_rate_per_s=1_000, overload_depth=None, timeout_ns=2 * MS)
    result = []
    for _ in range(200):
        a = q.admit(Kind.NEW_ORDER, T0)
        if isinstance(a, Unknown):
            result.append("lost" if a.completion_ns is None else "unknown")
        else:
            result.append("ok")
    return result


def test_unknown_status_is_seeded_and_reproducible() -> None:
    first = outcomes(7)
    assert first == outcomes(7)
    assert first != outcomes(8)
    assert first[:2] == ["ok", "ok"]  # within the timeout nothing is drawn
    assert {"ok", "unknown", "lost"} <= set(first)


@pytest.mark.parametrize(
    "bad",
    [
        {"service_rate_per_s": 0},
        {"overload_depth": 0},
        {"timeout_ns": 0},
        {"unknown_share": Fraction(3, 2)},
    ],
)
def test_bad_settings(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        QueueSettings(**bad)  # type: ignore[arg-type]


def test_depth_on_arrival_and_time_at_the_overload_depth() -> None:
    """1 ms a message, overload at depth 3: the queue is at depth >= 3 exactly while
    now < free_at - 2 ms."""
    q = queue(service_rate_per_s=1_000, overload_depth=3)
    burst(q, 3, T0)  # free at T0 + 3 ms: depth >= 3 until T0 + 1 ms
    assert q.overloaded_ns == MS
    assert q.admit(Kind.NEW_ORDER, T0) == Overloaded(3)  # refused: takes no service time
    assert isinstance(q.admit(Kind.EXIT, T0), Admitted)  # free at T0 + 4 ms: until T0 + 2 ms
    assert q.overloaded_ns == 2 * MS
    assert q.depth(T0 + 2 * MS - 1) == 3 and q.depth(T0 + 2 * MS) == 2
    assert q.admit(Kind.CANCEL, T0 + 10 * MS) == Admitted(T0 + 11 * MS, 0, 0)
    assert q.overloaded_ns == 2 * MS
    assert q.overloaded_until == T0 + 2 * MS
    assert q.arrival_depths == [0, 1, 2, 3, 3, 0]
