"""Scenario files (`replays/*.toml`): one file is one reproducible run.

A file is read into frozen dataclasses declared with the settings kit (`harness.config.settings`);
each section lives in its own module of this package. Adding a section means writing one settings
class and adding one `section(...)` field to `Scenario`; unknown keys stay errors without further
work, and the reference tables of docs/scenarios.md follow (`reference_markdown`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.config.agents import AgentConfig, PopulationConfig
from harness.config.data import DataConfig, OutputsConfig
from harness.config.gateway import GatewayConfig
from harness.config.latency import LatencyConfig
from harness.config.risk import RiskConfig
from harness.config.settings import (
    NAME_PATTERN,
    Integer,
    ListOf,
    ScenarioError,
    SettingError,
    Table,
    Text,
    config,
    document,
    section,
    setting,
)
from harness.config.venue import GuardrailsConfig, LiquidationConfig, VenueConfig
from harness.sim.latency import LinkLatencies


@config
class Scenario:
    name: str = setting(
        Text(NAME_PATTERN, "scenario name"),
        "Run name, used for the output folder.",
        default="scenario",
        default_doc="file name without .toml",
    )
    description: str = setting(Text(), "Free text shown in reports.", default="")
    seed: int = setting(Integer(minimum=0), "Root of every random stream of the run.", default=0)
    data: DataConfig = section("What market data is replayed.", default_factory=DataConfig)
    venue: VenueConfig = section("How the simulated venue behaves.", default_factory=VenueConfig)
    latency: LatencyConfig = section(
        "Default latency of every agent's three links.", default_factory=LatencyConfig
    )
    agents: tuple[AgentConfig, ...] = setting(
        ListOf(Table(AgentConfig)),
        "Trading agents, one [[agents]] table each.",
        default=(),
        default_doc="none",
    )
    liquidation: LiquidationConfig = section(
        "The liquidation path: queue, liquidator, insurance fund, ADL.",
        default_factory=LiquidationConfig,
    )
    gateway: GatewayConfig = section("The API gateway and network.", default_factory=GatewayConfig)
    outputs: OutputsConfig = section("Where and what a run writes.", default_factory=OutputsConfig)
    risk: RiskConfig = section("The risk monitor and trader analytics.", default_factory=RiskConfig)
    guardrails: GuardrailsConfig = section("Named guardrails.", default_factory=GuardrailsConfig)
    population: PopulationConfig = section(
        "Accounts with positions open at the start.", default_factory=PopulationConfig
    )

    def __post_init__(self) -> None:
        seen: list[str] = []
        for i, agent in enumerate(self.agents):
            if agent.name in seen:
                raise SettingError(f"agents[{i}].name", f"duplicate agent name {agent.name!r}")
            seen.append(agent.name)
        for i, fault in enumerate(self.gateway.faults):
            for name in fault.agents:
                if name not in seen:
                    raise SettingError(f"gateway.faults[{i}].agents", f"no agent named {name!r}")
        for symbol in self.gateway.queues:
            if symbol not in self.data.symbols:
                raise SettingError(f"gateway.queues.{symbol}", f"{symbol} is not in data.symbols")
        for symbol in self.venue.instruments:
            if symbol not in self.data.symbols:
                raise SettingError(
                    f"venue.instruments.{symbol}",
                    f"{symbol} is not in data.symbols {list(self.data.symbols)}",
                )

    @property
    def output_dir(self) -> Path:
        return self.outputs.dir if self.outputs.dir is not None else Path("runs") / self.name

    def agent_latencies(self, agent: AgentConfig) -> LinkLatencies:
        own, default = agent.latency, self.latency
        return LinkLatencies(
            market_data=default.market_data if own.market_data is None else own.market_data,
            orders=default.orders if own.orders is None else own.orders,
            responses=default.responses if own.responses is None else own.responses,
        )


# --- loading ----------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; every problem is a ScenarioError naming file and key."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(source, "", error.strerror or str(error)) from None
    return loads_scenario(text, source=source, default_name=Path(path).stem)


def loads_scenario(text: str, source: str = "<string>", default_name: str = "scenario") -> Scenario:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, "", f"not valid TOML: {error}") from None
    table.setdefault("name", default_name)
    try:
        return Table(Scenario).read(table, "")
    except SettingError as error:
        raise ScenarioError(source, error.key, error.message) from None


# --- reference documentation --------------------------------------------------------------------


def reference_markdown() -> str:
    """The per-section settings tables of docs/scenarios.md, generated from the declarations."""
    out: list[str] = []
    document(Table(Scenario), "top level", "Keys outside any table.", out)
    return "\n".join(out)
