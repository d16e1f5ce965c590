"""`[latency]` and an agent's `latency` table: link latency models read from inline tables.

A model is `{model = "constant" | "lognormal" | "quantiles", ...}` with optional `windows`, the
times a link is slower; docs/scenarios.md lists the keys of each model.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from harness.config.settings import (
    Choice,
    DecimalNumber,
    Duration,
    Instant,
    Integer,
    ListOf,
    Number,
    Reader,
    SettingError,
    config,
    describe,
    join_key,
    setting,
)
from harness.sim.clock import iso, to_ns
from harness.sim.latency import (
    BaseModel,
    Constant,
    LatencyModel,
    LogNormal,
    Quantiles,
    Scheduled,
    Window,
)
from harness.units import NS_PER_MS

LATENCY_MODELS = ("constant", "lognormal", "quantiles")

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
            raise SettingError(key, f"expected a table, got {describe(value)}")
        model = Choice(*LATENCY_MODELS).read(value.get("model", "constant"), join_key(key, "model"))
        _check_keys(value, _MODEL_KEYS[model], key, f"for model {model!r}")
        base: BaseModel
        try:
            if model == "constant":
                base = Constant(_ns_or_ms(value, "ns", "ms", key))
            elif model == "lognormal":
                sigma = Number(minimum=0).read(_need(value, "sigma", key), join_key(key, "sigma"))
                base = LogNormal(_ns_or_ms(value, "median_ns", "median_ms", key), sigma)
            else:
                base = self._quantiles(value, key)
        except SettingError:
            raise  # a reader's own error already names its key
        except ValueError as error:  # a model's invariant, such as quantile levels from 0 to 1
            raise SettingError(key, str(error)) from None
        windows = ListOf(_WindowReader()).read(value.get("windows", []), join_key(key, "windows"))
        return Scheduled(base, windows) if windows else base

    def _quantiles(self, value: Mapping[str, object], key: str) -> Quantiles:
        unit_key = "ns" if "ns" in value else "ms"
        if ("ns" in value) == ("ms" in value):
            raise SettingError(key, "give exactly one of 'ns' and 'ms' (a list of latencies)")
        raw = value[unit_key]
        if not isinstance(raw, list):
            raise SettingError(join_key(key, unit_key), f"expected a list, got {describe(raw)}")
        unit = 1 if unit_key == "ns" else NS_PER_MS
        points = tuple(
            _to_ns_at(v, unit, join_key(key, f"{unit_key}[{i}]")) for i, v in enumerate(raw)
        )
        if "q" in value:
            levels = ListOf(Number(0, 1)).read(value["q"], join_key(key, "q"))
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
            raise SettingError(key, f"expected a table, got {describe(value)}")
        _check_keys(value, _WINDOW_KEYS, key, "in a latency window")
        start = Instant().read(_need(value, "start", key), join_key(key, "start"))
        end = Instant().read(_need(value, "end", key), join_key(key, "end"))
        if end <= start:
            raise SettingError(join_key(key, "end"), f"{iso(end)} is not after start {iso(start)}")
        add = 0
        if "add_ns" in value or "add_ms" in value:
            add = _ns_or_ms(value, "add_ns", "add_ms", key)
        factor = DecimalNumber(Decimal(0)).read(value.get("multiply", 1), join_key(key, "multiply"))
        return Window(start, end, add, Fraction(factor))


def _check_keys(
    table: Mapping[str, object], allowed: tuple[str, ...], key: str, where: str
) -> None:
    for name in table:
        if name not in allowed:
            raise SettingError(
                join_key(key, name), f"unknown key {where} (known: {', '.join(allowed)})"
            )


def _need(table: Mapping[str, object], name: str, key: str) -> object:
    if name not in table:
        raise SettingError(join_key(key, name), "missing (this key is required)")
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
        where = join_key(key, ns_key)
        return _to_ns_at(Integer().read(table[ns_key], where), 1, where)
    return _to_ns_at(table[ms_key], NS_PER_MS, join_key(key, ms_key))


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
