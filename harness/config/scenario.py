"""Scenario files (`replays/*.toml`): one file is one reproducible run.

A file is read into frozen dataclasses. Each setting is declared once, as a dataclass field made
with `setting(...)`: the field's default is the setting's default, and its metadata carries the
TOML key, the reader that checks and converts the value, and the sentence that documents it. The
loader, the error messages and the reference tables in `docs/scenarios.md` all come from these
declarations, so they cannot drift apart. Adding a section means writing one dataclass and adding
one `section(...)` field to `Scenario`; unknown keys stay errors without further work.

Conventions: times become int ns since the epoch, durations int ns, money and rates `Decimal`
(exact; the venue turns them into its fixed-point integers), choices plain strings.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from harness.sim.clock import NS_PER_MS, NS_PER_S, iso, parse_instant, to_ns
from harness.sim.latency import (
    BaseModel,
    Constant,
    LatencyModel,
    LinkLatencies,
    LogNormal,
    Quantiles,
    Scheduled,
    Window,
)

T = TypeVar("T")

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
SYMBOL_PATTERN = r"[A-Z0-9][A-Z0-9_-]*"
STRATEGY_PATTERN = r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*"

MARK_METHODS = ("binance", "recorded", "mid")
INDEX_PROXIES = ("mid", "last")
QUEUE_MODELS = ("trades_only", "proportional")
REPLENISHMENT_MODELS = ("data", "decay")
STP_MODES = ("EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "NONE")
MARGIN_MODES = ("cross", "isolated")
FEEDS = ("conflated", "every_tick")
LATENCY_MODELS = ("constant", "lognormal", "quantiles")


class ScenarioError(ValueError):
    """A scenario that cannot be run, located by file and dotted key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


