"""Presets: named, versioned recipes that turn (seed, start, symbols, knobs) into book paths.

A preset's `version` is part of what the store records for every generated ingest: change what a
preset draws (a constant, a stream name, the order of draws) and bump it, so a tape in a store
always names the recipe that made it. Each random stream is named by preset, version, purpose and
symbol (`harness.sim.rng.make_stream`), so adding a symbol never shifts another symbol's draws.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.sim.clock import parse_instant
from harness.sim.rng import make_stream
from harness.synth.book import BookPath, BookSpec
from harness.synth.paths import (
    NS_PER_S,
    Array,
    CrashShape,
    clustered_volatility,
    crash_target,
    random_walk,
    step_sigma,
)
from harness.synth.profiles import PROFILES, profile

Number = int | float

EXCHANGE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""What a scenario's `[data] exchange` accepts."""
MAX_DEPTH_MESSAGES = 5_000_000
MAX_TRADES = 20_000_000
"""A tape is built in memory (about 170 bytes a row): beyond these, split it into several."""


@dataclass(frozen=True)
class Knob:
    """A size or shape setting of a preset, with its range; shown by `harness synth PRESET -h`."""

    name: str
    default: Number
    help: str
    low: Number
    high: Number

    def check(self, value: Number) -> Number:
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name} must be in [{self.low}, {self.high}], got {value}")
        if isinstance(self.default, int):
            if value != int(value):
                raise ValueError(f"{self.name} must be a whole number, got {value}")
            return int(value)
        return float(value)


@dataclass(frozen=True)
class Request:
    """Everything a generation depends on; recorded in the store with the preset's version."""

    seed: int
    start_ns: int
    symbols: tuple[str, ...]
    exchange: str
    knobs: Mapping[str, Number] = field(default_factory=dict)


@dataclass(frozen=True)
class SymbolTape:
    spec: BookSpec
    path: BookPath


@dataclass(frozen=True)
class Drawn:
    step_ns: int
    tapes: list[SymbolTape]


@dataclass(frozen=True)
class Preset:
    name: str
    version: int
    description: str
    start: str
    """Default start instant (ISO 8601)."""
    symbols: tuple[str, ...]
    """Default symbols."""
    allowed: tuple[str, ...]
    """Symbols the preset can generate."""
    knobs: tuple[Knob, ...]
    draw: Callable[[Preset, Request], Drawn]

    def request(
        self,
        seed: int,
        start_ns: int | None = None,
        symbols: Sequence[str] | None = None,
        exchange: str = "synthetic",
        **knobs: Number,
    ) -> Request:
        """A checked request: defaults filled in; a negative seed, unknown or repeated symbols,
        unknown knobs and values out of range refused with a message naming them."""
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        if not EXCHANGE_NAME.fullmatch(exchange):
            raise ValueError(
                f"exchange {exchange!r} is not a name a scenario can select ([a-z0-9_-])"
            )
        return Request(
            seed=seed,
            start_ns=parse_instant(self.start) if start_ns is None else start_ns,
            symbols=self.check_symbols(tuple(self.symbols if symbols is None else symbols)),
            exchange=exchange,
            knobs=self.knob_values(knobs),
        )

    def checked(self, request: Request) -> Request:
        """`request` as `request(...)` would build it, so a hand-made one is checked too."""
        return self.request(
            request.seed, request.start_ns, request.symbols, request.exchange, **request.knobs
        )

    def stream(self, request: Request, purpose: str) -> np.random.Generator:
        return make_stream(request.seed, f"synth/{self.name}/v{self.version}/{purpose}")

    def knob_values(self, given: Mapping[str, Number]) -> dict[str, Number]:
        """Every knob's value, defaults filled in; unknown names and out-of-range values refused."""
        names = {knob.name: knob for knob in self.knobs}
        unknown = [name for name in given if name not in names]
        if unknown:
            raise ValueError(f"{self.name} has no knob {', '.join(unknown)}")
        return {k.name: k.check(given.get(k.name, k.default)) for k in self.knobs}

    def check_symbols(self, symbols: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in symbols if s not in self.allowed]
        if bad or not symbols or len(set(symbols)) != len(symbols):
            problem = f"unknown {', '.join(bad)}" if bad else "empty or repeated"
            raise ValueError(
                f"{self.name}: symbols {problem}; choose from {', '.join(self.allowed)}"
            )
        return symbols


def _seconds(steps: int, step_ns: int) -> Array:
    seconds: Array = np.arange(steps, dtype=np.int64) * step_ns / NS_PER_S
    return seconds


