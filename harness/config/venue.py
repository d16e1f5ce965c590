"""`[venue]`, `[liquidation]` and `[guardrails]`: how the simulated venue behaves.

The model names (mark methods, queue and replenishment models) are checked here against the
lists below; the venue's own registries will take over that check.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from harness.config.settings import (
    NAME_PATTERN,
    SYMBOL_PATTERN,
    Choice,
    DecimalNumber,
    Duration,
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
from harness.units import NS_PER_S
from harness.venue.profiles import DEFAULT_PROFILE, PROFILES

MARK_METHODS = ("binance", "recorded", "mid")
INDEX_PROXIES = ("mid", "last")
QUEUE_MODELS = ("trades_only", "proportional")
REPLENISHMENT_MODELS = ("data", "decay")
STP_MODES = ("EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "NONE")
_BRACKETS = Text(rf"{NAME_PATTERN}|.+\.toml", "bracket table name or .toml file")
_INSTRUMENTS = "instrument's"


@config
class InstrumentOverrides:
    """Plain validated values; the venue's instrument model owns the defaults they override."""

    tick_size: Decimal | None = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Price increment.",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    lot_size: Decimal | None = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Quantity increment.",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    min_notional: Decimal | None = setting(
        DecimalNumber(Decimal(0)),
        "Smallest order notional in USDT (reduce-only orders are exempt).",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    brackets: str | None = setting(
        _BRACKETS,
        "Leverage bracket table: a built-in name (binance-btcusdt-2024, binance-btcusdt-2021) "
        "or a .toml file with `name` and `[[tiers]]` (floor, cap, max_leverage, mmr).",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    price_band: Decimal | None = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_min=True, open_max=True),
        "Price protection: limit orders further than this fraction from mark are rejected.",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    maker_fee: Decimal | None = setting(
        DecimalNumber(Decimal(-1), Decimal(1), open_min=True, open_max=True),
        'Maker fee as a fraction of notional ("0.02%" or 0.0002); negative is a rebate.',
        default=None,
        default_doc=_INSTRUMENTS,
    )
    taker_fee: Decimal | None = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_max=True),
        "Taker fee as a fraction of notional.",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    funding_interval_hours: int | None = setting(
        Integer(1, 24),
        "Hours between funding payments; must divide 24.",
        default=None,
        default_doc=_INSTRUMENTS,
    )

    def __post_init__(self) -> None:
        hours = self.funding_interval_hours
        if hours is not None and 24 % hours:
            raise SettingError("funding_interval_hours", f"{hours} does not divide 24")


@config
class VenueConfig:
    profile: str = setting(
        Choice(*PROFILES.names()),
        "The venue whose rules apply: its instruments, bracket tables, fee tiers, funding, "
        "price bands and rate limits (docs/profiles.md). The settings below override it.",
        default=DEFAULT_PROFILE,
    )
    mark_method: str = setting(
        Choice(*MARK_METHODS),
        "binance: median(P1, P2, last) from the index proxy and funding; recorded: the venue's "
        "recorded mark prices; mid: the book mid.",
        default="binance",
    )
    mark_interval_ns: int = setting(
        Duration(positive=True),
        "How often the mark price (and the margin checks it drives) updates.",
        default=NS_PER_S,
    )
    index_proxy: str = setting(
        Choice(*INDEX_PROXIES),
        "Stand-in for the spot index when the store has none: book mid or last trade.",
        default="mid",
    )
    queue_model: str = setting(
        Choice(*QUEUE_MODELS),
        "How a resting order advances in its level's queue: trades_only (only recorded trades "
        "at the level move it) or proportional (recorded cancels also count, pro rata).",
        default="trades_only",
    )
    replenishment: str = setting(
        Choice(*REPLENISHMENT_MODELS),
        "How liquidity sim takers consumed comes back: data (when the data next sets the "
        "level) or decay (halving every replenish_half_life_ms, whatever the data says, so "
        "forced executions keep moving the price: the setting for cascades).",
        default="data",
    )
    replenish_half_life_ns: int = setting(
        Duration(positive=True),
        "Half-life of consumed liquidity under the decay model.",
        default=5 * NS_PER_S,
    )
    self_trade_prevention: str = setting(
        Choice(*STP_MODES),
        "What happens when an account's order would fill against its own; the taker's mode rules.",
        default="EXPIRE_MAKER",
    )
    max_open_orders: int = setting(
        Integer(minimum=1), "Open orders allowed per account and symbol.", default=200
    )
    instruments: Mapping[str, InstrumentOverrides] = setting(
        MapOf(Table(InstrumentOverrides), SYMBOL_PATTERN, "symbol"),
        "Per-symbol overrides of the instrument's own values.",
        default_factory=empty_mapping,
    )