class SettingError(ValueError):
    """A bad value at a dotted key relative to the table being read; the loader adds the table's
    own position and the file name."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- readers: check one TOML value and convert it -------------------------------------------


class Reader(Generic[T]):
    """Reads one TOML value at a dotted key; `type_doc` and `show` feed the reference tables."""

    type_doc = "value"

    def read(self, value: object, key: str) -> T:
        raise NotImplementedError

    def show(self, value: Any) -> str:
        if isinstance(value, str | Path):
            return f'"{value}"'
        if isinstance(value, tuple):
            return "[" + ", ".join(self.show(item) for item in value) + "]"
        if isinstance(value, Mapping) and not value:
            return "{}"
        return str(value)


def _bounds_doc(
    minimum: object, maximum: object, *, open_min: bool = False, open_max: bool = False
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if open_min else '≥'} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if open_max else '≤'} {maximum}")
    return f" ({', '.join(parts)})" if parts else ""


class Integer(Reader[int]):
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.type_doc = "integer" + _bounds_doc(minimum, maximum)

    def read(self, value: object, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(key, f"expected an integer, got {_describe(value)}")
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise SettingError(key, f"expected an {self.type_doc}, got {value}")
        return value


class Number(Reader[float]):
    """A model parameter that is not money or time (a sigma, a quantile level)."""

    def __init__(self, minimum: float | None = None, maximum: float | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.type_doc = "number" + _bounds_doc(minimum, maximum)

    def read(self, value: object, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingError(key, f"expected a number, got {_describe(value)}")
        number = float(value)
        if (
            not math.isfinite(number)
            or (self.minimum is not None and number < self.minimum)
            or (self.maximum is not None and number > self.maximum)
        ):
            raise SettingError(key, f"expected a finite {self.type_doc}, got {value}")
        return number


class DecimalNumber(Reader[Decimal]):
    """An exact decimal: a TOML integer, a float (read through its shortest decimal form, so 0.1
    is exactly 0.1), or a string such as "0.0002" or "0.02%"."""

    def __init__(
        self,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        *,
        open_min: bool = False,
        open_max: bool = False,
    ) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.open_min, self.open_max = open_min, open_max
        self.bounds = _bounds_doc(minimum, maximum, open_min=open_min, open_max=open_max)
        self.type_doc = "decimal" + self.bounds

    def read(self, value: object, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise SettingError(key, f"expected a number, got {_describe(value)}")
        text = repr(value) if isinstance(value, float) else str(value).strip()
        scale = Decimal(1)
        if text.endswith("%"):
            text, scale = text[:-1], Decimal("0.01")
        try:
            number = Decimal(text) * scale
        except InvalidOperation:
            raise SettingError(key, f"expected a number, got {_describe(value)}") from None
        too_low = self.minimum is not None and (
            number <= self.minimum if self.open_min else number < self.minimum
        )
        too_high = self.maximum is not None and (
            number >= self.maximum if self.open_max else number > self.maximum
        )
        if not number.is_finite() or too_low or too_high:
            raise SettingError(key, f"expected a number{self.bounds}, got {_describe(value)}")
        return number

    def show(self, value: Any) -> str:
        return f'"{value}"'


class Text(Reader[str]):
    type_doc = "string"

    def __init__(self, pattern: str | None = None, what: str = "string") -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    def read(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise SettingError(key, f"expected a string, got {_describe(value)}")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise SettingError(key, f"{value!r} is not a valid {self.what}")
        return value


class Choice(Reader[str]):
    def __init__(self, *options: str) -> None:
        self.options = options
        self.type_doc = " or ".join(f'"{option}"' for option in options)

    def read(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise SettingError(key, f"expected a string, got {_describe(value)}")
        if value not in self.options:
            expected = ", ".join(repr(option) for option in self.options)
            raise SettingError(key, f"unknown value {value!r} (expected one of {expected})")
        return value


class Duration(Reader[int]):
    """A duration written in milliseconds (integer or decimal) and held as int ns."""

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive
        self.type_doc = "milliseconds" + (" (> 0)" if positive else " (≥ 0)")

    def read(self, value: object, key: str) -> int:
        try:
            ns = to_ns(value, NS_PER_MS)
        except ValueError as error:
            raise SettingError(key, str(error)) from None
        if ns < 0 or (self.positive and ns == 0):
            raise SettingError(key, f"expected {self.type_doc}, got {_describe(value)}")
        return ns

    def show(self, value: Any) -> str:
        return str(Decimal(value) / NS_PER_MS)


class Instant(Reader[int]):
    type_doc = "time: ISO 8601 (UTC unless an offset is given) or int ns"

    def read(self, value: object, key: str) -> int:
        try:
            return parse_instant(value)
        except ValueError as error:
            raise SettingError(key, str(error)) from None


class PathValue(Reader[Path]):
    type_doc = "path"

    def read(self, value: object, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise SettingError(key, f"expected a path, got {_describe(value)}")
        return Path(value)


class ListOf(Reader[tuple[T, ...]]):
    def __init__(self, item: Reader[T], *, min_len: int = 0, unique: bool = False) -> None:
        self.item, self.min_len, self.unique = item, min_len, unique
        self.type_doc = f"list of {item.type_doc}"

    def read(self, value: object, key: str) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise SettingError(key, f"expected a list, got {_describe(value)}")
        if len(value) < self.min_len:
            raise SettingError(key, f"expected at least {self.min_len} item(s)")
        items = tuple(self.item.read(item, f"{key}[{i}]") for i, item in enumerate(value))
        if self.unique:
            for i, item in enumerate(items):
                if item in items[:i]:
                    raise SettingError(f"{key}[{i}]", f"duplicate {_describe(item)}")
        return items


class FreeTable(Reader[Mapping[str, Any]]):
    """A table passed on unchecked (a strategy's own parameters)."""

    type_doc = "table"

    def read(self, value: object, key: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {_describe(value)}")
        return MappingProxyType(value)


class Table(Reader[T]):
    """A TOML table read into a dataclass declared with `setting(...)` fields."""

    def __init__(self, cls: Callable[..., T]) -> None:
        self.cls = cls
        self.type_doc = "table"

    def settings(self) -> list[tuple[str, str, Setting]]:
        """(TOML key, field name, declaration) in declaration order."""
        return [
            (spec.key or field.name, field.name, spec)
            for field in dataclasses.fields(self.cls)  # type: ignore[arg-type]
            if isinstance(spec := field.metadata.get(_META), Setting)
        ]

    def read(self, value: object, key: str) -> T:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {_describe(value)}")
        declared = {toml_key: (attr, spec) for toml_key, attr, spec in self.settings()}
        for toml_key in value:
            if toml_key not in declared:
                hint = difflib.get_close_matches(toml_key, list(declared), n=1)
                known = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(declared)}"
                raise SettingError(_join(key, toml_key), f"unknown key ({known})")
        kwargs: dict[str, Any] = {}
        for toml_key, (attr, spec) in declared.items():
            if toml_key in value:
                kwargs[attr] = spec.reader.read(value[toml_key], _join(key, toml_key))
            elif spec.required:
                raise SettingError(_join(key, toml_key), "missing (this key is required)")
        try:
            return self.cls(**kwargs)
        except SettingError as error:
            raise SettingError(_join(key, error.key), error.message) from None


class MapOf(Reader[Mapping[str, T]]):
    """A table of tables keyed by a name the user chooses (a symbol)."""

    def __init__(self, item: Reader[T], key_pattern: str, key_doc: str) -> None:
        self.item, self.key_pattern, self.key_doc = item, re.compile(key_pattern), key_doc
        self.type_doc = f"tables keyed by {key_doc}"

    def read(self, value: object, key: str) -> Mapping[str, T]:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {_describe(value)}")
        items: dict[str, T] = {}
        for name, item in value.items():
            if not self.key_pattern.fullmatch(name):
                raise SettingError(_join(key, name), f"{name!r} is not a valid {self.key_doc}")
            items[name] = self.item.read(item, _join(key, name))
        return MappingProxyType(items)


_MODEL_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "constant": ("model", "ns", "ms", "windows"),
        "lognormal": ("model", "median_ns", "median_ms", "sigma", "windows"),
        "quantiles": ("model", "ns", "ms", "q", "windows"),
    }
)
_WINDOW_KEYS = ("start", "end", "add_ns", "add_ms", "multiply")


