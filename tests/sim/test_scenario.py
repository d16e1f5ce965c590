"""Scenario files: typed values, defaults, and errors that name the file and the dotted key."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from harness.config.scenario import Scenario, load_scenario, loads_scenario, reference_markdown
from harness.config.settings import ScenarioError
from harness.sim.clock import NS_PER_MS, NS_PER_S
from harness.sim.latency import Constant, LogNormal, Quantiles, Scheduled, Window
from tests.conftest import ROOT

EXAMPLE = ROOT / "replays" / "btcusdt-2024-08-08-calm.toml"
START = 1_723_161_256_000_000_000
END = 1_723_161_600_000_000_000


def test_example_scenario_loads() -> None:
    scenario = load_scenario(EXAMPLE)
    assert scenario.name == "btcusdt-2024-08-08-calm"
    assert scenario.data.exchange == "binance-usdm"
    assert scenario.data.symbols == ("BTCUSDT",)
    assert (scenario.data.start, scenario.data.end) == (START, END)
    assert [agent.name for agent in scenario.agents] == ["maker", "trend", "holder"]
    assert scenario.agents[0].fee_tier == "mm3"
    assert scenario.agents[0].conflation_ns == 100_000_000
    assert scenario.latency.orders == LogNormal(3 * NS_PER_MS, 0.4)
    assert scenario.output_dir == Path("runs/btcusdt-2024-08-08-calm")


def test_empty_file_is_all_defaults() -> None:
    scenario = loads_scenario("", default_name="quiet")
    assert scenario == Scenario(name="quiet")
    assert scenario.seed == 0
    assert scenario.data.db == Path("data/harness.duckdb")
    assert scenario.venue.mark_method == "binance"
    assert scenario.venue.mark_interval_ns == NS_PER_S
    assert scenario.venue.self_trade_prevention == "EXPIRE_MAKER"
    assert scenario.venue.max_open_orders == 200
    assert scenario.latency.market_data == Constant(2 * NS_PER_MS)
    assert scenario.outputs.journal_mark_every_ns == NS_PER_S
    assert scenario.output_dir == Path("runs/quiet")


def test_file_name_is_the_default_name(tmp_path: Path) -> None:
    path = tmp_path / "my-run.toml"
    path.write_text("seed = 1\n")
    assert load_scenario(path).name == "my-run"


FULL = """
name = "full"
seed = 42

[data]
db = "data/other.duckdb"
symbols = ["BTCUSDT", "ETHUSDT"]
start = 2024-08-08T23:54:16Z
end = 1723161600000000000

[venue]
mark_method = "recorded"
mark_interval_ms = 500
queue_model = "proportional"

[venue.instruments.BTCUSDT]
tick_size = "0.10"
lot_size = 0.001
maker_fee = "-0.005%"
taker_fee = 0.0004
price_band = 0.05
brackets = "binance-btcusdt-2021"
funding_interval_hours = 4

[latency]
orders = { model = "quantiles", ms = [1, 2, 40], q = [0, 0.9, 1] }

[[agents]]
name = "mm1"
strategy = "harness.agents.examples:QuoteBothSides"
params = { spread_ticks = 3, sizes = [1, 2], nested = { a = 1.5 } }
balance = "25000.5"
leverage = 5
margin_mode = "isolated"
fee_tier = "vip3"
feed = "every_tick"
conflation_ms = 2.5
latency.orders = { model = "lognormal", median_ms = 5, sigma = 0.5, windows = [
  { start = "2024-08-08T23:57:00Z", end = "2024-08-08T23:58:00Z", add_ms = 250, multiply = 1.5 },
] }

[[agents]]
name = "taker"
strategy = "harness.agents.examples:Taker"

