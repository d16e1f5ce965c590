"""`[[agents]]` and `[population]`: the accounts of a run, trading or holding from the start."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from harness.config.latency import LatencyOverrides
from harness.config.settings import (
    NAME_PATTERN,
    SHARE,
    SYMBOL_PATTERN,
    Choice,
    DecimalNumber,
    Duration,
    FreeTable,
    Integer,
    ListOf,
    MapOf,
    SettingError,
    Table,
    Text,
    config,
    empty_mapping,
    required,
    section,
    setting,
)
from harness.units import NS_PER_MS

STRATEGY_PATTERN = r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*"
MARGIN_MODES = ("cross", "isolated")
FEEDS = ("conflated", "every_tick")
_IP = Text(r"[A-Za-z0-9][A-Za-z0-9.:_-]*", "IP address")
_FEE_TIER = Text(r"[a-z0-9]+", "fee tier name")


@config
class AgentConfig:
    name: str = required(
        Text(NAME_PATTERN, "agent name"),
        "Unique name; also the account name and the prefix of the agent's link and random "
        "stream names.",
    )
    strategy: str = required(
        Text(STRATEGY_PATTERN, '"module:Class" reference'),
        'Strategy class as "package.module:Class".',
    )
    params: Mapping[str, Any] = setting(
        FreeTable(), "Passed to the strategy unchecked.", default_factory=empty_mapping
    )
    balance: Decimal = setting(
        DecimalNumber(Decimal(0)), "Starting wallet balance in USDT.", default=Decimal(10_000)
    )
    leverage: int = setting(Integer(minimum=1), "Initial leverage on every symbol.", default=20)
    margin_mode: str = setting(
        Choice(*MARGIN_MODES), "Margin mode on every symbol.", default="cross"
    )
    fee_tier: str = setting(
        _FEE_TIER,
        "Tier of the fee schedule: regular, vip1..vip9, mm1..mm3 (maker rebates).",
        default="regular",
    )
    feed: str = setting(
        Choice(*FEEDS),
        "conflated: book top on change and depth every conflation_ms, like exchange streams; "
        "every_tick: every recorded update (slower).",
        default="conflated",
    )
    conflation_ns: int = setting(
        Duration(positive=True),
        "Depth update period of the conflated feed.",
        default=100 * NS_PER_MS,
    )
    latency: LatencyOverrides = section(
        "Per-agent latency; each direction falls back to [latency].",
        default_factory=LatencyOverrides,
    )
    client: str = setting(
        Choice("careful", "naive"),
        "Order client: careful (backoff, Retry-After, retry budget, idempotent ids, "
        "reconciliation) or naive (fixed fast retries under fresh ids).",
        default="careful",
    )
    ip: str = setting(
        _IP,
        "Source IP of the agent's requests (weight limits and bans are per IP).",
        default="",
        default_doc="10.0.0.<n>, n the agent's position",
    )
    scopes: tuple[str, ...] = setting(
        ListOf(Choice("READ", "TRADE"), min_len=1, unique=True),
        "Scopes of the agent's API key; withdrawals are disabled for every key.",
        default=("READ", "TRADE"),
    )
    transport: str = setting(
        Choice("rest", "websocket"),
        "How orders reach the venue: REST requests, or one websocket connection with its "
        "message limit ([gateway] ws_messages_per_s).",
        default="rest",
    )
    allowed_ips: tuple[str, ...] | None = setting(
        ListOf(_IP),
        "IP allow-list of the agent's key.",
        default=None,
        default_doc="any IP",
    )


@config
class PopulationAccountConfig:
    name: str = required(
        Text(NAME_PATTERN, "account name"),
        "Account name; several entries with one name are one account holding several symbols.",
    )
    symbol: str = required(Text(SYMBOL_PATTERN, "symbol"), "Symbol of the position.")
    side: str = required(Choice("long", "short"), "Side of the position.")
    qty: Decimal = required(
        DecimalNumber(Decimal(0), open_min=True), "Position size in base units (BTC for BTCUSDT)."
    )
    entry: Decimal = required(DecimalNumber(Decimal(0), open_min=True), "Entry price.")
    leverage: int = setting(Integer(minimum=1), "Leverage of the position.", default=20)
    margin_mode: str = setting(
        Choice(*MARGIN_MODES), "Margin mode of the position.", default="cross"
    )
    balance: Decimal | None = setting(
        DecimalNumber(Decimal(0)),
        "USDT deposited for this entry.",
        default=None,
        default_doc="initial margin at entry",
    )


@config
class PopulationConfig:
    count: int = setting(Integer(minimum=0), "Synthetic accounts to open at the start.", default=0)
    symbols: tuple[str, ...] = setting(
        ListOf(Text(SYMBOL_PATTERN, "symbol"), unique=True),
        "Symbols the synthetic accounts trade.",
        default=(),
        default_doc="data.symbols",
    )
    leverages: tuple[int, ...] = setting(
        ListOf(Integer(minimum=1), min_len=1),
        "Leverages drawn from (each capped by the bracket of the position's notional).",
        default=(5, 10, 20, 50, 100),
    )
    leverage_weights: tuple[int, ...] = setting(
        ListOf(Integer(minimum=0)),
        "Relative weight of each leverage.",
        default=(),
        default_doc="equal",
    )
    entry_spread: Decimal = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_max=True),
        "Entries are uniform within this fraction of the first trade price of the window.",
        default=Decimal("0.02"),
    )
    long_share: Decimal = setting(
        SHARE, "Share of positions that are long.", default=Decimal("0.5")
    )
    isolated_share: Decimal = setting(
        SHARE, "Share of accounts in isolated margin.", default=Decimal("0.3")
    )
    multi_symbol_share: Decimal = setting(
        SHARE,
        "Share of cross accounts holding several symbols (the notional split evenly).",
        default=Decimal("0.2"),
    )
    multi_symbol_counts: tuple[int, ...] = setting(
        ListOf(Integer(minimum=2), unique=True),
        "How many symbols a multi-symbol account holds, drawn evenly from this list (which "
        "symbols: a uniform draw among the population's).",
        default=(),
        default_doc="every symbol",
    )
    symbol_leverage_weights: Mapping[str, tuple[int, ...]] = setting(
        MapOf(ListOf(Integer(minimum=0)), SYMBOL_PATTERN, "symbol"),
        "Per-symbol weights of leverages, e.g. { SUIUSDT = [0, 1, 3] }: positions in that "
        "symbol draw their leverage with these instead of leverage_weights.",
        default_factory=empty_mapping,
        default_doc="leverage_weights",
    )
    notional_min: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Smallest account notional in USDT (sizes are log-uniform in eighths of an octave).",
        default=Decimal(1_000),
    )
    notional_max: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Largest account notional in USDT.",
        default=Decimal(100_000),
    )
    fee_tier: str = setting(_FEE_TIER, "Fee tier of every account.", default="regular")
    accounts: tuple[PopulationAccountConfig, ...] = setting(
        ListOf(Table(PopulationAccountConfig)),
        "An explicit list, one [[population.accounts]] table per position (opened as well).",
        default=(),
        default_doc="none",
    )

    def __post_init__(self) -> None:
        if self.leverage_weights and len(self.leverage_weights) != len(self.leverages):
            raise SettingError("leverage_weights", "needs one weight per entry of leverages")
        if self.leverage_weights and not any(self.leverage_weights):
            raise SettingError("leverage_weights", "needs a positive weight")
        if self.notional_max < self.notional_min:
            raise SettingError("notional_max", "is below notional_min")
        for symbol, weights in self.symbol_leverage_weights.items():
            key = f"symbol_leverage_weights.{symbol}"
            if len(weights) != len(self.leverages):
                raise SettingError(key, "needs one weight per entry of leverages")
            if not any(weights):
                raise SettingError(key, "needs a positive weight")