class LatencyReader(Reader[LatencyModel]):
    """`{model = "constant" | "lognormal" | "quantiles", ..., windows = [...]}`; see
    docs/scenarios.md for the keys of each model."""

    type_doc = "latency model (inline table)"

    def read(self, value: object, key: str) -> LatencyModel:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {_describe(value)}")
        model = Choice(*LATENCY_MODELS).read(value.get("model", "constant"), _join(key, "model"))
        _check_keys(value, _MODEL_KEYS[model], key, f"for model {model!r}")
        base: BaseModel
        try:
            if model == "constant":
                base = Constant(_ns_or_ms(value, "ns", "ms", key))
            elif model == "lognormal":
                sigma = Number(minimum=0).read(_need(value, "sigma", key), _join(key, "sigma"))
                base = LogNormal(_ns_or_ms(value, "median_ns", "median_ms", key), sigma)
            else:
                base = self._quantiles(value, key)
        except SettingError:
            raise  # a reader's own error already names its key
        except ValueError as error:  # a model's invariant, such as quantile levels from 0 to 1
            raise SettingError(key, str(error)) from None
        windows = ListOf(_WindowReader()).read(value.get("windows", []), _join(key, "windows"))
        return Scheduled(base, windows) if windows else base

    def _quantiles(self, value: Mapping[str, object], key: str) -> Quantiles:
        unit_key = "ns" if "ns" in value else "ms"
        if ("ns" in value) == ("ms" in value):
            raise SettingError(key, "give exactly one of 'ns' and 'ms' (a list of latencies)")
        raw = value[unit_key]
        if not isinstance(raw, list):
            raise SettingError(_join(key, unit_key), f"expected a list, got {_describe(raw)}")
        unit = 1 if unit_key == "ns" else NS_PER_MS
        points = tuple(
            _to_ns_at(v, unit, _join(key, f"{unit_key}[{i}]")) for i, v in enumerate(raw)
        )
        if "q" in value:
            levels = ListOf(Number(0, 1)).read(value["q"], _join(key, "q"))
        else:
            last = max(len(points) - 1, 1)
            levels = tuple(i / last for i in range(len(points)))
        return Quantiles(points, levels)

    def show(self, value: Any) -> str:
        if isinstance(value, Constant):
            return f'{{model = "constant", ms = {Duration().show(value.ns)}}}'
        return repr(value)


