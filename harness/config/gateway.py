"""`[gateway]`: rate limits, tightening, engine queues and network faults (docs/gateway.md)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from harness.config.settings import (
    NAME_PATTERN,
    SHARE,
    SYMBOL_PATTERN,
    Choice,
    DecimalNumber,
    Duration,
    Flag,
    Instant,
    Integer,
    ListOf,
    MapOf,
    SettingError,
    Table,
    Text,
    config,
    empty_mapping,
    required,
    setting,
)
from harness.sim.clock import iso
from harness.units import NS_PER_DAY, NS_PER_MINUTE, NS_PER_MS, NS_PER_S

WINDOW_MODES = ("fixed", "sliding")
RULE_MEASURES = ("volatility", "queue_depth")
FAULT_KINDS = ("latency", "loss", "disconnect")
FAULT_LINKS = ("orders", "responses", "market_data")
_FACTOR = DecimalNumber(Decimal(0), open_min=True)
_BASE_LIMIT = "[gateway] limit"


@config
class TighteningStepConfig:
    at: int = required(Instant(), "From this instant on, these limits are in force.")
    factor: Decimal = setting(
        _FACTOR,
        "Multiplies the step's limits: 0.1 is a 10x tightening, 1 restores them.",
        default=Decimal(1),
    )
    weight_1m: int | None = setting(
        Integer(minimum=1),
        "Request weight per minute per IP.",
        default=None,
        default_doc=_BASE_LIMIT,
    )
    orders_10s: int | None = setting(
        Integer(minimum=1), "Orders per 10 s per account.", default=None, default_doc=_BASE_LIMIT
    )
    orders_1m: int | None = setting(
        Integer(minimum=1),
        "Orders per minute per account.",
        default=None,
        default_doc=_BASE_LIMIT,
    )


@config
class TighteningRuleConfig:
    on: str = required(
        Choice(*RULE_MEASURES),
        "What is watched: realized volatility of the marks over `window_ms`, or the deepest "
        "engine inbound queue (messages).",
    )
    threshold: Decimal = required(
        DecimalNumber(Decimal(0), open_min=True),
        "At or above it the limits scale by `factor` until the measure falls back below. "
        "Volatility is sqrt(sum of squared mark returns) over the window (0.001 is 0.1%).",
    )
    factor: Decimal = setting(_FACTOR, "Scaling while active.", default=Decimal("0.1"))
    window_ns: int = setting(Duration(positive=True), "Volatility window.", default=60 * NS_PER_S)

    def __post_init__(self) -> None:
        if self.on == "queue_depth" and self.threshold != self.threshold.to_integral_value():
            raise SettingError(
                "threshold", f"a queue depth is whole messages, got {self.threshold}"
            )


@config
class FaultConfig:
    kind: str = required(
        Choice(*FAULT_KINDS),
        "latency: `add_ms` more on `link`; loss: a `loss` share of the messages on `link` is "
        "lost and retransmitted `retransmit_ms` later (order kept); disconnect: the market-data "
        "link is down, the agent's book goes stale and its strategy is told.",
    )
    start: int = required(Instant(), "Fault begins (send time).")
    end: int = required(Instant(), "Fault ends (exclusive).")
    link: str = setting(
        Choice(*FAULT_LINKS), "Which link of each agent (latency and loss).", default="orders"
    )
    add_ns: int = setting(Duration(), "Extra delay (latency).", default=0)
    loss: Decimal = setting(SHARE, "Share of messages lost (loss).", default=Decimal(0))
    retransmit_ns: int = setting(
        Duration(positive=True),
        "Delay a lost message takes to be sent again (a TCP retransmit timeout).",
        default=200 * NS_PER_MS,
    )
    agents: tuple[str, ...] = setting(
        ListOf(Text(NAME_PATTERN, "agent name"), unique=True),
        "Agents affected.",
        default=(),
        default_doc="all",
    )

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise SettingError("end", f"{iso(self.end)} is not after start {iso(self.start)}")


@config
class EngineQueueOverrides:
    service_rate_per_s: int | None = setting(
        Integer(minimum=1),
        "Messages this symbol's engine takes per second.",
        default=None,
        default_doc="[gateway]",
    )
    overload_depth: int | None = setting(
        Integer(minimum=0),
        "Queue depth at which new orders are refused; 0 never refuses.",
        default=None,
        default_doc="[gateway]",
    )


@config
class GatewayConfig:
    throttle: bool = setting(
        Flag(),
        "false runs without rate limits, tightening, overload refusals or unknown statuses (the "
        "unthrottled twin); latency, faults and the engine queue's service time stay.",
        default=True,
    )
    compare_unthrottled: bool = setting(
        Flag(),
        "Run the scenario a second time with throttle = false and report each agent's cost "
        "of throttling in summary.json.",
        default=False,
    )
    weight_1m: int = setting(
        Integer(minimum=1), "Request weight per minute per IP (MECHANICS 6).", default=2_400
    )
    orders_10s: int = setting(Integer(minimum=1), "Orders per 10 s per account.", default=300)
    orders_1m: int = setting(Integer(minimum=1), "Orders per minute per account.", default=1_200)
    window: str = setting(
        Choice(*WINDOW_MODES),
        "fixed: the venue's epoch-aligned windows; sliding: the last 10 s / 60 s.",
        default="fixed",
    )
    strikes_before_ban: int = setting(
        Integer(minimum=1),
        "429s received while told to wait before the IP is banned (418).",
        default=3,
    )
    strike_grace_ns: int = setting(
        Duration(),
        "429s within this time of the first of a wait are no strikes (they were in flight).",
        default=NS_PER_S,
    )
    ban_base_ns: int = setting(
        Duration(positive=True),
        "First ban; each later ban of the IP doubles it.",
        default=120 * NS_PER_S,
    )
    ban_cap_ns: int = setting(Duration(positive=True), "Longest ban.", default=3 * NS_PER_DAY)
    service_rate_per_s: int = setting(
        Integer(minimum=1),
        "Messages each symbol's engine takes from its inbound queue per second.",
        default=2_000,
    )
    overload_depth: int = setting(
        Integer(minimum=0),
        "Queue depth at which new orders are refused (503 OVERLOADED); 0 never refuses.",
        default=2_000,
    )
    exits_pass_overload: bool = setting(
        Flag(),
        "Reduce-only and close-position orders pass an overloaded queue (policy since Oct 2025).",
        default=True,
    )
    timeout_ns: int = setting(
        Duration(positive=True),
        "A request queued longer than this times out at the gateway.",
        default=5 * NS_PER_S,
    )
    unknown_share: Decimal = setting(
        SHARE, "Share of timeouts answered 503 unknown status.", default=Decimal("0.5")
    )
    unknown_executes: Decimal = setting(
        SHARE,
        "Share of unknown-status requests that still reach the engine.",
        default=Decimal("0.5"),
    )
    ws_messages_per_s: int = setting(
        Integer(minimum=1),
        "Messages a second an agent may send over a websocket connection (transport = "
        '"websocket"); the one over it closes the connection.',
        default=10,
    )
    ws_reconnect_ns: int = setting(
        Duration(positive=True),
        "Time a closed websocket connection takes to be back (handshake and login).",
        default=NS_PER_S,
    )
    ws_closes_before_ban: int = setting(
        Integer(minimum=0),
        "Closes of an IP's websocket connections within ws_close_window_ms that get the IP "
        "banned (418, the rate-limit ban ladder); 0 never bans.",
        default=5,
    )
    ws_close_window_ns: int = setting(
        Duration(positive=True),
        "Window in which ws_closes_before_ban closes are counted.",
        default=5 * NS_PER_MINUTE,
    )
    missed_exit_ticks: int = setting(
        Integer(minimum=0),
        "An exit is missed when the mark passed its trigger by more than this before the exit "
        "reached the engine.",
        default=50,
    )
    queues: Mapping[str, EngineQueueOverrides] = setting(
        MapOf(Table(EngineQueueOverrides), SYMBOL_PATTERN, "symbol"),
        "Per-symbol engine queue settings.",
        default_factory=empty_mapping,
    )
    tightening: tuple[TighteningStepConfig, ...] = setting(
        ListOf(Table(TighteningStepConfig)),
        "Limits from fixed times on, one [[gateway.tightening]] table each.",
        default=(),
        default_doc="none",
    )
    rules: tuple[TighteningRuleConfig, ...] = setting(
        ListOf(Table(TighteningRuleConfig)),
        "Tightening while a measure is high, one [[gateway.rules]] table each.",
        default=(),
        default_doc="none",
    )
    faults: tuple[FaultConfig, ...] = setting(
        ListOf(Table(FaultConfig)),
        "Network faults on a schedule, one [[gateway.faults]] table each.",
        default=(),
        default_doc="none",
    )

    def __post_init__(self) -> None:
        if self.ban_cap_ns < self.ban_base_ns:
            raise SettingError("ban_cap_ms", "is shorter than ban_base_ms")