def _market_clustering(preset: Preset, request: Request, steps: int, step_ns: int) -> Array:
    """Market-wide volatility regimes, one per second, shared by every symbol."""
    per_second = max(NS_PER_S // step_ns, 1)
    return clustered_volatility(preset.stream(request, "market"), steps, per_second)


def _check_size(depth_messages: int, trades: float) -> None:
    if depth_messages > MAX_DEPTH_MESSAGES or trades > MAX_TRADES:
        raise ValueError(
            f"{depth_messages:,} depth messages and about {trades:,.0f} trades is more than "
            f"{MAX_DEPTH_MESSAGES:,} and {MAX_TRADES:,} per tape; generate several shorter tapes "
            "(--start, --duration-s) or fewer messages (--diff-ms, --trades-per-s)"
        )


# --- calm -----------------------------------------------------------------------------------


def _draw_calm(preset: Preset, request: Request) -> Drawn:
    knobs = request.knobs
    step_ns = int(knobs["diff_ms"]) * 1_000_000
    steps = max(int(knobs["duration_s"]) * NS_PER_S // step_ns, 2)
    _check_size(steps * len(request.symbols), knobs["duration_s"] * knobs["trades_per_s"])
    clustering = _market_clustering(preset, request, steps, step_ns)
    step_s = step_ns / NS_PER_S
    tapes = []
    for symbol in request.symbols:
        prof = profile(symbol)
        sigma = step_sigma(prof.annual_vol, step_ns) * clustering
        walk = random_walk(preset.stream(request, f"walk/{symbol}"), sigma)
        path = BookPath(
            mid=prof.start_price * np.exp(walk),
            depth=np.ones(steps),
            trades=float(knobs["trades_per_s"]) * step_s * clustering,
        )
        tapes.append(SymbolTape(prof.spec(), path))
    return Drawn(step_ns, tapes)


CALM = Preset(
    name="calm",
    version=1,
    description=(
        "Quiet markets: a random walk with volatility clustering, steady depth and trades; "
        "sized by duration and message rate for tests and benchmarks."
    ),
    start="2025-10-10T12:00:00Z",
    symbols=("BTCUSDT",),
    allowed=tuple(PROFILES),
    knobs=(
        Knob("duration_s", 600, "Length of the tape in seconds.", 1, 7 * 86_400),
        Knob("diff_ms", 100, "Milliseconds between depth messages.", 1, 60_000),
        Knob("trades_per_s", 20.0, "Mean trades per second per symbol.", 0.0, 100_000.0),
    ),
    draw=_draw_calm,
)


# --- altcoin-crash-2025-10-10 ---------------------------------------------------------------


@dataclass(frozen=True)
class CrashRole:
    """How one symbol takes part in the crash."""

    fall_knob: str
    rebound: float
    """Share of the log fall won back by the end."""
    beta: float
    """How much of the major's deviations the symbol repeats (0 for the major itself)."""


MAJOR = "BTCUSDT"
CRASH_ROLES: dict[str, CrashRole] = {
    MAJOR: CrashRole("major_fall", rebound=0.45, beta=0.0),
    "SUIUSDT": CrashRole("alt_fall", rebound=0.6, beta=2.0),
    "ATOMUSDT": CrashRole("alt_fall", rebound=0.5, beta=2.5),
}


def _draw_crash(preset: Preset, request: Request) -> Drawn:
    knobs = request.knobs
    step_ns = int(knobs["diff_ms"]) * 1_000_000
    shape = CrashShape(depth_floor=float(knobs["depth_floor"]))
    steps = int(shape.total_s * NS_PER_S) // step_ns
    t_s = _seconds(steps, step_ns)
    clustering = _market_clustering(preset, request, steps, step_ns)
    volatility = shape.volatility(t_s) * clustering
    depth = shape.depth(t_s)
    trade_intensity = shape.volatility(t_s) * step_ns / NS_PER_S
    major = profile(MAJOR)
    major_noise = random_walk(
        preset.stream(request, f"walk/{MAJOR}"), step_sigma(major.annual_vol, step_ns) * volatility
    )
    tapes = []
    for symbol in request.symbols:
        role, prof = CRASH_ROLES[symbol], profile(symbol)
        log_price = crash_target(
            shape, t_s, float(knobs[role.fall_knob]), role.rebound, back_loaded=role.beta > 0
        )
        if symbol == MAJOR:
            log_price = log_price + major_noise
        else:
            own = random_walk(
                preset.stream(request, f"walk/{symbol}"),
                step_sigma(prof.annual_vol, step_ns) * volatility,
            )
            log_price = log_price + role.beta * major_noise + own
        path = BookPath(
            mid=prof.start_price * np.exp(log_price),
            depth=depth,
            trades=prof.trades_per_s * trade_intensity,
        )
        tapes.append(SymbolTape(prof.spec(), path))
    return Drawn(step_ns, tapes)


CRASH_SHAPE = CrashShape()

ALTCOIN_CRASH = Preset(
    name="altcoin-crash-2025-10-10",
    version=1,
    description=(
        f"The 2025-10-10 cascade, {CRASH_SHAPE.total_s / 60:g} min: a calm lead-in growing "
        f"restless, BTCUSDT -10% and two alts (SUIUSDT, ATOMUSDT) -70% in "
        f"{CRASH_SHAPE.fall_s / 60:g} min with depth within 1% collapsing over 90%, then a "
        "partial rebound."
    ),
    start="2025-10-10T21:05:00Z",
    symbols=tuple(CRASH_ROLES),
    allowed=tuple(CRASH_ROLES),
    knobs=(
        Knob("major_fall", 0.10, "Fall of BTCUSDT at the low (0.10 = -10%).", 0.0, 0.9),
        Knob("alt_fall", 0.70, "Fall of the alts at the low (0.70 = -70%).", 0.0, 0.95),
        Knob("depth_floor", CRASH_SHAPE.depth_floor, "Depth left at the worst.", 0.001, 1.0),
        Knob("diff_ms", 100, "Milliseconds between depth messages.", 10, 1_000),
    ),
    draw=_draw_crash,
)

PRESETS: dict[str, Preset] = {p.name: p for p in (ALTCOIN_CRASH, CALM)}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(PRESETS)
        raise ValueError(f"unknown preset {name!r} (known: {known})") from None