class _WindowReader(Reader[Window]):
    def read(self, value: object, key: str) -> Window:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {_describe(value)}")
        _check_keys(value, _WINDOW_KEYS, key, "in a latency window")
        start = Instant().read(_need(value, "start", key), _join(key, "start"))
        end = Instant().read(_need(value, "end", key), _join(key, "end"))
        if end <= start:
            raise SettingError(_join(key, "end"), f"{iso(end)} is not after start {iso(start)}")
        add = 0
        if "add_ns" in value or "add_ms" in value:
            add = _ns_or_ms(value, "add_ns", "add_ms", key)
        factor = DecimalNumber(Decimal(0)).read(value.get("multiply", 1), _join(key, "multiply"))
        return Window(start, end, add, Fraction(factor))


def _check_keys(
    table: Mapping[str, object], allowed: tuple[str, ...], key: str, where: str
) -> None:
    for name in table:
        if name not in allowed:
            raise SettingError(
                _join(key, name), f"unknown key {where} (known: {', '.join(allowed)})"
            )


def _need(table: Mapping[str, object], name: str, key: str) -> object:
    if name not in table:
        raise SettingError(_join(key, name), "missing (this key is required)")
    return table[name]


def _to_ns_at(value: object, unit_ns: int, key: str) -> int:
    try:
        ns = to_ns(value, unit_ns)
    except ValueError as error:
        raise SettingError(key, str(error)) from None
    if ns < 0:
        raise SettingError(key, f"latency cannot be negative, got {value!r}")
    return ns


def _ns_or_ms(table: Mapping[str, object], ns_key: str, ms_key: str, key: str) -> int:
    if (ns_key in table) == (ms_key in table):
        raise SettingError(key, f"give exactly one of {ns_key!r} and {ms_key!r}")
    if ns_key in table:
        return _to_ns_at(Integer().read(table[ns_key], _join(key, ns_key)), 1, _join(key, ns_key))
    return _to_ns_at(table[ms_key], NS_PER_MS, _join(key, ms_key))


# --- declarations -----------------------------------------------------------------------------

_META = "harness.scenario"


@dataclasses.dataclass(frozen=True)
class Setting:
    reader: Reader[Any]
    doc: str
    key: str | None = None
    default_doc: str | None = None
    required: bool = False


