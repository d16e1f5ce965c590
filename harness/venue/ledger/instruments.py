"""Instruments and leverage brackets, and the fixed-point units the whole venue counts in.

Conventions (every venue module follows them):
- Prices are integer ticks and quantities integer lots of an instrument. A price or quantity off
  the grid is refused unless the caller names a rounding direction, so no rounding is silent.
- Money (balances, fees, PnL, funding, margin) is an integer count of 1e-8 USDT (`QUOTE_SCALE`
  units per USDT). The notional of `lots` at `ticks` is `lots * ticks * units_per_lot_tick`,
  exact, because an instrument whose tick x lot is not a whole number of units is refused.
- Rates (fees, maintenance margin rates, funding) are exact `Fraction`s in the pure formulas and
  integers in parts per 1e8 (`RATE_SCALE`) where they are stored or journalled.
- Bracket floors, caps and `cum` are USDT as exact fractions, as venues publish them; config
  values may be ints, decimal strings ("0.004", "0.4%") or TOML floats, which are read through
  their shortest decimal form so that 0.004 means exactly 4/1000.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Literal

from harness.venue.ledger.fees import BINANCE_USDM_FEES, RATE_SCALE, FeeSchedule
from harness.venue.ledger.funding import FundingParams

QUOTE_SCALE = 10**8
"""Units of money per USDT."""

Rounding = Literal["exact", "floor", "ceil"]


def exact(value: object) -> Fraction:
    """An exact number from config or user input; a trailing % divides by 100.

    Floats are accepted only because TOML produces them, and are read through `repr`, which
    gives back the decimal that was written.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, Decimal):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    text = value.strip().replace("_", "").replace(",", "")
    scale = Fraction(1)
    if text.endswith("%"):
        text, scale = text[:-1].strip(), Fraction(1, 100)
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return Fraction(number) * scale


def to_grid(value: Fraction, step: Fraction, rounding: Rounding) -> int:
    """`value` as a whole number of `step`s; "exact" refuses values off the grid."""
    steps = value / step
    if rounding == "floor":
        return math.floor(steps)
    if rounding == "ceil":
        return math.ceil(steps)
    if steps.denominator != 1:
        raise ValueError(f"{value} is not a multiple of {step}")
    return steps.numerator


@dataclass(frozen=True)
class Bracket:
    """One leverage tier: notional in [floor, cap) uses this MMR and maintenance amount."""

    tier: int
    floor: Fraction
    cap: Fraction
    max_leverage: int
    mmr: Fraction
    cum: Fraction

    def contains(self, notional: Fraction) -> bool:
        return self.floor <= notional < self.cap