[outputs]
dir = "runs/elsewhere"
journal_mark_every_ms = 250
"""


def test_every_section_is_typed() -> None:
    scenario = loads_scenario(FULL)
    assert scenario.data.symbols == ("BTCUSDT", "ETHUSDT")
    assert scenario.data.start == START and scenario.data.end == END
    assert scenario.venue.mark_interval_ns == 500 * NS_PER_MS
    btc = scenario.venue.instruments["BTCUSDT"]
    assert btc.tick_size == Decimal("0.10")
    assert btc.lot_size == Decimal("0.001")
    assert btc.maker_fee == Decimal("-0.00005")
    assert btc.taker_fee == Decimal("0.0004")
    assert btc.min_notional is None
    assert btc.funding_interval_hours == 4
    mm, taker = scenario.agents
    assert mm.params["spread_ticks"] == 3
    assert mm.params["nested"] == {"a": 1.5}
    assert mm.balance == Decimal("25000.5")
    assert mm.conflation_ns == 2_500_000
    assert scenario.outputs.journal_mark_every_ns == 250 * NS_PER_MS
    assert scenario.output_dir == Path("runs/elsewhere")

    orders = scenario.agent_latencies(mm).orders
    assert orders == Scheduled(
        LogNormal(5 * NS_PER_MS, 0.5),
        (Window(START + 164 * NS_PER_S, START + 224 * NS_PER_S, 250 * NS_PER_MS, Fraction(3, 2)),),
    )
    taker_links = scenario.agent_latencies(taker)
    assert taker_links.orders == Quantiles((NS_PER_MS, 2 * NS_PER_MS, 40 * NS_PER_MS), (0, 0.9, 1))
    assert taker_links.market_data == Constant(2 * NS_PER_MS)


def test_scenario_is_immutable() -> None:
    scenario = loads_scenario(FULL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.seed = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        scenario.venue.instruments["ETHUSDT"] = scenario.venue.instruments["BTCUSDT"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[venue.instruments.BTCUSDT]\ntaker_fee = "abc"',
            "venue.instruments.BTCUSDT.taker_fee: expected a number, got 'abc'",
        ),
        ('seed = "7"', "seed: expected an integer, got '7'"),
        ("seed = -1", "seed: expected an integer (≥ 0), got -1"),
        ("seed = true", "seed: expected an integer, got true"),
        ("colour = 1", "colour: unknown key (known: name, description, seed, data, venue, "),
        (
            '[venue]\nmark_methd = "mid"',
            "venue.mark_methd: unknown key (did you mean 'mark_method'?)",
        ),
        (
            '[venue]\nmark_method = "last"',
            "venue.mark_method: unknown value 'last' (expected one of 'binance', 'recorded', ",
        ),
        ("[venue]\nmax_open_orders = 0", "venue.max_open_orders: expected an integer (≥ 1), got 0"),
        ("[venue]\nmark_interval_ms = 0", "venue.mark_interval_ms: expected milliseconds (> 0)"),
        (
            "[venue.instruments.ETHUSDT]\ntick_size = 0.01",
            "venue.instruments.ETHUSDT: ETHUSDT is not in data.symbols ['BTCUSDT']",
        ),
        ("[venue.instruments.BTCUSDT]\ntick_size = 0", "tick_size: expected a number (> 0)"),
        ("[venue.instruments.BTCUSDT]\ntaker_fee = 1", "taker_fee: expected a number (≥ 0, < 1)"),
        ("[venue.instruments.BTCUSDT]\nfunding_interval_hours = 5", "5 does not divide 24"),
        (
            '[data]\nstart = "2024-08-09T00:00:00Z"\nend = "2024-08-08T00:00:00Z"',
            "data.end: 2024-08-08T00:00:00Z is not after start 2024-08-09T00:00:00Z",
        ),
        (
            '[data]\nstart = "noon"',
            "data.start: expected an ISO 8601 time or integer ns, got 'noon'",
        ),
        ("[data]\nsymbols = []", "data.symbols: expected at least 1 item(s)"),
        ('[data]\nsymbols = ["BTCUSDT", "BTCUSDT"]', "data.symbols[1]: duplicate 'BTCUSDT'"),
        ("data = 3", "data: expected a table, got 3"),
        (
            "[latency]\norders = { ns = -5 }",
            "latency.orders.ns: latency cannot be negative, got -5",
        ),
        (
            "[latency]\norders = { ms = 0.0000001 }",
            "latency.orders.ms: 1e-07 is not a whole number of nanoseconds",
        ),
        (
            '[latency]\norders = { model = "gauss", ms = 1 }',
            "latency.orders.model: unknown value 'gauss'",
        ),
        (
            '[latency]\norders = { model = "lognormal", median_ms = 1 }',
            "latency.orders.sigma: missing (this key is required)",
        ),
        (
            "[latency]\norders = { ms = 1, sigma = 2 }",
            "latency.orders.sigma: unknown key for model 'constant'",
        ),
        (
            '[latency]\norders = { model = "quantiles", ms = [1, 2], q = [0.1, 1] }',
            "latency.orders: quantile levels must start at 0 and end at 1",
        ),
        (
            "[latency]\norders = { ms = 1, windows = [{ start = 5, end = 5, add_ms = 1 }] }",
            "latency.orders.windows[0].end: ",
        ),
        (
            "[latency]\norders = { ms = 1, windows = [{ start = 0, end = 5, add_ms = -1 }] }",
            "latency.orders.windows[0].add_ms: latency cannot be negative, got -1",
        ),
        ('[[agents]]\nname = "a"', "agents[0].strategy: missing (this key is required)"),
        (
            '[[agents]]\nname = "a"\nstrategy = "x:Y"\n[[agents]]\nname = "a"\nstrategy = "x:Y"',
            "agents[1].name: duplicate agent name 'a'",
        ),
        (
            '[[agents]]\nname = "a"\nstrategy = "x:Y"\n'
            'latency.orders = { model = "lognormal", median_ms = 5, sigma = "wide" }',
            "agents[0].latency.orders.sigma: expected a number, got 'wide'",
        ),
        (
            '[[agents]]\nname = "a"\nstrategy = "x:Y"\nlatency.up = { ms = 1 }',
            "agents[0].latency.up: unknown key",
        ),
        (
            '[[agents]]\nname = "a"\nstrategy = "no_class"',
            "agents[0].strategy: 'no_class' is not a valid \"module:Class\" reference",
        ),
        (
            '[[agents]]\nname = "a"\nstrategy = "x:Y"\nmargin_mode = "portfolio"',
            "agents[0].margin_mode: unknown value 'portfolio'",
        ),
        (
            '[[agents]]\nname = "a"\nstrategy = "x:Y"\nbalance = -3',
            "agents[0].balance: expected a number (≥ 0), got -3",
        ),
        ("[outputs]\njournal_mark_every_ms = -1", "outputs.journal_mark_every_ms: expected"),
        ("[outputs]\nagents = []", "outputs.agents: unknown key"),
        ("seed = ", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        loads_scenario(text, source="replays/x.toml")
    assert str(caught.value).startswith("replays/x.toml: ")
    assert message in str(caught.value)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.toml"):
        load_scenario(tmp_path / "nope.toml")


def test_reference_tables_in_docs_are_current() -> None:
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    begin = "<!-- BEGIN GENERATED: harness.config.scenario.reference_markdown() -->\n"
    end = "<!-- END GENERATED -->"
    generated = docs[docs.index(begin) + len(begin) : docs.index(end)]
    assert generated.strip() == reference_markdown().strip()
    for key in (
        "mark_interval_ms",
        "conflation_ms",
        "journal_mark_every_ms",
        "funding_interval_hours",
    ):
        assert f"| `{key}` |" in generated
