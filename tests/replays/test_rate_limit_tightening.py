"""replays/rate-limit-tightening.toml on the bundled capture: careful vs naive client under a 10x
limit cut, pinned by a snapshot (one line per agent, per limit change and per ban)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from harness.config.scenario import Scenario, load_scenario
from harness.journal import LIMITS_CHANGED, REQUEST_THROTTLED
from harness.replay import RunResult, run_scenario
from harness.sim.clock import iso, parse_instant

REPLAY = Path(__file__).parents[2] / "replays" / "rate-limit-tightening.toml"
NS_PER_S = 1_000_000_000
QUOTE = 100_000_000


@pytest.fixture(scope="module")
def store(capture_db: Path) -> Path:
    """The session's store of the bundled capture (replays only read it)."""
    return capture_db


@pytest.fixture(scope="module")
def result(store: Path) -> RunResult:
    return run_scenario(load_scenario(REPLAY), db=store)


def _usdt(units: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), QUOTE)
    return f"{sign}{whole}.{frac:08d}"


def _lines(result: RunResult) -> list[str]:
    assert result.throttling is not None
    lines = [f"fingerprint {result.fingerprint}"]
    for record in result.journal.records():
        fields = record.fields
        if record.kind == LIMITS_CHANGED:
            lines.append(
                f"{iso(record.ts)} limits {fields['cause']}: weight_1m={fields['weight_1m']} "
                f"orders_10s={fields['orders_10s']} orders_1m={fields['orders_1m']}"
            )
        elif record.kind == REQUEST_THROTTLED and fields["ban_ns"]:
            lines.append(
                f"{iso(record.ts)} {record.account} banned {fields['ban_ns'] // NS_PER_S} s "
                f"(ip {fields['ip']}, weight_1m={fields['weight_1m']}, "
                f"orders_10s={fields['orders_10s']}, orders_1m={fields['orders_1m']})"
            )
    for name, agent in result.throttling.agents.items():
        rejected = ",".join(f"{reason}:{n}" for reason, n in agent.rejected.items())
        lines.append(
            f"{name} ({agent.client}): sent={agent.sent} delivered={agent.delivered} "
            f"retries={agent.retries} given_up={agent.given_up} "
            f"banned={agent.banned_ns // NS_PER_S}s rejected=[{rejected}]"
        )
        missed = agent.missed_exits[0] if agent.missed_exits else None
        first = (
            f" first missed: asked {missed['asked_at']} reached {missed['reached_at'] or 'never'} "
            f"{missed['worst_ticks_past']} ticks past {missed['trigger']}"
            if missed
            else ""
        )
        cost = agent.cost_vs_unthrottled_units
        assert cost is not None
        lines.append(
            f"{name}: exits={agent.exits} missed={len(agent.missed_exits)}{first}; "
            f"equity {_usdt(agent.equity_units)} USDT, cost vs unthrottled {_usdt(cost)} USDT"
        )
    return lines


def test_careful_client_loses_less_than_naive(result: RunResult) -> None:
    assert result.throttling is not None
    careful = result.throttling.agents["careful"]
    naive = result.throttling.agents["naive"]
    assert careful.cost_vs_unthrottled_units is not None
    assert naive.cost_vs_unthrottled_units is not None
    assert 0 < careful.cost_vs_unthrottled_units < naive.cost_vs_unthrottled_units
    assert careful.banned_ns == 0
    assert naive.banned_ns == 120 * NS_PER_S  # one 2-minute ban, MECHANICS 6
    # Both numbers are in the summary, as a user reads them.
    agents = result.summary()["throttling"]["agents"]
    assert agents["careful"]["cost_vs_unthrottled_units"] == careful.cost_vs_unthrottled_units
    assert agents["naive"]["cost_vs_unthrottled_units"] == naive.cost_vs_unthrottled_units
    assert result.conservation_gap == 0


def test_snapshot(result: RunResult, snapshot: SnapshotAssertion) -> None:
    assert _lines(result) == snapshot


def _short(scenario: Scenario) -> Scenario:
    """70 s around the start of the tightening, without the unthrottled twin."""
    data = dataclasses.replace(
        scenario.data,
        start=parse_instant("2024-08-08T23:55:00Z"),
        end=parse_instant("2024-08-08T23:56:10Z"),
    )
    gateway = dataclasses.replace(scenario.gateway, compare_unthrottled=False)
    return dataclasses.replace(scenario, data=data, gateway=gateway)


def test_random_latency_and_jitter_give_one_fingerprint(store: Path) -> None:
    scenario = _short(load_scenario(REPLAY))
    first = run_scenario(scenario, db=store)
    again = run_scenario(scenario, db=store)
    assert first.fingerprint == again.fingerprint
    # The run did draw: lognormal latencies, and rate-limit rejects the careful client backed
    # off from with jitter.
    assert first.throttling is not None
    assert first.throttling.agents["careful"].retries > 0
    other_seed = run_scenario(dataclasses.replace(scenario, seed=scenario.seed + 1), db=store)
    assert other_seed.fingerprint != first.fingerprint
