"""The one place a Scenario becomes a run's objects: venue, gateway, agents and risk monitor.

The venue, gateway, agents, risk and sim packages never read a scenario: each takes its own small
typed settings or plain arguments, and this module converts the sections into them (decimals to
fractions or integer units, names to enums, an agent's defaults filled in, faults applied to its
links). A new setting is declared in `harness.config` and handed over here, nowhere else.

`assemble` builds the parts in the order a run depends on: the risk monitor subscribes to the
journal before any account opens; the agents open their accounts before the population, whose
names may not take theirs.

With `[gateway] throttle = false` (the unthrottled twin of a run) limits are out of reach, nothing
tightens, nothing is refused for overload and nothing times out into an unknown status; the engine
queue's service time, latency and faults stay, so the two runs differ only by the throttling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, TypeVar

import duckdb

from harness.agents.runtime import AgentRuntime, AgentSettings
from harness.config.agents import AgentConfig, PopulationConfig
from harness.config.gateway import GatewayConfig
from harness.config.risk import RiskConfig
from harness.config.scenario import Scenario
from harness.config.venue import GuardrailsConfig, InstrumentOverrides, VenueConfig
from harness.journal import Journal
from harness.risk.attach import RiskRun, RiskSettings
from harness.risk.monitor import MonitorSettings
from harness.sim.clock import SimEnv
from harness.sim.network_faults import Fault, disconnects, faulty_links
from harness.units import MONEY_SCALE, NS_PER_S
from harness.venue.exchange.matching import EngineConfig
from harness.venue.exchange.orders import StpMode
from harness.venue.exchange.queue_position import QueueModel
from harness.venue.gateway.engine_queue import EngineQueue, QueueSettings
from harness.venue.gateway.gateway import ApiKey, Gateway, Scope, ThrottleRecord
from harness.venue.gateway.rate_limits import Limits, RateLimiter, RateLimitSettings
from harness.venue.gateway.runtime import GatewayRuntime, throttle_journal
from harness.venue.gateway.tightening import (
    QueueDepthRule,
    Rule,
    Step,
    TighteningSchedule,
    VolatilityRule,
    scaled,
)
from harness.venue.gateway.ws_limit import ConnectionLimit
from harness.venue.guardrails.catalog import ScheduledChange
from harness.venue.guardrails.gate import GuardrailSettings
from harness.venue.ledger.fees import FeeSchedule, FeeTier, rate_e8
from harness.venue.ledger.instruments import Instrument
from harness.venue.liquidation.adl import AdlMethod
from harness.venue.population import Listed, PopulationSettings, populate
from harness.venue.profiles import PROFILES, VenueProfile, default_profile, load_bracket_table
from harness.venue.venue import Venue, VenueSettings

T = TypeVar("T")

UNREACHABLE: Final = Limits(10**15, 10**15, 10**15)
"""The limits of an unthrottled run: no request count of a simulated day comes near."""


def _copy(cls: Callable[..., T], source: object, **converted: Any) -> T:
    """A `cls` dataclass from the same-named attributes of the settings `source`, except the
    fields in `converted`, which change name or type on the way (Decimal to Fraction)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    kept = {f.name: getattr(source, f.name) for f in fields if f.name not in converted}
    return cls(**kept, **converted)


def usdt_units(amount: Decimal) -> int:
    """A USDT amount of the scenario in the venue's money units; finer than a unit is an error."""
    units = amount * MONEY_SCALE
    if units != units.to_integral_value():
        raise ValueError(f"{amount} USDT is finer than 1e-8")
    return int(units)


# --- instruments and engine rules ---------------------------------------------------------------


