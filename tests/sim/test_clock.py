"""The clock runs on integer ns and refuses floats; time parsing is exact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy

from harness.sim.clock import NS_PER_MS, SimEnv, iso, parse_instant, to_ns

START = 1_723_161_256_000_000_000


def test_clock_starts_at_start_ns_and_stays_integer() -> None:
    env = SimEnv(START)
    seen: list[int] = []

    def proc(env: SimEnv) -> Generator[simpy.Event, Any, None]:
        for delay in (1, 2_000_000, np.int64(7)):
            yield env.timeout(delay)  # type: ignore[arg-type]
            seen.append(env.now)

    env.process(proc(env))
    env.run()
    assert seen == [START + 1, START + 2_000_001, START + 2_000_008]
    assert all(type(t) is int for t in seen)


@pytest.mark.parametrize("bad", [1.5, 1.0, "5", True])
def test_timeout_refuses_non_integers(bad: object) -> None:
    env = SimEnv(START)
    with pytest.raises(TypeError, match="integer nanoseconds"):
        env.timeout(bad)  # type: ignore[arg-type]


def test_run_until_refuses_float() -> None:
    env = SimEnv(START)
    with pytest.raises(TypeError, match="integer nanoseconds"):
        env.run(until=START + 1.5)  # type: ignore[arg-type]


def test_start_must_be_integer() -> None:
    with pytest.raises(TypeError):
        SimEnv(1.7e18)  # type: ignore[arg-type]


def test_absolute_scheduling_and_ties_in_scheduling_order() -> None:
    env = SimEnv(START)
    log: list[tuple[int, str]] = []
    env.call_at(START + 10, lambda: log.append((env.now, "b")))
    env.call_at(START + 5, lambda: log.append((env.now, "a")))
    env.call_at(START + 10, lambda: log.append((env.now, "c")))
    env.run(until=START + 100)
    assert log == [(START + 5, "a"), (START + 10, "b"), (START + 10, "c")]
    assert env.now == START + 100
    with pytest.raises(ValueError, match="already at"):
        env.timeout_at(START + 99)


def test_timeout_at_in_a_process() -> None:
    env = SimEnv(START)

    def proc(env: SimEnv) -> Generator[simpy.Event, Any, None]:
        value = yield env.timeout_at(START + 3 * NS_PER_MS, "hello")
        assert value == "hello"
        assert env.now == START + 3 * NS_PER_MS

    done = env.process(proc(env))
    env.run(until=done)
    assert done.ok


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2024-08-08T23:54:16Z", START),
        ("2024-08-08T23:54:16", START),
        ("2024-08-09T01:54:16+02:00", START),
        ("2024-08-08T23:54:16.000000001Z", START + 1),
        ("2024-08-08T23:54:16.5+00:00", START + 500_000_000),
        ("2024-08-08T21:54:16.123456789-02:00", START + 123_456_789),
        (str(START), START),
        (START, START),
        (dt.datetime(2024, 8, 8, 23, 54, 16, 250, tzinfo=dt.UTC), START + 250_000),
    ],
)
def test_parse_instant(text: object, ns: int) -> None:
    assert parse_instant(text) == ns


@pytest.mark.parametrize("bad", ["yesterday", "2024-08-08T23:54:16.1234567891Z", 1.5, True, None])
def test_parse_instant_refuses(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_instant(bad)


def test_iso_round_trip() -> None:
    for ns in (START, START + 1, START + 500_000_000, 0):
        assert parse_instant(iso(ns)) == ns
    assert iso(START + 120_000_000) == "2024-08-08T23:54:16.12Z"


def test_to_ns_is_exact() -> None:
    assert to_ns(0.1, NS_PER_MS) == 100_000
    assert to_ns("2.5", NS_PER_MS) == 2_500_000
    assert to_ns(3, NS_PER_MS) == 3_000_000
    assert to_ns(0.000001, NS_PER_MS) == 1
    with pytest.raises(ValueError, match="whole number"):
        to_ns(0.0000001, NS_PER_MS)
    with pytest.raises(ValueError):
        to_ns(float("nan"), NS_PER_MS)
    with pytest.raises(ValueError):
        to_ns(True, NS_PER_MS)