def setting(
    reader: Reader[Any],
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    key: str | None = None,
    default_doc: str | None = None,
) -> Any:
    """A dataclass field that is also a scenario setting.

    `key` is the TOML key when it differs from the field name (`mark_interval_ms` held as
    `mark_interval_ns`); `default_doc` is shown instead of a default that reads badly (None).
    """
    meta = {_META: Setting(reader, doc, key, default_doc)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def section(doc: str, *, default_factory: Callable[[], Any]) -> Any:
    """A field holding a whole sub-table; absent from the file means all its defaults."""
    return setting(Table(default_factory), doc, default_factory=default_factory)


def required(reader: Reader[Any], doc: str) -> Any:
    """A setting without a sensible default (an agent's name and strategy)."""
    return dataclasses.field(metadata={_META: Setting(reader, doc, required=True)})


# The field functions take `default` and `default_factory` by keyword, as PEP 681 requires for
# type checkers to see which fields have defaults.
@typing.dataclass_transform(
    kw_only_default=True,
    frozen_default=True,
    field_specifiers=(dataclasses.field, setting, section, required),
)
def config(cls: type[T]) -> type[T]:
    """Makes a settings class: a frozen, keyword-only dataclass."""
    return dataclasses.dataclass(frozen=True, kw_only=True)(cls)


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


# --- sections ---------------------------------------------------------------------------------


@config
class DataConfig:
    db: Path = setting(
        PathValue(),
        "Tick store to replay from; a relative path is relative to the working directory.",
        default=Path("data/harness.duckdb"),
    )
    exchange: str = setting(
        Text(r"[a-z0-9][a-z0-9_-]*", "exchange name"),
        "Exchange name as stored in the tick store.",
        default="binance-usdm",
    )
    symbols: tuple[str, ...] = setting(
        ListOf(Text(SYMBOL_PATTERN, "symbol"), min_len=1, unique=True),
        "Symbols replayed and traded.",
        default=("BTCUSDT",),
    )
    start: int | None = setting(
        Instant(),
        "First instant replayed (inclusive).",
        default=None,
        default_doc="first recorded tick",
    )
    end: int | None = setting(
        Instant(),
        "Instant the replay stops (exclusive).",
        default=None,
        default_doc="last recorded tick",
    )

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise SettingError("end", f"{iso(self.end)} is not after start {iso(self.start)}")


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
        Text(rf"{NAME_PATTERN}|.+\.toml", "bracket table name or .toml file"),
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
        key="mark_interval_ms",
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
        key="replenish_half_life_ms",
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
        default_factory=_empty_mapping,
    )


_DEFAULT_LATENCY = Constant(2 * NS_PER_MS)


@config
class LatencyConfig:
    market_data: LatencyModel = setting(
        LatencyReader(), "Venue to agent: book and trade feed.", default=_DEFAULT_LATENCY
    )
    orders: LatencyModel = setting(
        LatencyReader(), "Agent to venue: order requests.", default=_DEFAULT_LATENCY
    )
    responses: LatencyModel = setting(
        LatencyReader(),
        "Venue to agent: acknowledgements, rejects, fills.",
        default=_DEFAULT_LATENCY,
    )