def build_instrument(
    symbol: str,
    overrides: InstrumentOverrides | None,
    price_band: Decimal | None = None,
    profile: VenueProfile | None = None,
) -> Instrument:
    """`price_band` is the scenario's `guardrails.price_band`; the symbol's own override wins.

    The profile's instrument table gives the base; a symbol it does not list needs its tick and
    lot sizes from the scenario and takes the profile's default contract terms for the rest.
    """
    venue = profile or default_profile()
    base = venue.instruments.get(symbol)
    o = overrides or InstrumentOverrides()
    if o.price_band is None and price_band is not None:
        o = dataclasses.replace(o, price_band=price_band)
    if base is None:
        if o.tick_size is None or o.lot_size is None:
            raise ValueError(
                f"no built-in instrument {symbol}: set venue.instruments.{symbol}.tick_size, "
                "lot_size and brackets"
            )
        base = venue.contract(symbol, Fraction(o.tick_size), Fraction(o.lot_size))
    changes: dict[str, Any] = {}
    if o.tick_size is not None:
        changes["tick_size"] = Fraction(o.tick_size)
    if o.lot_size is not None:
        changes["lot_size"] = Fraction(o.lot_size)
    if o.min_notional is not None:
        changes["min_notional"] = Fraction(o.min_notional)
    if o.price_band is not None:
        changes["price_band"] = Fraction(o.price_band)
    if o.brackets is not None:
        changes["brackets"] = load_bracket_table(o.brackets)
    if o.funding_interval_hours is not None:
        changes["funding"] = dataclasses.replace(
            base.funding, interval_hours=o.funding_interval_hours
        )
    if o.maker_fee is not None or o.taker_fee is not None:
        changes["fees"] = _override_fees(base.fees, o.maker_fee, o.taker_fee)
    return dataclasses.replace(base, **changes) if changes else base


def _override_fees(base: FeeSchedule, maker: Decimal | None, taker: Decimal | None) -> FeeSchedule:
    """A scenario's fee override replaces that rate in every tier of the schedule."""
    tiers = {
        name: FeeTier(
            maker=tier.maker if maker is None else rate_e8(Fraction(maker)),
            taker=tier.taker if taker is None else rate_e8(Fraction(taker)),
        )
        for name, tier in base.tiers.items()
    }
    return FeeSchedule(name=f"{base.name}+scenario", tiers=tiers)


def build_instruments(
    symbols: tuple[str, ...],
    overrides: Mapping[str, InstrumentOverrides],
    price_band: Decimal | None = None,
    profile: VenueProfile | None = None,
) -> dict[str, Instrument]:
    unknown = [symbol for symbol in overrides if symbol not in symbols]
    if unknown:
        raise ValueError(f"venue.instruments names symbols not replayed: {', '.join(unknown)}")
    return {
        symbol: build_instrument(symbol, overrides.get(symbol), price_band, profile)
        for symbol in symbols
    }


def engine_config(venue: VenueConfig, instrument: Instrument) -> EngineConfig:
    return dataclasses.replace(
        EngineConfig.from_instrument(instrument.symbol, instrument),
        max_open_orders=venue.max_open_orders,
        price_band=instrument.price_band,
        market_take_bound=instrument.market_take_bound,
        queue_model=QueueModel(venue.queue_model),
        default_stp=StpMode(venue.self_trade_prevention),
        replenish_half_life_ns=(
            venue.replenish_half_life_ns if venue.replenishment == "decay" else None
        ),
    )


# --- the venue ----------------------------------------------------------------------------------


def guardrail_settings(config: GuardrailsConfig, symbols: tuple[str, ...]) -> GuardrailSettings:
    """The scenario's `[guardrails]` for the venue; ValueError names the bad schedule entry."""
    changes = []
    for i, change in enumerate(config.schedule):
        where = f"guardrails.schedule[{i}]"
        if change.symbol not in symbols:
            raise ValueError(f"{where}.symbol: {change.symbol} is not in data.symbols")
        try:
            table = load_bracket_table(change.brackets) if change.brackets else None
        except ValueError as exc:
            raise ValueError(f"{where}.brackets: {exc}") from None
        changes.append(ScheduledChange(change.at, change.symbol, table, change.max_leverage))
    move, ratio = config.circuit_breaker_move, config.reduce_only_ratio
    return GuardrailSettings(
        max_position=config.max_position == "on",
        circuit_breaker_move=None if move is None else Fraction(move),
        circuit_breaker_window_ns=config.circuit_breaker_window_ns,
        circuit_breaker_halt_ns=config.circuit_breaker_halt_ns,
        reduce_only_ratio=None if ratio is None else Fraction(ratio),
        schedule=tuple(changes),
    )


def venue_settings(scenario: Scenario, guardrails: GuardrailSettings) -> VenueSettings:
    venue, liquidation = scenario.venue, scenario.liquidation
    return VenueSettings(
        mark_method=venue.mark_method,  # type: ignore[arg-type]
        mark_interval_ns=venue.mark_interval_ns,
        journal_mark_every_ns=scenario.outputs.journal_mark_every_ns,
        index_proxy=venue.index_proxy,
        clearance_fee=Fraction(liquidation.clearance_fee),
        liquidations_per_s=liquidation.per_second,
        insurance_fund_units=usdt_units(liquidation.insurance_fund),
        warning_levels=tuple(Fraction(level) for level in liquidation.warning_levels),
        adl_method=AdlMethod(liquidation.adl_ranking),
        guardrails=guardrails,
    )