@config
class LiquidationConfig:
    clearance_fee: Decimal = setting(
        DecimalNumber(Decimal(0), Decimal(1)),
        "Rate the liquidator charges on the notional it fills through the book, paid to the "
        "insurance fund (BTCUSDT has used 1.25%).",
        default=Decimal("0.005"),
    )
    per_second: int = setting(
        Integer(minimum=1),
        "Liquidations each symbol's engine starts per second (the queue's throughput).",
        default=10,
    )
    insurance_fund: Decimal = setting(
        DecimalNumber(Decimal(0)),
        "Insurance fund balance at the start, in USDT.",
        default=Decimal(1_000_000),
    )
    warning_levels: tuple[Decimal, ...] = setting(
        ListOf(DecimalNumber(Decimal(0), Decimal(1), open_min=True, open_max=True), unique=True),
        "Margin ratios whose crossing is journaled as a margin call (the liquidation band).",
        default=(Decimal("0.8"), Decimal("0.9")),
    )
    adl_ranking: str = setting(
        Choice("binance", "bitmex"),
        "How auto-deleveraging ranks counterparties (MECHANICS 5.4).",
        default="binance",
    )


@config
class ScheduledChangeConfig:
    at: int = required(Instant(), "When the change applies (on the first mark sample from then).")
    symbol: str = required(Text(SYMBOL_PATTERN, "symbol"), "Symbol whose brackets change.")
    brackets: str | None = setting(
        _BRACKETS,
        "New leverage bracket table (as venue.instruments.<SYMBOL>.brackets).",
        default=None,
        default_doc="unchanged",
    )
    max_leverage: int | None = setting(
        Integer(minimum=1),
        "Cut every tier's max leverage to this (applied after `brackets`).",
        default=None,
        default_doc="unchanged",
    )


@config
class GuardrailsConfig:
    price_band: Decimal | None = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_min=True, open_max=True),
        "price_band: limit orders further than this fraction from the mark are rejected; "
        "venue.instruments.<SYMBOL>.price_band wins for its symbol.",
        default=None,
        default_doc=_INSTRUMENTS,
    )
    max_position: str = setting(
        Choice("on", "off"),
        "max_position: refuse orders taking a position past its bracket cap at its leverage.",
        default="on",
    )
    circuit_breaker_move: Decimal | None = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_min=True, open_max=True),
        "circuit_breaker: halt a symbol when its mark moves more than this fraction within "
        "circuit_breaker_window_ms.",
        default=None,
        default_doc="off",
    )
    circuit_breaker_window_ns: int = setting(
        Duration(positive=True), "Look-back window of the circuit breaker.", default=60 * NS_PER_S
    )
    circuit_breaker_halt_ns: int = setting(
        Duration(positive=True),
        "How long a tripped symbol stays halted (no order entry, triggers or liquidations).",
        default=60 * NS_PER_S,
    )
    reduce_only_ratio: Decimal | None = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "reduce_only_mode: accounts at or above this margin ratio may only reduce.",
        default=None,
        default_doc="off",
    )
    schedule: tuple[ScheduledChangeConfig, ...] = setting(
        ListOf(Table(ScheduledChangeConfig)),
        "bracket_schedule: bracket or leverage changes at given times, one "
        "[[guardrails.schedule]] table each.",
        default=(),
        default_doc="none",
    )