@dataclass(frozen=True)
class BracketTable:
    """A venue's tier table. Build it with `build` or `from_dict` so `cum` is always derived."""

    name: str
    tiers: tuple[Bracket, ...]

    @classmethod
    def build(
        cls, name: str, rows: Iterable[tuple[object, object, object, object]]
    ) -> BracketTable:
        """Tiers from (floor, cap, max_leverage, mmr) rows; cum by MECHANICS section 1.

        cum[n] = floor[n] x (MMR[n] - MMR[n-1]) + cum[n-1] is what makes maintenance margin
        continuous across tier boundaries, which the liquidation price search relies on.
        """
        tiers: list[Bracket] = []
        for number, (floor_in, cap_in, lev_in, mmr_in) in enumerate(rows, start=1):
            floor, cap, mmr = exact(floor_in), exact(cap_in), exact(mmr_in)
            leverage = exact(lev_in)
            if leverage.denominator != 1 or leverage < 1:
                raise ValueError(f"{name} tier {number}: max leverage must be a whole number >= 1")
            if not 0 < mmr < 1:
                raise ValueError(f"{name} tier {number}: MMR must be between 0 and 1")
            if (mmr * RATE_SCALE).denominator != 1:
                raise ValueError(f"{name} tier {number}: MMR finer than 1e-8")
            if cap <= floor:
                raise ValueError(f"{name} tier {number}: cap must be above floor")
            if tiers:
                prev = tiers[-1]
                if floor != prev.cap:
                    raise ValueError(f"{name} tier {number}: floor {floor} != previous cap")
                if mmr < prev.mmr or leverage > prev.max_leverage:
                    raise ValueError(f"{name} tier {number}: MMR falls or leverage rises")
                cum = floor * (mmr - prev.mmr) + prev.cum
            else:
                if floor != 0:
                    raise ValueError(f"{name}: the first tier must start at 0")
                cum = Fraction(0)
            tiers.append(Bracket(number, floor, cap, leverage.numerator, mmr, cum))
        if not tiers:
            raise ValueError(f"{name}: no tiers")
        return cls(name, tuple(tiers))

    @classmethod
    def from_dict(cls, data: Mapping[str, object], name: str | None = None) -> BracketTable:
        """A table from parsed TOML: `name` and `[[tiers]]` with floor, cap, max_leverage, mmr.

        A tier may also give the published `cum`; it is checked against the derived value, so a
        table copied from a venue page with a typo is caught at load time.
        """
        unknown = set(data) - {"name", "tiers"}
        if unknown:
            raise ValueError(f"unknown bracket table keys: {', '.join(sorted(unknown))}")
        table_name = name or data.get("name")
        if not isinstance(table_name, str):
            raise ValueError("bracket table needs a name")
        raw_tiers = data.get("tiers")
        if not isinstance(raw_tiers, Sequence) or isinstance(raw_tiers, str):
            raise ValueError(f"{table_name}: tiers must be a list of tables")
        rows: list[tuple[object, object, object, object]] = []
        published: list[object | None] = []
        for number, raw in enumerate(raw_tiers, start=1):
            if not isinstance(raw, Mapping):
                raise ValueError(f"{table_name} tier {number}: expected a table")
            extra = set(raw) - {"floor", "cap", "max_leverage", "mmr", "cum"}
            missing = {"floor", "cap", "max_leverage", "mmr"} - set(raw)
            if extra or missing:
                problem = f"unknown {sorted(extra)}" if extra else f"missing {sorted(missing)}"
                raise ValueError(f"{table_name} tier {number}: {problem}")
            rows.append((raw["floor"], raw["cap"], raw["max_leverage"], raw["mmr"]))
            published.append(raw.get("cum"))
        table = cls.build(table_name, rows)
        for bracket, cum in zip(table.tiers, published, strict=True):
            if cum is not None and exact(cum) != bracket.cum:
                raise ValueError(
                    f"{table_name} tier {bracket.tier}: "
                    f"published cum {cum} != derived {bracket.cum}"
                )
        return table

    def bracket_for(self, notional: Fraction) -> Bracket:
        """The tier holding `notional`; beyond the last cap the last tier (the venue refuses such
        positions by leverage, but the price formulas still need an answer)."""
        for bracket in self.tiers:
            if notional < bracket.cap:
                return bracket
        return self.tiers[-1]

    @cached_property
    def _unit_terms(self) -> tuple[tuple[int, int, int, int, int, int], ...]:
        """Per tier, integers for `maintenance_units`: cap x scale as a ratio, MMR, cum x scale."""
        terms = []
        for b in self.tiers:
            cap, cum = b.cap * QUOTE_SCALE, b.cum * QUOTE_SCALE
            terms.append(
                (
                    cap.numerator,
                    cap.denominator,
                    b.mmr.numerator,
                    b.mmr.denominator,
                    cum.numerator,
                    cum.denominator,
                )
            )
        return tuple(terms)

    def maintenance_units(self, notional_units: int) -> int:
        """Maintenance margin in units for a notional in units: ceil(notional x MMR - cum) in
        the notional's tier, as `bracket_for` picks it; integers only (the risk engine's check)."""
        terms = self._unit_terms
        tier = terms[-1]
        for term in terms:
            if notional_units * term[1] < term[0]:
                tier = term
                break
        _, _, mmr_n, mmr_d, cum_n, cum_d = tier
        return -(-(notional_units * mmr_n * cum_d - cum_n * mmr_d) // (mmr_d * cum_d))

    def with_max_leverage(self, limit: int) -> BracketTable:
        """The table with every tier's max leverage cut to `limit` (as in May 2022, to 8x)."""
        if limit < 1:
            raise ValueError("leverage limit must be at least 1")
        tiers = tuple(replace(b, max_leverage=min(b.max_leverage, limit)) for b in self.tiers)
        return BracketTable(f"{self.name}@max{limit}x", tiers)


def _table(
    name: str,
    bounds: Sequence[int],
    leverage: Sequence[int],
    mmr_percent: Sequence[str],
) -> BracketTable:
    rows = [
        (bounds[i], bounds[i + 1], leverage[i], exact(mmr_percent[i] + "%"))
        for i in range(len(leverage))
    ]
    return BracketTable.build(name, rows)


BRACKET_TABLES: dict[str, BracketTable] = {
    "binance-btcusdt-2024": _table(
        "binance-btcusdt-2024",
        [
            0,
            300_000,
            800_000,
            3_000_000,
            12_000_000,
            70_000_000,
            100_000_000,
            230_000_000,
            480_000_000,
            600_000_000,
            800_000_000,
            1_200_000_000,
            1_800_000_000,
        ],
        [150, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1],
        [
            "0.40",
            "0.50",
            "0.65",
            "1.00",
            "2.00",
            "2.50",
            "5.00",
            "10.0",
            "12.5",
            "15.0",
            "25.0",
            "50.0",
        ],
    ),
    "binance-btcusdt-2021": _table(
        "binance-btcusdt-2021",
        [
            0,
            50_000,
            250_000,
            3_000_000,
            20_000_000,
            40_000_000,
            100_000_000,
            120_000_000,
            200_000_000,
            300_000_000,
            500_000_000,
        ],
        [125, 100, 50, 20, 10, 5, 4, 3, 2, 1],
        ["0.4", "0.5", "1", "2.5", "5", "10", "12.5", "15", "25", "50"],
    ),
    # A representative mid-cap altcoin table of the shape Binance publishes for USD-M alts (75x at
    # the first tier, 50% MMR at 1x); not copied from a venue page, so load the published one via
    # TOML where exact tiers matter.
    "binance-midcap-alt-2025": _table(
        "binance-midcap-alt-2025",
        [
            0,
            5_000,
            25_000,
            100_000,
            250_000,
            1_000_000,
            2_500_000,
            5_000_000,
            12_500_000,
            25_000_000,
        ],
        [75, 50, 25, 20, 10, 5, 4, 2, 1],
        ["0.50", "1.00", "2.00", "2.50", "5.00", "10.0", "12.5", "25.0", "50.0"],
    ),
}


def bracket_table(name: str) -> BracketTable:
    try:
        return BRACKET_TABLES[name]
    except KeyError:
        known = ", ".join(BRACKET_TABLES)
        raise KeyError(f"unknown bracket table {name!r} (built in: {known})") from None


def load_bracket_table(spec: str) -> BracketTable:
    """A built-in table by name, or a custom one from a `.toml` file (`name`, `[[tiers]]`)."""
    path = Path(spec)
    if path.suffix != ".toml":
        try:
            return bracket_table(spec)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{spec}: {exc}") from None
    try:
        return BracketTable.from_dict(data, name=str(data.get("name", path.stem)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{spec}: {exc}") from None


@dataclass(frozen=True)
class Instrument:
    """A USDT-margined linear perpetual: grid, limits, tiers, fees and funding settings."""

    symbol: str
    tick_size: Fraction
    lot_size: Fraction
    brackets: BracketTable
    min_notional: Fraction = Fraction(5)
    price_band: Fraction = Fraction(5, 100)
    """A limit buy above mark x (1 + band) or a sell below mark x (1 - band) is rejected."""
    market_take_bound: Fraction = Fraction(5, 100)
    """A market order may not fill further than this fraction from mark."""
    fees: FeeSchedule = BINANCE_USDM_FEES
    funding: FundingParams = field(default_factory=FundingParams)
    units_per_lot_tick: int = field(init=False)
    """Money units in one lot at one tick: notional = lots x ticks x this."""

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: tick and lot size must be positive")
        per = self.tick_size * self.lot_size * QUOTE_SCALE
        if per.denominator != 1:
            raise ValueError(f"{self.symbol}: tick x lot is not a whole number of 1e-8 USDT")
        object.__setattr__(self, "units_per_lot_tick", per.numerator)

    def price_to_ticks(self, price: Fraction, rounding: Rounding = "exact") -> int:
        return to_grid(price, self.tick_size, rounding)

    def ticks_to_price(self, ticks: int) -> Fraction:
        return ticks * self.tick_size

    def qty_to_lots(self, qty: Fraction, rounding: Rounding = "exact") -> int:
        return to_grid(qty, self.lot_size, rounding)

    def lots_to_qty(self, lots: int) -> Fraction:
        return lots * self.lot_size

    def notional_units(self, lots: int, ticks: int) -> int:
        """Signed like `lots`: a short's value is negative."""
        return lots * ticks * self.units_per_lot_tick

    def limit_price_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest sell, highest buy) limit price in ticks allowed around `mark_ticks`.

        Rounded inwards so an allowed price never lies outside the band."""
        low = math.ceil(mark_ticks * (1 - self.price_band))
        high = math.floor(mark_ticks * (1 + self.price_band))
        return low, high

    def market_take_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest, highest) price in ticks a market order may fill at, rounded inwards."""
        low = math.ceil(mark_ticks * (1 - self.market_take_bound))
        high = math.floor(mark_ticks * (1 + self.market_take_bound))
        return low, high

    @property
    def impact_notional(self) -> Fraction:
        """200 USDT x the first tier's max leverage: 30,000 for a 150x symbol."""
        return self.funding.impact_margin * self.brackets.tiers[0].max_leverage


_FUNDING_CAP = Fraction(3, 1000)
"""+-0.3%: a commonly quoted BTCUSDT cap/floor; a setting, not from MECHANICS."""

BTCUSDT = Instrument(
    symbol="BTCUSDT",
    tick_size=Fraction(1, 10),
    lot_size=Fraction(1, 1000),
    brackets=BRACKET_TABLES["binance-btcusdt-2024"],
    funding=FundingParams(cap=_FUNDING_CAP, floor=-_FUNDING_CAP),
)

ETHUSDT = Instrument(
    symbol="ETHUSDT",
    tick_size=Fraction(1, 100),
    lot_size=Fraction(1, 1000),
    # MECHANICS only lists BTCUSDT tiers; load ETHUSDT's published table via TOML when it matters.
    brackets=BRACKET_TABLES["binance-btcusdt-2024"],
    funding=FundingParams(cap=_FUNDING_CAP, floor=-_FUNDING_CAP),
)

# The two alts of the synthetic 2025-10-10 crash (docs/synth.md): grid as Binance USD-M lists
# them (SUIUSDT price step 0.0001 and quantity step 0.1, ATOMUSDT 0.001 and 0.01), 5 USDT minimum
# notional, the standard fee schedule, and the representative alt bracket table.
SUIUSDT = Instrument(
    symbol="SUIUSDT",
    tick_size=Fraction(1, 10_000),
    lot_size=Fraction(1, 10),
    brackets=BRACKET_TABLES["binance-midcap-alt-2025"],
    funding=FundingParams(cap=_FUNDING_CAP, floor=-_FUNDING_CAP),
)

ATOMUSDT = Instrument(
    symbol="ATOMUSDT",
    tick_size=Fraction(1, 1000),
    lot_size=Fraction(1, 100),
    brackets=BRACKET_TABLES["binance-midcap-alt-2025"],
    funding=FundingParams(cap=_FUNDING_CAP, floor=-_FUNDING_CAP),
)

INSTRUMENTS: dict[str, Instrument] = {i.symbol: i for i in (BTCUSDT, ETHUSDT, SUIUSDT, ATOMUSDT)}
