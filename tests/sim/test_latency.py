"""Links deliver after seeded, integer delays, never out of order; models have the right shape."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Generator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import simpy

from harness.sim.clock import NS_PER_MS, SimEnv
from harness.sim.latency import (
    Constant,
    LatencyModel,
    Link,
    LinkLatencies,
    LogNormal,
    Quantiles,
    Scheduled,
    Window,
    agent_links,
)
from harness.sim.rng import make_stream

START = 1_723_161_256_000_000_000


def _run_link(model: LatencyModel, sends: list[int], seed: int = 1) -> list[tuple[int, int, int]]:
    """(message, send time, delivery time) for messages sent at the given offsets from START."""
    env = SimEnv(START, seed)
    delivered: list[tuple[int, int]] = []
    link: Link[int] = Link(env, "a/orders", model, lambda m: delivered.append((m, env.now)))
    sent: dict[int, int] = {}

    def sender(env: SimEnv) -> Generator[simpy.Event, Any, None]:
        for i, offset in enumerate(sends):
            yield env.timeout_at(START + offset)
            sent[i] = env.now
            link.send(i)

    env.process(sender(env))
    env.run()
    return [(m, sent[m], at) for m, at in delivered]


def _jittery_sends(n: int) -> list[int]:
    gaps = make_stream(99, "test:gaps").integers(0, 3 * NS_PER_MS, n)
    return np.cumsum(gaps).tolist()  # type: ignore[no-any-return]


def test_fifo_under_heavy_tailed_latency() -> None:
    model = LogNormal(median_ns=5 * NS_PER_MS, sigma=1.5)
    result = _run_link(model, _jittery_sends(3_000))
    assert [m for m, _, _ in result] == list(range(3_000))
    deliveries = [at for _, _, at in result]
    assert deliveries == sorted(deliveries)
    assert all(type(at) is int and at >= sent for _, sent, at in result)
    # The pressure to reorder was real: many messages were held back behind a slower one.
    held_back = sum(1 for a, b in itertools.pairwise(deliveries) if a == b)
    assert held_back > 300


def test_delivery_is_max_of_sampled_arrival_and_previous_delivery() -> None:
    model = LogNormal(median_ns=5 * NS_PER_MS, sigma=1.0)
    sends = _jittery_sends(500)
    result = _run_link(model, sends)
    sampler = model.sampler(make_stream(1, "link:a/orders"))
    previous = 0
    for _, sent, at in result:
        expected = max(sent + sampler(sent), previous)
        assert at == expected
        previous = expected


def test_same_nanosecond_keeps_send_order() -> None:
    result = _run_link(Constant(NS_PER_MS), [0, 0, 0, 5, 5])
    assert [m for m, _, _ in result] == [0, 1, 2, 3, 4]
    assert [at - START for _, _, at in result] == [NS_PER_MS] * 3 + [NS_PER_MS + 5] * 2


def test_window_raises_latency_only_inside_it() -> None:
    window = Window(START + 10 * NS_PER_MS, START + 20 * NS_PER_MS, add_ns=50 * NS_PER_MS)
    model = Scheduled(Constant(NS_PER_MS), (window,))
    offsets = [0, 9 * NS_PER_MS, 10 * NS_PER_MS, 15 * NS_PER_MS, 19 * NS_PER_MS, 20 * NS_PER_MS]
    sampler = model.sampler(make_stream(0, "x"))
    delays = [sampler(START + offset) for offset in offsets]
    assert delays == [NS_PER_MS, NS_PER_MS, *[51 * NS_PER_MS] * 3, NS_PER_MS]


def test_window_multiplies_then_adds_and_windows_compose() -> None:
    doubled = Window(START, START + 10, multiply=Fraction(5, 2))
    plus = Window(START + 5, START + 10, add_ns=7)
    sampler = Scheduled(Constant(1_001), (doubled, plus)).sampler(make_stream(0, "x"))
    assert sampler(START) == 2_502  # floor(1001 x 2.5)
    assert sampler(START + 5) == 2_509
    assert sampler(START + 10) == 1_001


def test_messages_sent_after_a_slow_window_queue_behind_it() -> None:
    window = Window(START, START + NS_PER_MS, add_ns=100 * NS_PER_MS)
    model = Scheduled(Constant(NS_PER_MS), (window,))
    result = _run_link(model, [0, 2 * NS_PER_MS])
    assert [at - START for _, _, at in result] == [101 * NS_PER_MS, 101 * NS_PER_MS]


def test_determinism_across_runs_and_seeds() -> None:
    model = Quantiles(ns=(NS_PER_MS, 2 * NS_PER_MS, 40 * NS_PER_MS), q=(0.0, 0.9, 1.0))
    sends = _jittery_sends(200)
    assert _run_link(model, sends, seed=5) == _run_link(model, sends, seed=5)
    assert _run_link(model, sends, seed=5) != _run_link(model, sends, seed=6)


def test_lognormal_median_and_spread() -> None:
    sampler = LogNormal(median_ns=5 * NS_PER_MS, sigma=0.5).sampler(make_stream(3, "ln"))
    samples = [sampler(START) for _ in range(20_001)]
    assert all(type(s) is int and s > 0 for s in samples)
    assert statistics.median(samples) == pytest.approx(5 * NS_PER_MS, rel=0.02)
    log_sd = statistics.stdev(np.log(samples).tolist())
    assert log_sd == pytest.approx(0.5, rel=0.03)


def test_quantiles_sampling_matches_points_and_interpolates() -> None:
    model = Quantiles(ns=(1_000, 2_000, 10_000, 100_000), q=(0.0, 0.5, 0.9, 1.0))
    sampler = model.sampler(make_stream(4, "q"))
    samples = sorted(sampler(START) for _ in range(20_000))
    assert samples[0] >= 1_000
    assert samples[-1] <= 100_000
    assert statistics.median(samples) == pytest.approx(2_000, rel=0.03)
    assert samples[int(0.9 * len(samples))] == pytest.approx(10_000, rel=0.05)
    # Linear in between: the 0.25 quantile is half way from 1_000 to 2_000.
    assert samples[len(samples) // 4] == pytest.approx(1_500, rel=0.03)


def test_delivery_into_a_store() -> None:
    env = SimEnv(START)
    store = simpy.Store(env)
    link: Link[str] = Link(env, "b/responses", Constant(3), store)
    got: list[tuple[int, str]] = []

    def reader(env: SimEnv) -> Generator[simpy.Event, Any, None]:
        for _ in range(2):
            item = yield store.get()
            got.append((env.now, item))

    env.process(reader(env))
    link.send("ack")
    link.send("fill")
    env.run()
    assert got == [(START + 3, "ack"), (START + 3, "fill")]


def test_adding_an_agent_leaves_other_agents_latency_unchanged() -> None:
    lognormal = LogNormal(median_ns=NS_PER_MS, sigma=0.8)
    latencies = LinkLatencies(lognormal, lognormal, lognormal)

    def orders_delays(agents: list[str]) -> list[int]:
        env = SimEnv(START, seed=11)
        links = {
            name: agent_links(
                env, name, latencies, market_data=print, orders=print, responses=print
            )
            for name in agents
        }
        return [links["mm"].orders.send(i) - START for i in range(20)]

    assert orders_delays(["mm"]) == orders_delays(["taker", "mm", "other"])


@pytest.mark.parametrize(
    "build",
    [
        lambda: Constant(-1),
        lambda: LogNormal(1, -0.1),
        lambda: LogNormal(1, float("inf")),
        lambda: Quantiles((1,), (0.0,)),
        lambda: Quantiles((1, 2), (0.0, 0.5)),
        lambda: Quantiles((1, 2, 3), (0.0, 0.5, 0.5)),
        lambda: Quantiles((2, 1), (0.0, 1.0)),
        lambda: Window(10, 10),
        lambda: Window(0, 10, add_ns=-1),
    ],
)
def test_impossible_models_refused(build: Any) -> None:
    with pytest.raises(ValueError):
        build()
