"""Instruments and leverage brackets, and the fixed-point units the whole venue counts in.

Conventions (every venue module follows them):
- Prices are integer ticks and quantities integer lots of an instrument. A price or quantity off
  the grid is refused unless the caller names a rounding direction, so no rounding is silent.
- Money (balances, fees, PnL, funding, margin) is an integer count of 1e-8 USDT (`MONEY_SCALE`
  units per USDT). The notional of `lots` at `ticks` is `lots * ticks * units_per_lot_tick`,
  exact, because an instrument whose tick x lot is not a whole number of units is refused.
- Rates (fees, maintenance margin rates, funding) are exact `Fraction`s in the pure formulas and
  integers in parts per 1e8 (`RATE_SCALE`) where they are stored or journalled.
- Bracket floors, caps and `cum` are USDT as exact fractions, as venues publish them; config
  values may be ints, decimal strings ("0.004", "0.4%") or TOML floats, which are read through
  their shortest decimal form so that 0.004 means exactly 4/1000.

The types live here; a venue's tables and contracts live in its profile (`harness.venue.profiles`).
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
from typing import Final, Literal

from harness.units import MONEY_SCALE, RATE_SCALE, Lots, Money, Ticks
from harness.venue.ledger.fees import FeeSchedule
from harness.venue.ledger.funding import FundingParams

QUOTE_SCALE: Final = MONEY_SCALE
"""Units of money per USDT: `harness.units.MONEY_SCALE`, under the name the venue's callers use."""

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

    @classmethod
    def from_bounds(
        cls,
        name: str,
        bounds: Sequence[int],
        leverage: Sequence[int],
        mmr_percent: Sequence[str],
    ) -> BracketTable:
        """Tiers as venues print them: n + 1 notional bounds, n max leverages, n MMRs in %."""
        if len(bounds) != len(leverage) + 1 or len(mmr_percent) != len(leverage):
            raise ValueError(f"{name}: need one more bound than leverages and MMRs")
        rows = [
            (bounds[i], bounds[i + 1], leverage[i], exact(mmr_percent[i] + "%"))
            for i in range(len(leverage))
        ]
        return cls.build(name, rows)

    @classmethod
    def from_toml(cls, path: Path) -> BracketTable:
        """A custom table from a `.toml` file (`name`, `[[tiers]]`); errors name the file."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        try:
            return cls.from_dict(data, name=str(data.get("name", path.stem)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None

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
            cap, cum = b.cap * MONEY_SCALE, b.cum * MONEY_SCALE
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

    def maintenance_units(self, notional_units: int) -> Money:
        """Maintenance margin in units for a notional in units: ceil(notional x MMR - cum) in
        the notional's tier, as `bracket_for` picks it; integers only (the risk engine's check)."""
        terms = self._unit_terms
        tier = terms[-1]
        for term in terms:
            if notional_units * term[1] < term[0]:
                tier = term
                break
        _, _, mmr_n, mmr_d, cum_n, cum_d = tier
        return Money(-(-(notional_units * mmr_n * cum_d - cum_n * mmr_d) // (mmr_d * cum_d)))

    def with_max_leverage(self, limit: int) -> BracketTable:
        """The table with every tier's max leverage cut to `limit` (as in May 2022, to 8x)."""
        if limit < 1:
            raise ValueError("leverage limit must be at least 1")
        tiers = tuple(replace(b, max_leverage=min(b.max_leverage, limit)) for b in self.tiers)
        return BracketTable(f"{self.name}@max{limit}x", tiers)


def _band_bounds(mark_ticks: int, band: Fraction) -> tuple[int, int]:
    """mark x (1 -+ band), rounded inwards so an allowed price never lies outside the band."""
    return math.ceil(mark_ticks * (1 - band)), math.floor(mark_ticks * (1 + band))


@dataclass(frozen=True)
class Instrument:
    """A USDT-margined linear perpetual: grid, limits, tiers, fees and funding settings."""

    symbol: str
    tick_size: Fraction
    lot_size: Fraction
    brackets: BracketTable
    min_notional: Fraction
    """USDT; reduce-only orders are exempt."""
    price_band: Fraction
    """A limit buy above mark x (1 + band) or a sell below mark x (1 - band) is rejected."""
    market_take_bound: Fraction
    """A market order may not fill further than this fraction from mark."""
    fees: FeeSchedule
    funding: FundingParams
    units_per_lot_tick: int = field(init=False)
    """Money units in one lot at one tick: notional = lots x ticks x this."""

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: tick and lot size must be positive")
        per = self.tick_size * self.lot_size * MONEY_SCALE
        if per.denominator != 1:
            raise ValueError(f"{self.symbol}: tick x lot is not a whole number of 1e-8 USDT")
        object.__setattr__(self, "units_per_lot_tick", per.numerator)

    def price_to_ticks(self, price: Fraction, rounding: Rounding = "exact") -> Ticks:
        return Ticks(to_grid(price, self.tick_size, rounding))

    def ticks_to_price(self, ticks: int) -> Fraction:
        return ticks * self.tick_size

    def qty_to_lots(self, qty: Fraction, rounding: Rounding = "exact") -> Lots:
        return Lots(to_grid(qty, self.lot_size, rounding))

    def lots_to_qty(self, lots: int) -> Fraction:
        return lots * self.lot_size

    def notional_units(self, lots: int, ticks: int) -> Money:
        """Signed like `lots`: a short's value is negative."""
        return Money(lots * ticks * self.units_per_lot_tick)

    def limit_price_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest sell, highest buy) limit price in ticks allowed around `mark_ticks`."""
        return _band_bounds(mark_ticks, self.price_band)

    def market_take_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest, highest) price in ticks a market order may fill at."""
        return _band_bounds(mark_ticks, self.market_take_bound)

    @property
    def impact_notional(self) -> Fraction:
        """The impact margin x the first tier's max leverage: Binance's 200 USDT x 150 = 30,000."""
        return self.funding.impact_margin * self.brackets.tiers[0].max_leverage