@config
class LatencyOverrides:
    market_data: LatencyModel | None = setting(
        LatencyReader(), "Overrides [latency].market_data.", default=None, default_doc="[latency]"
    )
    orders: LatencyModel | None = setting(
        LatencyReader(), "Overrides [latency].orders.", default=None, default_doc="[latency]"
    )
    responses: LatencyModel | None = setting(
        LatencyReader(), "Overrides [latency].responses.", default=None, default_doc="[latency]"
    )


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
        FreeTable(), "Passed to the strategy unchecked.", default_factory=_empty_mapping
    )
    balance: Decimal = setting(
        DecimalNumber(Decimal(0)), "Starting wallet balance in USDT.", default=Decimal(10_000)
    )
    leverage: int = setting(Integer(minimum=1), "Initial leverage on every symbol.", default=20)
    margin_mode: str = setting(
        Choice(*MARGIN_MODES), "Margin mode on every symbol.", default="cross"
    )
    fee_tier: str = setting(
        Text(r"[a-z0-9]+", "fee tier name"),
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
        key="conflation_ms",
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
        Text(r"[A-Za-z0-9][A-Za-z0-9.:_-]*", "IP address"),
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
        ListOf(Text(r"[A-Za-z0-9][A-Za-z0-9.:_-]*", "IP address")),
        "IP allow-list of the agent's key.",
        default=None,
        default_doc="any IP",
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


# --- the gateway (issue 4): rate limits, tightening, engine queues, network faults --------------


class Flag(Reader[bool]):
    type_doc = "boolean"

    def read(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise SettingError(key, f"expected true or false, got {_describe(value)}")
        return value

    def show(self, value: Any) -> str:
        return "true" if value else "false"


WINDOW_MODES = ("fixed", "sliding")
RULE_MEASURES = ("volatility", "queue_depth")
FAULT_KINDS = ("latency", "loss", "disconnect")
FAULT_LINKS = ("orders", "responses", "market_data")
_SHARE = DecimalNumber(Decimal(0), Decimal(1))
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
    window_ns: int = setting(
        Duration(positive=True),
        "Volatility window.",
        default=60 * NS_PER_S,
        key="window_ms",
    )

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
    add_ns: int = setting(Duration(), "Extra delay (latency).", default=0, key="add_ms")
    loss: Decimal = setting(_SHARE, "Share of messages lost (loss).", default=Decimal(0))
    retransmit_ns: int = setting(
        Duration(positive=True),
        "Delay a lost message takes to be sent again (a TCP retransmit timeout).",
        default=200 * NS_PER_MS,
        key="retransmit_ms",
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
        key="strike_grace_ms",
    )
    ban_base_ns: int = setting(
        Duration(positive=True),
        "First ban; each later ban of the IP doubles it.",
        default=120 * NS_PER_S,
        key="ban_base_ms",
    )
    ban_cap_ns: int = setting(
        Duration(positive=True),
        "Longest ban.",
        default=3 * 24 * 3_600 * NS_PER_S,
        key="ban_cap_ms",
    )
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
        key="timeout_ms",
    )
    unknown_share: Decimal = setting(
        _SHARE, "Share of timeouts answered 503 unknown status.", default=Decimal("0.5")
    )
    unknown_executes: Decimal = setting(
        _SHARE,
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
        key="ws_reconnect_ms",
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
        default=5 * 60 * NS_PER_S,
        key="ws_close_window_ms",
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
        default_factory=_empty_mapping,
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


@config
class ScheduledChangeConfig:
    at: int = required(Instant(), "When the change applies (on the first mark sample from then).")
    symbol: str = required(Text(SYMBOL_PATTERN, "symbol"), "Symbol whose brackets change.")
    brackets: str | None = setting(
        Text(rf"{NAME_PATTERN}|.+\.toml", "bracket table name or .toml file"),
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
        Duration(positive=True),
        "Look-back window of the circuit breaker.",
        default=60 * NS_PER_S,
        key="circuit_breaker_window_ms",
    )
    circuit_breaker_halt_ns: int = setting(
        Duration(positive=True),
        "How long a tripped symbol stays halted (no order entry, triggers or liquidations).",
        default=60 * NS_PER_S,
        key="circuit_breaker_halt_ms",
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


_SHARE = DecimalNumber(Decimal(0), Decimal(1))


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
        _SHARE, "Share of positions that are long.", default=Decimal("0.5")
    )
    isolated_share: Decimal = setting(
        _SHARE, "Share of accounts in isolated margin.", default=Decimal("0.3")
    )
    multi_symbol_share: Decimal = setting(
        _SHARE,
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
        default_factory=_empty_mapping,
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
    fee_tier: str = setting(
        Text(r"[a-z0-9]+", "fee tier name"), "Fee tier of every account.", default="regular"
    )
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


@config
class OutputsConfig:
    dir: Path | None = setting(
        PathValue(), "Folder for the run's outputs.", default=None, default_doc="runs/<name>"
    )
    journal_mark_every_ns: int = setting(
        Duration(positive=True),
        "Sampling period of mark records in the journal (other records are never sampled).",
        default=NS_PER_S,
        key="journal_mark_every_ms",
    )


class Boolean(Reader[bool]):
    type_doc = "true or false"

    def read(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise SettingError(key, f"expected true or false, got {_describe(value)}")
        return value

    def show(self, value: Any) -> str:
        return "true" if value else "false"


@config
class RiskConfig:
    """The risk monitor (harness/risk): features, robust scores, journaled alerts, analytics."""

    enabled: bool = setting(
        Boolean(), "Run the risk monitor and the trader analytics during the replay.", default=True
    )
    cadence_ns: int = setting(
        Duration(positive=True),
        "How often the monitor samples features and scores them.",
        default=NS_PER_S,
        key="cadence_ms",
    )
    window_ns: int = setting(
        Duration(positive=True),
        "Trailing window of counted features (cancels, fills, rejects, mark path, rising margin).",
        default=10 * NS_PER_S,
        key="window_ms",
    )
    baseline_samples: int = setting(
        Integer(minimum=2),
        "Samples in each entity's rolling baseline (median and MAD) per feature.",
        default=300,
    )
    warmup_samples: int = setting(
        Integer(minimum=1),
        "Samples a series needs before it is scored (at most baseline_samples).",
        default=60,
    )
    threshold: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Robust z-score at or above which an entity is alerted.",
        default=Decimal(8),
    )
    explain_from: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Robust z-score from which a feature is named in an alert's explanation.",
        default=Decimal(2),
    )
    top_features: int = setting(
        Integer(minimum=1), "Features named in an alert, strongest first.", default=3
    )
    cooldown_ns: int = setting(
        Duration(),
        "Quiet time after an alert before the same entity is alerted again.",
        default=60 * NS_PER_S,
        key="cooldown_ms",
    )
    depth_ticks: int = setting(
        Integer(minimum=0),
        "How far from the best price book depth counts as near the touch, in ticks.",
        default=10,
    )
    near_margin: Decimal = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_min=True),
        "Margin ratio from which an account counts as near margin (venue-wide feature).",
        default=Decimal("0.5"),
    )
    margin_rise: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Rise of the margin ratio over the window that counts as rising (venue-wide feature).",
        default=Decimal("0.05"),
    )
    lead_score: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Alert score from which the summary measures lead time to the first liquidation.",
        default=Decimal(8),
    )
    false_alert_horizon_ns: int = setting(
        Duration(positive=True),
        "An alert not followed by a liquidation within this time counts as a false alert.",
        default=600 * NS_PER_S,
        key="false_alert_horizon_ms",
    )
    markouts_ns: tuple[int, ...] = setting(
        ListOf(Duration(positive=True), min_len=1, unique=True),
        "Horizons of the fill markouts in the trader analytics.",
        default=(NS_PER_S, 10 * NS_PER_S, 60 * NS_PER_S),
        key="markouts_ms",
        default_doc="`[1000, 10000, 60000]`",
    )

    def __post_init__(self) -> None:
        if self.warmup_samples > self.baseline_samples:
            raise SettingError("warmup_samples", "must not exceed baseline_samples")


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
    _document(Table(Scenario), "top level", "Keys outside any table.", out)
    return "\n".join(out)