def population_settings(config: PopulationConfig) -> PopulationSettings:
    listed = tuple(
        _copy(
            Listed,
            entry,
            long=entry.side == "long",
            isolated=entry.margin_mode == "isolated",
        )
        for entry in config.accounts
    )
    return _copy(PopulationSettings, config, accounts=listed)


# --- the gateway --------------------------------------------------------------------------------


def agent_ip(config: AgentConfig, position: int) -> str:
    """The agent's source IP: its own setting, else 10.0.0.<position + 1> (one IP per agent)."""
    return config.ip or f"10.0.{position // 250}.{position % 250 + 1}"


def agent_key(config: AgentConfig) -> ApiKey:
    ips = config.allowed_ips
    return ApiKey(f"key-{config.name}", config.name, tuple(Scope(s) for s in config.scopes), ips)


def ws_pace_ns(config: GatewayConfig) -> int:
    """Spacing a careful client keeps between messages on a websocket connection: one message
    fewer a second than the limit, so latency jitter cannot squeeze one too many into a second."""
    return -(-NS_PER_S // max(1, config.ws_messages_per_s - 1))


def _limits(config: GatewayConfig) -> Limits:
    return Limits(config.weight_1m, config.orders_10s, config.orders_1m)


def tightening_schedule(
    config: GatewayConfig, record: Callable[[ThrottleRecord], object]
) -> TighteningSchedule | None:
    """The scenario's steps and rules, or None when there are none (the limits never change)."""
    if not config.tightening and not config.rules:
        return None
    base = _limits(config)
    steps = []
    for entry in config.tightening:
        step_base = Limits(
            entry.weight_1m or base.weight_1m,
            entry.orders_10s or base.orders_10s,
            entry.orders_1m or base.orders_1m,
        )
        steps.append(Step(entry.at, scaled(step_base, Fraction(entry.factor))))
    rules: list[Rule] = []
    for rule in config.rules:
        if rule.on == "volatility":
            rules.append(
                VolatilityRule(rule.window_ns, Fraction(rule.threshold), Fraction(rule.factor))
            )
        else:
            rules.append(QueueDepthRule(int(rule.threshold), Fraction(rule.factor)))
    return TighteningSchedule(base, steps, rules, record)


def queue_settings(config: GatewayConfig, symbol: str) -> QueueSettings:
    """The symbol's engine queue: `[gateway.queues.<symbol>]` over `[gateway]`."""
    own = config.queues.get(symbol)
    rate = config.service_rate_per_s
    depth = config.overload_depth
    if own is not None:
        rate = own.service_rate_per_s or rate
        depth = depth if own.overload_depth is None else own.overload_depth
    throttle = config.throttle
    return QueueSettings(
        service_rate_per_s=rate,
        overload_depth=(depth or None) if throttle else None,
        exits_pass_overload=config.exits_pass_overload,
        timeout_ns=config.timeout_ns,
        unknown_share=Fraction(config.unknown_share) if throttle else Fraction(0),
        unknown_executes=Fraction(config.unknown_executes),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class GatewayParts:
    gateway: Gateway
    schedule: TighteningSchedule | None


def build_gateway(
    config: GatewayConfig,
    agents: Sequence[AgentConfig],
    symbols: Sequence[str],
    env: SimEnv,
    record: Callable[[ThrottleRecord], object],
) -> GatewayParts:
    throttle = config.throttle
    limiter = RateLimiter(
        RateLimitSettings(
            limits=_limits(config) if throttle else UNREACHABLE,
            sliding=config.window == "sliding",
            strikes_before_ban=config.strikes_before_ban,
            strike_grace_ns=config.strike_grace_ns,
            ban_base_ns=config.ban_base_ns,
            ban_cap_ns=config.ban_cap_ns,
        )
    )
    queues = {
        symbol: EngineQueue(
            symbol, queue_settings(config, symbol), env.streams.get(f"engine_queue:{symbol}")
        )
        for symbol in symbols
    }
    schedule = tightening_schedule(config, record) if throttle else None
    ws_limit = (
        ConnectionLimit(
            config.ws_messages_per_s,
            config.ws_reconnect_ns,
            closes_before_ban=config.ws_closes_before_ban,
            close_window_ns=config.ws_close_window_ns,
        )
        if throttle
        else None
    )
    keys = [agent_key(agent) for agent in agents]
    gateway = Gateway(keys, limiter, queues, limits=schedule, record=record, ws_limit=ws_limit)
    return GatewayParts(gateway, schedule)


def unthrottled(scenario: Scenario) -> Scenario:
    """The same scenario without throttling, for the cost comparison."""
    gateway = dataclasses.replace(scenario.gateway, throttle=False, compare_unthrottled=False)
    return dataclasses.replace(scenario, gateway=gateway)


# --- agents and the risk monitor ----------------------------------------------------------------


def faults(config: GatewayConfig) -> tuple[Fault, ...]:
    return tuple(_copy(Fault, fault, loss=Fraction(fault.loss)) for fault in config.faults)


def agent_settings(scenario: Scenario, position: int) -> AgentSettings:
    """The agent at `position` of `[[agents]]`: its IP and key, its links with their faults."""
    config = scenario.agents[position]
    scheduled = faults(scenario.gateway)
    connection = f"ws:{config.name}" if config.transport == "websocket" else ""
    return AgentSettings(
        name=config.name,
        strategy=config.strategy,
        params=config.params,
        balance_units=usdt_units(config.balance),
        leverage=config.leverage,
        isolated=config.margin_mode == "isolated",
        fee_tier=config.fee_tier,
        every_tick=config.feed == "every_tick",
        conflation_ns=config.conflation_ns,
        client=config.client,
        key=agent_key(config).key,
        ip=agent_ip(config, position),
        connection=connection,
        pace_ns=ws_pace_ns(scenario.gateway) if connection else 0,
        latencies=faulty_links(scenario.agent_latencies(config), scheduled, config.name),
        disconnects=disconnects(scheduled, config.name),
    )


def monitor_settings(config: RiskConfig) -> MonitorSettings:
    return _copy(
        MonitorSettings,
        config,
        threshold=Fraction(config.threshold),
        explain_from=Fraction(config.explain_from),
        near_margin=Fraction(config.near_margin),
        margin_rise=Fraction(config.margin_rise),
    )


def risk_settings(scenario: Scenario) -> RiskSettings:
    config = scenario.risk
    return RiskSettings(
        monitor=monitor_settings(config),
        lead_score=Fraction(config.lead_score),
        false_alert_horizon_ns=config.false_alert_horizon_ns,
        markouts_ns=config.markouts_ns,
        agents=tuple(agent.name for agent in scenario.agents),
        clearance_fee=Fraction(scenario.liquidation.clearance_fee),
    )


# --- a whole run --------------------------------------------------------------------------------


@dataclasses.dataclass
class Assembly:
    env: SimEnv
    journal: Journal
    instruments: dict[str, Instrument]
    venue: Venue
    gateway: GatewayRuntime
    agents: list[AgentRuntime]
    risk: RiskRun | None
    """None when `[risk] enabled = false`."""


def assemble(scenario: Scenario, con: duckdb.DuckDBPyConnection, start: int, end: int) -> Assembly:
    """A run's parts on a fresh clock and journal, the population open at `start` (drawn
    around the first trades of `con` in the window); ValueError names a bad setting."""
    profile = PROFILES.get(scenario.venue.profile)
    instruments = build_instruments(
        scenario.data.symbols, scenario.venue.instruments, scenario.guardrails.price_band, profile
    )
    guardrails = guardrail_settings(scenario.guardrails, scenario.data.symbols)
    env = SimEnv(start, scenario.seed)
    journal = Journal()
    venue = Venue(
        env,
        journal,
        instruments,
        venue_settings(scenario, guardrails),
        lambda inst: engine_config(scenario.venue, inst),
    )
    risk = None
    if scenario.risk.enabled:
        risk = RiskRun(env, venue, journal, risk_settings(scenario), start, end)
    record = throttle_journal(journal)
    parts = build_gateway(scenario.gateway, scenario.agents, list(venue.markets), env, record)
    gateway = GatewayRuntime(
        env, venue, journal, parts.gateway, parts.schedule, throttled=scenario.gateway.throttle
    )
    agents = [
        AgentRuntime(env, venue, gateway, agent_settings(scenario, position), instruments, end)
        for position in range(len(scenario.agents))
    ]
    exchange = scenario.data.exchange
    populate(venue, population_settings(scenario.population), con, exchange, start, end)
    return Assembly(env, journal, instruments, venue, gateway, agents, risk)
