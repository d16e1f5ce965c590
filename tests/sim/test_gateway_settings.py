"""The [gateway] section: MECHANICS 6 defaults, tightening steps, and errors naming their key."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.assembly import UNREACHABLE, agent_ip, agent_key, build_gateway, queue_settings
from harness.config.scenario import loads_scenario
from harness.config.settings import ScenarioError
from harness.sim.clock import SimEnv, parse_instant
from harness.venue.gateway.gateway import Scope
from harness.venue.gateway.rate_limits import Limits
from harness.venue.gateway.tightening import Step

AGENT = """
[[agents]]
name = "a"
strategy = "tests.strategies:Recorder"
"""


def test_defaults_are_the_mechanics_limits_and_one_ip_per_agent() -> None:
    scenario = loads_scenario(AGENT + AGENT.replace('"a"', '"b"'))
    gateway = scenario.gateway
    assert (gateway.weight_1m, gateway.orders_10s, gateway.orders_1m) == (2_400, 300, 1_200)
    assert gateway.ban_base_ns == 120 * 10**9 and gateway.ban_cap_ns == 3 * 86_400 * 10**9
    a, b = scenario.agents
    assert (agent_ip(a, 0), agent_ip(b, 1)) == ("10.0.0.1", "10.0.0.2")
    assert agent_key(a).scopes == (Scope.READ, Scope.TRADE) and agent_key(a).ips is None


def test_steps_scale_the_base_and_throttle_off_makes_limits_unreachable() -> None:
    text = (
        """
[gateway]
orders_10s = 100
[[gateway.tightening]]
at = "2024-08-08T23:57:00Z"
factor = 0.1
[[gateway.tightening]]
at = "2024-08-08T23:59:00Z"
orders_10s = 55
"""
        + AGENT
    )
    scenario = loads_scenario(text)
    parts = build_gateway(scenario.gateway, scenario.agents, ["BTCUSDT"], SimEnv(0), print)
    assert parts.schedule is not None
    assert parts.schedule.steps == [
        Step(parse_instant("2024-08-08T23:57:00Z"), Limits(240, 10, 120)),
        Step(parse_instant("2024-08-08T23:59:00Z"), Limits(2_400, 55, 1_200)),
    ]
    off = loads_scenario(text.replace("[gateway]", "[gateway]\nthrottle = false"))
    parts = build_gateway(off.gateway, off.agents, ["BTCUSDT"], SimEnv(0), print)
    assert parts.schedule is None
    assert parts.gateway.limiter.settings.limits == UNREACHABLE
    queue = parts.gateway.queues["BTCUSDT"].settings
    assert (queue.overload_depth, queue.unknown_share) == (None, Fraction(0))


def test_a_symbol_can_have_its_own_engine_queue() -> None:
    text = (
        """
[data]
symbols = ["BTCUSDT", "ETHUSDT"]
[gateway]
service_rate_per_s = 1000
[gateway.queues.ETHUSDT]
service_rate_per_s = 250
overload_depth = 0
"""
        + AGENT
    )
    scenario = loads_scenario(text)
    btc = queue_settings(scenario.gateway, "BTCUSDT")
    eth = queue_settings(scenario.gateway, "ETHUSDT")
    assert (btc.service_ns, btc.overload_depth) == (1_000_000, 2_000)
    assert (eth.service_ns, eth.overload_depth) == (4_000_000, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[gateway]\nwindow = "rolling"', "gateway.window: unknown value 'rolling'"),
        ("[[gateway.tightening]]\nfactor = 0.1", "gateway.tightening[0].at: missing"),
        (
            '[[gateway.rules]]\non = "queue_depth"\nthreshold = 2.5',
            "gateway.rules[0].threshold: a queue depth is whole messages",
        ),
        (
            '[[gateway.faults]]\nkind = "loss"\nstart = 1\nend = 2\nagents = ["x"]',
            "gateway.faults[0].agents: no agent named 'x'",
        ),
        ("[gateway.queues.ETHUSDT]\nservice_rate_per_s = 5", "ETHUSDT is not in data.symbols"),
        (AGENT + 'scopes = ["WITHDRAW"]', "agents[0].scopes[0]: unknown value 'WITHDRAW'"),
    ],
)
def test_bad_settings_name_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        loads_scenario(text, source="s.toml")