def _document(table: Table[Any], heading: str, doc: str, out: list[str]) -> None:
    rows: list[str] = []
    nested: list[tuple[Table[Any], str, str]] = []
    defaults = {field.name: field for field in dataclasses.fields(table.cls)}  # type: ignore[arg-type]
    for key, attr, spec in table.settings():
        path = key if heading == "top level" else f"{heading.strip('[]')}.{key}"
        reader = spec.reader
        if isinstance(reader, Table):
            nested.append((reader, f"[{path}]", spec.doc))
            continue
        if isinstance(reader, MapOf) and isinstance(reader.item, Table):
            nested.append((reader.item, f"[{path}.<{reader.key_doc.upper()}>]", spec.doc))
            continue
        if isinstance(reader, ListOf) and isinstance(reader.item, Table):
            nested.append((reader.item, f"[[{path}]]", spec.doc))
            continue
        field = defaults[attr]
        if spec.required:
            shown = "required"
        elif spec.default_doc is not None:
            shown = spec.default_doc
        else:
            value = field.default
            if field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            shown = f"`{reader.show(value)}`"
        cells = (f"`{key}`", reader.type_doc, shown, spec.doc)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    out.append(f"### {heading if heading == 'top level' else f'`{heading}`'}")
    out.append("")
    out.append(doc)
    out.append("")
    if rows:
        out.extend(["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""])
    for reader, sub_heading, sub_doc in nested:
        _document(reader, sub_heading, sub_doc, out)
